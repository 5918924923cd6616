// Package governancetest holds test doubles that tests across accessbot share: a Notifier
// that writes down who was told what, a place to collect logs, and a sweep that carries
// out everything due.
package governancetest

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Events is what a test double writes down, safely from many goroutines.
type Events struct {
	mu  sync.Mutex
	got []string
}

// Add writes down s.
func (e *Events) Add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, s)
}

// Take returns what was written down since the last Take, sorted.
func (e *Events) Take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.got
	e.got = nil
	slices.Sort(out)
	return out
}

// Notes is a Notifier that writes down each notice as "<kind>→<e-mail>". Cards are
// accepted and forgotten; admins have no channel.
type Notes struct {
	Events
}

var _ governance.Notifier = (*Notes)(nil)

func (n *Notes) SendApprovalCard(_ context.Context, to governance.Person, r *governance.Request) (governance.MessageRef, error) {
	return governance.MessageRef{Platform: "test", Channel: to.Email, ID: r.ID}, nil
}

func (n *Notes) UpdateApprovalCard(context.Context, governance.MessageRef, *governance.Request) error {
	return nil
}

func (n *Notes) Notify(_ context.Context, to governance.Person, x governance.Notice) error {
	n.Add(string(x.Kind) + "→" + to.Email)
	return nil
}

func (n *Notes) AlertAdmins(context.Context, *governance.Request) (governance.MessageRef, bool, error) {
	return governance.MessageRef{}, false, nil
}

func (n *Notes) Digest(context.Context, governance.Person, []*governance.Request) error { return nil }

func (n *Notes) TimeZone(context.Context, governance.Person) (*time.Location, error) { return nil, nil }

// Logs collects what a logger (or a transcript) writes, safely from many goroutines.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.Write(p) }
func (l *Logs) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// SweepAll has svc carry out everything that is due now, batch after batch, as the
// scheduler's sweep does; it fails the test on the first error.
func SweepAll(t testing.TB, svc *governance.Service) {
	t.Helper()
	for {
		n, err := svc.Sweep(context.Background(), 100, 5*time.Minute)
		if err != nil {
			t.Fatalf("sweep: %v", err)
		}
		if n == 0 {
			return
		}
	}
}
