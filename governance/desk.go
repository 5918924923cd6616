package governance

import (
	"context"
	"slices"
	"time"
)

// Where the backend decides (an item with `approvals: backend`), accessbot is its desk: it
// hands the request to the backend at once, turns every approval the backend waits for
// into cards for the people the backend names — requests made in the backend's own portal
// included — and carries out each click in the backend as the person who clicked, through
// their connected account. Decisions made elsewhere update the cards.

// The two ways to decide an item.
const (
	ApprovalsAccessbot = "accessbot" // accessbot's catalog policy decides, then submits
	ApprovalsBackend   = "backend"   // the backend's own approval policy decides
)

// ApprovalDesk is a backend whose own approval policy can decide.
type ApprovalDesk interface {
	Backend
	// PendingApprovals lists every approval the backend waits for now, in the whole
	// organisation, each with the e-mail addresses of the people who may decide it.
	PendingApprovals(ctx context.Context) ([]BackendApproval, error)
	// ApprovalOutcome reads an approval that is no longer pending: Status says whether it
	// was approved or rejected, and by whom. An approval the backend no longer knows in
	// either list comes back with Status ApprovalGone.
	ApprovalOutcome(ctx context.Context, a BackendApproval) (BackendApproval, error)
	// DecideApproval carries out d in the backend as the holder of the account; a nil
	// account decides as accessbot's own identity (approveAs: service), the comment naming
	// the person who decided in chat. It returns the approval as re-read afterwards.
	DecideApproval(ctx context.Context, as Account, d ApprovalDecision) (BackendApproval, error)
}

// ApprovalStatus is where one of the backend's approvals stands.
type ApprovalStatus string

// The statuses of a backend approval.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalRejected ApprovalStatus = "rejected"
	ApprovalGone     ApprovalStatus = "gone"  // neither pending nor completed any more (withdrawn)
	ApprovalMoved    ApprovalStatus = "moved" // taken from these approvers and given to MovedTo
)

// Reminding is implemented by a desk whose backend has reminder settings of its own
// (SailPoint's approvalReminderAndEscalationConfig): accessbot reminds the approvers of
// each of its approvals in chat on that plan, and escalates nothing, since the backend does.
type Reminding interface {
	// Reminders is the backend's plan: the first reminder DaysUntilEscalation days after
	// an approval opened, then every DaysBetweenReminders days, MaxReminders in all. Zero
	// days or reminders: none.
	Reminders(ctx context.Context) (Schedule, error)
}

// SubmitsAsRequester is implemented by a desk that makes the request in the backend as
// the requester, with their connected account, so that the backend's policy applies to
// them (Entra's userAdd): Submit then gets that account in Grant.As. A requester who has
// not connected is asked to (NoticeConnect), and the request waits, approved, until they
// have (Service.Connected).
type SubmitsAsRequester interface {
	SubmitsAsRequester() bool
}

// ServiceDecider is implemented by a desk that decides as accessbot's own identity
// (SailPoint's approveAs: service) rather than as the person who clicked.
type ServiceDecider interface {
	DecidesAsService() bool
}

// BackendApproval is one approval a backend waits for, or waited for.
type BackendApproval struct {
	ID string `json:"id"`
	// RequestID is the backend's id of the access request (SailPoint's accessRequestId).
	RequestID string `json:"request"`
	// Ours is the accessbot request id the backend carries in the request's metadata, when
	// accessbot made it; trusted only once the request's own submission names RequestID.
	Ours string `json:"-"`
	// Requester asked; For is whom the access is for (the same person, mostly).
	Requester Person  `json:"-"`
	For       Person  `json:"-"`
	Item      ItemRef `json:"-"`
	Comment   string  `json:"-"` // the requester's comment
	// Answers are the requester's answers to the questions the backend's policy asks,
	// shown on the cards.
	Answers []Answer `json:"answers,omitempty"`
	// Ends is when the access asked for would end; zero for no end.
	Ends time.Time `json:"-"`
	// Owner is who the backend asks, as it names them (a person or a group), and Approvers
	// the people who may decide: the owner, or each member of the owning group.
	Owner     string   `json:"owner"`
	Approvers []Person `json:"approvers"`
	Step      int      `json:"step,omitempty"`  // 1-based, 0 when the backend does not say
	Steps     int      `json:"steps,omitempty"` // 0 when the backend does not say
	StepName  string   `json:"stepName,omitempty"`
	// CommentRequired: a rejection must carry a comment.
	CommentRequired bool           `json:"commentRequired,omitempty"`
	Link            string         `json:"link,omitempty"` // the approval in the backend's web UI
	Status          ApprovalStatus `json:"status"`
	// DecidedBy, Decision and At say who decided it, with what comment, and when.
	DecidedBy Person    `json:"decidedBy,omitzero"`
	Decision  string    `json:"decision,omitempty"`
	At        time.Time `json:"at,omitzero"`
	// InChat: the decision was made through accessbot (as DecidedBy), not elsewhere.
	InChat bool `json:"inChat,omitempty"`
	// MovedTo names the owner the backend moved the approval to (a forward, or its own
	// escalation), for the cards of the people it was taken from.
	MovedTo string `json:"movedTo,omitempty"`
	// Seen is when accessbot first saw the approval pending (its reminders count from
	// then), and Reminded how many reminders of it went out.
	Seen     time.Time `json:"seen,omitzero"`
	Reminded int       `json:"reminded,omitempty"`
	Created  time.Time `json:"created,omitzero"`
}

