package governance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// requestAtDesk stores a request for an item its backend decides, and hands it to the
// backend at once: the backend's approval policy names the approvers, and their approvals
// come back as cards through SyncApprovals.
func (s *Service) requestAtDesk(ctx context.Context, in RequestInput, requester Person, item Item, d time.Duration, reason string) (*Request, error) {
	if _, ok := s.desks[item.Backend]; !ok {
		return nil, fmt.Errorf("item %s: backend %s cannot decide approvals: %w", item.ID, item.Backend, ErrUnknownBackend)
	}
	r, fx, err := s.create(ctx, in, requester, item, func(id string) (*Request, Effects) {
		now := s.clock.Now()
		r := &Request{
			ID: id, Version: 1, State: StateApproved,
			Requester: requester, Item: item.Snapshot(), Duration: d, Reason: reason,
			Schedule: s.schedule, Platform: in.Requester.Platform, CreatedAt: now, UpdatedAt: now,
			Extends: in.extends, ExtendTo: in.extendTo, Desk: &Desk{},
		}
		fx := Effects{
			Audit: []AuditRecord{s.audit(r, in.Requester, EventRequest, "", "handed to "+item.Backend+"'s own approval policy")},
			Tasks: []Task{{Kind: TaskSubmit, RequestID: id}},
		}
		if in.Confirm {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: requester.Email, Notice: NoticeReceived})
		}
		return r, fx
	})
	if err != nil || fx == nil { // refused, or a retry of an ask already stored
		return r, err
	}
	for _, a := range fx.Audit {
		s.obs.Transitioned(r, a)
	}
	s.log.InfoContext(ctx, "request created", "request", r.ID, "item", item.ID, "requester", requester.Email, "approvals", ApprovalsBackend)
	s.wakeFor(fx.Tasks)
	return r, nil
}

