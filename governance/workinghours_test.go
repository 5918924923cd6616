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

// On the day the clocks change, the window is still 09:00-18:00 on the wall: midnight plus
// nine hours is 10:00 when the clocks went forward that night, and 08:00 when back.
func TestWorkingHours_Next_OnTheDayTheClocksChange(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	w := WorkingHours{Start: 9 * time.Hour, End: 18 * time.Hour, Days: []time.Weekday{time.Sunday}}
	local := func(s string) time.Time {
		v, err := time.ParseInLocation(time.DateTime, s, berlin)
		require.NoError(t, err)
		return v
	}
	// 2026-03-29: 02:00 becomes 03:00.
	assert.Equal(t, local("2026-03-29 09:00:00").UTC(), w.Next(local("2026-03-29 08:00:00"), berlin), "spring: opens at 09:00")
	assert.Equal(t, local("2026-03-29 09:30:00"), w.Next(local("2026-03-29 09:30:00"), berlin), "spring: 09:30 is inside")
	assert.Equal(t, local("2026-04-05 09:00:00").UTC(), w.Next(local("2026-03-29 18:30:00"), berlin), "spring: closed at 18:30")
	// 2026-10-25: 03:00 becomes 02:00.
	assert.Equal(t, local("2026-10-25 09:00:00").UTC(), w.Next(local("2026-10-25 08:30:00"), berlin), "autumn: 08:30 is early")
	assert.Equal(t, local("2026-10-25 17:30:00"), w.Next(local("2026-10-25 17:30:00"), berlin), "autumn: 17:30 is inside")
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
	for _, bad := range []string{"someday", "monkey", "", "\u212a", "Kelvin"} {
		_, err = ParseWorkingHours("09:00-18:00", []string{bad})
		assert.ErrorContains(t, err, "mon, tue", "%q", bad)
	}
	w, err = ParseWorkingHours("09:00-18:00", []string{" SUNDAY ", "Wed"})
	require.NoError(t, err)
	assert.Equal(t, []time.Weekday{time.Sunday, time.Wednesday}, w.Days)
}
