package governance

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Person is someone accessbot talks to, identified across platforms by e-mail.
type Person struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// EntraID is the person's Microsoft Entra object id when the chat platform vouched
	// for it (Teams' aadObjectId); backends on Entra then use it instead of finding the
	// person by e-mail.
	EntraID string `json:"entraId,omitempty"`
}

// Display is the person's name, or their e-mail when the name is unknown.
func (p Person) Display() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Email
}

// Is reports whether p and o are the same person.
func (p Person) Is(o Person) bool { return strings.EqualFold(p.Email, o.Email) }

// ParsePerson reads "Alice Smith <alice@example.com>" or "alice@example.com".
func ParsePerson(s string) (Person, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return Person{}, fmt.Errorf("%q is not an e-mail address (write alice@example.com or \"Alice <alice@example.com>\")", s)
	}
	return Person{Email: strings.ToLower(a.Address), Name: a.Name}, nil
}

// Actor is a person acting through a chat platform; Platform and ChatID go into the
// audit trail ("from where") and nowhere else.
type Actor struct {
	Person
	Platform string // "slack", "teams", "cli"
	ChatID   string // the platform's user id
	// Guest: the platform lists the person as a guest. A guest may ask for access and
	// manage their own; they never act with an admin's or a manager's rights, whatever
	// the configuration names them (chat edges refuse their decisions before they come here).
	Guest bool
}

// ItemRef is the snapshot of a catalog item taken when a request is created, so later
// catalog edits do not change what was asked for.
type ItemRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Backend string `json:"backend"`
	Ref     string `json:"ref"`
	// Channel is where the item's approval card also goes (Item.Channel), ChannelOnly that
	// it goes only there; kept with the request, so a change of the catalog applies to new
	// requests only.
	Channel     string `json:"channel,omitempty"`
	ChannelOnly bool   `json:"channelOnly,omitempty"`
}

