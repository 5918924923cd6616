package governance

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// WorkingHours is when reminders and expiry warnings may reach a person, in that person's
// time zone. Escalations and timeouts keep their days. The zero value means any time.
type WorkingHours struct {
	Start time.Duration  // since local midnight, e.g. 9h
	End   time.Duration  // e.g. 18h; after Start
	Days  []time.Weekday // the working days; empty: Monday to Friday
	// Zone is used for people whose platform does not tell their time zone; nil: UTC.
	Zone *time.Location
}

// heldUntil is when something due at at, outside the window in loc, reaches its reader:
// the start of their next window. ok is false when it goes at once: inside the window, or
// when waiting would take it to end or past it (an expiry warning is never held past the
// end it warns about; a zero end holds anything).
func (w WorkingHours) heldUntil(at time.Time, loc *time.Location, end time.Time) (until time.Time, ok bool) {
	next := w.Next(at, loc)
	if !next.After(at) || (!end.IsZero() && !next.Before(end)) {
		return time.Time{}, false
	}
	return next, true
}

// Enabled reports whether a window is set.
func (w WorkingHours) Enabled() bool { return w.End > w.Start }

func (w WorkingHours) workday(d time.Weekday) bool {
	if len(w.Days) == 0 {
		return d >= time.Monday && d <= time.Friday
	}
	return slices.Contains(w.Days, d)
}

// Next returns t if it falls inside the window in loc (nil: the default zone), or else the
// start of the next window.
func (w WorkingHours) Next(t time.Time, loc *time.Location) time.Time {
	if !w.Enabled() {
		return t
	}
	if loc == nil {
		loc = w.Zone
	}
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	for i := 0; i < 8; i++ {
		day := local.AddDate(0, 0, i)
		midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
		if !w.workday(midnight.Weekday()) {
			continue
		}
		// Wall-clock hours, so a daylight-saving change does not shift the window.
		start := wallClock(day, w.Start, loc)
		end := wallClock(day, w.End, loc)
		switch {
		case i == 0 && !local.Before(start) && local.Before(end):
			return t
		case local.Before(start):
			return start.UTC()
		}
	}
	return t // no working day configured at all: do not hold messages forever
}

// wallClock is the time of day since on day's date in loc, as a clock on the wall shows it:
// 09:00 is 09:00 on the day the clocks change too (midnight plus nine hours would not be).
func wallClock(day time.Time, since time.Duration, loc *time.Location) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), int(since/time.Hour), int(since%time.Hour/time.Minute), 0, 0, loc)
}

// ParseWorkingHours reads "09:00-18:00" and day names such as "mon", "tue".
func ParseWorkingHours(window string, days []string) (WorkingHours, error) {
	var w WorkingHours
	if window == "" {
		return w, nil
	}
	from, to, ok := strings.Cut(window, "-")
	parse := func(s string) (time.Duration, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(s))
		if err != nil {
			return 0, err
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
	}
	var err1, err2 error
	w.Start, err1 = parse(from)
	w.End, err2 = parse(to)
	if !ok || err1 != nil || err2 != nil || w.End <= w.Start {
		return w, fmt.Errorf("working hours %q: write them as 09:00-18:00, the end after the start", window)
	}
	for _, d := range days {
		wd, ok := weekday(d)
		if !ok {
			return w, fmt.Errorf("working day %q: use mon, tue, wed, thu, fri, sat or sun (or the whole name)", d)
		}
		w.Days = append(w.Days, wd)
	}
	return w, nil
}

// weekday reads a day's three-letter or whole English name, in any case.
func weekday(name string) (time.Weekday, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for d := time.Sunday; d <= time.Saturday; d++ {
		whole := strings.ToLower(d.String())
		if name == whole || name == whole[:3] {
			return d, true
		}
	}
	return 0, false
}
