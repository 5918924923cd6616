package governance

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration in accessbot's configuration file: a Go duration ("500ms",
// "90s", "8h") or whole days ("7d"). The adapters' settings use it, so every setting
// reads durations the same way.
type Duration time.Duration

// UnmarshalYAML reads a Duration, or says on which line it is not one.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	if strings.HasSuffix(s, "d") {
		if days, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil {
			*d = Duration(time.Duration(days) * Day)
			return nil
		}
	}
	return fmt.Errorf("line %d: %q is not a duration; write it like 500ms, 30s, 8h or 7d", n.Line, s)
}

// Env is how an adapter's settings read the environment: Get reads a variable, and Secret
// a secret, from NAME or from the file NAME_FILE names.
type Env struct {
	Get    func(name string) string
	Secret func(name string) string
}
