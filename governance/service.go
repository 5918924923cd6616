package governance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Service carries out the commands people give and the work that follows them.
type Service struct {
	catalog  *Catalog
	store    Store
	backends map[string]Backend
	notifier Notifier
	clock    Clock
	schedule Schedule
	admins   []Person
	hours    WorkingHours
	sync     SyncPolicy
	obs      Observer
	log      *slog.Logger
	retain   Retention
	// managersKnown: some backend can tell managers, so escalations look them up.
	managersKnown bool
	homes         bool  // home views are drawn: every change that shows in one redraws it
	waker         Waker // the local outbox dispatcher; may be nil

	groups   Groups            // the configuration's groups, for group:<name> approvers
	managers map[string]Person // e-mail → manager, from the configuration, for manager approvers
	onCall   OnCall            // PagerDuty, for on-call auto-approval; may be nil
	// desks are the backends whose own approval policy decides some item, and
	// decideAsService those of them that decide as accessbot's own identity.
	desks           map[string]ApprovalDesk
	decideAsService map[string]bool
	accounts        Accounts
}

// Config is what a Service is built from.
type Config struct {
	Catalog  *Catalog
	Store    Store
	Backends []Backend
	Notifier Notifier
	Clock    Clock        // default SystemClock
	Schedule Schedule     // copied onto each new request
	Admins   []Person     // may decide any request once it has escalated
	Hours    WorkingHours // when reminders and expiry warnings may arrive
	Sync     SyncPolicy   // how often backends are asked about grants they are working on
	Observer Observer     // metrics; default none
	Logger   *slog.Logger // default slog.Default()
	// Retention is how long finished requests and audit records are kept.
	Retention Retention
	// Groups are the groups approval stages name as group:<name>.
	Groups Groups
	// Managers maps a person's e-mail to their manager, for the manager approver kind where
	// the item's backend does not know managers.
	Managers map[string]Person
	// OnCall tells who is on call (PagerDuty), for on-call auto-approval rules; nil: none.
	OnCall OnCall
	// Accounts are people's connected accounts, through which accessbot decides in a
	// backend as the person who clicked (items with approvals: backend).
	Accounts Accounts
	// Homes: the Notifier is a HomePublisher on a platform that shows home views (Slack's
	// App Home), so each change redraws the home views it touches through the outbox.
	Homes bool
}

// Retention is how long what is finished is kept.
type Retention struct {
	// Finished is how long a finished request (denied, cancelled, timed out, expired,
	// revoked, failed) is kept after it finished, with its cards, index and grant record;
	// default 90 days.
	Finished time.Duration
	// Audit is how long an audit record is kept; default 400 days. `accessbot audit export`
	// keeps a longer trail elsewhere.
	Audit time.Duration
}

// The retention defaults.
const (
	DefaultRetainFinished = 90 * Day
	DefaultRetainAudit    = 400 * Day
)

// NewService checks that every item's backend is configured and returns the service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Store == nil || cfg.Notifier == nil {
		return nil, errors.New("governance: catalog, store and notifier are required")
	}
	s := &Service{
		catalog:  cfg.Catalog,
		store:    cfg.Store,
		backends: map[string]Backend{},
		notifier: cfg.Notifier,
		clock:    cfg.Clock,
		schedule: cfg.Schedule,
		admins:   cfg.Admins,
		hours:    cfg.Hours,
		sync:     cfg.Sync,
		obs:      cfg.Observer,
		log:      cfg.Logger,
		retain:   cfg.Retention,
		accounts: cfg.Accounts,
		desks:    map[string]ApprovalDesk{},

		decideAsService: map[string]bool{},

		groups:   cfg.Groups,
		managers: map[string]Person{},
		onCall:   cfg.OnCall,
	}
	for e, m := range cfg.Managers {
		m.Email = strings.ToLower(m.Email)
		s.managers[strings.ToLower(e)] = m
	}
	if _, ok := cfg.Notifier.(HomePublisher); ok {
		s.homes = cfg.Homes
	}
	if s.retain.Finished <= 0 {
		s.retain.Finished = DefaultRetainFinished
	}
	if s.retain.Audit <= 0 {
		s.retain.Audit = DefaultRetainAudit
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.obs == nil {
		s.obs = noObserver{}
	}
	for _, b := range cfg.Backends {
		s.backends[b.Name()] = b
		if _, ok := b.(ManagerFinder); ok {
			s.managersKnown = true
		}
	}
	for _, it := range cfg.Catalog.Items() {
		b, ok := s.backends[it.Backend]
		if !ok {
			return nil, fmt.Errorf("catalog item %s uses backend %q, which is not configured: %w", it.ID, it.Backend, ErrUnknownBackend)
		}
		if !it.BackendDecides() {
			continue
		}
		desk, ok := b.(ApprovalDesk)
		if !ok {
			return nil, fmt.Errorf("catalog item %s says approvals: backend, but %s has no approvals accessbot can follow; set approvals: accessbot: %w", it.ID, it.Backend, ErrUnknownBackend)
		}
		s.desks[it.Backend] = desk
		if sd, ok := b.(ServiceDecider); ok && sd.DecidesAsService() {
			s.decideAsService[it.Backend] = true
		} else if s.accounts == nil {
			return nil, fmt.Errorf("catalog item %s says approvals: backend, which decides in %s as the person who clicks: connected accounts must be configured", it.ID, it.Backend)
		}
	}
	if err := errors.Join(CheckPolicies(cfg.Catalog, s.PolicyOptions())...); err != nil {
		return nil, err
	}
	return s, nil
}

