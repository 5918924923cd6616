package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestOutbox_ATaskIsClaimedByOneConsumerOnly(t *testing.T) {
	s := storeWithCards(t, Options{}, "alice@example.com", "bob@example.com")
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 2)
	for _, tk := range tasks {
		assert.Equal(t, governance.TaskSendCard, tk.Kind)
		assert.Equal(t, "AR-1", tk.RequestID)
		assert.Zero(t, tk.Attempt)
		assert.Regexp(t, fmt.Sprintf(`^%d/\d+-\d+$`, s.k.shardOf("AR-1")), tk.ID)
	}
	assert.Empty(t, claimAll(t, s, "b"), "a live consumer's tasks are not handed out again")
	assert.Empty(t, claimAll(t, s, "a"))
}

func TestOutbox_AckedTasksAreGone(t *testing.T) {
	ctx := context.Background()
	s := storeWithCards(t, Options{ReclaimAfter: -1}, "alice@example.com", "bob@example.com")
	for _, tk := range claimAll(t, s, "a") {
		require.NoError(t, s.AckTask(ctx, tk))
	}
	assert.Empty(t, claimAll(t, s, "b"), "not even a take-over finds them")
	depth, oldest, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, depth)
	assert.True(t, oldest.IsZero())
}

func TestOutbox_TasksOfADeadConsumerAreTakenOver(t *testing.T) {
	ctx := context.Background()
	s := storeWithCards(t, Options{ReclaimAfter: -1}, "alice@example.com") // take over at once, so the test need not wait
	require.Len(t, claimAll(t, s, "crashed"), 1)

	tasks := claimAll(t, s, "survivor")
	require.Len(t, tasks, 1)
	assert.Equal(t, "alice@example.com", tasks[0].To)
	require.NoError(t, s.AckTask(ctx, tasks[0]))
	assert.Empty(t, claimAll(t, s, "survivor"))
	assert.Empty(t, claimAll(t, s, "crashed"))
}

func TestOutbox_ClaimTasksNeverHandsOutMoreThanMax(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := range 40 {
		r := request(fmt.Sprintf("AR-%d", i), "carol@example.com", "alice@example.com")
		mustCreate(t, s, r, createEffects(r))
	}
	// Many tasks on one shard: one request with many approvers.
	crowd := request("AR-crowd", "carol@example.com")
	for i := range 25 {
		crowd.Approvers = append(crowd.Approvers, governance.Person{Email: fmt.Sprintf("a%d@example.com", i)})
	}
	mustCreate(t, s, crowd, createEffects(crowd))

	seen := map[string]bool{}
	for _, max := range []int{1, 7, 3, 16, 64, 64} {
		tasks, err := s.ClaimTasks(ctx, "a", max, governance.ClaimEverywhere)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(tasks), max)
		for _, tk := range tasks {
			key := tk.RequestID + " " + tk.To
			assert.False(t, seen[key], "%s handed out twice", key)
			seen[key] = true
		}
	}
	assert.Len(t, seen, 65, "every task handed out")
	tasks, err := s.ClaimTasks(ctx, "a", 0, governance.ClaimEverywhere)
	require.NoError(t, err)
	assert.Empty(t, tasks)
}

func TestOutbox_AFullClaimTakesFromAShardBeyondItsShare(t *testing.T) {
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com")
	for i := range 20 {
		r.Approvers = append(r.Approvers, governance.Person{Email: fmt.Sprintf("a%d@example.com", i)})
	}
	mustCreate(t, s, r, createEffects(r))
	tasks, err := s.ClaimTasks(context.Background(), "a", 16, governance.ClaimEverywhere)
	require.NoError(t, err)
	assert.Len(t, tasks, 16, "a batch is filled from the one busy shard")
}

func TestOutbox_ClaimedTasksAreNotTakenOverBeforeReclaimAfter(t *testing.T) {
	s := storeWithCards(t, Options{ReclaimAfter: time.Hour}, "alice@example.com")
	require.Len(t, claimAll(t, s, "a"), 1)
	assert.Empty(t, claimAll(t, s, "b"))
}

