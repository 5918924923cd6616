package governance

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// submit hands an approved request to its backend. It is called by the outbox
// dispatcher and is safe to call again: a request that has moved on is left alone, and
// backends are idempotent in the request id.
func (s *Service) submit(ctx context.Context, id string) error {
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.State != StateApproved {
		return nil
	}
	b, ok := s.backends[r.Item.Backend]
	if !ok {
		return s.fail(ctx, id, fmt.Errorf("backend %q is not configured: %w", r.Item.Backend, ErrUnknownBackend))
	}
	var identity Identity
	err = s.call(b.Name(), "lookup", func() (err error) {
		identity, err = b.LookupIdentity(ctx, r.Requester.Email)
		return err
	})
	if err != nil {
		if IsPermanent(err) {
			return s.fail(ctx, id, err)
		}
		return fmt.Errorf("look up %s in %s: %w", r.Requester.Email, b.Name(), err)
	}
	start := s.clock.Now()
	g := Grant{RequestID: r.ID, Item: r.Item, Requester: r.Requester, Identity: identity, Reason: r.Reason, Start: start}
	if r.Decision != nil {
		g.ApprovedBy = r.Decision.By
	}
	if r.Duration > 0 {
		g.End = start.Add(r.Duration)
	}
	var sub Submission
	err = s.call(b.Name(), "submit", func() (err error) {
		sub, err = b.Submit(ctx, g)
		return err
	})
	if err != nil {
		if IsPermanent(err) {
			return s.fail(ctx, id, err)
		}
		return fmt.Errorf("submit %s to %s: %w", id, b.Name(), err)
	}
	sub.Backend, sub.At = b.Name(), s.clock.Now()
	_, err = s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if r.State != StateApproved {
			return nil, errAlreadyDone
		}
		r.Submission = &sub
		fx := &Effects{}
		r.State = StateSubmitted
		fx.Audit = append(fx.Audit, s.audit(r, system, EventSubmit, StateApproved, sub.ExternalID))
		switch sub.State {
		case StateActive:
			r.State = StateActive
			fx.Audit = append(fx.Audit, s.audit(r, system, EventActivate, StateSubmitted, ""))
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeActive})
			if at, ok := nextExpiryDue(r); ok {
				fx.Due = map[string]time.Time{dueExpiry(id): at}
			}
		case StateFailed:
			r.State = StateFailed
			r.Failure = sub.Detail
			fx.Audit = append(fx.Audit, s.audit(r, system, EventFail, StateSubmitted, sub.Detail))
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeFailed})
		default:
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeSubmitted})
		}
		return fx, nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	if err == nil {
		s.log.InfoContext(ctx, "request submitted", "request", id, "backend", b.Name(), "external_id", sub.ExternalID, "state", sub.State)
	}
	return err
}

// fail moves an approved or submitted request to failed and tells the requester why.
func (s *Service) fail(ctx context.Context, id string, cause error) error {
	s.log.ErrorContext(ctx, "request failed", "request", id, "err", cause)
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if r.State != StateApproved && r.State != StateSubmitted {
			return nil, errAlreadyDone
		}
		from := r.State
		r.State = StateFailed
		r.Failure = "the access system refused the grant: " + cause.Error()
		return &Effects{
			Audit: []AuditRecord{s.audit(r, system, EventFail, from, cause.Error())},
			Tasks: []Task{{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeFailed}},
		}, nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	return err
}

var errAlreadyDone = errors.New("already done")