// PolicyOptions is what the service knows beyond the catalog that approval stages may
// rely on: its groups, whether anything tells managers, which backends tell owners.
func (s *Service) PolicyOptions() PolicyOptions {
	o := PolicyOptions{Groups: s.groups, Managers: len(s.managers) > 0, PagerDuty: s.onCall != nil}
	for name, b := range s.backends {
		if _, ok := b.(OwnerFinder); ok {
			o.Owners = append(o.Owners, name)
		}
		if _, ok := b.(ManagerFinder); ok {
			o.ManagerBackends = append(o.ManagerBackends, name)
		}
		if _, ok := b.(GroupFinder); ok {
			o.GroupBackends = append(o.GroupBackends, name)
		}
	}
	return o
}

// Catalog returns the catalog the service offers.
func (s *Service) Catalog() *Catalog { return s.catalog }

// Clock returns the service's clock.
func (s *Service) Clock() Clock { return s.clock }

// Ready reports whether the store can be reached.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// RequestInput is an ask for access.
type RequestInput struct {
	Requester Actor
	Item      string        // id or name
	Duration  time.Duration // 0: the item's default
	Reason    string
	// IdempotencyKey identifies the ask across retries (Slack's trigger_id); the same key
	// always yields the same request.
	IdempotencyKey string
	// For is the person the access is for, when not the requester: a manager may ask for a
	// direct report, an admin for anyone. Empty: the requester.
	For Person
	// Confirm sends the requester a message saying where the request went; used where the
	// platform cannot answer in place (a submitted form).
	Confirm bool

	extends  string    // set by Extend: the active request this one extends
	extendTo time.Time // set by Extend: the end asked for, fixed now so retries cannot extend twice
}

