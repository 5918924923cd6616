package redis

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// newStore returns a Store on the test Redis under a key prefix of the test's own.
func newStore(t testing.TB, opts Options) *Store {
	opts.Prefix = redistest.Prefix(t)
	return New(redistest.Client(t), opts)
}

func request(id, requester string, approvers ...string) *governance.Request {
	r := &governance.Request{ID: id, Version: 1, State: governance.StatePendingApproval,
		Requester: governance.Person{Email: requester}, Item: governance.ItemRef{ID: "vpn", Name: "VPN", Backend: "builtin"},
		Duration: 8 * time.Hour, CreatedAt: t0, UpdatedAt: t0}
	for _, a := range approvers {
		r.Approvers = append(r.Approvers, governance.Person{Email: a})
	}
	return r
}

// createEffects are what the service stores with a new request: a card per approver, the
// approval due time and an audit record.
func createEffects(r *governance.Request) governance.Effects {
	fx := governance.Effects{
		Due:   map[string]time.Time{"approval:" + r.ID: r.CreatedAt.Add(72 * time.Hour)},
		Audit: []governance.AuditRecord{{At: r.CreatedAt, RequestID: r.ID, Event: governance.EventRequest, To: r.State, Actor: r.Requester.Email}},
	}
	for _, a := range r.Approvers {
		fx.Tasks = append(fx.Tasks, governance.Task{Kind: governance.TaskSendCard, RequestID: r.ID, To: a.Email})
	}
	return fx
}

// next is r's successor in state to, as the service makes it.
func next(r *governance.Request, to governance.State) *governance.Request {
	n := *r
	n.Approvers = append([]governance.Person(nil), r.Approvers...)
	n.Version, n.State = r.Version+1, to
	return &n
}

// storeWithCards returns a store holding request AR-1 from carol, created as the
// service creates it: with a card task for each of approvers.
func storeWithCards(t testing.TB, opts Options, approvers ...string) *Store {
	t.Helper()
	s := newStore(t, opts)
	r := request("AR-1", "carol@example.com", approvers...)
	mustCreate(t, s, r, createEffects(r))
	return s
}

func mustCreate(t testing.TB, s *Store, r *governance.Request, fx governance.Effects) {
	t.Helper()
	created, err := s.Create(context.Background(), r, fx)
	require.NoError(t, err)
	require.True(t, created, "created %s", r.ID)
}

func claimAll(t testing.TB, s *Store, consumer string) []governance.Task {
	t.Helper()
	tasks, err := s.ClaimTasks(context.Background(), consumer, 1000, governance.ClaimEverywhere)
	require.NoError(t, err)
	return tasks
}

func ids(rs []*governance.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func recipients(ts []governance.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.To
	}
	return out
}

// counts is what one request left in its shard: entries of the outbox and audit streams,
// and members of its indexes.
type counts struct{ outbox, audit, due, mine, pending int64 }

func shardCounts(t testing.TB, s *Store, id, requester, approver string) counts {
	t.Helper()
	ctx := context.Background()
	sh := s.k.shardOf(id)
	var c counts
	var err error
	c.outbox, err = s.rdb.XLen(ctx, s.k.outbox(sh)).Result()
	require.NoError(t, err)
	c.audit, err = s.rdb.XLen(ctx, s.k.audit(sh)).Result()
	require.NoError(t, err)
	c.due, err = s.rdb.ZCard(ctx, s.k.due(sh)).Result()
	require.NoError(t, err)
	c.mine, err = s.rdb.ZCard(ctx, s.k.mine(sh, requester)).Result()
	require.NoError(t, err)
	c.pending, err = s.rdb.ZCard(ctx, s.k.pending(sh, approver)).Result()
	require.NoError(t, err)
	return c
}
