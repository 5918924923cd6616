package governance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RevokeInput asks to end active access before its end.
type RevokeInput struct {
	By     Actor
	Target string // a request id ("AR-7"), or a catalog item's id or name
	Holder string // whose access, by e-mail, when Target is an item; empty: By's own
}

// Revoke ends active access now: the holder may give up their own, their manager (as the
// item's backend knows managers, else the configuration's managers) may end a direct
// report's, and an admin anyone's. The
// backend is told through the outbox, and the holder is told when someone else did it.
func (s *Service) Revoke(ctx context.Context, in RevokeInput) (*Request, error) {
	r, err := s.findActive(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.mayRevoke(ctx, r, in.By); err != nil {
		if in.Holder != "" && !s.involved(r, in.By.Person) { // as if there were none to revoke
			return nil, noActiveAccess(strings.ToLower(r.Requester.Email)+" has", in.Target)
		}
		return nil, err
	}
	return s.transition(ctx, r.ID, func(r *Request) (*Effects, error) {
		if r.State != StateActive {
			return nil, problem(ErrNotActive, "", fmt.Sprintf("%s is %s now, so there is nothing to revoke.", r.ID, r.State.Label()))
		}
		by := in.By.Person
		by.Email = strings.ToLower(by.Email)
		r.State = StateRevoked
		r.RevokedBy = &by
		fx := &Effects{
			Undue: []string{dueExpiry(r.ID)},
			Audit: []AuditRecord{s.audit(r, in.By, EventRevoke, StateActive, "")},
			Tasks: []Task{{Kind: TaskRevoke, RequestID: r.ID}},
		}
		if !r.Requester.Is(by) {
			fx.Tasks = append(fx.Tasks, Task{Kind: TaskNotify, RequestID: r.ID, To: r.Requester.Email, Notice: NoticeRevoked})
		}
		return fx, nil
	})
}

// findActive is the active grant a revoke names: by request id (an extension stands for
// the grant it extends), or by item among the holder's requests.
func (s *Service) findActive(ctx context.Context, in RevokeInput) (*Request, error) {
	target := strings.TrimSpace(in.Target)
	if target == "" {
		return nil, problem(ErrBadCommand, "item", "Say what to revoke: `revoke <item>`, `revoke <item> from <e-mail>` or `revoke AR-7`.")
	}
	if id, err := ParseRequestID(target); err == nil && in.Holder == "" {
		r, err := s.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Extends != "" {
			return s.load(ctx, r.Extends)
		}
		if r.State != StateActive {
			if !s.involved(r, in.By.Person) { // a stranger learns neither its state nor that it exists
				return nil, unknown(ErrNotActive, r.ID)
			}
			return nil, problem(ErrNotActive, "", fmt.Sprintf("%s is %s, so there is no access to revoke.", r.ID, r.State.Label()))
		}
		return r, nil
	}
	holder := strings.ToLower(strings.TrimSpace(in.Holder))
	if holder == "" {
		holder = strings.ToLower(in.By.Email)
	} else if p, err := ParsePerson(holder); err != nil {
		return nil, problem(ErrBadCommand, "", fmt.Sprintf("Whose access? %s", err))
	} else {
		holder = p.Email
	}
	rs, err := s.store.ListByRequester(ctx, holder, 100)
	if err != nil {
		return nil, fmt.Errorf("list requests of %s: %w", holder, err)
	}
	name := target
	it, err := s.catalog.Lookup(target)
	if err == nil {
		name = it.ID
	}
	// An item of the catalog, one the holder was granted through a search, or any name
	// where a search item could find it in its backend.
	known := err == nil || slices.ContainsFunc(s.catalog.Items(), func(it Item) bool { return it.Search })
	for _, r := range rs {
		if !strings.EqualFold(r.Item.ID, name) && !strings.EqualFold(r.Item.Name, target) {
			continue
		}
		known = true
		if r.State == StateActive && r.Extends == "" {
			return r, nil
		}
	}
	if !known && holder == strings.ToLower(in.By.Email) {
		return nil, problem(ErrUnknownItem, "item", fmt.Sprintf("There is no item %q; `status` lists your requests and `help` the catalog.", target))
	}
	whose := "You have"
	if holder != strings.ToLower(in.By.Email) {
		whose = holder + " has"
	}
	return nil, noActiveAccess(whose, target)
}

// noActiveAccess says whose ("You have", "bob@example.com has") holds no active access to target.
func noActiveAccess(whose, target string) *Problem {
	return problem(ErrNotActive, "item", fmt.Sprintf("%s no active access to %q through accessbot; `status` lists requests and their state.", whose, target))
}

// mayRevoke is the revoke policy: the holder, an admin, or the holder's manager; a guest
// only their own.
func (s *Service) mayRevoke(ctx context.Context, r *Request, by Actor) error {
	p := by.Person
	switch {
	case r.Requester.Is(p):
		return nil
	case by.Guest && !s.involved(r, p):
		return unknown(ErrNotAllowed, r.ID)
	case by.Guest:
		return problem(ErrNotAllowed, "", fmt.Sprintf("You are a guest here, so you can give up only your own access, not revoke %s (%s).",
			r.ID, r.Item.Name))
	case slices.ContainsFunc(s.admins, p.Is):
		return nil
	}
	// The holder's manager as approvals and requests for others know them: the item's
	// backend's, else the configuration's managers.
	m, found, err := s.managerOf(ctx, r.Item.Backend, r.Requester.Email)
	if err != nil {
		s.log.WarnContext(ctx, "manager unknown; revoke refused", "request", r.ID, "err", err)
	}
	if found && m.Is(p) {
		return nil
	}
	if !s.involved(r, p) {
		return unknown(ErrNotAllowed, r.ID)
	}
	return problem(ErrNotAllowed, "", fmt.Sprintf("Only %s, their manager or an access admin can revoke %s (%s).",
		r.Requester.Display(), r.ID, r.Item.Name))
}

// revokeComment is what the backend is told about why access ended.
func revokeComment(r *Request) string {
	if r.RevokedBy != nil {
		return fmt.Sprintf("Revoked in chat by %s (accessbot %s)", r.RevokedBy.Email, r.ID)
	}
	return fmt.Sprintf("Time-bound access ended at %s (accessbot %s)", r.EndsAt().UTC().Format(time.RFC3339), r.ID)
}
