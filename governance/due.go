package governance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sweep claims the due-index members due now (at most limit) and acts on each: a
// reminder, an escalation or a timeout for a pending request; an expiry warning or the
// end of an active grant. Each action is one transition that records what was done,
// enqueues the messages and moves the member to its next time, so a member is acted on
// once however many sweepers run and wherever one of them dies. It returns how many
// members it claimed.
func (s *Service) Sweep(ctx context.Context, limit int, lease time.Duration) (int, error) {
	now := s.clock.Now()
	if err := s.trimAudit(ctx, now); err != nil {
		s.log.ErrorContext(ctx, "audit trail not trimmed; tried again next hour", "err", err)
	}
	members, err := s.store.ClaimDue(ctx, now, lease, limit)
	if err != nil {
		return 0, fmt.Errorf("claim due items: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 8) // items are independent transitions; overlap their round trips
	)
	for _, m := range members {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.handleDue(ctx, m, now); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(members), errors.Join(errs...)
}

// purgeDue forgets a request that finished the retention time ago. One that is not
// finished (it cannot become unfinished, but a store written by hand might say so) stays.
func (s *Service) purgeDue(ctx context.Context, id string) error {
	purged, err := s.store.Purge(ctx, id)
	if err != nil {
		return fmt.Errorf("purge %s: %w", id, err)
	}
	if !purged {
		s.log.WarnContext(ctx, "finished request not purged: it changed, or is not finished; tried again when its lease ends", "request", id)
	}
	return nil
}

// auditTrimEvery is how often some sweeper trims the audit trail; auditTrimBatch bounds
// how many records it removes per shard each time, so one sweep never stalls on a backlog.
const (
	auditTrimEvery = time.Hour
	auditTrimBatch = 1000
)

// trimAudit removes audit records older than the retention time, at most once an hour
// across every replica.
func (s *Service) trimAudit(ctx context.Context, now time.Time) error {
	first, err := s.store.ClaimOnce(ctx, fmt.Sprintf("audit-trim:%d", now.Unix()/int64(auditTrimEvery/time.Second)), 2*auditTrimEvery)
	if err != nil || !first {
		return err
	}
	n, err := s.store.TrimAudit(ctx, now.Add(-s.retain.Audit), auditTrimBatch)
	if err != nil {
		return fmt.Errorf("trim the audit trail: %w", err)
	}
	if n > 0 {
		s.log.InfoContext(ctx, "audit trail trimmed", "records", n, "older_than", now.Add(-s.retain.Audit))
	}
	return nil
}

func (s *Service) handleDue(ctx context.Context, m string, now time.Time) error {
	kind, id, _ := strings.Cut(m, ":")
	var err error
	switch kind {
	case "approval":
		err = s.approvalDue(ctx, id, now)
	case "expiry":
		err = s.expiryDue(ctx, id, now)
	case "sync":
		err = s.syncDue(ctx, id, now)
	case "purge":
		err = s.purgeDue(ctx, id)
	case "deskremind":
		err = s.deskReminderDue(ctx, id, now)
	default:
		err = fmt.Errorf("unknown due item %q", m)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.ErrorContext(ctx, "due item failed; it will be tried again when its lease ends", "request", id, "item", m, "err", err)
		return err
	}
	return nil
}

// approvalDue carries out the next planned event of a pending request. After downtime,
// reminders that are all overdue collapse into one, and a due timeout wins over
// everything else.
func (s *Service) approvalDue(ctx context.Context, id string, now time.Time) error {
	var managers []Person
	if s.managersKnown { // only a backend that can tell managers costs a read before the transition
		var err error
		if managers, err = s.managerChain(ctx, id, now); err != nil {
			return err
		}
	}
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		member := dueApproval(r.ID)
		if r.State != StatePendingApproval {
			return &Effects{Undue: []string{member}}, nil
		}
		var due []Planned
		if timedOut(r, now) {
			// After downtime: escalations overdue as well would alert admins and fallback
			// approvers about a request that lapses a moment later.
			due = []Planned{{Kind: PlanTimeout, N: 1}}
		} else {
			for p, ok := nextApprovalEvent(r); ok && !p.At.After(now); p, ok = nextApprovalEvent(r) {
				due = append(due, p)
				if p.Kind != PlanReminder {
					break
				}
				r.Reminders = p.N // counted as sent; only the last overdue one goes out
			}
		}
		fx := &Effects{}
		switch {
		case len(due) == 0:
		case due[len(due)-1].Kind == PlanTimeout:
			from := r.State
			r.State = StateTimedOut
			fx.Audit = append(fx.Audit, s.audit(r, system, EventTimeout, from, "nobody decided in time"))
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskUpdateCards, RequestID: r.ID},
				Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeTimedOut})
			fx.Undue = []string{member}
			return fx, nil
		case due[len(due)-1].Kind == PlanEscalation:
			s.escalate(r, due[len(due)-1].N, managers, fx)
		default:
			last := due[len(due)-1]
			fx.Audit = append(fx.Audit, s.audit(r, system, EventRemind, "", fmt.Sprintf("reminder %d", last.N)))
			for _, a := range r.Approvers {
				fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: a.Email, Notice: NoticeReminder, N: last.N})
			}
		}
		if next, ok := nextApprovalEvent(r); ok {
			fx.Due = map[string]time.Time{member: next.At}
		} else {
			fx.Undue = []string{member}
		}
		return fx, nil
	})
	return err
}