// SyncApprovals brings every desk's approvals into chat: each approval a backend waits for
// becomes cards for the people it names, whether the request was made through accessbot
// or in the backend's own portal, and each approval decided elsewhere since the last poll
// updates the cards that showed it. Several replicas may call it: what one records, the
// next finds recorded.
func (s *Service) SyncApprovals(ctx context.Context) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.desks)) {
		// One replica polls a backend at a time; the others find its work recorded.
		slot := s.clock.Now().UnixMilli() / deskPollGap.Milliseconds()
		if first, err := s.store.ClaimOnce(ctx, fmt.Sprintf("deskpoll:%s:%d", name, slot), 2*deskPollGap); err != nil || !first {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := s.syncDesk(ctx, name, s.desks[name]); err != nil {
			errs = append(errs, fmt.Errorf("approvals of %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// deskPollGap is the shortest time between two polls of one backend's approvals, by any
// replica.
const deskPollGap = 10 * time.Second

func (s *Service) syncDesk(ctx context.Context, name string, desk ApprovalDesk) error {
	var pending []BackendApproval
	err := s.call(name, "approvals", func() (err error) {
		pending, err = desk.PendingApprovals(ctx)
		return err
	})
	if err != nil {
		return err
	}
	before, err := s.store.DeskSeen(ctx, name)
	if err != nil {
		return err
	}
	var plan *Schedule
	if rem, ok := desk.(Reminding); ok {
		p, err := rem.Reminders(ctx)
		if err != nil {
			return fmt.Errorf("reminder settings: %w", err)
		}
		plan = &p
	}
	// One request's approvals arrive together, so its cards are drawn once.
	byRequest := map[string][]BackendApproval{}
	var order []string
	for _, a := range pending {
		if _, ok := byRequest[a.RequestID]; !ok {
			order = append(order, a.RequestID)
		}
		byRequest[a.RequestID] = append(byRequest[a.RequestID], a)
	}
	seen := map[string]string{}
	var errs []error
	// A request the last poll saw is found through what it saw; only a new one is looked
	// up (or mirrored). Then every request is read in one round trip, and only those whose
	// approvals changed are written.
	ids := map[string]string{} // backend request id → accessbot request id
	var known []string
	for _, ext := range order {
		for _, a := range byRequest[ext] {
			if id := before[a.ID]; id != "" {
				ids[ext] = id
				known = append(known, id)
				break
			}
		}
	}
	snaps, err := s.store.Snapshots(ctx, known)
	if err != nil {
		snaps = nil // each request is then read by its transition
	}
	for _, ext := range order {
		as := byRequest[ext]
		id, err := ids[ext], error(nil)
		if id == "" {
			id, err = s.deskRequest(ctx, name, as[0])
		}
		if snap, ok := snaps[id]; err == nil && (!ok || deskChanged(snap.Request, as)) {
			err = s.observeOpen(ctx, id, as, plan)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("request %s: %w", ext, err))
			continue
		}
		for _, a := range as {
			seen[a.ID] = id
		}
	}
	// What the last poll saw pending and this one does not was decided (or withdrawn)
	// meanwhile: read how, and show it. Those that fail are kept for the next poll.
	for approvalID, id := range before {
		if _, still := seen[approvalID]; still {
			continue
		}
		if err := s.observeClosed(ctx, desk, id, approvalID); err != nil {
			errs = append(errs, fmt.Errorf("approval %s of %s: %w", approvalID, id, err))
			seen[approvalID] = id
		}
	}
	if err := s.store.SetDeskSeen(ctx, name, seen); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deskRequest finds the accessbot request an approval belongs to: the one accessbot made,
// when the approval says so and that request's submission names the same backend
// request, or else the request that mirrors one made in the backend's own portal,
// created the first time it is seen.
func (s *Service) deskRequest(ctx context.Context, backend string, a BackendApproval) (string, error) {
	if a.Ours != "" {
		r, err := s.store.Get(ctx, a.Ours)
		switch {
		case err == nil && ours(r, backend, a):
			return r.ID, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return "", err
		}
		// Metadata anyone may write when asking in the backend: not trusted without the match.
	}
	key := "desk:" + backend + ":" + a.RequestID
	id, _, err := s.store.ReserveID(ctx, key, "", "")
	if err != nil {
		return "", fmt.Errorf("reserve request id: %w", err)
	}
	now := s.clock.Now()
	who := a.For
	if who.Email == "" {
		who = a.Requester
	}
	item := a.Item
	item.Backend = backend
	if it, ok := s.catalog.ByRef(backend, item.Ref); ok {
		item = it.Snapshot()
	}
	var d time.Duration
	if !a.Ends.IsZero() && !a.Created.IsZero() && a.Ends.After(a.Created) {
		d = a.Ends.Sub(a.Created).Round(time.Minute)
	}
	r := &Request{
		ID: id, Version: 1, State: StateSubmitted, Requester: who, Item: item, Reason: a.Comment, Duration: d,
		Schedule: s.schedule, Platform: backend, CreatedAt: now, UpdatedAt: now,
		Submission: &Submission{Backend: backend, ExternalID: a.RequestID, State: StateSubmitted, At: now},
		Desk:       &Desk{RequestID: a.RequestID, Portal: true},
	}
	asker := Actor{Person: a.Requester, Platform: backend}
	fx := Effects{
		Audit: []AuditRecord{s.audit(r, asker, EventRequest, "", "made in "+backend+" as "+a.RequestID)},
		Due:   map[string]time.Time{dueSync(id): now.Add(s.sync.after(0))},
	}
	if _, err := s.store.Create(ctx, r, fx); err != nil {
		return "", fmt.Errorf("store request %s: %w", id, err)
	}
	return id, nil
}

// ours reports whether r is the request accessbot made for the backend request a names.
func ours(r *Request, backend string, a BackendApproval) bool {
	if r.Desk == nil || r.Item.Backend != backend {
		return false
	}
	if r.Desk.RequestID != "" {
		return r.Desk.RequestID == a.RequestID
	}
	// Submitted, and the backend already asks its approvers, before accessbot stored the
	// backend's id: the same item for the same person.
	return r.Item.Ref == a.Item.Ref && (a.For.Email == "" || r.Requester.Is(a.For))
}

// observeOpen records the approvals a backend waits for on request id: a new one sends
// its approvers cards; one the backend moved to someone else (a forward, its own
// escalation) sends the new approvers cards and redraws the old ones to say where it went.
func (s *Service) observeOpen(ctx context.Context, id string, open []BackendApproval, plan *Schedule) error {
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if r.Desk == nil {
			return nil, errAlreadyDone
		}
		if r.Desk.RequestID == "" {
			r.Desk.RequestID = open[0].RequestID
		}
		if r.Desk.Remind == nil && plan != nil {
			p := *plan
			r.Desk.Remind = &p
		}
		fx := &Effects{}
		redraw := false
		for _, a := range open {
			a.Status, a.Seen = ApprovalPending, s.clock.Now()
			known := r.Desk.approval(a.ID)
			var send []Person
			switch {
			case known == nil || known.Status == ApprovalMoved && known.InChat: // new, or forwarded from a card
				r.Desk.Approvals = append(r.Desk.Approvals, a)
				send = a.Approvers
			case known.Status != ApprovalPending:
				continue // decided through accessbot after this list was read
			case known.Owner != a.Owner || !samePeople(known.Approvers, a.Approvers):
				for _, p := range a.Approvers {
					if !known.MayDecide(p) {
						send = append(send, p)
					}
				}
				known.Status, known.MovedTo = ApprovalMoved, a.Owner
				r.Desk.Approvals = append(r.Desk.Approvals, a)
				redraw = true
				fx.Audit = append(fx.Audit, s.audit(r, system, EventEscalate, "", fmt.Sprintf("%s approval %s moved to %s", r.Item.Backend, a.ID, a.Owner)))
			default:
				continue
			}
			for _, p := range send {
				if !slices.ContainsFunc(r.Approvers, p.Is) {
					r.Approvers = append(r.Approvers, p)
				}
				fx.Tasks = append(fx.Tasks, Task{Kind: TaskSendCard, RequestID: r.ID, To: p.Email})
			}
		}
		if redraw {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskUpdateCards, RequestID: r.ID})
		}
		if len(fx.Tasks) == 0 && len(fx.Audit) == 0 {
			return nil, errAlreadyDone
		}
		if at, ok := nextDeskReminder(r); ok {
			fx.Due = map[string]time.Time{dueDeskReminder(r.ID): at}
		}
		return fx, nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	return err
}

// deskChanged reports whether observeOpen would change r for the open approvals the
// backend lists: one it does not know, or one whose owner changed.
func deskChanged(r *Request, open []BackendApproval) bool {
	if r.Desk == nil {
		return false
	}
	for _, a := range open {
		known := r.Desk.approval(a.ID)
		switch {
		case known == nil || known.Status == ApprovalMoved && known.InChat:
			return true
		case known.Status == ApprovalPending && (known.Owner != a.Owner || !samePeople(known.Approvers, a.Approvers)):
			return true
		}
	}
	return false
}

func samePeople(a, b []Person) bool {
	if len(a) != len(b) {
		return false
	}
	for _, p := range a {
		if !slices.ContainsFunc(b, p.Is) {
			return false
		}
	}
	return true
}

// observeClosed records what became of an approval no longer pending, unless accessbot
// recorded it already (it was decided through a card).
func (s *Service) observeClosed(ctx context.Context, desk ApprovalDesk, id, approvalID string) error {
	r, err := s.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil // forgotten meanwhile
	}
	if err != nil {
		return err
	}
	if r.Desk == nil {
		return nil
	}
	a := r.Desk.approval(approvalID)
	if a == nil || a.Status != ApprovalPending {
		return nil
	}
	var got BackendApproval
	err = s.call(r.Item.Backend, "approval", func() (err error) {
		got, err = desk.ApprovalOutcome(ctx, *a)
		return err
	})
	if err != nil {
		return err
	}
	if got.Status == ApprovalPending {
		return nil // still pending, missed by a list read while it was moving
	}
	return s.recordOutcome(ctx, id, approvalID, got, Actor{Person: got.DecidedBy, Platform: r.Item.Backend})
}

// recordOutcome stores the decision of one of the backend's approvals, redraws every card
// of the request, tells the requester, and asks the backend for the request's status at
// once, since that is when it changes.
func (s *Service) recordOutcome(ctx context.Context, id, approvalID string, got BackendApproval, by Actor) error {
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if r.Desk == nil {
			return nil, errAlreadyDone
		}
		a := r.Desk.approval(approvalID)
		if a == nil || a.Status != ApprovalPending {
			return nil, errAlreadyDone
		}
		a.Status, a.DecidedBy, a.Decision, a.At, a.InChat = got.Status, got.DecidedBy, got.Decision, got.At, got.InChat
		if a.At.IsZero() {
			a.At = s.clock.Now()
		}
		r.Desk.Intents = slices.DeleteFunc(r.Desk.Intents, func(in Intent) bool { return in.Approval == approvalID })
		event, detail := EventApprove, fmt.Sprintf("%s approval %s", r.Item.Backend, approvalID)
		switch got.Status {
		case ApprovalRejected:
			event = EventDeny
		case ApprovalGone:
			event, detail = EventCancel, detail+" withdrawn"
		}
		if !got.InChat {
			detail += " decided in " + r.Item.Backend
		}
		fx := &Effects{
			Audit: []AuditRecord{s.audit(r, by, event, "", detail)},
			Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID}},
		}
		if got.Status != ApprovalGone {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeStep})
		}
		if r.State == StateSubmitted {
			fx.Due = map[string]time.Time{dueSync(r.ID): s.clock.Now()}
		}
		return fx, nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	return err
}