// Request validates an ask against the catalog and policy and stores it as
// pending_approval; the approval cards go out through the outbox.
func (s *Service) Request(ctx context.Context, in RequestInput) (*Request, error) {
	item, err := s.resolveItem(ctx, in.Item)
	if err != nil {
		return nil, err
	}
	d := in.Duration
	if d == 0 {
		d = item.DefaultDuration
	}
	if item.MaxDuration > 0 && d > item.MaxDuration {
		return nil, problem(ErrDurationTooLong, "duration", fmt.Sprintf("%s can be granted for at most %s; ask for %s or less.",
			item.Name, FormatDuration(item.MaxDuration), FormatDuration(item.MaxDuration)))
	}
	reason := strings.TrimSpace(in.Reason)
	if (item.JustificationRequired || item.RequireTicket != nil) && reason == "" {
		return nil, problem(ErrJustificationRequired, "reason", fmt.Sprintf(
			"%s needs a reason. Add one: `request %s for %s because <why you need it>`.", item.Name, item.ID, FormatDuration(d)))
	}
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	if err := checkTicket(item, reason, FormatDuration(d)); err != nil {
		return nil, err
	}
	requester := in.Requester.Person
	requester.Email = strings.ToLower(requester.Email)
	forOther := in.For.Email != "" && !in.For.Is(requester)
	if item.BackendDecides() {
		if forOther {
			return nil, problem(ErrNotAllowed, "for", fmt.Sprintf(
				"%s is approved in %s by its own policy, where accessbot cannot ask for someone else; %s can ask for it themselves: `request %s`.",
				item.Name, item.Backend, in.For.Email, item.ID))
		}
		return s.requestAtDesk(ctx, in, requester, item, d, reason)
	}
	var askedBy *Person
	if forOther {
		if err := s.mayAskFor(ctx, in.Requester, in.For, item); err != nil {
			return nil, err
		}
		asker := requester
		askedBy, requester = &asker, in.For
		requester.Email = strings.ToLower(requester.Email)
	}
	stages, err := s.resolveStages(ctx, item, requester, askedBy) // self-approval never, for either
	if err != nil {
		return nil, err
	}
	approvers := slices.Clone(stages[0].Approvers) // later stages join when they are reached
	// Auto-approval: only for the person's own ask, and asked before the id is reserved.
	why, auto := "", false
	if askedBy == nil {
		why, auto = s.autoApproval(ctx, item, requester, d)
	}
	if auto { // everyone who would have been asked gets the FYI, and may see it
		for _, st := range stages[1:] {
			for _, a := range st.Approvers {
				if !slices.ContainsFunc(approvers, a.Is) {
					approvers = append(approvers, a)
				}
			}
		}
	}

	build := func(id string) (*Request, Effects) {
		now := s.clock.Now()
		r := &Request{
			ID: id, Version: 1, State: StatePendingApproval,
			Requester: requester, Item: item.Snapshot(), Duration: d, Reason: reason,
			Approvers: approvers, Stages: stages, Schedule: s.schedule, Platform: in.Requester.Platform,
			CreatedAt: now, UpdatedAt: now, Extends: in.extends, ExtendTo: in.extendTo, RequestedBy: askedBy,
		}
		detail := ""
		if askedBy != nil {
			detail = "for " + requester.Email
		}
		fx := Effects{Audit: []AuditRecord{s.audit(r, in.Requester, EventRequest, "", detail)}}
		if len(stages) == 1 && stages[0].Required == 1 {
			r.Stages = nil // one stage where one approval decides is what Approvers alone say: stored as before stages
		}
		if auto {
			s.autoApproved(r, why, &fx)
		}
		for _, a := range approvers {
			if !auto && !item.ChannelOnly {
				fx.Tasks = append(fx.Tasks, Task{Kind: TaskSendCard, RequestID: id, To: a.Email})
			}
		}
		if in.Confirm {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: strings.ToLower(in.Requester.Email), Notice: NoticeReceived})
		}
		if askedBy != nil { // the person it is for is told, and may cancel it
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: id, To: requester.Email, Notice: NoticeAskedForYou})
		}
		fx.Tasks = append(fx.Tasks, s.homeTasks(nil, r)...)
		fx.Tasks = append(fx.Tasks, channelTasks(nil, r, &fx)...)
		if at, ok := r.Schedule.FirstApprovalDue(now); ok && !auto {
			fx.Due = map[string]time.Time{dueApproval(id): at}
		}
		return r, fx
	}
	r, fx, err := s.create(ctx, in, requester, item, build)
	if err != nil || fx == nil { // refused, or a retry of an ask already stored
		return r, err
	}
	for _, a := range fx.Audit {
		s.obs.Transitioned(r, a)
	}
	// Typed attributes, so that nothing is allocated for the line when info is not logged.
	s.log.LogAttrs(ctx, slog.LevelInfo, "request created", slog.String("request", r.ID), slog.String("item", item.ID),
		slog.String("requester", requester.Email), slog.Duration("duration", d))
	s.wakeFor(fx.Tasks)
	return r, nil
}

// mayAskFor is the rule of requests for someone else: an admin for anyone, a manager for
// a direct report (as the item's backend, or the configuration, tells); never a guest.
func (s *Service) mayAskFor(ctx context.Context, by Actor, forWhom Person, item Item) error {
	if !by.Guest && slices.ContainsFunc(s.admins, by.Is) {
		return nil
	}
	if !by.Guest {
		m, ok, err := s.managerOf(ctx, item.Backend, forWhom.Email)
		if err != nil {
			return err
		}
		if ok && m.Is(by.Person) {
			return nil
		}
	}
	return problem(ErrNotAllowed, "for", fmt.Sprintf(
		"You can ask for access for someone else only as their manager or as an admin; %s can ask for %s themselves: `request %s`.",
		forWhom.Email, item.Name, item.ID))
}