// timedOut reports whether r's planned timeout has come by now.
func timedOut(r *Request, now time.Time) bool {
	for _, p := range r.Schedule.Plan(r.CreatedAt) {
		if p.Kind == PlanTimeout {
			return !p.At.After(now)
		}
	}
	return false
}

// escalate adds the next person of the escalation chain (the managers found, then the
// fallback approver) as an approver, tells the requester to whom it went, and alerts the
// admins; never the requester, never someone who already approves.
func (s *Service) escalate(r *Request, n int, managers []Person, fx *Effects) {
	r.Escalations = n
	fx.Tasks = append(fx.Tasks, Task{Kind: TaskAdminAlert, RequestID: r.ID, To: fmt.Sprintf("admins#%d", n)})
	chain := slices.Clone(managers)
	if f := r.Schedule.FallbackApprover; f != "" {
		chain = append(chain, Person{Email: strings.ToLower(f)})
	}
	to, ok := escalationTarget(r, chain)
	if !ok {
		r.ChainEnd = n
		fx.Audit = append(fx.Audit, s.audit(r, system, EventEscalate, "",
			fmt.Sprintf("escalation %d: nobody to escalate to (no fallback approver, or it is the requester or already an approver)", n)))
		return
	}
	r.Approvers = append(r.Approvers, to)
	if _, more := escalationTarget(r, chain); !more || lastEscalation(r, n) {
		r.ChainEnd = n // the last of the chain has it: nothing more escalates or alerts
	}
	fx.Audit = append(fx.Audit, s.audit(r, system, EventEscalate, "", fmt.Sprintf("escalation %d: to %s", n, to.Email)))
	fx.Tasks = append(fx.Tasks,
		Task{Kind: TaskSendCard, RequestID: r.ID, To: to.Email},
		Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeEscalated})
}

// escalationTarget is the first person of the chain who neither asked nor approves yet.
func escalationTarget(r *Request, chain []Person) (Person, bool) {
	for _, p := range chain {
		if !p.Is(r.Requester) && !r.IsApprover(p) {
			return p, true
		}
	}
	return Person{}, false
}

// ManagerFinder is what a Backend may also offer: who a person's manager is. Escalation
// then walks up from the first approver before it reaches the fallback approver.
type ManagerFinder interface {
	Manager(ctx context.Context, email string) (manager Person, ok bool, err error)
}

// managerChain is, when request id is pending and an escalation is due, the first
// approver's manager and that manager's manager, as far as the backend can tell. It is
// looked up before the transition, so the transition itself does no I/O.
func (s *Service) managerChain(ctx context.Context, id string, now time.Time) ([]Person, error) {
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	escalating := false
	for _, p := range planFor(r) {
		if p.Kind == PlanEscalation && p.N > r.Escalations && !p.At.After(now) {
			escalating = true
		}
	}
	if r.State != StatePendingApproval || !escalating {
		return nil, nil
	}
	var chain []Person
	if mf, ok := s.backends[r.Item.Backend].(ManagerFinder); ok && len(r.Approvers) > 0 {
		who := r.Approvers[0].Email
		for range 2 {
			var m Person
			var found bool
			err := s.call(r.Item.Backend, "manager", func() (err error) {
				m, found, err = mf.Manager(ctx, who)
				return err
			})
			if err != nil {
				s.log.WarnContext(ctx, "manager unknown; escalating further up the chain", "request", id, "of", who, "err", err)
				break
			}
			if !found {
				break
			}
			m.Email = strings.ToLower(m.Email)
			chain = append(chain, m)
			who = m.Email
		}
	}
	return chain, nil
}