// decideAtDesk carries out an approver's click in the backend, as the approver: through
// their connected account, or as accessbot's own identity where the backend is set to
// decide so. Someone who has not connected is told how, and the click is kept and carried
// out once they have.
func (s *Service) decideAtDesk(ctx context.Context, in DecideInput, r *Request) (*Request, error) {
	p := in.Approver.Person
	a, ok := r.Desk.OpenFor(p)
	if !ok {
		return nil, s.notAtDesk(r, p)
	}
	reason := strings.TrimSpace(in.Reason)
	if !in.Approve && reason == "" && a.CommentRequired {
		return nil, problem(ErrDenyReasonRequired, "reason", fmt.Sprintf("%s needs a comment to reject; tell the requester why.", BackendTitle(r.Item.Backend)))
	}
	desk := s.desks[r.Item.Backend]
	var as Account
	if !s.decideAsService[r.Item.Backend] {
		var err error
		if as, err = s.accounts.Account(ctx, r.Item.Backend, p.Email); err != nil {
			if !errors.Is(err, ErrNotConnected) && !errors.Is(err, ErrConnectAgain) {
				return nil, fmt.Errorf("connected account of %s at %s: %w", p.Email, r.Item.Backend, err)
			}
			return nil, s.keepIntent(ctx, r, in, a, err)
		}
	}
	var got BackendApproval
	err := s.call(r.Item.Backend, "decide", func() (err error) {
		got, err = desk.DecideApproval(ctx, as, ApprovalDecision{Approval: a, By: p, Approve: in.Approve, Comment: reason})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrConnectAgain) {
			return nil, s.keepIntent(ctx, r, in, a, err)
		}
		return nil, err
	}
	if got.Status == ApprovalPending {
		return nil, problem(ErrNotPending, "", fmt.Sprintf("%s has your decision on %s and is still working on it; the card changes once it is recorded.",
			BackendTitle(r.Item.Backend), r.ID))
	}
	got.InChat = true
	if got.DecidedBy.Email == "" {
		got.DecidedBy = p
	}
	if err := s.recordOutcome(ctx, r.ID, a.ID, got, in.Approver); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, r.ID)
}