func TestOutbox_RetryWaitsUntilDueWithOneMoreAttempt(t *testing.T) {
	ctx := context.Background()
	s := storeWithCards(t, Options{ReclaimAfter: -1}, "alice@example.com")
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1)
	require.NoError(t, s.RetryTask(ctx, tasks[0], t0.Add(30*time.Second)))

	n, err := s.PromoteRetries(ctx, t0.Add(29*time.Second))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, claimAll(t, s, "b"), "not claimable, not even by a take-over, before it is due")
	depth, _, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, depth, "a waiting retry counts as outbox depth")

	n, err = s.PromoteRetries(ctx, t0.Add(30*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	again := claimAll(t, s, "b")
	require.Len(t, again, 1)
	want := tasks[0]
	want.Attempt, want.ID = 1, again[0].ID
	assert.Equal(t, want, again[0])
	assert.NotEqual(t, tasks[0].ID, again[0].ID)
}

func TestOutbox_IdenticalTasksRetriedTogetherAreBothKept(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	update := governance.Task{Kind: governance.TaskUpdateCards, RequestID: "AR-1"}
	mustCreate(t, s, r, governance.Effects{Tasks: []governance.Task{update, update}})
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 2)
	for _, tk := range tasks {
		require.NoError(t, s.RetryTask(ctx, tk, t0))
	}
	n, err := s.PromoteRetries(ctx, t0)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Len(t, claimAll(t, s, "a"), 2)
}

func TestOutbox_RetryOfATaskAnotherConsumerFinishedSchedulesNothing(t *testing.T) {
	ctx := context.Background()
	s := storeWithCards(t, Options{ReclaimAfter: -1}, "alice@example.com")
	slow := claimAll(t, s, "slow")
	require.Len(t, slow, 1)
	taken := claimAll(t, s, "fast")
	require.Len(t, taken, 1)
	require.NoError(t, s.AckTask(ctx, taken[0]))

	require.NoError(t, s.RetryTask(ctx, slow[0], t0))
	n, err := s.PromoteRetries(ctx, t0)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestOutbox_TheConsumerGroupIsMadeAgainWhenItsStreamIsGone(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, createEffects(r))
	require.Len(t, claimAll(t, s, "a"), 1)
	require.NoError(t, s.rdb.Del(ctx, s.k.outbox(s.k.shardOf("AR-1"))).Err())

	require.NoError(t, s.Update(ctx, next(r, governance.StateApproved), 1, governance.Effects{
		Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-1"}}}))
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1, "a task enqueued before the group existed is delivered")
	assert.Equal(t, governance.TaskSubmit, tasks[0].Kind)
}

func TestOutbox_TaskIDsNotHandedOutAreRefused(t *testing.T) {
	s := newStore(t, Options{})
	for _, id := range []string{"", "nonsense", "99/1-0", "-1/1-0", "3/"} {
		t.Run(id, func(t *testing.T) {
			assert.Error(t, s.AckTask(context.Background(), governance.Task{ID: id}))
			assert.Error(t, s.RetryTask(context.Background(), governance.Task{ID: id}, t0))
		})
	}
}

func TestOutbox_TasksGoToTheirRequestsShard(t *testing.T) {
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com")
	other := "AR-2"
	require.NotEqual(t, s.k.shardOf("AR-1"), s.k.shardOf(other))
	_, err := s.Create(context.Background(), r, governance.Effects{Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: other}}})
	assert.ErrorContains(t, err, "another shard")
}

func TestOutboxDepth_CountsWaitingWorkAndItsAge(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	before := time.Now().Add(-time.Second)
	for i := range 3 {
		r := request(fmt.Sprintf("AR-%d", i), "carol@example.com", "alice@example.com", "bob@example.com")
		mustCreate(t, s, r, createEffects(r))
	}
	tasks, err := s.ClaimTasks(ctx, "a", 2, governance.ClaimEverywhere)
	require.NoError(t, err)
	require.Len(t, tasks, 2)
	require.NoError(t, s.AckTask(ctx, tasks[0]))
	require.NoError(t, s.RetryTask(ctx, tasks[1], t0))

	depth, oldest, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 5, depth, "6 enqueued, 1 done, 1 waiting to be retried")
	assert.WithinRange(t, oldest, before, time.Now().Add(time.Second))
}

