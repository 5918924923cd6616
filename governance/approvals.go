package governance

import (
	"context"
	"errors"
	"time"
)

// A backend's own approvals: in `approvals: backend` mode the backend's policy (SailPoint's
// approval schemes, Entra's policy stages) decides, and accessbot turns every approval the
// backend waits for into cards for the people it names, and carries out a click in the
// backend as the person who clicked (their connected account) or, where the organisation
// accepts it, as accessbot's service identity. Nothing here knows a backend's wire format.

// Approvals says who decides a catalog item or a whole backend.
type Approvals string

// The two ways to decide.
const (
	// ApprovalsAccessbot: accessbot's catalog policy names the approvers; the backend is
	// asked only once they approved (the default).
	ApprovalsAccessbot Approvals = "accessbot"
	// ApprovalsBackend: the request goes to the backend at once and its own approvals decide.
	ApprovalsBackend Approvals = "backend"
)

// ErrApprovalMoved is a decision on an approval the backend gave to someone else meanwhile
// (forwarded, escalated); the Problem wrapping it names the new owner.
var ErrApprovalMoved = errors.New("the approval moved to another owner")

// ApprovalDesk is a backend whose own approvals accessbot follows and decides.
type ApprovalDesk interface {
	// Pending lists the approvals the backend waits for, across the organisation, that
	// changed at or after since (zero: all of them).
	Pending(ctx context.Context, since time.Time) ([]BackendApproval, error)
	// Completed lists the approvals decided at or after since.
	Completed(ctx context.Context, since time.Time) ([]CompletedApproval, error)
	// Decide carries out d in the backend and, once the backend shows it done, says how
	// it ended. A decision the backend no longer takes fails with a Problem wrapping
	// ErrAlreadyDecided (someone decided it: Outcome says who) or ErrApprovalMoved; a
	// person who is not the approval's owner with one wrapping ErrNotApprover; a connected
	// account the backend no longer honours with ErrConnectAgain.
	Decide(ctx context.Context, d ApprovalDecision) (CompletedApproval, error)
	// ApprovalSettings are the backend's own approval settings.
	ApprovalSettings(ctx context.Context) (BackendApprovalSettings, error)
	// RequestStatus reads the backend's requests with the given ids.
	RequestStatus(ctx context.Context, requestIDs []string) ([]BackendRequestStatus, error)
}

// ApprovalOwner is who must decide an approval: one identity, or a group any of whose
// members may decide.
type ApprovalOwner struct {
	Identity Identity   // the owner, or the group's id and name
	Group    bool       // Identity is a group (SailPoint governance group, Entra group)
	Members  []Identity // the group's members, with their e-mails
}

// BackendApproval is one approval the backend waits for.
type BackendApproval struct {
	ID           string   // the backend's approval id
	RequestID    string   // the backend's request id (SailPoint accessRequestId)
	Requester    Identity // who asked (accessbot's service identity for requests made in chat)
	RequestedFor Identity // who would get the access
	Item         BackendItem
	Comment      string // the requester's
	Owner        ApprovalOwner
	Step, Steps  int    // step k of n, where the backend tells (0: unknown)
	StepName     string // "manager", "governance group", …
	Created      time.Time
	Modified     time.Time
	RemoveDate   time.Time // the access's end, zero for none
	Link         string    // the approval in the backend's UI
	// CommentRequiredToReject is true when the backend refuses a rejection without a comment.
	CommentRequiredToReject bool
	PreviousComments        []ApprovalComment
	Forwards                []ApprovalForward
}

// BackendItem is the requested object as the backend names it.
type BackendItem struct {
	ID, Name, Type string
}

// ApprovalComment is a comment left on an earlier step.
type ApprovalComment struct {
	Author  Identity
	Comment string
	At      time.Time
}

// ApprovalForward is one move of an approval to another owner.
type ApprovalForward struct {
	From, To, By string // names, as the backend records them
	Comment      string
	Kind         string // MANUAL_REASSIGNMENT, AUTO_ESCALATION, …
	At           time.Time
}

// CompletedApproval is an approval the backend has closed.
type CompletedApproval struct {
	ID           string
	RequestID    string // empty where the backend does not say (SailPoint's completed list)
	RequestedFor Identity
	Item         BackendItem
	State        ApprovalState
	ReviewedBy   Identity // who the backend records as deciding
	Comment      string
	Decided      time.Time
	// ForwardedTo, after a forward: the new owner.
	ForwardedTo Identity
}

// ApprovalState is how an approval ended.
type ApprovalState string

// The ends of an approval.
const (
	ApprovalApproved  ApprovalState = "approved"
	ApprovalRejected  ApprovalState = "rejected"
	ApprovalForwarded ApprovalState = "forwarded" // only as Decide's answer to a forward
)

// ApprovalAction is what a person does with an approval.
type ApprovalAction string

// The actions.
const (
	ActionApprove ApprovalAction = "approve"
	ActionReject  ApprovalAction = "reject"
	ActionForward ApprovalAction = "forward"
)

// ApprovalDecision is one person's decision on a backend approval.
type ApprovalDecision struct {
	ApprovalID string
	Action     ApprovalAction
	Comment    string
	NewOwner   Identity // for a forward
	// By is the person who clicked in chat.
	By Person
	// As is By's connected account, with which the backend records By as the decider; nil
	// decides with accessbot's service identity, and the comment names By.
	As Account
}

// BackendApprovalSettings are a backend's own approval settings.
type BackendApprovalSettings struct {
	// MustBeExternal: the backend creates no approvals of its own (SailPoint's
	// approvalsMustBeExternal), so only accessbot's approvals mode fits.
	MustBeExternal bool
	// The backend's reminder and escalation settings (nil: not set).
	DaysUntilEscalation, DaysBetweenReminders, MaxReminders *int
	FallbackApprover                                        Identity
}

// BackendRequestStatus is one request's state in the backend, with its approvals.
type BackendRequestStatus struct {
	RequestID   string
	ApprovalIDs []string
	// Submission is the request's state mapped onto accessbot's lifecycle.
	Submission Submission
}