// notAtDesk explains why p cannot decide a request its backend decides.
func (s *Service) notAtDesk(r *Request, p Person) error {
	switch {
	case r.Requester.Is(p):
		return problem(ErrSelfApproval, "", fmt.Sprintf("You can't decide your own request %s.", r.ID))
	case !s.involved(r, p):
		return unknown(ErrNotApprover, r.ID)
	}
	for _, a := range slices.Backward(r.Desk.Approvals) {
		if !a.MayDecide(p) {
			continue
		}
		switch a.Status {
		case ApprovalMoved:
			return problem(ErrNotApprover, "", fmt.Sprintf("%s moved this approval of %s to %s, so it is theirs to decide now.", BackendTitle(r.Item.Backend), r.ID, a.MovedTo))
		case ApprovalApproved, ApprovalRejected:
			verb := "approved"
			if a.Status == ApprovalRejected {
				verb = "rejected"
			}
			return problem(ErrAlreadyDecided, "", fmt.Sprintf("%s was already %s by %s at %s.", r.ID, verb, a.DecidedBy.Display(),
				a.At.UTC().Format("2006-01-02 15:04 UTC")))
		}
	}
	return problem(ErrNotPending, "", fmt.Sprintf("%s is %s, and nothing of it waits for your decision.", r.ID, r.State.Label()))
}

