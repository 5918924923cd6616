package governance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// submit hands the approved request r (as the outbox pass read it) to its backend. It is
// called by the outbox dispatcher and is safe to call again: a request that has moved on
// is left alone, and backends are idempotent in the request id. The submission is
// recorded on r unless the request changed meanwhile; then it is read again.
func (s *Service) submit(ctx context.Context, r *Request) error {
	id := r.ID
	if r.State != StateApproved {
		return nil
	}
	b, ok := s.backends[r.Item.Backend]
	if !ok {
		return s.fail(ctx, id, fmt.Errorf("backend %q is not configured: %w", r.Item.Backend, ErrUnknownBackend))
	}
	if r.Extends != "" {
		sub, applied, err := s.applyExtension(ctx, r, b)
		switch {
		case err != nil && IsPermanent(err):
			return s.fail(ctx, id, err)
		case err != nil:
			return err
		case applied:
			return s.recordSubmission(ctx, r, b, sub, false)
		}
		// The access it extends has ended meanwhile: grant it afresh, from now. From then
		// on it is a grant of its own (recordSubmission), warned about and revoked at its end.
	}
	var as Account
	if sr, ok := b.(SubmitsAsRequester); ok && sr.SubmitsAsRequester() && r.Desk != nil && s.accounts != nil {
		var err error
		as, err = s.accounts.Account(ctx, b.Name(), r.Requester.Email)
		if errors.Is(err, ErrNotConnected) || errors.Is(err, ErrConnectAgain) {
			return s.awaitConnect(ctx, id)
		}
		if err != nil {
			return fmt.Errorf("read %s's connected %s account: %w", r.Requester.Email, b.Name(), err)
		}
	}
	var identity Identity
	err := s.call(b.Name(), "lookup", func() (err error) {
		identity, err = b.LookupIdentity(ctx, r.Requester)
		return err
	})
	if err != nil {
		if IsPermanent(err) {
			return s.fail(ctx, id, err)
		}
		return fmt.Errorf("look up %s in %s: %w", r.Requester.Email, b.Name(), err)
	}
	start := s.clock.Now()
	g := Grant{RequestID: r.ID, Item: r.Item, Requester: r.Requester, Identity: identity, Reason: r.Reason, Start: start,
		BackendDecides: r.Desk != nil, As: as}
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
	return s.recordSubmission(ctx, r, b, sub, r.Extends != "")
}

