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
	Approvers []Person      `json:"approvers"`
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

	// Desk: the backend's own approval policy decides this request (approvals: backend);
	// it holds the backend's approvals as last seen. nil where accessbot decides.
	Desk *Desk `json:"desk,omitempty"`
}

// IsApprover reports whether p may decide r.
func (r *Request) IsApprover(p Person) bool {
	return slices.ContainsFunc(r.Approvers, p.Is)
}

// ApproverNames lists the approvers for people to read.
func (r *Request) ApproverNames() string {
	names := make([]string, len(r.Approvers))
	for i, a := range r.Approvers {
		names[i] = a.Display()
	}
	return strings.Join(names, ", ")
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
	c.Schedule.ExpiryNotices = slices.Clone(r.Schedule.ExpiryNotices)
	if r.Decision != nil {
		d := *r.Decision
		c.Decision = &d
	}
	if r.Submission != nil {
		s := *r.Submission
		c.Submission = &s
	}
	if r.RevokedBy != nil {
		p := *r.RevokedBy
		c.RevokedBy = &p
	}
	c.Desk = r.Desk.clone()
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
