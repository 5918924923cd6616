package governance

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Week is seven days.
const Week = 7 * Day

// maxDuration is the longest duration ParseDuration accepts.
const maxDuration = 10 * 365 * Day

// durationUnits are the unit words ParseDuration knows, each with its size.
var durationUnits = map[string]time.Duration{
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": Day, "day": Day, "days": Day,
	"w": Week, "wk": Week, "wks": Week, "week": Week, "weeks": Week,
}

// ParseDuration reads a duration as people write it: a sequence of whole numbers with a
// unit each, m (minutes), h (hours), d (days) or w (weeks): "30m", "8h", "7d", "1d12h",
// or with the units spelled out: "2 hours", "1 day 12 hours", "90 minutes".
func ParseDuration(s string) (time.Duration, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return 0, problem(ErrBadDuration, "duration", "Give a duration such as 30m, 8h or 7d.")
	}
	bad := func() (time.Duration, error) {
		return 0, problem(ErrBadDuration, "duration",
			fmt.Sprintf("%q is not a duration I understand; write it like 30m, 8h, 7d, 1d12h or 2 hours.", s))
	}
	var total time.Duration
	for in != "" {
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 {
			return bad()
		}
		n, err := strconv.Atoi(in[:i])
		if err != nil {
			return bad()
		}
		in = strings.TrimLeft(in[i:], " ")
		j := 0
		for j < len(in) && in[j] >= 'a' && in[j] <= 'z' {
			j++
		}
		unit, ok := durationUnits[in[:j]]
		if !ok {
			return bad()
		}
		// Checked before multiplying: six digits of weeks would wrap around int64.
		if time.Duration(n) > (maxDuration-total)/unit {
			return 0, problem(ErrBadDuration, "duration", fmt.Sprintf("%q is longer than ten years; ask for less.", s))
		}
		total += time.Duration(n) * unit
		in = strings.TrimLeft(in[j:], " ,")
		in = strings.TrimLeft(strings.TrimPrefix(in, "and "), " ")
	}
	if total <= 0 {
		return 0, problem(ErrBadDuration, "duration", "The duration must be more than zero, such as 30m, 8h or 7d.")
	}
	return total, nil
}

// FormatDuration writes d the way ParseDuration reads it, largest units first: 7d, 1d12h, 30m.
// Zero is written "no end".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "no end"
	}
	var buf [24]byte // the longest, "106751d23h47m", fits
	b := buf[:0]
	for _, u := range [...]struct {
		size time.Duration
		name byte
	}{{Day, 'd'}, {time.Hour, 'h'}, {time.Minute, 'm'}} {
		if n := d / u.size; n > 0 {
			b = append(strconv.AppendInt(b, int64(n), 10), u.name)
			d -= n * u.size
		}
	}
	if len(b) == 0 {
		return "under a minute"
	}
	return string(b)
}
