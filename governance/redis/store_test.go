package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

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

func createEffects(r *governance.Request) governance.Effects {
	fx := governance.Effects{
		Due:   map[string]time.Time{"approval:" + r.ID: t0.Add(72 * time.Hour)},
		Audit: []governance.AuditRecord{{At: r.CreatedAt, RequestID: r.ID, Event: governance.EventRequest, To: r.State, Actor: r.Requester.Email}},
	}
	for _, a := range r.Approvers {
		fx.Tasks = append(fx.Tasks, governance.Task{Kind: governance.TaskSendCard, RequestID: r.ID, To: a.Email})
	}
	return fx
}

func claimAll(t *testing.T, s *Store, consumer string) []governance.Task {
	t.Helper()
	tasks, err := s.ClaimTasks(context.Background(), consumer, 100)
	require.NoError(t, err)
	return tasks
}

func TestCreate_StoresRequestIndexesDueAndTasksTogether(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com", "bob@example.com")
	created, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	require.True(t, created)

	got, err := s.Get(ctx, "AR-1")
	require.NoError(t, err)
	assert.Equal(t, r, got)

	mine, err := s.ListByRequester(ctx, "carol@example.com", 10)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	for _, approver := range []string{"alice@example.com", "bob@example.com"} {
		pending, err := s.ListPendingFor(ctx, approver, 10)
		require.NoError(t, err)
		assert.Len(t, pending, 1, approver)
	}
	due, err := s.rdb.ZScore(ctx, s.k.due(s.k.shardOf("AR-1")), "approval:AR-1").Result()
	require.NoError(t, err)
	assert.Equal(t, float64(t0.Add(72*time.Hour).UnixMilli()), due)

	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 2)
	assert.ElementsMatch(t, []string{"alice@example.com", "bob@example.com"}, []string{tasks[0].To, tasks[1].To})
}

func TestCreate_SameIDTwiceWritesNothingTheSecondTime(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	created, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	require.True(t, created)
	other := request("AR-1", "mallory@example.com", "alice@example.com")
	created, err = s.Create(ctx, other, createEffects(other))
	require.NoError(t, err)
	assert.False(t, created)

	got, _ := s.Get(ctx, "AR-1")
	assert.Equal(t, "carol@example.com", got.Requester.Email)
	assert.Len(t, claimAll(t, s, "a"), 1, "the second create enqueued nothing")
	mallory, _ := s.ListByRequester(ctx, "mallory@example.com", 10)
	assert.Empty(t, mallory)
}

func TestGet_MissingRequestIsNotFound(t *testing.T) {
	_, err := newStore(t, Options{}).Get(context.Background(), "AR-404")
	assert.ErrorIs(t, err, governance.ErrNotFound)
}

func TestReserveID(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	a, err := s.ReserveID(ctx, "slack:trigger-1")
	require.NoError(t, err)
	again, err := s.ReserveID(ctx, "slack:trigger-1")
	require.NoError(t, err)
	assert.Equal(t, a, again, "a retried command maps to the same id")
	b, _ := s.ReserveID(ctx, "slack:trigger-2")
	c, _ := s.ReserveID(ctx, "")
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, b, c)
	assert.True(t, strings.HasPrefix(a, "AR-"))

	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], _ = s.ReserveID(ctx, "slack:concurrent")
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id, "concurrent tries of one command get one id")
	}
}