// Answer is a requester's answer to one of the questions a backend's policy asks.
type Answer struct {
	Question string `json:"q"`
	Answer   string `json:"a"`
}

// MayDecide reports whether p is among the approval's approvers.
func (a BackendApproval) MayDecide(p Person) bool {
	return slices.ContainsFunc(a.Approvers, p.Is)
}

// ApprovalDecision is a decision to carry out in the backend.
type ApprovalDecision struct {
	Approval BackendApproval
	By       Person // who decided in chat
	Approve  bool
	Comment  string
	// ForwardTo, when set, forwards the approval to this person instead of deciding it.
	ForwardTo Person
}

// Desk is what accessbot knows of the backend's approvals of one request.
type Desk struct {
	// RequestID is the backend's id of the request, once known.
	RequestID string `json:"request,omitempty"`
	// Portal: the request was made in the backend's own portal, not through accessbot.
	Portal bool `json:"portal,omitempty"`
	// Approvals are the backend's approvals of the request as last seen, oldest first.
	Approvals []BackendApproval `json:"approvals,omitempty"`
	// Intents are clicks of people who had not connected their account yet, carried out
	// once they have.
	Intents []Intent `json:"intents,omitempty"`
	// Remind is the backend's reminder plan, copied when the request was first seen so that
	// a change of it applies to new requests only, as accessbot's own schedule does.
	Remind *Schedule `json:"remind,omitempty"`
	// AwaitsConnect: the backend is asked as the requester (SubmitsAsRequester), who was
	// told to connect their account first; the request is made once they have.
	AwaitsConnect bool `json:"awaitsConnect,omitempty"`
}

// Intent is a decision someone made in chat before accessbot could act as them.
type Intent struct {
	By       Actor     `json:"by"`
	Approval string    `json:"approval"`
	Approve  bool      `json:"approve"`
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
}

// Open returns the approvals still pending, in order.
func (d *Desk) Open() []BackendApproval {
	if d == nil {
		return nil
	}
	var open []BackendApproval
	for _, a := range d.Approvals {
		if a.Status == ApprovalPending {
			open = append(open, a)
		}
	}
	return open
}

// approval returns the latest entry of the approval with id (one the backend moved to
// other approvers has an entry for each owner it had).
func (d *Desk) approval(id string) *BackendApproval {
	for i := len(d.Approvals) - 1; i >= 0; i-- {
		if d.Approvals[i].ID == id {
			return &d.Approvals[i]
		}
	}
	return nil
}

// OpenFor returns the pending approval p may decide, if any.
func (d *Desk) OpenFor(p Person) (BackendApproval, bool) {
	for _, a := range d.Open() {
		if a.MayDecide(p) {
			return a, true
		}
	}
	return BackendApproval{}, false
}

func (d *Desk) clone() *Desk {
	if d == nil {
		return nil
	}
	c := *d
	c.Remind = copyOf(d.Remind)
	c.Approvals = make([]BackendApproval, len(d.Approvals))
	for i, a := range d.Approvals {
		a.Approvers, a.Answers = slices.Clone(a.Approvers), slices.Clone(a.Answers)
		c.Approvals[i] = a
	}
	c.Intents = slices.Clone(d.Intents)
	return &c
}

// Awaits reports whether r waits for p's decision now: p is one of the approvers of a
// request pending in accessbot, or may decide one of the backend's open approvals of it.
func (r *Request) Awaits(p Person) bool {
	if r.Desk != nil {
		_, ok := r.Desk.OpenFor(p)
		return ok
	}
	return r.State == StatePendingApproval && r.CanDecide(p) // the stage deciding now, not approved yet
}

// BackendTitle is a backend's name as people know it ("SailPoint" for sailpoint).
func BackendTitle(name string) string {
	switch name {
	case "builtin":
		return "the access system"
	case "sailpoint":
		return "SailPoint"
	case "entra":
		return "Microsoft Entra"
	case "permissions":
		return "Permissions Management"
	}
	return name
}

// nextReminder is when approval a's next reminder is due on plan p; ok is false when
// none is left.
func nextReminder(p *Schedule, a BackendApproval) (time.Time, bool) {
	if p == nil || a.Status != ApprovalPending || p.DaysUntilEscalation <= 0 || a.Reminded >= p.MaxReminders ||
		(a.Reminded > 0 && p.DaysBetweenReminders <= 0) {
		return time.Time{}, false
	}
	return a.Seen.Add(time.Duration(p.DaysUntilEscalation+a.Reminded*p.DaysBetweenReminders) * Day), true
}

// nextDeskReminder is the earliest next reminder of r's open approvals.
func nextDeskReminder(r *Request) (time.Time, bool) {
	var first time.Time
	for _, a := range r.Desk.Open() {
		if at, ok := nextReminder(r.Desk.Remind, a); ok && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

func dueDeskReminder(id string) string { return "deskremind:" + id }
