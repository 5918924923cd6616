package governance

import (
	"fmt"
	"slices"
	"time"
)

// PlanKind is a kind of scheduled approval event.
type PlanKind string

// The scheduled approval events.
const (
	PlanReminder   PlanKind = "reminder"
	PlanEscalation PlanKind = "escalation"
	PlanTimeout    PlanKind = "timeout"
)

// MaxEscalations bounds how often one request escalates.
const MaxEscalations = 3

// Planned is one scheduled event of a pending request.
type Planned struct {
	Kind PlanKind
	N    int // 1-based number among events of its kind
	At   time.Time
}

// Plan lists the approval events of a request created at created, in time order, with
// the meaning of SailPoint's approvalReminderAndEscalationConfig (days count from creation):
//
//   - D = DaysUntilEscalation, B = DaysBetweenReminders, M = MaxReminders.
//   - D = 0: no reminders and no escalation.
//   - reminder k (k = 0..M-1) at D + k·B days; B = 0 leaves only the first.
//   - escalation at D + M·B days (M = 0: at D), then every B days, at most MaxEscalations;
//     B = 0: no escalation (SailPoint's guidance), whatever M.
//   - the timeout at RequestExpiryDays, if set; nothing is planned at or after it.
//
// Plan is what happens while the escalation chain lasts; see planFor for what follows once
// the last person of the chain has the request.
func (s Schedule) Plan(created time.Time) []Planned {
	return s.plan(created, 0)
}

// plan is Plan for a request whose escalation chain ended with escalation chainEnd (0:
// not ended): no escalation follows it, and the approvers, escalation approvers among
// them, are reminded every B days instead, at most M times more, until the timeout.
func (s Schedule) plan(created time.Time, chainEnd int) []Planned {
	day := func(n int) time.Time { return created.Add(time.Duration(n) * Day) }
	var out []Planned
	D, B, M := s.DaysUntilEscalation, s.DaysBetweenReminders, s.MaxReminders
	if D > 0 {
		for k := 0; k < M && (k == 0 || B > 0); k++ {
			out = append(out, Planned{Kind: PlanReminder, N: k + 1, At: day(D + k*B)})
		}
		if B > 0 {
			first := D + M*B
			escalations := MaxEscalations
			if chainEnd > 0 {
				escalations = min(chainEnd, MaxEscalations)
			}
			for k := range escalations {
				out = append(out, Planned{Kind: PlanEscalation, N: k + 1, At: day(first + k*B)})
			}
			if chainEnd > 0 {
				last := first + (escalations-1)*B
				for k := 1; k <= M; k++ {
					out = append(out, Planned{Kind: PlanReminder, N: M + k, At: day(last + k*B)})
				}
			}
		}
	}
	if s.RequestExpiryDays > 0 {
		timeout := day(s.RequestExpiryDays)
		out = slices.DeleteFunc(out, func(p Planned) bool { return !p.At.Before(timeout) })
		out = append(out, Planned{Kind: PlanTimeout, N: 1, At: timeout})
	}
	return out
}

// planFor is r's plan as it stands: Plan, until r's escalation chain has ended.
// Days count from the start of the stage deciding now: the schedule restarts at each stage.
func planFor(r *Request) []Planned { return r.Schedule.plan(r.StageStart(), r.ChainEnd) }

// lastEscalation reports whether escalation n is the last that r's schedule plans.
func lastEscalation(r *Request, n int) bool {
	for _, p := range r.Schedule.Plan(r.StageStart()) {
		if p.Kind == PlanEscalation && p.N > n {
			return false
		}
	}
	return true
}

// nextApprovalEvent is the first planned event of r not yet done, judged by the counts
// of reminders and escalations the request records.
func nextApprovalEvent(r *Request) (Planned, bool) {
	for _, p := range planFor(r) {
		switch {
		case p.Kind == PlanReminder && p.N <= r.Reminders:
		case p.Kind == PlanEscalation && p.N <= r.Escalations:
		default:
			return p, true
		}
	}
	return Planned{}, false
}

// expiryNotices lists when the requester is warned before access that runs from start to
// end ends: each configured lead time that fits inside the grant, earliest first.
func (s Schedule) expiryNotices(start, end time.Time) []time.Time {
	var out []time.Time
	for _, lead := range s.ExpiryNotices {
		if at := end.Add(-lead); at.After(start) {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.Compact(out)
}

// Step is one planned event of a request as people see it: done, or still to come.
type Step struct {
	Kind PlanKind // or "expiry_warning", "end" for active access
	N    int
	At   time.Time
	Done bool
	Lead time.Duration // an expiry warning: how long before the end it comes
	// Arrives is when a reminder or warning due outside its recipient's working hours will
	// really reach them; zero when that is At.
	Arrives time.Time
}

// Label names the step for people: "reminder 2", "escalation 1", "timeout",
// "warning 24h before the end", "access ends".
func (s Step) Label() string {
	switch s.Kind {
	case PlanReminder, PlanEscalation:
		return fmt.Sprintf("%s %d", s.Kind, s.N)
	case PlanTimeout:
		return "timeout"
	case PlanExpiryWarning:
		return "warning " + FormatDuration(s.Lead) + " before the end"
	case PlanEnd:
		return "access ends"
	}
	return string(s.Kind)
}

// Steps is what the scheduler plans for r: the approval events of a pending request, or
// the warnings and the end of active time-bound access, each marked done or not.
func Steps(r *Request) []Step {
	var out []Step
	switch r.State {
	case StatePendingApproval:
		for _, p := range planFor(r) {
			done := (p.Kind == PlanReminder && p.N <= r.Reminders) || (p.Kind == PlanEscalation && p.N <= r.Escalations)
			out = append(out, Step{Kind: p.Kind, N: p.N, At: p.At, Done: done})
		}
	case StateActive:
		if r.Submission == nil || r.Submission.End.IsZero() {
			return nil
		}
		if r.Extends != "" { // the access it extends warns; an extension only ends with it
			return []Step{{Kind: PlanEnd, N: 1, At: r.Submission.End}}
		}
		for i, at := range r.Schedule.expiryNotices(r.Submission.Start, r.Submission.End) {
			out = append(out, Step{Kind: PlanExpiryWarning, N: i + 1, At: at, Done: i < r.ExpiryNotices, Lead: r.Submission.End.Sub(at)})
		}
		out = append(out, Step{Kind: PlanEnd, N: 1, At: r.Submission.End})
	}
	return out
}

// The plan kinds of active access.
const (
	PlanExpiryWarning PlanKind = "expiry_warning"
	PlanEnd           PlanKind = "end"
)
