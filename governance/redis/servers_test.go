package redis

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// servers are the kinds of server the store runs on: a single Redis, a Redis Cluster
// (which refuses a script or MULTI whose keys are on more than one slot) and the
// embedded server the app uses without REDIS_URL.
func servers() map[string]func(t *testing.T) goredis.UniversalClient {
	return map[string]func(t *testing.T) goredis.UniversalClient{
		"redis":         func(t *testing.T) goredis.UniversalClient { return redistest.Client(t) },
		"redis cluster": func(t *testing.T) goredis.UniversalClient { return redistest.Cluster(t) },
		"miniredis": func(t *testing.T) goredis.UniversalClient {
			c := goredis.NewClient(&goredis.Options{Addr: miniredis.RunT(t).Addr()})
			t.Cleanup(func() { _ = c.Close() })
			return c
		},
	}
}

// TestStore_CoreFlowOnEveryServerKind runs one request through its life on every kind of
// server.
func TestStore_CoreFlowOnEveryServerKind(t *testing.T) {
	for name, client := range servers() {
		t.Run(name, func(t *testing.T) {
			coreFlow(t, New(client(t), Options{Prefix: redistest.Prefix(t), ReclaimAfter: -1}))
		})
	}
}

func coreFlow(t *testing.T, s *Store) {
	ctx := context.Background()
	require.NoError(t, s.Ping(ctx))

	id, _, err := s.ReserveID(ctx, "slack:trigger", "", "")
	require.NoError(t, err)
	again, _, err := s.ReserveID(ctx, "slack:trigger", "", "")
	require.NoError(t, err)
	require.Equal(t, id, again)

	r := request(id, "carol@example.com", "alice@example.com", "bob@example.com")
	mustCreate(t, s, r, createEffects(r))
	created, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	assert.False(t, created)
	got, err := s.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, r, got)
	pending, err := s.ListPendingFor(ctx, "alice@example.com", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids(pending))

	// The cards: one delivered, one retried, one taken over from a consumer that died.
	cards := claimAll(t, s, "a")
	require.Len(t, cards, 2)
	require.NoError(t, s.AckTask(ctx, cards[0]))
	_, err = s.SaveMessageRef(ctx, id, governance.MessageRef{Platform: "slack", Recipient: cards[0].To, Channel: "D1", ID: "1.0"})
	require.NoError(t, err)
	require.NoError(t, s.RetryTask(ctx, cards[1], t0))
	n, err := s.PromoteRetries(ctx, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, claimAll(t, s, "dies"), 1)
	retried := claimAll(t, s, "b")
	require.Len(t, retried, 1)
	assert.Equal(t, 1, retried[0].Attempt)
	require.NoError(t, s.AckTask(ctx, retried[0]))
	assert.Empty(t, claimAll(t, s, "b"))

	// The scheduler finds the approval due.
	due, err := s.ClaimDue(ctx, t0.Add(72*time.Hour), time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"approval:" + id}, due)

	// The decision: the first one wins.
	approved := next(r, governance.StateApproved)
	approveFx := governance.Effects{
		Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: id}, {Kind: governance.TaskUpdateCards, RequestID: id}},
		Undue: []string{"approval:" + id},
		Audit: []governance.AuditRecord{{At: t0.Add(time.Hour), RequestID: id, Event: governance.EventApprove, From: r.State, To: governance.StateApproved}},
	}
	require.NoError(t, s.Update(ctx, approved, 1, approveFx))
	assert.ErrorIs(t, s.Update(ctx, next(r, governance.StateDenied), 1, governance.Effects{}), governance.ErrConflict)
	pending, err = s.ListPendingFor(ctx, "alice@example.com", 10)
	require.NoError(t, err)
	assert.Empty(t, pending)
	assert.Len(t, claimAll(t, s, "a"), 2)
	mine, err := s.ListByRequester(ctx, "carol@example.com", 10)
	require.NoError(t, err)
	assert.Equal(t, governance.StateApproved, mine[0].State)

	refs, err := s.MessageRefs(ctx, id)
	require.NoError(t, err)
	assert.Len(t, refs, 1)
	// A grant record as earlier releases kept one for the built-in backend.
	require.NoError(t, s.rdb.Set(ctx, s.k.grant(id), `{"request":"`+id+`"}`, 0).Err())
	u := governance.ChatUser{Platform: "slack", ID: "U1", Email: "carol@example.com"}
	require.NoError(t, s.SaveChatUser(ctx, u, time.Hour))
	gotUser, ok, err := s.ChatUserByEmail(ctx, "slack", "carol@example.com")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, u, gotUser)

	var trail []governance.Event
	require.NoError(t, s.Audit(ctx, time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		trail = append(trail, a.Event)
		return nil
	}))
	assert.Equal(t, []governance.Event{governance.EventRequest, governance.EventApprove}, trail)
	depth, _, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, depth, "submit and update claimed, not yet done")

	// Retention: an open request is never purged; a finished one goes with its cards,
	// grant record and index entries; old audit records are trimmed.
	purged, err := s.Purge(ctx, id)
	require.NoError(t, err)
	assert.False(t, purged, "approved is not finished")
	denied := next(approved, governance.StateDenied)
	require.NoError(t, s.Update(ctx, denied, approved.Version, governance.Effects{Due: map[string]time.Time{"purge:" + id: t0}}))
	purged, err = s.Purge(ctx, id)
	require.NoError(t, err)
	assert.True(t, purged)
	_, err = s.Get(ctx, id)
	assert.ErrorIs(t, err, governance.ErrNotFound)
	refs, err = s.MessageRefs(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, refs)
	grants, err := s.rdb.Exists(ctx, s.k.grant(id)).Result()
	require.NoError(t, err)
	assert.Zero(t, grants, "an old grant record goes with its request")
	mine, err = s.ListByRequester(ctx, "carol@example.com", 10)
	require.NoError(t, err)
	assert.Empty(t, mine)
	due, err = s.ClaimDue(ctx, t0.Add(1000*time.Hour), time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, due, "its due entries went with it")
	trimmed, err := s.TrimAudit(ctx, t0.Add(30*time.Minute), 1000)
	require.NoError(t, err)
	assert.EqualValues(t, 1, trimmed, "the request's record, not the approval an hour later")
	trail = nil
	require.NoError(t, s.Audit(ctx, time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		trail = append(trail, a.Event)
		return nil
	}))
	assert.Equal(t, []governance.Event{governance.EventApprove}, trail)
}