func TestUpdate_StaleVersionConflictsAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	_, err := s.Create(ctx, r, governance.Effects{})
	require.NoError(t, err)

	next := *r
	next.Version, next.State = 2, governance.StateApproved
	require.NoError(t, s.Update(ctx, &next, 1, governance.Effects{Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-1"}}}))

	stale := *r
	stale.Version, stale.State = 2, governance.StateDenied
	err = s.Update(ctx, &stale, 1, governance.Effects{Tasks: []governance.Task{{Kind: governance.TaskNotify, RequestID: "AR-1"}}})
	assert.ErrorIs(t, err, governance.ErrConflict)
	got, _ := s.Get(ctx, "AR-1")
	assert.Equal(t, governance.StateApproved, got.State)
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1)
	assert.Equal(t, governance.TaskSubmit, tasks[0].Kind)

	missing := request("AR-9", "x@example.com")
	assert.ErrorIs(t, s.Update(ctx, missing, 1, governance.Effects{}), governance.ErrNotFound)
}

func TestUpdate_ConcurrentWritersExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	_, err := s.Create(ctx, r, governance.Effects{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := *r
			next.Version, next.State, next.Reason = 2, governance.StateApproved, fmt.Sprint(i)
			if s.Update(ctx, &next, 1, governance.Effects{Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-1"}}}) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Len(t, claimAll(t, s, "a"), 1)
}

func TestPendingIndex_LeavesWhenTheRequestIsDecided(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	_, err := s.Create(ctx, r, governance.Effects{})
	require.NoError(t, err)
	next := *r
	next.Version, next.State = 2, governance.StateDenied
	require.NoError(t, s.Update(ctx, &next, 1, governance.Effects{Undue: []string{"approval:AR-1"}}))
	pending, err := s.ListPendingFor(ctx, "alice@example.com", 10)
	require.NoError(t, err)
	assert.Empty(t, pending)
	mine, _ := s.ListByRequester(ctx, "carol@example.com", 10)
	assert.Len(t, mine, 1, "the requester still sees it")
}

func TestLists_MergeShardsInOrderAndCutAtLimit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := 1; i <= 30; i++ {
		r := request(fmt.Sprintf("AR-%d", i), "carol@example.com", "alice@example.com")
		r.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		_, err := s.Create(ctx, r, governance.Effects{})
		require.NoError(t, err)
	}
	mine, err := s.ListByRequester(ctx, "CAROL@example.com", 5)
	require.NoError(t, err)
	require.Len(t, mine, 5)
	assert.Equal(t, []string{"AR-30", "AR-29", "AR-28", "AR-27", "AR-26"}, ids(mine), "newest first")
	pending, err := s.ListPendingFor(ctx, "alice@example.com", 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"AR-1", "AR-2", "AR-3"}, ids(pending), "oldest first")
}

func ids(rs []*governance.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestOutbox_AckedTasksAreNotClaimedAgain(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com", "bob@example.com")
	_, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 2)
	assert.Empty(t, claimAll(t, s, "b"), "claimed tasks are not handed to a second live consumer")
	for _, tk := range tasks {
		require.NoError(t, s.AckTask(ctx, tk))
	}
	assert.Empty(t, claimAll(t, s, "a"))
	depth, _, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, depth)
}

func TestOutbox_TasksOfADeadConsumerAreTakenOver(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{ReclaimAfter: time.Millisecond})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	_, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	require.Len(t, claimAll(t, s, "crashed"), 1)

	// The consumer "crashed" never acknowledges. With a take-over threshold of zero its
	// task is handed to the next consumer that asks, without the test waiting.
	s.reclaimAfter = 0
	tasks := claimAll(t, s, "survivor")
	require.Len(t, tasks, 1)
	assert.Equal(t, "alice@example.com", tasks[0].To)
	require.NoError(t, s.AckTask(ctx, tasks[0]))
	assert.Empty(t, claimAll(t, s, "survivor"))
}

func TestOutbox_RetryWaitsUntilDueWithOneMoreAttempt(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	_, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1)
	require.NoError(t, s.RetryTask(ctx, tasks[0], t0.Add(30*time.Second)))

	n, err := s.PromoteRetries(ctx, t0.Add(29*time.Second))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, claimAll(t, s, "a"))
	depth, _, _ := s.OutboxDepth(ctx)
	assert.EqualValues(t, 1, depth, "a waiting retry counts as outbox depth")

	n, err = s.PromoteRetries(ctx, t0.Add(30*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	again := claimAll(t, s, "a")
	require.Len(t, again, 1)
	assert.Equal(t, 1, again[0].Attempt)
	assert.Equal(t, "alice@example.com", again[0].To)
}

func TestOutbox_BadTaskIDIsRefused(t *testing.T) {
	s := newStore(t, Options{})
	assert.Error(t, s.AckTask(context.Background(), governance.Task{ID: "99/1-0"}))
	assert.Error(t, s.AckTask(context.Background(), governance.Task{ID: "nonsense"}))
}

func TestMessageRefs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	ref := governance.MessageRef{Platform: "slack", Recipient: "alice@example.com", Channel: "D1", ID: "1.2"}
	require.NoError(t, s.SaveMessageRef(ctx, "AR-1", ref))
	require.NoError(t, s.SaveMessageRef(ctx, "AR-1", ref))
	refs, err := s.MessageRefs(ctx, "AR-1")
	require.NoError(t, err)
	assert.Equal(t, []governance.MessageRef{ref}, refs)
}

