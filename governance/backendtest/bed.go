// Package backendtest is what the governance backends' tests share: a Bed (accessbot over
// a real Redis with one backend, a manual clock and the notices sent), the error-handling
// suite every backend runs against its own fake (RunErrors), the desk suite of backends
// whose own approvals decide (RunDesk), and connected accounts made through a fake's login
// form (Connect). It knows no backend: each backend's tests describe theirs through a
// Harness; GraphContract holds only what the Graph client the Microsoft backends share
// (governance/msgraph) says for both.
package backendtest

import (
	"cmp"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// MaxAttempts is how often a Bed's dispatcher tries a delivery before it gives up.
const MaxAttempts = 4

// The people of the backends' test tenants, on Slack: Carol asks and Alice approves (a
// Bed's Requester and Approver, unless its config names others); Mallory is Carol's
// manager.
var (
	Carol   = governance.Actor{Person: governance.Person{Email: "carol@example.com", Name: "Carol"}, Platform: "slack"}
	Alice   = governance.Actor{Person: governance.Person{Email: "alice@example.com", Name: "Alice"}, Platform: "slack"}
	Mallory = governance.Actor{Person: governance.Person{Email: "mallory@example.com", Name: "Mallory"}, Platform: "slack"}
)

// BedConfig is what a Bed is built from.
type BedConfig struct {
	Backend governance.Backend
	Catalog string // the catalog's YAML
	Clock   *governance.ManualClock
	// Requester asks for items and Approver approves them, unless a test says otherwise
	// (Carol and Alice when empty).
	Requester, Approver governance.Actor
	Admin               string // the admins' e-mail (admin@example.com when empty)
	// Accounts are people's connected accounts, for a backend whose own approvals decide.
	Accounts governance.Accounts
}

// Bed is accessbot over Redis with one backend: a Service with a Dispatcher, a manual
// clock, and the notices it sent. Status checks are due a minute after each other.
type Bed struct {
	T         testing.TB
	Clock     *governance.ManualClock
	Store     *redisstore.Store
	Svc       *governance.Service
	Disp      *governance.Dispatcher
	Notes     *governancetest.Notes
	Backend   governance.Backend
	Requester governance.Actor
	Approver  governance.Actor
}

// NewBed builds a Bed on the test's own Redis prefix.
func NewBed(t testing.TB, c BedConfig) *Bed {
	t.Helper()
	if c.Requester.Email == "" {
		c.Requester = Carol
	}
	if c.Approver.Email == "" {
		c.Approver = Alice
	}
	c.Admin = cmp.Or(c.Admin, "admin@example.com")
	b := &Bed{T: t, Clock: c.Clock, Notes: &governancetest.Notes{}, Backend: c.Backend, Requester: c.Requester, Approver: c.Approver}
	b.Store = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	cat, err := governance.ParseCatalog([]byte(c.Catalog))
	require.NoError(t, err)
	b.Svc, err = governance.NewService(governance.Config{Catalog: cat, Store: b.Store, Backends: []governance.Backend{c.Backend},
		Notifier: b.Notes, Clock: c.Clock, Admins: []governance.Person{{Email: c.Admin}}, Accounts: c.Accounts,
		Sync:   governance.SyncPolicy{First: time.Minute, Max: time.Minute},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.Disp = governance.NewDispatcher(b.Svc, "test", governance.WithMaxAttempts(MaxAttempts))
	return b
}

// Drain delivers everything due.
func (b *Bed) Drain() {
	b.T.Helper()
	require.NoError(b.T, b.Disp.Drain(context.Background()))
}

// Ask has who ask for item and the Approver approve it, without delivering what follows.
func (b *Bed) Ask(who governance.Actor, item string) *governance.Request {
	b.T.Helper()
	r, err := b.Svc.Request(context.Background(), governance.RequestInput{Requester: who, Item: item, Reason: "quarter close"})
	require.NoError(b.T, err)
	b.Approve(r.ID)
	return r
}

// Approve has the Approver approve a request, without delivering what follows.
func (b *Bed) Approve(id string) {
	b.T.Helper()
	_, err := b.Svc.Decide(context.Background(), governance.DecideInput{RequestID: id, Approver: b.Approver, Approve: true})
	require.NoError(b.T, err)
}

// Cancel has the Requester cancel a request.
func (b *Bed) Cancel(id string) (*governance.Request, error) {
	return b.Svc.Cancel(context.Background(), id, b.Requester)
}

// Revoke has who end the Requester's access to item — as its holder, or naming the
// Requester as the holder (their manager, an admin) — and delivers what follows.
func (b *Bed) Revoke(who governance.Actor, item string) {
	b.T.Helper()
	in := governance.RevokeInput{By: who, Target: item}
	if !who.Is(b.Requester.Person) {
		in.Holder = b.Requester.Email
	}
	_, err := b.Svc.Revoke(context.Background(), in)
	require.NoError(b.T, err)
	b.Drain()
}

// Approved has the Requester ask for item and the Approver approve it, delivers what
// follows, and returns the request as it then is.
func (b *Bed) Approved(item string) *governance.Request {
	b.T.Helper()
	r := b.Ask(b.Requester, item)
	b.Drain()
	return b.Get(r.ID)
}

// Forget ends request id in accessbot alone, as failed, while the backend goes on with
// it: what accessbot knows of a request made before it refused a second ask for the same
// access, or of one whose record was lost. A new ask for the item is then let through to
// the backend, whose own check for a request already under way is what a test looks at.
func (b *Bed) Forget(id string) {
	b.T.Helper()
	r := b.Get(id)
	ended := *r
	ended.State, ended.Version = governance.StateFailed, r.Version+1
	require.NoError(b.T, b.Store.Update(context.Background(), &ended, r.Version, governance.Effects{}))
}

// PendingFor lists the ids of the requests waiting for the person with that e-mail to
// decide, as their `/access pending` shows them.
func (b *Bed) PendingFor(email string) []string {
	b.T.Helper()
	rs, err := b.Svc.PendingFor(context.Background(), governance.Person{Email: email})
	require.NoError(b.T, err)
	return IDs(rs, func(r *governance.Request) string { return r.ID })
}

// Get reads a request from the store.
func (b *Bed) Get(id string) *governance.Request {
	b.T.Helper()
	r, err := b.Store.Get(context.Background(), id)
	require.NoError(b.T, err)
	return r
}

// Retry moves the clock on by d and delivers what is then due.
func (b *Bed) Retry(d time.Duration) {
	b.T.Helper()
	b.Clock.Advance(d)
	b.Drain()
}

// Sync moves the clock to the next status check, runs it, and delivers what follows.
func (b *Bed) Sync() {
	b.T.Helper()
	b.Clock.Advance(time.Minute)
	b.Sweep()
}

// Sweep runs the due work at the clock's time and delivers what follows.
func (b *Bed) Sweep() {
	b.T.Helper()
	_, err := b.Svc.Sweep(context.Background(), 100, time.Minute)
	require.NoError(b.T, err)
	b.Drain()
}

// Status is what accessbot made of a submission at a status check: the request's state,
// its failure and what it waits for, and the notices the check sent.
type Status struct {
	State    governance.State
	Failure  string
	Waiting  string
	Notified []string
}

// Moved has the Requester ask for item and the Approver approve it, which must submit it;
// then move takes the backend's submission (by its external id) to another state, and the
// next status check runs. It returns the request as it then is, and what the check did.
func (b *Bed) Moved(item string, move func(externalID string)) (*governance.Request, Status) {
	b.T.Helper()
	r := b.Approved(item)
	require.Equal(b.T, governance.StateSubmitted, r.State, r.Failure)
	b.Notes.Take()
	move(r.Submission.ExternalID)
	b.Sync()
	got := b.Get(r.ID)
	return got, Status{State: got.State, Failure: got.Failure, Waiting: got.Submission.Waiting, Notified: b.Notes.Take()}
}