// keepIntent remembers a click accessbot cannot carry out until the person connects their
// account, and says so; cause is ErrNotConnected or ErrConnectAgain.
func (s *Service) keepIntent(ctx context.Context, r *Request, in DecideInput, a BackendApproval, cause error) error {
	intent := Intent{By: in.Approver, Approval: a.ID, Approve: in.Approve, Comment: strings.TrimSpace(in.Reason), At: s.clock.Now()}
	_, err := s.transition(ctx, r.ID, func(r *Request) (*Effects, error) {
		if r.Desk == nil {
			return nil, errAlreadyDone
		}
		r.Desk.Intents = slices.DeleteFunc(r.Desk.Intents, func(i Intent) bool { return i.By.Is(in.Approver.Person) })
		r.Desk.Intents = append(r.Desk.Intents, intent)
		return &Effects{}, nil
	})
	if err != nil && !errors.Is(err, errAlreadyDone) {
		return err
	}
	verb := "approval"
	if !in.Approve {
		verb = "rejection"
	}
	return s.connectFirst(r, cause, fmt.Sprintf("Your %s of %s is kept and carried out as soon as you have.", verb, r.ID))
}

// Connected carries out the clicks someone made before they connected their account at
// backend, and hands their own requests that waited for it to the backend; accessbot
// calls it when a connection succeeds.
func (s *Service) Connected(ctx context.Context, backend string, who Actor) error {
	mine, err := s.store.ListByRequester(ctx, who.Email, maxIntents)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range mine {
		if r.State == StateApproved && r.Desk != nil && r.Desk.AwaitsConnect && r.Item.Backend == backend {
			if err := s.submit(ctx, r); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.ID, err))
			}
		}
	}
	rs, err := s.store.ListPendingFor(ctx, who.Email, maxIntents)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, r := range rs {
		if r.Desk == nil || r.Item.Backend != backend {
			continue
		}
		for _, in := range r.Desk.Intents {
			if !in.By.Is(who.Person) {
				continue
			}
			by := in.By
			by.Platform, by.ChatID = who.Platform, who.ChatID
			if _, err := s.decideAtDesk(ctx, DecideInput{RequestID: r.ID, Approver: by, Approve: in.Approve, Reason: in.Comment}, r); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// maxIntents bounds how many waiting requests Connected looks through.
const maxIntents = 200

// ForwardInput is an approver handing one of the backend's approvals to someone else.
type ForwardInput struct {
	RequestID string
	By        Actor
	To        Person
	Comment   string // required, as the backends require one
}

// Forward hands the approval by may decide on a request its backend decides to another
// person, in the backend, as by (their connected account): the backend then asks that
// person, whose card comes with the next poll, and every card of it says where it went.
func (s *Service) Forward(ctx context.Context, in ForwardInput) (*Request, error) {
	comment := strings.TrimSpace(in.Comment)
	if comment == "" {
		return nil, problem(ErrBadCommand, "reason", "Say why you forward it; the new approver reads it.")
	}
	if err := checkReason(comment); err != nil {
		return nil, err
	}
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return nil, err
	}
	if r.Desk == nil {
		return nil, problem(ErrNotAllowed, "", fmt.Sprintf("%s is decided here in accessbot, where approvers cannot hand it on; its approvers are %s.",
			r.ID, r.ApproverNames()))
	}
	p := in.By.Person
	a, ok := r.Desk.OpenFor(p)
	if !ok {
		return nil, s.notAtDesk(r, p)
	}
	switch {
	case in.To.Email == "":
		return nil, problem(ErrBadCommand, "forward_to", "Say whom to forward it to, by e-mail address.")
	case in.To.Is(p):
		return nil, problem(ErrBadCommand, "forward_to", "It is already yours; forward it to someone else.")
	case in.To.Is(r.Requester):
		return nil, problem(ErrSelfApproval, "forward_to", fmt.Sprintf("%s asked for it and cannot decide it; forward it to someone else.", r.Requester.Display()))
	}
	as, err := s.accountFor(ctx, r, p)
	if err != nil {
		return nil, s.connectFirst(r, err, fmt.Sprintf("Then forward %s again.", r.ID))
	}
	var got BackendApproval
	err = s.call(r.Item.Backend, "forward", func() (err error) {
		got, err = s.desks[r.Item.Backend].DecideApproval(ctx, as, ApprovalDecision{Approval: a, By: p, Comment: comment, ForwardTo: in.To})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, r.ID, func(r *Request) (*Effects, error) {
		cur := r.Desk.approval(a.ID)
		if cur == nil || cur.Status != ApprovalPending {
			return nil, s.notAtDesk(r, p)
		}
		cur.Status, cur.MovedTo, cur.DecidedBy, cur.Decision, cur.At, cur.InChat = ApprovalMoved, cmp.Or(got.MovedTo, in.To.Display()), p,
			comment, s.clock.Now(), true
		return &Effects{
			Audit: []AuditRecord{s.audit(r, in.By, EventEscalate, "", fmt.Sprintf("%s approval %s forwarded to %s: %s", r.Item.Backend, a.ID, in.To.Email, comment))},
			Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID}},
		}, nil
	})
}