func TestOutbox_RetriesWrittenBeforeTheEntryIDWasAddedStillComeBack(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	legacy := `{"kind":"notify","req":"AR-1","to":"carol@example.com","notice":"approved","attempt":2}`
	require.NoError(t, s.rdb.ZAdd(ctx, s.k.retry(s.k.shardOf("AR-1")), goredis.Z{Score: float64(t0.UnixMilli()), Member: legacy}).Err())
	n, err := s.PromoteRetries(ctx, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1)
	assert.Equal(t, governance.Task{ID: tasks[0].ID, Kind: governance.TaskNotify, RequestID: "AR-1", To: "carol@example.com",
		Notice: governance.NoticeApproved, Attempt: 2}, tasks[0])
}

func TestOutbox_ClaimWokenLooksOnlyWhereThisStoreEnqueued(t *testing.T) {
	ctx := context.Background()
	opts := Options{ReclaimAfter: -1}
	s := newStore(t, opts)
	other := New(s.rdb, Options{Prefix: s.k.prefix, ReclaimAfter: -1}) // another replica on the same Redis

	woken := func(st *Store, max int) []governance.Task {
		t.Helper()
		tasks, err := st.ClaimTasks(ctx, "a", max, governance.ClaimWoken)
		require.NoError(t, err)
		return tasks
	}
	assert.Empty(t, woken(s, 10), "nothing enqueued: no call at all")

	mine := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, mine, createEffects(mine))
	theirs := request("AR-2", "carol@example.com", "alice@example.com")
	mustCreate(t, other, theirs, createEffects(theirs))
	got := woken(s, 10)
	require.Len(t, got, 1)
	assert.Equal(t, "AR-1", got[0].RequestID, "a woken pass finds what this Store enqueued")
	assert.Empty(t, woken(s, 10), "and looks there once")

	everywhere, err := s.ClaimTasks(ctx, "a", 100, governance.ClaimEverywhere)
	require.NoError(t, err)
	require.Len(t, everywhere, 2, "the full pass finds the other replica's task, and takes over the unacknowledged one")

	// A shard that filled the batch stays woken until it is empty.
	crowd := request("AR-3", "carol@example.com")
	for i := range 5 {
		crowd.Approvers = append(crowd.Approvers, governance.Person{Email: fmt.Sprintf("a%d@example.com", i)})
	}
	mustCreate(t, s, crowd, createEffects(crowd))
	assert.Len(t, woken(s, 3), 3)
	assert.Len(t, woken(s, 3), 2)
	assert.Empty(t, woken(s, 3))

	// A woken pass takes nothing over: that is the full pass's work.
	abandoned := request("AR-4", "carol@example.com", "alice@example.com")
	mustCreate(t, s, abandoned, createEffects(abandoned))
	require.Len(t, woken(s, 10), 1)
	s.wake(s.k.shardOf("AR-4"))
	assert.Empty(t, woken(s, 10))
}

func TestOutbox_PromotedRetriesWakeTheirShard(t *testing.T) {
	ctx := context.Background()
	s := storeWithCards(t, Options{ReclaimAfter: -1}, "alice@example.com")
	tasks, err := s.ClaimTasks(ctx, "a", 10, governance.ClaimWoken)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	require.NoError(t, s.RetryTask(ctx, tasks[0], t0))
	moved, err := s.PromoteRetries(ctx, t0)
	require.NoError(t, err)
	require.Equal(t, 1, moved)
	tasks, err = s.ClaimTasks(ctx, "a", 10, governance.ClaimWoken)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	assert.Equal(t, 1, tasks[0].Attempt)
}

