package governance

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AutoRule approves a request at once, without asking anyone, when the person it is for
// meets it: on call now in PagerDuty for one of the named schedules or escalation
// policies, or a member of a group of the configuration. MaxDuration, when set, limits it
// to requests for that long or shorter; a longer one is asked of the approvers as usual.
type AutoRule struct {
	OnCall      OnCallTarget // PagerDuty schedules and escalation policies; empty: not this kind
	Group       string       // a group of the configuration; "": not this kind
	MaxDuration time.Duration
}

// OnCallTarget names what a person must be on call for: PagerDuty schedule ids and
// escalation policy ids (any one of them is enough).
type OnCallTarget struct {
	Schedules          []string
	EscalationPolicies []string
}

// Empty reports whether t names nothing.
func (t OnCallTarget) Empty() bool { return len(t.Schedules) == 0 && len(t.EscalationPolicies) == 0 }

// String names the target for people and the audit trail: "schedule PABC123 or
// escalation policy PXYZ".
func (t OnCallTarget) String() string {
	var parts []string
	for _, s := range t.Schedules {
		parts = append(parts, "schedule "+s)
	}
	for _, p := range t.EscalationPolicies {
		parts = append(parts, "escalation policy "+p)
	}
	return strings.Join(parts, " or ")
}

// OnCall tells whether a person is on call now. PagerDuty implements it
// (governance/pagerduty).
type OnCall interface {
	OnCallNow(ctx context.Context, email string, t OnCallTarget) (bool, error)
}

// autoApproval is the first of item's rules that approves a request of requester for d,
// with the words that say why; ok is false when none does. It asks only what it must, and
// anything that fails or does not answer in time means "ask the approvers", never
// "approve": the failure is logged.
func (s *Service) autoApproval(ctx context.Context, item Item, requester Person, d time.Duration) (why string, ok bool) {
	for _, rule := range item.AutoApprove {
		if rule.MaxDuration > 0 && (d == 0 || d > rule.MaxDuration) {
			continue
		}
		switch {
		case rule.Group != "":
			ms, _ := s.groups.members(rule.Group)
			for _, m := range ms {
				if m.Is(requester) {
					return "a member of group " + rule.Group, true
				}
			}
		case !rule.OnCall.Empty():
			if s.onCall == nil {
				continue
			}
			on, err := s.onCall.OnCallNow(ctx, requester.Email, rule.OnCall)
			if err != nil {
				s.log.WarnContext(ctx, "PagerDuty did not answer whether the requester is on call; asking the approvers",
					"item", item.ID, "requester", requester.Email, "err", err)
				continue
			}
			if on {
				return "on call in PagerDuty (" + rule.OnCall.String() + ")", true
			}
		}
	}
	return "", false
}

// autoApproved turns a new request into one approved by rule why: the approval is
// recorded as accessbot's, with the rule; the grant is submitted; the requester is told,
// and the approvers (of every stage) and the admins get an FYI, the admins' with Revoke.
func (s *Service) autoApproved(r *Request, why string, fx *Effects) {
	now := s.clock.Now()
	r.State = StateApproved
	r.AutoApproved = why
	r.Decision = &Decision{By: Person{Email: SystemActor, Name: "accessbot"}, Platform: "accessbot", Approved: true,
		Reason: "approved automatically: the requester is " + why, At: now}
	fx.Audit = append(fx.Audit, AuditRecord{At: now, RequestID: r.ID, Event: EventApprove, From: StatePendingApproval,
		To: StateApproved, Actor: SystemActor, Platform: "accessbot", Detail: "auto-approved: requester is " + why})
	fx.Tasks = append(fx.Tasks, Task{Kind: TaskSubmit, RequestID: r.ID},
		Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeApproved})
	told := map[string]bool{r.Requester.Email: true}
	for _, st := range r.AllStages() {
		for _, a := range st.Approvers {
			if !told[a.Email] {
				told[a.Email] = true
				fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: a.Email, Notice: NoticeAutoApproved})
			}
		}
	}
	for _, a := range s.admins {
		if e := strings.ToLower(a.Email); !told[e] {
			told[e] = true
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: e, Notice: NoticeAutoApprovedAdmin})
		}
	}
}

// The FYI notices of an auto-approved request.
const (
	// NoticeAutoApproved tells an approver that a request was approved by a rule, without them.
	NoticeAutoApproved NoticeKind = "auto_approved"
	// NoticeAutoApprovedAdmin is NoticeAutoApproved for an admin, with a Revoke button.
	NoticeAutoApprovedAdmin NoticeKind = "auto_approved_admin"
)

// checkAutoRules checks an item's auto-approval rules against the groups and whether
// PagerDuty is configured.
func checkAutoRules(it Item, o PolicyOptions) []error {
	var errs []error
	for i, r := range it.AutoApprove {
		where := fmt.Sprintf("catalog item %s, autoApprove rule %d", it.ID, i+1)
		switch {
		case r.Group != "" && !r.OnCall.Empty():
			errs = append(errs, fmt.Errorf("%s: give either group or pagerduty, not both (write two rules)", where))
		case r.Group != "":
			if _, ok := o.Groups.members(r.Group); !ok {
				errs = append(errs, fmt.Errorf("%s: group %s is not defined; add it under groups, or fix the name", where, r.Group))
			}
		case !r.OnCall.Empty():
			if !o.PagerDuty {
				errs = append(errs, fmt.Errorf("%s: pagerduty, but PagerDuty is not configured; set PAGERDUTY_API_KEY (a read-only REST API key)", where))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: names nothing; give pagerduty (schedules, escalationPolicies) or group", where))
		}
		if r.MaxDuration < 0 {
			errs = append(errs, fmt.Errorf("%s: maxDuration must be positive, such as 4h", where))
		}
	}
	return errs
}