// create stores the request build makes for a fresh id, bound as the person's one open
// request for the item in the same step (the store's CreateReserved), and refuses it
// when they already asked for, or hold, the same access: a second request would only send
// every approver a second card. An extension is the one request that may stand beside
// open access. It returns the request created with its effects, or, for a retried ask,
// the request the first attempt made and no effects.
func (s *Service) create(ctx context.Context, in RequestInput, requester Person, item Item, build func(id string) (*Request, Effects)) (*Request, *Effects, error) {
	open := ""
	if in.extends == "" {
		open = requester.Email + "|" + item.ID
	}
	replace := ""
	for range 3 {
		res, err := s.store.CreateReserved(ctx, in.IdempotencyKey, open, replace, build)
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("store request: %w", err)
		case res.Created:
			return res.Request, &res.Effects, nil
		case res.Other == "": // a retry of an ask already stored: answer as the first time
			return s.retried(ctx, res.Bound, build)
		}
		other := res.Other
		prev, err := s.store.Get(ctx, other)
		switch {
		case err == nil && stillOpen(prev, s.clock.Now()):
			return nil, nil, alreadyAsked(prev)
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, nil, fmt.Errorf("reserve request id: %w", err)
		}
		replace = other // finished, or never stored: take its place
	}
	return nil, nil, fmt.Errorf("reserve request id: %s's ask for %s was taken over by other requests three times over; try again", requester.Email, item.ID)
}

// retried answers an ask made again (Slack retrying a command) with the request its first
// attempt made under id. An attempt that bound id and stopped before creating it (a
// process of an earlier release killed between its two round trips) left nothing: the
// retry creates it.
func (s *Service) retried(ctx context.Context, id string, build func(id string) (*Request, Effects)) (*Request, *Effects, error) {
	ask, fx := build(id)
	r, err := s.store.Get(ctx, id)
	switch {
	case err == nil && !sameAsk(r, ask):
		// Never answer one person with another's request, whatever the store said.
		return nil, nil, fmt.Errorf("store request: %s, given as this ask's, is another ask's", id)
	case !errors.Is(err, ErrNotFound):
		return r, nil, err
	}
	r = ask
	created, err := s.store.Create(ctx, r, fx)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("store request %s: %w", id, err)
	case !created: // its first attempt finished meanwhile
		r, err = s.store.Get(ctx, id)
		return r, nil, err
	}
	return r, &fx, nil
}

// sameAsk reports whether a and b ask for the same access for the same person, asked by
// the same person.
func sameAsk(a, b *Request) bool {
	by := a.RequestedBy == nil && b.RequestedBy == nil ||
		a.RequestedBy != nil && b.RequestedBy != nil && a.RequestedBy.Is(*b.RequestedBy)
	return by && a.Requester.Is(b.Requester) && a.Item.ID == b.Item.ID
}

// stillOpen reports whether r still asks for, or gives, its access.
func stillOpen(r *Request, now time.Time) bool {
	switch r.State {
	case StatePendingApproval, StateApproved, StateSubmitted:
		return true
	case StateActive:
		return r.EndsAt().IsZero() || now.Before(r.EndsAt())
	}
	return false
}

// alreadyAsked refuses a request for access the person already asked for, or holds, and
// says what they can do instead.
func alreadyAsked(r *Request) *Problem {
	if r.State == StateActive {
		more := ""
		if !r.EndsAt().IsZero() {
			more = fmt.Sprintf(" until %s; to keep it longer, `extend %s`", r.EndsAt().UTC().Format("2006-01-02 15:04 UTC"), r.ID)
		}
		return problem(ErrAlreadyRequested, "item", fmt.Sprintf("You already have %s (%s)%s.", r.Item.Name, r.ID, more))
	}
	return problem(ErrAlreadyRequested, "item", fmt.Sprintf(
		"You already asked for %s: %s is %s. `status` shows where it is; `cancel %s` withdraws it.", r.Item.Name, r.ID, r.State.Label(), r.ID))
}

// DecideInput is an approver's click.
type DecideInput struct {
	RequestID string
	Approver  Actor
	Approve   bool
	Reason    string // required to deny
}

