package sailpoint

import (
	"errors"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// ISC's own approvals as this package reads them from ISC's wire format; desk.go turns
// them into governance's ApprovalDesk.

// ErrApprovalMoved is a decision on an approval the backend gave to someone else meanwhile
// (forwarded, escalated); the Problem wrapping it names the new owner.
var ErrApprovalMoved = errors.New("the approval moved to another owner")

// ApprovalOwner is who must decide an approval: one identity, or a group any of whose
// members may decide.
type ApprovalOwner struct {
	Identity governance.Identity   // the owner, or the group's id and name
	Group    bool                  // Identity is a group (SailPoint governance group, Entra group)
	Members  []governance.Identity // the group's members, with their e-mails
}

// BackendApproval is one approval the backend waits for.
type BackendApproval struct {
	ID           string              // the backend's approval id
	RequestID    string              // the backend's request id (SailPoint accessRequestId)
	Requester    governance.Identity // who asked (accessbot's service identity for requests made in chat)
	RequestedFor governance.Identity // who would get the access
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
	// Ours is the accessbot request id the request's clientMetadata names (anyone asking
	// through the API can write it: trusted only with the submission's own ids).
	Ours             string
	PreviousComments []ApprovalComment
	Forwards         []ApprovalForward
}

// BackendItem is the requested object as the backend names it.
type BackendItem struct {
	ID, Name, Type string
}

// ApprovalComment is a comment left on an earlier step.
type ApprovalComment struct {
	Author  governance.Identity
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
	RequestedFor governance.Identity
	Item         BackendItem
	State        ApprovalState
	ReviewedBy   governance.Identity // who the backend records as deciding
	Comment      string
	Decided      time.Time
	// ForwardedTo, after a forward: the new owner.
	ForwardedTo governance.Identity
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
	NewOwner   governance.Identity // for a forward
	// By is the person who clicked in chat.
	By governance.Person
	// As is By's connected account, with which the backend records By as the decider; nil
	// decides with accessbot's service identity, and the comment names By.
	As governance.Account
}

// BackendApprovalSettings are a backend's own approval settings.
type BackendApprovalSettings struct {
	// MustBeExternal: the backend creates no approvals of its own (SailPoint's
	// approvalsMustBeExternal), so only accessbot's approvals mode fits.
	MustBeExternal bool
	// The backend's reminder and escalation settings (nil: not set).
	DaysUntilEscalation, DaysBetweenReminders, MaxReminders *int
	FallbackApprover                                        governance.Identity
}

// BackendRequestStatus is one request's state in the backend, with its approvals.
type BackendRequestStatus struct {
	RequestID   string
	ApprovalIDs []string
	// Submission is the request's state mapped onto accessbot's lifecycle.
	Submission governance.Submission
}
