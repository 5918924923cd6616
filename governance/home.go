package governance

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Home is what a person's home view shows (Slack's App Home): what they asked for and is
// still under way, the access they hold, and what waits for their decision.
type Home struct {
	Person Person
	Open   []*Request // their requests not yet finished and not active: newest first
	Active []*Request // their access now, newest first
	Decide []*Request // requests waiting for their decision, oldest first
	// Accounts are their connected accounts, and CanConnect the backends whose accounts
	// can be connected here (none: the section is not shown).
	Accounts   []Connection
	CanConnect []string
}

// ConnectionLister is connected accounts (governance/accounts) that can list a person's
// connections and say which backends connect them, for the home view.
type ConnectionLister interface {
	Backends() []string
	Connections(ctx context.Context, email string) ([]Connection, error)
}

// HomePublisher is a Notifier that can also show a person their home view. The home is
// drawn whole from the current state each time, so publishing it again is harmless.
type HomePublisher interface {
	PublishHome(ctx context.Context, to Person, h Home) error
	// Watches reports whether the person has opened their home view lately, so that a
	// change is worth drawing now; one who has not sees it drawn when they open it.
	Watches(ctx context.Context, to Person) (bool, error)
}

// HomeIgnorer is a HomePublisher that can tell, from what it holds already and without
// asking anyone, that a person does not watch their home view now (Watches would answer
// false). A change then makes no task to redraw that home: delivering it would only ask
// Watches and do nothing. It answers false whenever it does not know.
type HomeIgnorer interface {
	IgnoresHome(to Person) bool
}

// How many requests of each kind a home view lists; `status` and `pending` list more.
const (
	homeMine   = 50 // requests read to find the open and active ones
	homeDecide = 20
)

// Home reads what p's home view shows.
func (s *Service) Home(ctx context.Context, p Person) (Home, error) {
	email := strings.ToLower(p.Email)
	h := Home{Person: p}
	mine, err := s.store.ListByRequester(ctx, email, homeMine)
	if err != nil {
		return h, fmt.Errorf("home of %s: %w", email, err)
	}
	for _, r := range mine {
		switch {
		case r.State == StateActive:
			h.Active = append(h.Active, r)
		case !r.State.Terminal():
			h.Open = append(h.Open, r)
		}
	}
	if h.Decide, err = s.store.ListPendingFor(ctx, email, homeDecide); err != nil {
		return h, fmt.Errorf("home of %s: %w", email, err)
	}
	if cl, ok := s.accounts.(ConnectionLister); ok {
		if h.CanConnect = cl.Backends(); len(h.CanConnect) > 0 {
			if h.Accounts, err = cl.Connections(ctx, email); err != nil {
				return h, fmt.Errorf("home of %s: %w", email, err)
			}
		}
	}
	return h, nil
}

// PublishHome draws p's home view anew now (they opened it). Without a platform that
// shows home views it does nothing.
func (s *Service) PublishHome(ctx context.Context, p Person) error {
	hp, ok := s.notifier.(HomePublisher)
	if !ok || !s.homes {
		return nil
	}
	h, err := s.Home(ctx, p)
	if err != nil {
		return err
	}
	return hp.PublishHome(ctx, p, h)
}

// homeTasks are the outbox tasks that redraw the home views a change of r touches: its
// requester's and every approver's, before (prev, nil for a new request) and after. A
// change that moves nothing a home view shows (a reminder) redraws none, and nobody whom
// the notifier knows not to watch their home view gets a task (HomeIgnorer): most people
// never open it, and each task costs the store, the outbox and its acknowledgement. Each
// task is one person's, so the dispatcher draws each home once however many of a pass
// name it.
func (s *Service) homeTasks(prev, r *Request) []Task {
	if !s.homes {
		return nil
	}
	if prev != nil && prev.State == r.State && prev.EndsAt().Equal(r.EndsAt()) &&
		slices.EqualFunc(prev.Approvers, r.Approvers, func(a, b Person) bool { return a.Is(b) }) &&
		len(prev.Desk.Open()) == len(r.Desk.Open()) { // a backend's step decided or moved changes who is asked
		return nil
	}
	ignorer, _ := s.notifier.(HomeIgnorer)
	var to []string
	add := func(p Person) {
		if e := strings.ToLower(p.Email); e != "" && !slices.Contains(to, e) && (ignorer == nil || !ignorer.IgnoresHome(Person{Email: e})) {
			to = append(to, e)
		}
	}
	add(r.Requester)
	for _, a := range r.Approvers {
		add(a)
	}
	if prev != nil {
		for _, a := range prev.Approvers {
			add(a)
		}
	}
	tasks := make([]Task, 0, len(to))
	for _, e := range to {
		tasks = append(tasks, Task{Kind: TaskHome, RequestID: r.ID, To: e})
	}
	return tasks
}

// publishHome delivers a TaskHome: the home view of the person with this e-mail, drawn
// from the store as it is now, if they have opened it lately (it is drawn whenever it is
// opened, so nobody else needs it now, and nothing is read for them).
func (s *Service) publishHome(ctx context.Context, email string) error {
	hp, ok := s.notifier.(HomePublisher)
	if !ok || !s.homes {
		return nil
	}
	if watched, err := hp.Watches(ctx, Person{Email: email}); err != nil || !watched {
		return err
	}
	if err := s.PublishHome(ctx, Person{Email: email}); err != nil {
		return fmt.Errorf("publish home of %s: %w", email, err)
	}
	return nil
}
