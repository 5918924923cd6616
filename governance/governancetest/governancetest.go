// Package governancetest holds test doubles that the backends' tests share: a Notifier
// that writes down who was told what, and a place to collect logs.
package governancetest

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Notes is a Notifier that writes down each notice as "<kind>→<e-mail>". Cards are
// accepted and forgotten; admins have no channel.
type Notes struct {
	mu  sync.Mutex
	got []string
}

var _ governance.Notifier = (*Notes)(nil)

// Take returns the notices written down since the last Take, sorted.
func (n *Notes) Take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.got
	n.got = nil
	slices.Sort(out)
	return out
}

func (n *Notes) SendApprovalCard(_ context.Context, to governance.Person, r *governance.Request) (governance.MessageRef, error) {
	return governance.MessageRef{Platform: "test", Channel: to.Email, ID: r.ID}, nil
}

func (n *Notes) UpdateApprovalCard(context.Context, governance.MessageRef, *governance.Request) error {
	return nil
}

func (n *Notes) Notify(_ context.Context, to governance.Person, x governance.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, string(x.Kind)+"→"+to.Email)
	return nil
}

func (n *Notes) AlertAdmins(context.Context, *governance.Request) (governance.MessageRef, bool, error) {
	return governance.MessageRef{}, false, nil
}

func (n *Notes) Digest(context.Context, governance.Person, []*governance.Request) error { return nil }

func (n *Notes) TimeZone(context.Context, governance.Person) (*time.Location, error) { return nil, nil }

// Logs collects what a logger writes, safely from many goroutines.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.Write(p) }
func (l *Logs) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }
