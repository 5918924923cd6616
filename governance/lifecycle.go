package governance

// State is where a request is in its lifecycle.
type State string

// The states of a request. See docs/design.md, "Lifecycle".
const (
	StatePendingApproval State = "pending_approval"
	StateApproved        State = "approved"
	StateSubmitted       State = "submitted"
	StateActive          State = "active"
	StateExpired         State = "expired"
	StateRevoked         State = "revoked"
	StateDenied          State = "denied"
	StateCancelled       State = "cancelled"
	StateTimedOut        State = "timed_out"
	StateFailed          State = "failed"
)

// Terminal reports whether nothing more can happen to a request in state s.
func (s State) Terminal() bool {
	switch s {
	case StateExpired, StateRevoked, StateDenied, StateCancelled, StateTimedOut, StateFailed:
		return true
	}
	return false
}

// Label is the state as people read it.
func (s State) Label() string {
	switch s {
	case StatePendingApproval:
		return "waiting for approval"
	case StateTimedOut:
		return "timed out"
	}
	return string(s)
}

// Event is something that happens to a request.
type Event string

// The events of the lifecycle.
const (
	EventRequest  Event = "request"
	EventApprove  Event = "approve"
	EventDeny     Event = "deny"
	EventCancel   Event = "cancel"
	EventTimeout  Event = "timeout"
	EventSubmit   Event = "submit"   // the backend accepted the grant
	EventActivate Event = "activate" // the backend reports the access as granted
	EventFail     Event = "fail"     // a permanent backend error
	EventExpire   Event = "expire"   // time-bound access reached its end
	EventRevoke   Event = "revoke"

	// Events that change no state; their audit records have no From.
	EventRemind       Event = "remind"
	EventEscalate     Event = "escalate"
	EventExpiryNotice Event = "expiry_notice"
	EventExtend       Event = "extend" // an approved extension moved the end of active access
)

// Role is who may cause an event.
type Role string

// The roles of the transition table.
const (
	RoleRequester Role = "requester"
	RoleApprover  Role = "approver"
	RoleSystem    Role = "system" // accessbot itself: workers and the scheduler
	RoleAdmin     Role = "admin"
)

type transition struct {
	from  State
	event Event
	to    State
	by    Role
}

// lifecycle is the whole state machine. The Service consults it before every change, and
// the Store's compare-and-set makes each change atomic; no other code decides what may
// follow what.
var lifecycle = []transition{
	{StatePendingApproval, EventApprove, StateApproved, RoleApprover},
	{StatePendingApproval, EventDeny, StateDenied, RoleApprover},
	{StatePendingApproval, EventCancel, StateCancelled, RoleRequester},
	{StatePendingApproval, EventTimeout, StateTimedOut, RoleSystem},
	{StateApproved, EventSubmit, StateSubmitted, RoleSystem},
	{StateApproved, EventFail, StateFailed, RoleSystem},
	{StateSubmitted, EventActivate, StateActive, RoleSystem},
	{StateSubmitted, EventFail, StateFailed, RoleSystem},
	{StateSubmitted, EventCancel, StateCancelled, RoleRequester}, // withdrawn in the backend too
	{StateSubmitted, EventDeny, StateDenied, RoleSystem},         // the backend's own approvers said no
	{StateSubmitted, EventTimeout, StateTimedOut, RoleSystem},    // the backend's approval expired
	{StateActive, EventExpire, StateExpired, RoleSystem},
	{StateActive, EventRevoke, StateRevoked, RoleAdmin}, // also the holder, or their manager
}

// Next returns the state that event e leads to from state s and the role that may cause
// it; ok is false when e cannot happen in s.
func Next(s State, e Event) (to State, by Role, ok bool) {
	for _, t := range lifecycle {
		if t.from == s && t.event == e {
			return t.to, t.by, true
		}
	}
	return "", "", false
}