// recordSubmission stores what the backend said about an approved request's grant and
// tells the requester. afresh says an extension was granted as access of its own, because
// the access it extended had ended: it stops being an extension, so that it is warned
// about, found by item and revoked at its end like any other grant.
func (s *Service) recordSubmission(ctx context.Context, cur *Request, b Backend, sub Submission, afresh bool) error {
	id := cur.ID
	sub.Backend, sub.At = b.Name(), s.clock.Now()
	_, err := s.transitionFrom(ctx, id, cur, func(r *Request) (*Effects, error) {
		if r.State != StateApproved {
			return nil, errAlreadyDone
		}
		r.Submission = &sub
		if r.Desk != nil && r.Desk.RequestID == "" {
			r.Desk.RequestID = sub.ExternalID
		}
		if r.Desk != nil {
			r.Desk.AwaitsConnect = false
		}
		fx := &Effects{}
		r.State = StateSubmitted
		detail := sub.ExternalID
		if afresh {
			detail = strings.TrimSpace(detail + " (granted afresh: " + r.Extends + " had ended)")
			r.Extends, r.ExtendTo = "", time.Time{}
		}
		fx.Audit = append(fx.Audit, s.audit(r, system, EventSubmit, StateApproved, detail))
		switch sub.State {
		case StateSubmitted, "":
			r.Submission.State = StateSubmitted
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeSubmitted})
			fx.Due = map[string]time.Time{dueSync(id): s.clock.Now().Add(s.sync.after(0))}
		default:
			s.settle(r, fx)
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

// awaitConnect leaves an approved request waiting for its requester to connect their
// account at its backend, which is asked as them, and tells them so once.
func (s *Service) awaitConnect(ctx context.Context, id string) error {
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if r.State != StateApproved || r.Desk == nil || r.Desk.AwaitsConnect {
			return nil, errAlreadyDone
		}
		r.Desk.AwaitsConnect = true
		return &Effects{Tasks: []Task{{Kind: TaskNotify, RequestID: id, To: r.Requester.Email, Notice: NoticeConnect}}}, nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
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
		r.Failure = failure(cause)
		r.Duplicate = errors.Is(cause, ErrDuplicate)
		return &Effects{
			Undue: []string{dueSync(id)},
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

// failure is why a grant failed, for the requester: a backend's *Problem speaks to
// people already; anything else is a refusal in the backend's own words.
func failure(cause error) string {
	var p *Problem
	if errors.As(cause, &p) {
		return p.Message
	}
	return "the access system refused the grant: " + cause.Error()
}

// applyExtension moves the end of the grant that r extends to r.ExtendTo, in the backend
// and on the original request. applied is false when the original is no longer active.
// A backend that makes the extension a request of its own answers it submitted: r is then
// followed like a grant (syncDue), and the original's end moves only once it is active.
// Both steps are idempotent: the end was fixed when r was made.
func (s *Service) applyExtension(ctx context.Context, r *Request, b Backend) (sub Submission, applied bool, err error) {
	orig, err := s.store.Get(ctx, r.Extends)
	if err != nil {
		return sub, false, err
	}
	if orig.State != StateActive || orig.Submission == nil || orig.EndsAt().IsZero() {
		return sub, false, nil
	}
	if orig.EndsAt().Before(r.ExtendTo) {
		g := Grant{RequestID: orig.ID, Extension: r.ID, Item: orig.Item, Requester: orig.Requester, Reason: r.Reason,
			Start: orig.Submission.Start, End: orig.Submission.End}
		if r.Decision != nil {
			g.ApprovedBy = r.Decision.By
		}
		var ext Submission
		if err := s.call(b.Name(), "extend", func() (err error) {
			ext, err = b.Extend(ctx, g, r.ExtendTo)
			return err
		}); err != nil {
			return sub, false, fmt.Errorf("extend %s in %s: %w", orig.ID, b.Name(), err)
		}
		if ext.State == StateSubmitted && ext.ExternalID != "" {
			ext.Start, ext.End, ext.Detail = orig.Submission.Start, r.ExtendTo, "extends "+orig.ID
			return ext, true, nil
		}
		if _, err := s.extendOriginal(ctx, orig.ID, r); err != nil {
			return sub, false, err
		}
	}
	return Submission{ExternalID: orig.Submission.ExternalID, State: StateActive, Start: orig.Submission.Start,
		End: r.ExtendTo, Detail: "extends " + orig.ID}, true, nil
}

// extendOriginal moves the end of the active grant id to the end its extension r asks for.
// moved is false when that grant is no longer active; an end already there is left alone.
func (s *Service) extendOriginal(ctx context.Context, id string, r *Request) (moved bool, err error) {
	_, err = s.transition(ctx, id, func(o *Request) (*Effects, error) {
		if o.State != StateActive || o.Submission == nil {
			return nil, errAlreadyDone
		}
		moved = true
		if !o.EndsAt().Before(r.ExtendTo) {
			return nil, errAlreadyDone
		}
		o.Submission.End = r.ExtendTo
		o.ExpiryNotices = 0
		fx := &Effects{Audit: []AuditRecord{s.audit(o, system, EventExtend, "", fmt.Sprintf("extended by %s until %s", r.ID, r.ExtendTo.Format(time.RFC3339)))}}
		if at, ok := nextExpiryDue(o); ok {
			fx.Due = map[string]time.Time{dueExpiry(o.ID): at}
		}
		return fx, nil
	})
	if errors.Is(err, errAlreadyDone) {
		err = nil
	}
	return moved, err
}