// Decide records an approval or denial. The first valid decision wins; a later one gets
// an ErrAlreadyDecided problem that names who decided and when.
func (s *Service) Decide(ctx context.Context, in DecideInput) (*Request, error) {
	reason := strings.TrimSpace(in.Reason)
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	event := EventDeny
	if in.Approve {
		event = EventApprove
	}
	var atDesk *Request
	r, err := s.transition(ctx, in.RequestID, func(r *Request) (*Effects, error) {
		if r.Desk != nil { // the backend decides: carried out there, below
			atDesk = r
			return nil, errAtDesk
		}
		if !in.Approve && reason == "" {
			return nil, problem(ErrDenyReasonRequired, "reason", "Tell the requester why you deny the request, so they know what to do instead.")
		}
		if err := s.mayDecide(r, in.Approver.Person); err != nil {
			return nil, err
		}
		d := Decision{By: in.Approver.Person, Platform: in.Approver.Platform, ChatID: in.Approver.ChatID,
			Approved: in.Approve, Reason: reason, At: s.clock.Now(), Stage: r.Stage}
		if in.Approve && r.Staged() { // one approval that decides is the Decision alone
			r.Approvals = append(r.Approvals, d)
			if fx, more := s.stageApproved(r, in.Approver); more {
				return fx, nil
			}
		}
		to, _, _ := Next(r.State, event)
		from := r.State
		r.State = to
		r.Decision = &d
		fx := &Effects{
			Undue: []string{dueApproval(r.ID)},
			Audit: []AuditRecord{s.audit(r, in.Approver, event, from, reason)},
			Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID}},
		}
		if in.Approve {
			fx.Tasks = append(fx.Tasks,
				Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeApproved},
				Task{Kind: TaskSubmit, RequestID: r.ID})
		} else {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeDenied})
		}
		return fx, nil
	})
	if errors.Is(err, errAtDesk) {
		return s.decideAtDesk(ctx, in, atDesk)
	}
	return r, err
}

// stageApproved follows an approval just added to r. While its stage needs more
// approvals, or a later stage follows, r stays pending (more is true): every card is
// redrawn with the progress, and a completed stage hands over to the next, whose
// approvers get their cards and whose schedule starts now. When the last stage is
// complete, more is false and the request is approved.
func (s *Service) stageApproved(r *Request, by Actor) (fx *Effects, more bool) {
	st, all := r.CurrentStage(), r.AllStages()
	got := len(r.StageApprovals())
	progress := fmt.Sprintf("stage %d of %d (%s): %d of %d required", r.Stage+1, len(all), st.Name, got, st.Required)
	if got < st.Required {
		return &Effects{
			Audit: []AuditRecord{s.audit(r, by, EventApprove, "", progress)},
			Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID}},
		}, true
	}
	if r.Stage+1 >= len(all) {
		return nil, false
	}
	now := s.clock.Now()
	r.Stage++
	r.StageStarted = now
	r.Reminders, r.Escalations, r.ChainEnd = 0, 0, 0
	fx = &Effects{
		Audit: []AuditRecord{s.audit(r, by, EventApprove, "", progress+"; stage complete")},
		Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID},
			{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeNextStage}},
	}
	for _, a := range r.CurrentStage().Approvers {
		if r.HasApproved(a) {
			continue // nobody decides twice; their card shows the progress
		}
		if !r.IsApprover(a) {
			r.Approvers = append(r.Approvers, a)
		}
		fx.Tasks = append(fx.Tasks, Task{Kind: TaskSendCard, RequestID: r.ID, To: a.Email})
	}
	if next, ok := nextApprovalEvent(r); ok {
		fx.Due = map[string]time.Time{dueApproval(r.ID): next.At}
	} else {
		fx.Undue = []string{dueApproval(r.ID)}
	}
	return fx, true
}

// errAtDesk turns a decision away from accessbot's own approval to the backend's.
var errAtDesk = errors.New("decided in the backend")

// CheckDecider says, without changing anything, whether p may decide request id now; the
// error is the same Problem Decide would return. Chat handlers call it before asking an
// approver for a deny reason, so nobody fills in a form only to be refused.
func (s *Service) CheckDecider(ctx context.Context, id string, p Person) (*Request, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayDecide(r, p); err != nil {
		return nil, err
	}
	return r, nil
}

