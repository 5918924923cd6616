package governance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSchedule_Plan_FollowsSailPointSemantics(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	days := func(plan []Planned) map[PlanKind][]int {
		out := map[PlanKind][]int{}
		for _, p := range plan {
			out[p.Kind] = append(out[p.Kind], int(p.At.Sub(t0)/Day))
		}
		return out
	}
	tests := []struct {
		name string
		s    Schedule
		want map[PlanKind][]int
	}{
		{"D=3 B=1 M=3: reminders 3,4,5, escalations 6,7,8", Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3},
			map[PlanKind][]int{PlanReminder: {3, 4, 5}, PlanEscalation: {6, 7, 8}}},
		{"D=0: nothing", Schedule{DaysBetweenReminders: 1, MaxReminders: 3}, map[PlanKind][]int{}},
		{"B=0: only the first reminder, no escalation", Schedule{DaysUntilEscalation: 2, MaxReminders: 3},
			map[PlanKind][]int{PlanReminder: {2}}},
		{"M=0: escalate at D without reminding", Schedule{DaysUntilEscalation: 2, DaysBetweenReminders: 2},
			map[PlanKind][]int{PlanEscalation: {2, 4, 6}}},
		{"M=0 B=0: nothing, since B=0 means no escalation", Schedule{DaysUntilEscalation: 2}, map[PlanKind][]int{}},
		{"timeout cuts what would come after it", Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3, RequestExpiryDays: 7},
			map[PlanKind][]int{PlanReminder: {3, 4, 5}, PlanEscalation: {6}, PlanTimeout: {7}}},
		{"timeout alone", Schedule{RequestExpiryDays: 14}, map[PlanKind][]int{PlanTimeout: {14}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, days(tt.s.Plan(t0)))
		})
	}
}

func TestSchedule_ExpiryNotices_AsManyAsFit(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	s := Schedule{ExpiryNotices: []time.Duration{24 * time.Hour, time.Hour}}
	assert.Equal(t, []time.Time{start.Add(7 * time.Hour)}, s.expiryNotices(start, start.Add(8*time.Hour)), "an 8h grant: only the 1h notice fits")
	assert.Equal(t, []time.Time{start.Add(6 * Day), start.Add(7*Day - time.Hour)}, s.expiryNotices(start, start.Add(7*Day)))
	assert.Empty(t, s.expiryNotices(start, start.Add(30*time.Minute)))
}