// Decision is an approver's answer.
type Decision struct {
	By Person `json:"by"`
	// Platform and ChatID name the approver as the chat platform does (its immutable user
	// id), beside the e-mail address the configuration named them by.
	Platform string    `json:"platform,omitempty"`
	ChatID   string    `json:"chatId,omitempty"`
	Approved bool      `json:"approved"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
	Stage    int       `json:"stage,omitempty"` // the stage decided in, 0-based
}

// Submission is what a backend said about a grant it was given.
type Submission struct {
	Backend    string `json:"backend"`
	ExternalID string `json:"externalId,omitempty"`
	// ExternalIDs are every id the backend gave the submission, ExternalID first: SailPoint
	// generally answers one accessRequestId per item, and several under high volume. The
	// backend's approvals name the request by one of them.
	ExternalIDs []string `json:"externalIds,omitempty"`
	// State is StateSubmitted while the backend works on it, then StateActive, or how the
	// backend ended it: StateFailed, StateDenied (its own approvers), StateCancelled or
	// StateTimedOut (its approval expired).
	State  State     `json:"state"`
	Start  time.Time `json:"start,omitzero"`
	End    time.Time `json:"end,omitzero"`
	Detail string    `json:"detail,omitempty"` // the backend's words, for people: why it failed, who denied
	// Waiting says what a submitted grant waits for in the backend ("approval in SailPoint
	// by Bob Owner"); the requester is told each time it changes.
	Waiting string    `json:"waiting,omitempty"`
	Checks  int       `json:"checks,omitempty"` // status checks made so far
	At      time.Time `json:"at"`
}

// Request is one access request, from the ask to the end of the access.
type Request struct {
	ID        string        `json:"id"`
	Version   int64         `json:"version"`
	State     State         `json:"state"`
	Requester Person        `json:"requester"`
	Item      ItemRef       `json:"item"`
	Duration  time.Duration `json:"duration"` // 0: no end
	Reason    string        `json:"reason,omitempty"`
	Approvers []Person      `json:"approvers"` // everyone asked so far (see Stages); who may decide now is CanDecide's to say
	Schedule  Schedule      `json:"schedule"`
	Platform  string        `json:"platform,omitempty"` // where it was asked
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`

	Decision    *Decision   `json:"decision,omitempty"`
	Submission  *Submission `json:"submission,omitempty"`
	CancelledAt time.Time   `json:"cancelledAt,omitzero"`
	Failure     string      `json:"failure,omitempty"` // why it failed or the backend ended it, in words for the requester
	// Duplicate: the backend already had this access or a request for it, so nothing new
	// was asked for; Failure says what it had.
	Duplicate bool    `json:"duplicate,omitempty"`
	RevokedBy *Person `json:"revokedBy,omitempty"` // who revoked active access before its end

	Extends  string    `json:"extends,omitempty"` // the active request this one extends
	ExtendTo time.Time `json:"extendTo,omitzero"` // the end that extension asks for

	Reminders   int `json:"reminders,omitempty"`   // reminders sent
	Escalations int `json:"escalations,omitempty"` // escalations done
	// ChainEnd is the escalation after which nobody is left to escalate to (the fallback
	// approver has the request, or there is no one): nothing escalates after it, and the
	// approvers are reminded instead. 0 while the chain lasts.
	ChainEnd      int `json:"chainEnd,omitempty"`
	ExpiryNotices int `json:"expiryNotices,omitempty"` // expiry warnings sent

	// Stages is the approval, resolved to people when the request was made, decided in
	// order; Stage is the one deciding now (0-based), StageStarted when it began (its
	// reminders, escalations and timeout count from then). A request stored before stages
	// existed has none, and reads as one stage of Approvers where one approval decides.
	Stages       []Stage   `json:"stages,omitempty"`
	Stage        int       `json:"stage,omitempty"`
	StageStarted time.Time `json:"stageStarted,omitzero"`
	// Approvals are the approvals given so far, each with its stage; the one that
	// completed the last stage is also the Decision.
	Approvals []Decision `json:"approvals,omitempty"`
	// RequestedBy is who asked for the access on the Requester's behalf (their manager,
	// or an admin); nil when the Requester asked. Neither may decide it.
	RequestedBy *Person `json:"requestedBy,omitempty"`
	// CancelledBy is who cancelled it, when not the Requester (who asked on their behalf).
	CancelledBy *Person `json:"cancelledBy,omitempty"`
	// AutoApproved is the rule that approved it at once, in words ("on call in PagerDuty
	// (schedule PABC123)"); empty when people decided it.
	AutoApproved string `json:"autoApproved,omitempty"`
	// Desk: the backend's own approval policy decides this request (approvals: backend);
	// it holds the backend's approvals as last seen. nil where accessbot decides.
	Desk *Desk `json:"desk,omitempty"`
}

// AskedBy reports whether p asked for r on its requester's behalf.
func (r *Request) AskedBy(p Person) bool { return r.RequestedBy != nil && r.RequestedBy.Is(p) }

// IsApprover reports whether p has been asked to decide r, in any stage reached so far.
func (r *Request) IsApprover(p Person) bool {
	return slices.ContainsFunc(r.Approvers, p.Is)
}

// AllStages is r's approval stage by stage; a request stored before stages existed is
// one stage of its approvers, any one of whom decides.
func (r *Request) AllStages() []Stage {
	if len(r.Stages) > 0 {
		return r.Stages
	}
	return []Stage{{Approvers: r.Approvers, Required: 1}}
}

// CurrentStage is the stage deciding now.
func (r *Request) CurrentStage() Stage {
	all := r.AllStages()
	return all[min(r.Stage, len(all)-1)]
}

// Staged reports whether r's approval is more than one approval from one list: several
// stages, or a stage that needs more than one approver. Its cards then show the progress.
func (r *Request) Staged() bool {
	all := r.AllStages()
	return len(all) > 1 || all[0].Required > 1
}

// HasApproved reports whether p approved r already, in any stage: nobody decides twice.
func (r *Request) HasApproved(p Person) bool {
	return slices.ContainsFunc(r.Approvals, func(d Decision) bool { return d.By.Is(p) })
}