// nextExpiryDue is when an active grant next needs attention: its next warning, or its end.
func nextExpiryDue(r *Request) (time.Time, bool) {
	if r.Submission == nil || r.Submission.End.IsZero() {
		return time.Time{}, false
	}
	if r.Extends != "" { // the original request warns and revokes; an extension only ends
		return r.Submission.End, true
	}
	notices := r.Schedule.expiryNotices(r.Submission.Start, r.Submission.End)
	if r.ExpiryNotices < len(notices) {
		return notices[r.ExpiryNotices], true
	}
	return r.Submission.End, true
}

// expiryDue warns the requester before time-bound access ends, and ends it at its end:
// the grant is revoked through the backend (by the outbox) and the requester told.
func (s *Service) expiryDue(ctx context.Context, id string, now time.Time) error {
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		member := dueExpiry(r.ID)
		if r.State != StateActive || r.Submission == nil || r.Submission.End.IsZero() {
			return &Effects{Undue: []string{member}}, nil
		}
		fx := &Effects{}
		if !now.Before(r.Submission.End) {
			from := r.State
			r.State = StateExpired
			fx.Audit = append(fx.Audit, s.audit(r, system, EventExpire, from, ""))
			if r.Extends != "" { // ends with the access it extended, which revokes and tells
				fx.Undue = []string{member}
				return fx, nil
			}
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskRevoke, RequestID: r.ID},
				Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeEnded})
			fx.Undue = []string{member}
			return fx, nil
		}
		notices := r.Schedule.expiryNotices(r.Submission.Start, r.Submission.End)
		sent := r.ExpiryNotices
		for r.ExpiryNotices < len(notices) && !notices[r.ExpiryNotices].After(now) {
			r.ExpiryNotices++ // overdue warnings collapse into one
		}
		if r.ExpiryNotices > sent {
			fx.Audit = append(fx.Audit, s.audit(r, system, EventExpiryNotice, "", fmt.Sprintf("warning %d", r.ExpiryNotices)))
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeExpiring, N: r.ExpiryNotices})
		}
		next, _ := nextExpiryDue(r)
		fx.Due = map[string]time.Time{member: next}
		return fx, nil
	})
	return err
}

// revoke ends an expired or revoked grant in its backend, and the extensions of a revoked
// one with it; called by the outbox, retried there.
func (s *Service) revoke(ctx context.Context, id string) error {
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.State == StateRevoked {
		if err := s.revokeExtensions(ctx, r); err != nil {
			return err
		}
	}
	b, ok := s.backends[r.Item.Backend]
	if !ok {
		return Permanent(fmt.Errorf("backend %q is not configured: %w", r.Item.Backend, ErrUnknownBackend))
	}
	g := Grant{RequestID: r.ID, Item: r.Item, Requester: r.Requester, Reason: revokeComment(r)}
	if r.Submission != nil {
		g.Start, g.End = r.Submission.Start, r.Submission.End
	}
	if r.RevokedBy != nil {
		g.RevokedBy = *r.RevokedBy
	}
	if err := s.call(b.Name(), "lookup", func() (err error) {
		g.Identity, err = b.LookupIdentity(ctx, r.Requester)
		return err
	}); err != nil {
		return fmt.Errorf("look up %s in %s: %w", r.Requester.Email, b.Name(), err)
	}
	if err := s.call(b.Name(), "revoke", func() error { return b.Revoke(ctx, g) }); err != nil {
		return fmt.Errorf("revoke %s in %s: %w", id, b.Name(), err)
	}
	s.log.InfoContext(ctx, "grant ended", "request", id, "backend", b.Name())
	return nil
}

// revokeExtensions ends, with the access r they extend, the extensions of r still active:
// one grant has one end, so every view says the access is revoked. The backend holds one
// grant for the whole chain (an extension moved its end), which revoking r ends.
func (s *Service) revokeExtensions(ctx context.Context, r *Request) error {
	rs, err := s.store.ListByRequester(ctx, r.Requester.Email, 100)
	if err != nil {
		return fmt.Errorf("list extensions of %s: %w", r.ID, err)
	}
	for _, e := range rs {
		if e.Extends != r.ID || e.State != StateActive {
			continue
		}
		_, err := s.transition(ctx, e.ID, func(x *Request) (*Effects, error) {
			if x.State != StateActive {
				return &Effects{}, nil
			}
			x.State, x.RevokedBy = StateRevoked, r.RevokedBy
			return &Effects{Undue: []string{dueExpiry(x.ID)},
				Audit: []AuditRecord{s.audit(x, system, EventRevoke, StateActive, "revoked with "+r.ID)}}, nil
		})
		if err != nil {
			return fmt.Errorf("revoke extension %s of %s: %w", e.ID, r.ID, err)
		}
	}
	return nil
}