// mayDecide is the decision policy: never the requester; an approver of the stage
// deciding now who has not approved yet (nobody decides twice), or an admin once the
// request has escalated; only while pending.
func (s *Service) mayDecide(r *Request, p Person) error {
	admin := r.Escalations > 0 && slices.ContainsFunc(s.admins, p.Is)
	if r.Desk != nil {
		if _, ok := r.Desk.OpenFor(p); ok {
			return nil
		}
		return s.notAtDesk(r, p)
	}
	switch {
	case r.Requester.Is(p):
		return problem(ErrSelfApproval, "", fmt.Sprintf(
			"You can't decide your own request %s; it is waiting for %s.", r.ID, r.ApproverNames()))
	case r.RequestedBy != nil && r.RequestedBy.Is(p):
		return problem(ErrSelfApproval, "", fmt.Sprintf(
			"You asked for %s for %s, so you can't decide it; it is waiting for %s.", r.ID, r.Requester.Display(), r.ApproverNames()))
	case !s.involved(r, p):
		return unknown(ErrNotApprover, r.ID)
	case !r.IsApprover(p) && !admin:
		return problem(ErrNotApprover, "", fmt.Sprintf(
			"You are not an approver of %s, so you can't decide it; it is waiting for %s.", r.ID, r.ApproverNames()))
	case r.State != StatePendingApproval:
		return s.notPending(r)
	case r.HasApproved(p):
		return problem(ErrAlreadyDecided, "", fmt.Sprintf(
			"You already approved %s, and nobody decides twice; it is waiting for %s.", r.ID, r.ApproverNames()))
	case !r.CanDecide(p) && !admin:
		st := r.CurrentStage()
		return problem(ErrNotApprover, "", fmt.Sprintf(
			"%s is at stage %d of %d (%s), which you are not an approver of; it is waiting for %s.",
			r.ID, r.Stage+1, len(r.AllStages()), st.Name, r.ApproverNames()))
	}
	return nil
}

// Extend asks for more time on active, time-bound access: a new request for the same item
// and duration, through the usual approval. Once approved, the original grant's end moves
// to the end asked for now. Only the requester may; asking twice for the same grant end
// gives the same request.
func (s *Service) Extend(ctx context.Context, id string, by Actor) (*Request, error) {
	return s.ExtendFor(ctx, id, by, 0)
}

// ExtendFor is Extend for another d (0: the original's duration), as `extend AR-7 for 4h` asks.
func (s *Service) ExtendFor(ctx context.Context, id string, by Actor, d time.Duration) (*Request, error) {
	orig, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !orig.Requester.Is(by.Person):
		if !s.involved(orig, by.Person) {
			return nil, unknown(ErrNotRequester, id)
		}
		return nil, problem(ErrNotRequester, "", fmt.Sprintf("Only %s, who has this access, can ask to extend %s.", orig.Requester.Display(), id))
	case orig.State != StateActive || orig.EndsAt().IsZero():
		return nil, problem(ErrNotPending, "", fmt.Sprintf("%s is %s, so there is no time-bound access to extend; ask again with `request %s`.",
			id, orig.State.Label(), orig.Item.ID))
	}
	end := orig.EndsAt()
	if d <= 0 {
		d = orig.Duration
	}
	// A double click asks once. A click after an earlier ask for this end is over without
	// extending anything (denied, timed out, withdrawn, failed) starts a new round.
	key := fmt.Sprintf("extend:%s:%d", id, end.Unix())
	for {
		r, err := s.Request(ctx, RequestInput{Requester: by, Item: orig.Item.ID, Duration: d,
			Reason:         orig.Reason, // the card says what it extends, until when
			IdempotencyKey: key, Confirm: true,
			extends: id, extendTo: end.Add(d)})
		if err != nil || !r.State.Terminal() {
			return r, err
		}
		key += ":" + r.ID
	}
}