// Once this process's dispatcher has asked for woken tasks, a transition claims the tasks
// it enqueues for it in the same script, and they are handed over without asking Redis
// again; if the process stops before delivering them, another consumer takes them over.
func TestClaimTasks_ATransitionClaimsItsTasksForThisProcess(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	s := New(redistest.Client(t), Options{Prefix: prefix, ReclaimAfter: -1})
	none, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimWoken)
	require.NoError(t, err)
	require.Empty(t, none)

	r := request("AR-1", "carol@example.com", "alice@example.com", "bob@example.com")
	mustCreate(t, s, r, createEffects(r))
	pending, err := s.rdb.XPending(ctx, s.k.outbox(s.k.shardOf("AR-1")), group).Result()
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"me": 2}, pending.Consumers, "claimed for this process as they were enqueued")

	handed, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimWoken)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"alice@example.com", "bob@example.com"}, recipients(handed), "handed over without asking")

	other := New(redistest.Client(t), Options{Prefix: prefix, ReclaimAfter: -1}) // this process stopped before delivering
	taken, err := other.ClaimTasks(ctx, "other", 10, governance.ClaimEverywhere)
	require.NoError(t, err)
	assert.Subset(t, recipients(taken), []string{"alice@example.com", "bob@example.com"}, "taken over")
}

// A notice or an alert that a transition claims for this process is handed over with its
// delivery marker already set, in the same script: the process sends it without a round
// trip of its own, and a consumer that takes it over from a process that stopped does not
// send it again. Other tasks, and tasks nobody claimed at enqueue, carry no marker.
func TestClaimTasks_NoticesClaimedAtEnqueueComeMarked(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	s := New(redistest.Client(t), Options{Prefix: prefix, ReclaimAfter: -1})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, createEffects(r)) // nobody claims at enqueue yet
	cards, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimWoken)
	require.NoError(t, err)
	require.NoError(t, s.AckTask(ctx, cards...))

	tasks := []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-1"},
		{Kind: governance.TaskNotify, RequestID: "AR-1", To: "carol@example.com", Notice: governance.NoticeApproved},
		{Kind: governance.TaskAdminAlert, RequestID: "AR-1", To: "admins"}}
	require.NoError(t, s.Update(ctx, next(r, governance.StateApproved), 1, governance.Effects{Tasks: tasks}))
	handed, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimHanded)
	require.NoError(t, err)
	require.Len(t, handed, 3)
	marked := map[governance.TaskKind]bool{}
	for _, h := range handed {
		marked[h.Kind] = h.Marked
	}
	assert.Equal(t, map[governance.TaskKind]bool{governance.TaskSubmit: false, governance.TaskNotify: true,
		governance.TaskAdminAlert: true}, marked)

	other := New(redistest.Client(t), Options{Prefix: prefix, ReclaimAfter: -1}) // this process stopped before sending
	taken, err := other.ClaimTasks(ctx, "other", 3, governance.ClaimEverywhere)
	require.NoError(t, err)
	require.Len(t, taken, 3)
	for _, task := range taken {
		assert.False(t, task.Marked, "a task taken over comes unmarked: the marker is asked for")
		if task.Kind == governance.TaskNotify || task.Kind == governance.TaskAdminAlert {
			first, err := other.FirstDelivery(ctx, task)
			require.NoError(t, err)
			assert.False(t, first, "%s may have been sent already: not sent again", task.Kind)
		}
	}
	ttl, err := s.rdb.PTTL(ctx, s.k.sent(s.k.shardOf("AR-1"), strings.SplitN(handed[1].ID, "/", 2)[1])).Result()
	require.NoError(t, err)
	assert.InDelta(t, s.markerTTL().Seconds(), ttl.Seconds(), 5, "a marker set at enqueue lasts as long as one set before sending")
}

