package governance_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/accessbot/accessbot/governance"
)

func TestDuration_ReadsGoDurationsAndDaysFromYAML(t *testing.T) {
	tests := []struct {
		yaml string
		want time.Duration
	}{
		{"500ms", 500 * time.Millisecond},
		{"90s", 90 * time.Second},
		{"8h", 8 * time.Hour},
		{"7d", 7 * governance.Day},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			var d governance.Duration
			require.NoError(t, yaml.Unmarshal([]byte(tt.yaml), &d))
			assert.Equal(t, tt.want, time.Duration(d))
		})
	}
	var d governance.Duration
	assert.ErrorContains(t, yaml.Unmarshal([]byte("\nsoon"), &d), `line 2: "soon" is not a duration; write it like 500ms, 30s, 8h or 7d`)
}