// Cancel withdraws a request that is pending, or submitted but not yet granted (then in
// its backend too); only its requester may, or whoever asked for it on their behalf.
func (s *Service) Cancel(ctx context.Context, id string, by Actor) (*Request, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.State == StateSubmitted && (r.Requester.Is(by.Person) || r.AskedBy(by.Person)) {
		return s.cancelSubmitted(ctx, r, by)
	}
	return s.transition(ctx, id, func(r *Request) (*Effects, error) {
		if !r.Requester.Is(by.Person) && !r.AskedBy(by.Person) { // the person it is for, or who asked for them
			if !s.involved(r, by.Person) {
				return nil, unknown(ErrNotRequester, r.ID)
			}
			return nil, problem(ErrNotRequester, "", fmt.Sprintf(
				"Only %s, who asked for %s, can cancel it.", r.Requester.Display(), r.ID))
		}
		switch r.State {
		case StatePendingApproval:
		case StateCancelled:
			return nil, problem(ErrNotPending, "", fmt.Sprintf("%s is already cancelled.", r.ID))
		case StateActive:
			return nil, problem(ErrNotPending, "", fmt.Sprintf(
				"%s is active, so there is nothing left to cancel; to give the access up, revoke it: `revoke %s`.", r.ID, r.ID))
		default:
			return nil, problem(ErrNotPending, "", fmt.Sprintf("%s is %s, so it can no longer be cancelled.", r.ID, r.State.Label()))
		}
		from := r.State
		r.State = StateCancelled
		r.CancelledAt = s.clock.Now()
		if !r.Requester.Is(by.Person) {
			who := by.Person
			r.CancelledBy = &who
		}
		return &Effects{
			Undue: []string{dueApproval(r.ID)},
			Audit: []AuditRecord{s.audit(r, by, EventCancel, from, "")},
			Tasks: []Task{{Kind: TaskUpdateCards, RequestID: r.ID}},
		}, nil
	})
}

// Schedule returns request id and its planned steps, for its requester, its approvers and
// the admins.
func (s *Service) Schedule(ctx context.Context, id string, viewer Person) (*Request, []Step, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !s.involved(r, viewer) {
		return nil, nil, unknown(ErrNotFound, id)
	}
	return r, s.arrivals(ctx, r, viewer, Steps(r)), nil
}

// arrivals marks the reminders and warnings still to come that wait for their
// recipient's working hours with when they will really arrive: a reminder as the viewer
// gets it when they approve (else as the first approver does), a warning as the requester.
func (s *Service) arrivals(ctx context.Context, r *Request, viewer Person, steps []Step) []Step {
	if !s.hours.Enabled() {
		return steps
	}
	zones := map[string]*time.Location{}
	zone := func(p Person) *time.Location {
		if loc, ok := zones[p.Email]; ok {
			return loc
		}
		loc := s.timeZone(ctx, p)
		zones[p.Email] = loc
		return loc
	}
	for i, st := range steps {
		var to Person
		switch {
		case st.Done:
			continue
		case st.Kind == PlanReminder && r.CanDecide(viewer):
			to = viewer
		case st.Kind == PlanReminder && len(r.Deciders()) > 0:
			to = r.Deciders()[0]
		case st.Kind == PlanExpiryWarning:
			to = r.Requester
		default:
			continue
		}
		var end time.Time
		if st.Kind == PlanExpiryWarning {
			end = r.EndsAt()
		}
		if until, held := s.hours.heldUntil(st.At, zone(to), end); held {
			steps[i].Arrives = until
		}
	}
	return steps
}

// Mine lists the requests a person made, newest first.
func (s *Service) Mine(ctx context.Context, p Person) ([]*Request, error) {
	return s.store.ListByRequester(ctx, strings.ToLower(p.Email), 20)
}

// PendingFor lists the requests waiting for a person's decision, oldest first: those
// whose stage deciding now is theirs and which they have not approved yet.
func (s *Service) PendingFor(ctx context.Context, p Person) ([]*Request, error) {
	rs, err := s.store.ListPendingFor(ctx, strings.ToLower(p.Email), 20)
	return slices.DeleteFunc(rs, func(r *Request) bool { return !r.CanDecide(p) }), err
}

// Waker is the local outbox dispatcher as a transition sees it (Dispatcher).
type Waker interface {
	Wake()  // work was enqueued
	Hurry() // work was enqueued that someone is waiting for: a grant
}

// SetWake registers the dispatcher woken after every transition that enqueued work, so
// that it starts at once instead of at its next poll.
func (s *Service) SetWake(w Waker) { s.waker = w }

// wakeFor wakes the dispatcher for tasks, hurrying it for a submission.
func (s *Service) wakeFor(tasks []Task) {
	if s.waker == nil || len(tasks) == 0 {
		return
	}
	for _, t := range tasks {
		if t.Kind == TaskSubmit {
			s.waker.Hurry()
			return
		}
	}
	s.waker.Wake()
}

func (s *Service) load(ctx context.Context, id string) (*Request, error) {
	r, err := s.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, unknown(ErrNotFound, id)
	}
	return r, err
}