// CanDecide reports whether p is an approver of the stage deciding now who has not
// approved r yet (where the backend decides, one it asks now). Admins may also decide
// once r escalated; that is the Service's rule.
func (r *Request) CanDecide(p Person) bool {
	if r.Desk != nil { // the backend decides: whoever it asks now
		_, ok := r.Desk.OpenFor(p)
		return ok
	}
	return slices.ContainsFunc(r.CurrentStage().Approvers, p.Is) && !r.HasApproved(p) && !r.Requester.Is(p) && !r.AskedBy(p)
}

// Deciders are the current stage's approvers who have not approved yet: whom cards,
// reminders and "waiting for" name.
func (r *Request) Deciders() []Person {
	var out []Person
	for _, a := range r.CurrentStage().Approvers {
		if !r.HasApproved(a) {
			out = append(out, a)
		}
	}
	return out
}

// StageApprovals are the approvals the stage deciding now has had.
func (r *Request) StageApprovals() []Decision {
	var out []Decision
	for _, d := range r.Approvals {
		if d.Stage == r.Stage {
			out = append(out, d)
		}
	}
	return out
}

// ApproverNames lists, for people to read, who the request waits for now: the current
// stage's approvers who have not approved yet.
func (r *Request) ApproverNames() string {
	ds := r.Deciders()
	names := make([]string, len(ds))
	for i, a := range ds {
		names[i] = a.Display()
	}
	return strings.Join(names, ", ")
}

// StageStart is when the stage deciding now began: its schedule counts from then.
func (r *Request) StageStart() time.Time {
	if !r.StageStarted.IsZero() {
		return r.StageStarted
	}
	return r.CreatedAt
}

// EndsAt is when time-bound access ends; zero when it has not started or never ends.
func (r *Request) EndsAt() time.Time {
	if r.Submission == nil {
		return time.Time{}
	}
	return r.Submission.End
}

func (r *Request) clone() *Request {
	c := *r
	c.Approvers = slices.Clone(r.Approvers)
	c.Approvals = slices.Clone(r.Approvals)
	c.Stages = slices.Clone(r.Stages)
	for i := range c.Stages {
		c.Stages[i].Approvers = slices.Clone(r.Stages[i].Approvers)
	}
	c.Schedule.ExpiryNotices = slices.Clone(r.Schedule.ExpiryNotices)
	c.Decision, c.Submission = copyOf(r.Decision), copyOf(r.Submission)
	c.RevokedBy, c.RequestedBy, c.CancelledBy = copyOf(r.RevokedBy), copyOf(r.RequestedBy), copyOf(r.CancelledBy)
	c.Desk = r.Desk.clone()
	return &c
}

// copyOf is a new variable holding *p, or nil when p is.
func copyOf[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Schedule is the reminder, escalation and expiry configuration, with the meaning of
// SailPoint's approvalReminderAndEscalationConfig (docs/configuration.md, "Reminders, escalation, timeouts and the end of access").
// It is copied onto each request when the request is created.
type Schedule struct {
	DaysUntilEscalation  int             `json:"daysUntilEscalation" yaml:"daysUntilEscalation"`
	DaysBetweenReminders int             `json:"daysBetweenReminders" yaml:"daysBetweenReminders"`
	MaxReminders         int             `json:"maxReminders" yaml:"maxReminders"`
	FallbackApprover     string          `json:"fallbackApprover,omitempty" yaml:"fallbackApprover"`
	RequestExpiryDays    int             `json:"requestExpiryDays" yaml:"requestExpiryDays"`
	ExpiryNotices        []time.Duration `json:"expiryNotices,omitempty" yaml:"-"`
}

// Day is the unit of the schedule's day counts.
const Day = 24 * time.Hour

// FirstApprovalDue is the first time the scheduler has something to do for a request
// created at created: the first event of its Plan. ok is false when the schedule never acts.
func (s Schedule) FirstApprovalDue(created time.Time) (at time.Time, ok bool) {
	if plan := s.Plan(created); len(plan) > 0 {
		return plan[0].At, true
	}
	return time.Time{}, false
}

// Due-index members. The scheduler owns what they mean; the service adds and removes them
// with each transition so that due work is found without scanning requests.
func dueApproval(id string) string { return "approval:" + id }
func dueExpiry(id string) string   { return "expiry:" + id }
func dueSync(id string) string     { return "sync:" + id }
func duePurge(id string) string    { return "purge:" + id }