func TestChatUserCache_BothDirections(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	u := governance.ChatUser{Platform: "slack", ID: "U1", Email: "alice@example.com", Name: "Alice", TimeZone: "Europe/Berlin"}
	require.NoError(t, s.SaveChatUser(ctx, u, time.Hour))
	got, ok, err := s.ChatUser(ctx, "slack", "U1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, u, got)
	got, ok, err = s.ChatUserByEmail(ctx, "slack", "ALICE@example.com")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, u, got)
	_, ok, err = s.ChatUser(ctx, "teams", "U1")
	require.NoError(t, err)
	assert.False(t, ok, "platforms do not share ids")
}

func TestGrantLedger(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	_, ok, err := s.Grant(ctx, "AR-1")
	require.NoError(t, err)
	assert.False(t, ok)
	g := governance.GrantRecord{RequestID: "AR-1", Grantee: governance.Person{Email: "carol@example.com"}, Start: t0, End: t0.Add(time.Hour)}
	require.NoError(t, s.SaveGrant(ctx, g))
	require.NoError(t, s.SaveGrant(ctx, g))
	got, ok, err := s.Grant(ctx, "AR-1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, g, got)
}

func TestAudit_StreamsInTimeOrderAcrossShardsWithinBounds(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := range 40 {
		r := request(fmt.Sprintf("AR-%d", i), "carol@example.com")
		at := t0.Add(time.Duration((i*7)%40) * time.Minute) // not in id order
		_, err := s.Create(ctx, r, governance.Effects{Audit: []governance.AuditRecord{{At: at, RequestID: r.ID, Event: governance.EventRequest}}})
		require.NoError(t, err)
	}
	var got []time.Time
	require.NoError(t, s.Audit(ctx, t0.Add(10*time.Minute), t0.Add(20*time.Minute), func(a governance.AuditRecord) error {
		got = append(got, a.At)
		return nil
	}))
	require.Len(t, got, 10)
	for i := 1; i < len(got); i++ {
		assert.False(t, got[i].Before(got[i-1]), "time order")
	}
	assert.Equal(t, t0.Add(10*time.Minute), got[0])
}

func TestKeys_EverythingOneRequestTouchesSharesAHashTag(t *testing.T) {
	k := keys{prefix: "p", shards: 16}
	for _, id := range []string{"AR-1", "AR-2", "AR-77", "AR-123456"} {
		sh := k.shardOf(id)
		tag := "{s" + fmt.Sprint(sh) + "}"
		for _, key := range []string{k.request(id), k.msgs(id), k.grant(id), k.outbox(sh), k.due(sh), k.audit(sh), k.retry(sh),
			k.mine(sh, "a@example.com"), k.pending(sh, "b@example.com")} {
			assert.Contains(t, key, tag, key)
			assert.Equal(t, 1, strings.Count(key, "{"), "one hash tag only: %s", key)
		}
	}
}

func TestStore_WorksOnTheEmbeddedServer(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	s := New(goredis.NewClient(&goredis.Options{Addr: mr.Addr()}), Options{})
	id, err := s.ReserveID(ctx, "k")
	require.NoError(t, err)
	r := request(id, "carol@example.com", "alice@example.com")
	created, err := s.Create(ctx, r, createEffects(r))
	require.NoError(t, err)
	require.True(t, created)
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1)
	require.NoError(t, s.RetryTask(ctx, tasks[0], t0))
	n, err := s.PromoteRetries(ctx, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	again := claimAll(t, s, "a")
	require.Len(t, again, 1)
	require.NoError(t, s.AckTask(ctx, again[0]))
	next := *r
	next.Version, next.State = 2, governance.StateApproved
	require.NoError(t, s.Update(ctx, &next, 1, governance.Effects{}))
	assert.ErrorIs(t, s.Update(ctx, &next, 1, governance.Effects{}), governance.ErrConflict)
	pending, err := s.ListPendingFor(ctx, "alice@example.com", 10)
	require.NoError(t, err)
	assert.Empty(t, pending)
}

func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id, err := s.ReserveID(ctx, fmt.Sprintf("bench-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		r := request(id, "carol@example.com", "alice@example.com", "bob@example.com")
		if _, err := s.Create(ctx, r, createEffects(r)); err != nil {
			b.Fatal(err)
		}
	}
}
