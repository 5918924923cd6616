package governance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkingHours_Next(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	w := WorkingHours{Start: 9 * time.Hour, End: 18 * time.Hour}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name string
		now  string
		loc  *time.Location
		want string
	}{
		{"inside the window", "2026-11-04 10:00:00", nil, "2026-11-04 10:00:00"},
		{"before it", "2026-11-04 07:00:00", nil, "2026-11-04 09:00:00"},
		{"after it", "2026-11-04 18:00:00", nil, "2026-11-05 09:00:00"},
		{"Friday evening waits for Monday", "2026-11-06 19:00:00", nil, "2026-11-09 09:00:00"},
		{"in New York: 13:00 UTC is 08:00 there", "2026-11-04 13:00:00", ny, "2026-11-04 14:00:00"},
		{"New York Saturday", "2026-11-07 15:00:00", ny, "2026-11-09 14:00:00"},
		{"daylight saving ends (Nov 1): the window stays at 09:00 local", "2026-10-30 22:00:00", ny, "2026-11-02 14:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, utc(tt.want), w.Next(utc(tt.now), tt.loc).UTC())
		})
	}
	assert.Equal(t, utc("2026-11-07 03:00:00"), WorkingHours{}.Next(utc("2026-11-07 03:00:00"), nil), "no window: any time")
}

func TestParseWorkingHours(t *testing.T) {
	w, err := ParseWorkingHours("08:30-17:00", []string{"mon", "Tuesday", "sat"})
	require.NoError(t, err)
	assert.Equal(t, 8*time.Hour+30*time.Minute, w.Start)
	assert.Equal(t, []time.Weekday{time.Monday, time.Tuesday, time.Saturday}, w.Days)
	for _, bad := range []string{"9-5", "18:00-09:00", "09:00", "25:00-26:00"} {
		_, err := ParseWorkingHours(bad, nil)
		assert.ErrorContains(t, err, "09:00-18:00", bad)
	}
	_, err = ParseWorkingHours("09:00-18:00", []string{"someday"})
	assert.ErrorContains(t, err, "mon, tue")
}
