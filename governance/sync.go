package governance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SyncPolicy is how often the service asks a backend about a grant it has accepted but
// not finished (one waiting for the backend's own approvals, or being provisioned): first
// after First, then twice as long after each answer that nothing changed, never less often
// than every Max. Backends with rate limits (SailPoint: 100 calls per token per 10 s) are
// asked mostly about fresh submissions, which is when things change.
type SyncPolicy struct {
	First time.Duration // default 1 minute
	Max   time.Duration // default 30 minutes
}

func (p SyncPolicy) after(checks int) time.Duration {
	first, most := p.First, p.Max
	if first <= 0 {
		first = time.Minute
	}
	if most <= 0 {
		most = 30 * time.Minute
	}
	d := first << min(checks, 20)
	if d <= 0 || d > most {
		return most
	}
	return d
}

// syncDue asks the backend about a submitted grant and records what it says. The backend
// is asked before the transition, so the transition itself does no I/O; a transient error
// leaves the due member claimed until its lease ends, and it is asked again then.
func (s *Service) syncDue(ctx context.Context, id string, now time.Time) error {
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.State != StateSubmitted || r.Submission == nil {
		_, err := s.transition(ctx, id, func(*Request) (*Effects, error) {
			return &Effects{Undue: []string{dueSync(id)}}, nil
		})
		return err
	}
	b, ok := s.backends[r.Item.Backend]
	if !ok {
		return s.fail(ctx, id, fmt.Errorf("backend %q is not configured: %w", r.Item.Backend, ErrUnknownBackend))
	}
	var got Submission
	err = s.call(b.Name(), "status", func() (err error) {
		got, err = b.Status(ctx, *r.Submission)
		return err
	})
	if err != nil {
		if IsPermanent(err) {
			return s.fail(ctx, id, err)
		}
		return fmt.Errorf("status of %s in %s: %w", id, b.Name(), err)
	}
	// An extension the backend has completed moves the end of the grant it extends first,
	// so the requester is told the new end only once both hold it. When that grant ended
	// meanwhile, the backend granted the access afresh: the extension becomes a grant of its
	// own, warned about and revoked at its end.
	afresh := false
	if got.State == StateActive && r.Extends != "" {
		moved, err := s.extendOriginal(ctx, r.Extends, r)
		if err != nil {
			return fmt.Errorf("extend %s by %s: %w", r.Extends, id, err)
		}
		afresh = !moved
	}
	_, err = s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if r.State != StateSubmitted || r.Submission == nil {
			return &Effects{Undue: []string{dueSync(id)}}, nil
		}
		sub := r.Submission
		fx := &Effects{}
		if got.Waiting != sub.Waiting && got.Waiting != "" {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeWaiting})
		}
		sub.Waiting, sub.Detail = got.Waiting, got.Detail
		if !got.Start.IsZero() {
			sub.Start = got.Start
		}
		if !got.End.IsZero() {
			sub.End = got.End
		}
		sub.Checks++
		sub.At = now
		if got.State == StateSubmitted || got.State == "" {
			fx.Due = map[string]time.Time{dueSync(id): now.Add(s.sync.after(sub.Checks))}
			return fx, nil
		}
		sub.State = got.State
		if afresh && r.Extends != "" {
			sub.Detail = strings.TrimSpace(sub.Detail + " (granted afresh: " + r.Extends + " had ended)")
			r.Extends, r.ExtendTo = "", time.Time{}
		}
		s.settle(r, fx)
		return fx, nil
	})
	return err
}

// settle moves a submitted request to where its backend says the grant ended up
// (r.Submission.State), with the audit record, the requester's notice, and the end of its
// status checks.
func (s *Service) settle(r *Request, fx *Effects) {
	sub := r.Submission
	notice := NoticeFailed
	var event Event
	switch sub.State {
	case StateActive:
		event, notice = EventActivate, NoticeActive
	case StateDenied:
		event, notice = EventDeny, NoticeDenied
	case StateCancelled:
		event, notice = EventCancel, NoticeCancelled
		r.CancelledAt = s.clock.Now()
	case StateTimedOut:
		event, notice = EventTimeout, NoticeTimedOut
	default:
		sub.State, event = StateFailed, EventFail
	}
	if sub.State != StateActive {
		r.Failure = sub.Detail
		if r.Failure == "" {
			r.Failure = fmt.Sprintf("%s ended it as %s", r.Item.Backend, sub.State.Label())
		}
	}
	r.State = sub.State
	fx.Audit = append(fx.Audit, s.audit(r, system, event, StateSubmitted, sub.Detail))
	fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: notice})
	fx.Undue = append(fx.Undue, dueSync(r.ID))
	if at, ok := nextExpiryDue(r); ok && r.State == StateActive {
		if fx.Due == nil {
			fx.Due = map[string]time.Time{}
		}
		fx.Due[dueExpiry(r.ID)] = at
	}
}

// cancelSubmitted withdraws a request its backend is already working on: the backend
// first (it may refuse, e.g. once its own approvals are done), then the request.
func (s *Service) cancelSubmitted(ctx context.Context, r *Request, by Actor) (*Request, error) {
	b, ok := s.backends[r.Item.Backend]
	if !ok || r.Submission == nil {
		return nil, problem(ErrNotPending, "", fmt.Sprintf("%s is already with %s and can no longer be cancelled here; ask an admin.", r.ID, r.Item.Backend))
	}
	if err := s.call(b.Name(), "cancel", func() error { return b.Cancel(ctx, *r.Submission) }); err != nil {
		var p *Problem
		if errors.As(err, &p) {
			return nil, p
		}
		s.log.ErrorContext(ctx, "cancel in backend failed", "request", r.ID, "backend", b.Name(), "err", err)
		return nil, problem(ErrNotPending, "", fmt.Sprintf("%s could not be reached to withdraw %s; try `cancel %s` again in a minute.", b.Name(), r.ID, r.ID))
	}
	return s.transition(ctx, r.ID, func(r *Request) (*Effects, error) {
		if r.State != StateSubmitted {
			return nil, problem(ErrNotPending, "", fmt.Sprintf("%s is %s now, so there is nothing to cancel.", r.ID, r.State.Label()))
		}
		r.State = StateCancelled
		r.CancelledAt = s.clock.Now()
		r.Submission.State = StateCancelled
		return &Effects{
			Undue: []string{dueSync(r.ID)},
			Audit: []AuditRecord{s.audit(r, by, EventCancel, StateSubmitted, "withdrawn in "+b.Name())},
			Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID}},
		}, nil
	})
}