// unknown is the answer for a request that does not exist, and, with the refusal's own
// error, for one the person has no part in: a stranger learns neither who asked nor for
// what, nor even that the request exists.
func unknown(err error, id string) *Problem {
	return problem(err, "", fmt.Sprintf("There is no request %s; `status` lists yours and `pending` the ones waiting for you.", id))
}

// involved reports whether p has a part in r: its requester, who asked for it on their
// behalf, one of its approvers (escalation approvers included), or an admin.
func (s *Service) involved(r *Request, p Person) bool {
	return r.Requester.Is(p) || r.AskedBy(p) || r.IsApprover(p) || slices.ContainsFunc(s.admins, p.Is)
}

// transition loads a request, lets change modify a copy and say what else happens, and
// stores the result if nobody changed the request meanwhile; on a conflict it starts over
// from the fresh request, so concurrent clicks are decided by the store, not by luck.
func (s *Service) transition(ctx context.Context, id string, change func(*Request) (*Effects, error)) (*Request, error) {
	return s.transitionFrom(ctx, id, nil, change)
}

// transitionFrom is transition starting from loaded, the request as the caller has just
// read it (nil: read it now), so that it is not read twice; a conflict reads it afresh.
func (s *Service) transitionFrom(ctx context.Context, id string, loaded *Request, change func(*Request) (*Effects, error)) (*Request, error) {
	for attempt := 0; ; attempt++ {
		cur, err := loaded, error(nil)
		if loaded = nil; cur == nil {
			cur, err = s.load(ctx, id)
		}
		if err != nil {
			return nil, err
		}
		next := cur.clone()
		fx, err := change(next)
		if err != nil {
			return nil, err
		}
		if err := checkLifecycle(cur.State, next.State, fx.Audit); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		if next.State.Terminal() && !cur.State.Terminal() {
			// Finished: forgotten once it has been kept for the retention time.
			if fx.Due == nil {
				fx.Due = map[string]time.Time{}
			}
			fx.Due[duePurge(id)] = s.clock.Now().Add(s.retain.Finished)
		}
		fx.Tasks = append(fx.Tasks, s.homeTasks(cur, next)...)
		fx.Tasks = append(fx.Tasks, channelTasks(cur, next, fx)...)
		next.Version = cur.Version + 1
		next.UpdatedAt = s.clock.Now()
		err = s.store.Update(ctx, next, cur.Version, *fx)
		if errors.Is(err, ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", id, err)
		}
		for _, a := range fx.Audit {
			s.obs.Transitioned(next, a)
		}
		s.wakeFor(fx.Tasks)
		return next, nil
	}
}

// notPending explains why a request can no longer be decided.
func (s *Service) notPending(r *Request) error {
	if d := r.Decision; d != nil {
		verb := "denied"
		if d.Approved {
			verb = "approved"
		}
		return problem(ErrAlreadyDecided, "", fmt.Sprintf("%s was already %s by %s at %s.",
			r.ID, verb, d.By.Display(), d.At.UTC().Format("2006-01-02 15:04 UTC")))
	}
	return problem(ErrNotPending, "", fmt.Sprintf("%s is %s, so there is nothing left to decide.", r.ID, r.State.Label()))
}

func (s *Service) audit(r *Request, by Actor, e Event, from State, detail string) AuditRecord {
	actor := by.Email
	if actor == "" {
		actor = SystemActor
	}
	return AuditRecord{
		At: s.clock.Now(), RequestID: r.ID, Event: e, From: from, To: r.State,
		Actor: actor, Platform: by.Platform, ChatID: by.ChatID, Detail: detail,
	}
}

// SystemActor is the audit trail's name for accessbot itself.
const SystemActor = "accessbot"

var system = Actor{Platform: "accessbot"}

// checkLifecycle verifies that the audit records of a change walk the transition table
// from the stored state to the new one; a change that skips or invents a step is a bug.
func checkLifecycle(from, to State, records []AuditRecord) error {
	at := from
	for _, a := range records {
		if a.From == "" { // an event that is not a state change (a reminder, an escalation)
			continue
		}
		next, _, ok := Next(a.From, a.Event)
		if !ok || a.From != at || next != a.To {
			return fmt.Errorf("%s from %s to %s is not in the lifecycle", a.Event, a.From, a.To)
		}
		at = next
	}
	if at != to {
		return fmt.Errorf("state changed from %s to %s without a lifecycle event", from, to)
	}
	return nil
}