// accountFor is p's connected account at r's backend, or nil where the backend decides
// as accessbot's own identity.
func (s *Service) accountFor(ctx context.Context, r *Request, p Person) (Account, error) {
	if s.decideAsService[r.Item.Backend] {
		return nil, nil
	}
	return s.accounts.Account(ctx, r.Item.Backend, p.Email)
}

// connectFirst says that accessbot can act for someone in r's backend only once they have
// connected their account there, and then, in next, what becomes of what they asked; any
// other error passes through.
func (s *Service) connectFirst(r *Request, err error, next string) error {
	if !errors.Is(err, ErrNotConnected) && !errors.Is(err, ErrConnectAgain) {
		return err
	}
	title := BackendTitle(r.Item.Backend)
	why := title + " records who decides, so accessbot acts there as you: connect your account once"
	if errors.Is(err, ErrConnectAgain) {
		why = "Your connected " + title + " account no longer works: connect it again"
	}
	return &ConnectFirst{Backend: r.Item.Backend, Problem: &Problem{Err: err, Message: fmt.Sprintf(
		"%s with `connect %s`. %s", why, r.Item.Backend, next)}}
}

// deskReminderDue reminds the approvers of each of r's open approvals whose reminder has
// come, on the backend's own plan (Desk.Remind); after downtime, overdue reminders of one
// approval collapse into one. Reminders wait for the approver's working hours in the
// outbox, as accessbot's own do; the backend escalates, so accessbot does not.
func (s *Service) deskReminderDue(ctx context.Context, id string, now time.Time) error {
	_, err := s.transition(ctx, id, func(r *Request) (*Effects, error) {
		member := dueDeskReminder(r.ID)
		fx := &Effects{Undue: []string{member}}
		if r.Desk == nil || r.State.Terminal() {
			return fx, nil
		}
		for i := range r.Desk.Approvals {
			a := &r.Desk.Approvals[i]
			due := false
			for at, ok := nextReminder(r.Desk.Remind, *a); ok && !at.After(now); at, ok = nextReminder(r.Desk.Remind, *a) {
				a.Reminded++
				due = true
			}
			if !due {
				continue
			}
			r.Reminders++
			fx.Audit = append(fx.Audit, s.audit(r, system, EventRemind, "", fmt.Sprintf("%s approval %s: reminder %d", r.Item.Backend, a.ID, a.Reminded)))
			for _, p := range a.Approvers {
				fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: p.Email, Notice: NoticeReminder, N: r.Reminders})
			}
		}
		if at, ok := nextDeskReminder(r); ok {
			fx.Undue, fx.Due = nil, map[string]time.Time{member: at}
		}
		return fx, nil
	})
	return err
}
