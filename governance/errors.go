package governance

import (
	"errors"
	"fmt"
	"time"
)

// Conditions callers branch on. A *Problem wraps one of them and carries the sentence
// shown to the person.
var (
	ErrNotFound              = errors.New("not found")
	ErrUnknownItem           = errors.New("unknown catalog item")
	ErrBadDuration           = errors.New("bad duration")
	ErrDurationTooLong       = errors.New("duration above the item's maximum")
	ErrJustificationRequired = errors.New("justification required")
	ErrReasonTooLong         = errors.New("reason too long")
	ErrNoApprover            = errors.New("no approver available")
	ErrSelfApproval          = errors.New("requester cannot decide own request")
	ErrNotApprover           = errors.New("not an approver of this request")
	ErrNotRequester          = errors.New("only the requester may do this")
	ErrAlreadyDecided        = errors.New("request already decided")
	ErrNotPending            = errors.New("request is not pending")
	ErrDenyReasonRequired    = errors.New("deny reason required")
	ErrBadCommand            = errors.New("bad command")
	ErrUnknownBackend        = errors.New("unknown backend")
	ErrDuplicate             = errors.New("the backend already has this access or a request for it")
	ErrAlreadyRequested      = errors.New("the person already asked for this access, or holds it")
	ErrNotActive             = errors.New("no active access")
	ErrNotAllowed            = errors.New("not allowed")
	ErrBackendCredentials    = errors.New("the backend refused accessbot's credentials")

	// ErrConflict is returned by Store.Update when the stored version moved on.
	ErrConflict = errors.New("request changed concurrently")
)

// Problem is a refusal or validation failure to show to a person: Message says what
// happened and what to do next; Field names the form field at fault, if any.
type Problem struct {
	Err     error
	Field   string // "item", "duration", "reason" or ""
	Message string
}

func (p *Problem) Error() string { return p.Message }
func (p *Problem) Unwrap() error { return p.Err }

func problem(err error, field, msg string) *Problem {
	return &Problem{Err: err, Field: field, Message: msg}
}

// BadRef is the failure of a submission whose catalog item has a ref its backend cannot
// read (err says why): permanent, and for the access admins to fix. Backends share it so
// that the sentence is the same whichever backend the item is in.
func BadRef(item ItemRef, err error) error {
	return Permanent(&Problem{Err: ErrUnknownItem, Message: fmt.Sprintf(
		"the catalog's entry for %s is wrong (%v); ask your access admins to fix it", item.Name, err)})
}

// PermanentError marks a backend or delivery error that retrying will not fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that workers give up at once instead of retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// RetryAfterError is a temporary error that says when to try again (HTTP 429 Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err with the delay the other side asked for.
func RetryAfter(err error, d time.Duration) error { return &RetryAfterError{After: d, Err: err} }

// IsPermanent reports whether err says retrying is pointless.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