// A dispatcher that stops takes what was claimed for it at enqueue (ClaimLast) and the
// store claims nothing more for it; tasks a transition claimed and marked for it just as
// it stopped get their markers back, so whoever takes them over sends them.
func TestClaimTasks_ClaimLastHandsOverAndStopsClaimingAtEnqueue(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	s := New(redistest.Client(t), Options{Prefix: prefix, ReclaimAfter: -1})
	_, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimWoken)
	require.NoError(t, err)
	r := request("AR-1", "carol@example.com", "alice@example.com")
	notice := governance.Task{Kind: governance.TaskNotify, RequestID: "AR-1", To: "carol@example.com", Notice: governance.NoticeReceived}
	mustCreate(t, s, r, governance.Effects{Tasks: []governance.Task{notice}})

	last, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimLast)
	require.NoError(t, err)
	require.Len(t, last, 1, "what was handed, handed over")
	assert.True(t, last[0].Marked)
	assert.Equal(t, "", s.handed.consumerFor(1), "nothing more is claimed at enqueue")
	assert.False(t, s.handed.add("me", last), "nor kept for a dispatcher that stopped")

	require.NoError(t, s.Update(ctx, next(r, governance.StateApproved), 1, governance.Effects{Tasks: []governance.Task{
		{Kind: governance.TaskNotify, RequestID: "AR-1", To: "carol@example.com", Notice: governance.NoticeApproved}}}))
	pending, err := s.rdb.XPending(ctx, s.k.outbox(s.k.shardOf("AR-1")), group).Result()
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"me": 1}, pending.Consumers, "the new notice is claimed by nobody")

	s.unmark(ctx, last) // as when the dispatcher stopped between the enqueue and the hand-over
	first, err := s.FirstDelivery(ctx, last[0])
	require.NoError(t, err)
	assert.True(t, first, "its marker was taken back: whoever takes it over sends it")
}

// The tasks a script hands back that it enqueued itself are taken from what was enqueued,
// not decoded again from their JSON; any other is decoded.
func TestTaskEntries_TakesTheTasksItEnqueuedAsTheyWere(t *testing.T) {
	mine := governance.Task{Kind: governance.TaskSendCard, RequestID: "AR-1", To: "bob@example.com"}
	b, err := encodeTask(mine)
	require.NoError(t, err)
	other := `{"kind":"notify","req":"AR-2","to":"carol@example.com","notice":"approved"}`
	got := taskEntries(3, []any{"1-0", string(b), "1-1", other}, map[string]governance.Task{string(b): mine})
	want0 := mine
	want0.ID = "3/1-0"
	assert.Equal(t, []governance.Task{want0, {ID: "3/1-1", Kind: governance.TaskNotify, RequestID: "AR-2", To: "carol@example.com",
		Notice: governance.NoticeApproved}}, got)
}

func BenchmarkTaskEntries(b *testing.B) {
	task := governance.Task{Kind: governance.TaskSendCard, RequestID: "AR-1", To: "bob@example.com"}
	raw, err := encodeTask(task)
	require.NoError(b, err)
	reply := []any{"1-0", string(raw)}
	for _, bench := range []struct {
		name  string
		known map[string]governance.Task
	}{{"decoded", nil}, {"known", map[string]governance.Task{string(raw): task}}} {
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				taskEntries(0, reply, bench.known)
			}
		})
	}
}

// BenchmarkAckWithCards is the end of a command's outbox pass: its two cards saved with
// the acknowledgement of their tasks, in one pipeline.
func BenchmarkAckWithCards(b *testing.B) {
	ctx := context.Background()
	s := storeWithCards(b, Options{}, "alice@example.com", "bob@example.com")
	r, err := s.Get(ctx, "AR-1")
	require.NoError(b, err)
	tasks := []governance.Task{{Kind: governance.TaskSendCard, RequestID: "AR-1", ID: strconv.Itoa(s.k.shardOf("AR-1")) + "/1-1"},
		{Kind: governance.TaskSendCard, RequestID: "AR-1", ID: strconv.Itoa(s.k.shardOf("AR-1")) + "/1-2"}}
	cards := []governance.SentCard{
		{Request: r, Ref: governance.MessageRef{Platform: "slack", Recipient: "alice@example.com", Channel: "D01ALICE", ID: "1764790000.000100"}},
		{Request: r, Ref: governance.MessageRef{Platform: "slack", Recipient: "bob@example.com", Channel: "D01BOB", ID: "1764790000.000200"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AckWithCards(ctx, cards, tasks...); err != nil {
			b.Fatal(err)
		}
	}
}
