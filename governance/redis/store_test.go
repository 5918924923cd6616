package redis

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestCreate_ThenGetReturnsTheSameRequest(t *testing.T) {
	full := request("AR-2", "carol@example.com", "alice@example.com", "bob@example.com")
	full.State = governance.StateActive
	full.Reason = `needs "quotes" & <angle brackets> and ünïcode`
	full.Schedule = governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3,
		FallbackApprover: "dave@example.com", RequestExpiryDays: 7, ExpiryNotices: []time.Duration{24 * time.Hour, time.Hour}}
	full.Decision = &governance.Decision{By: governance.Person{Email: "alice@example.com", Name: "Alice"}, Approved: true, At: t0.Add(time.Hour)}
	full.Submission = &governance.Submission{Backend: "builtin", ExternalID: "g-1", State: governance.StateActive,
		Start: t0.Add(time.Hour), End: t0.Add(9 * time.Hour), At: t0.Add(time.Hour)}
	full.Reminders, full.Escalations = 2, 1

	cases := map[string]*governance.Request{
		"a new request":                  request("AR-1", "carol@example.com", "alice@example.com"),
		"a request with every field set": full,
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStore(t, Options{})
			mustCreate(t, s, r, createEffects(r))
			got, err := s.Get(context.Background(), r.ID)
			require.NoError(t, err)
			assert.Equal(t, r, got)
		})
	}
}

func TestCreate_StoresIndexesDueEntriesTasksAndAuditTogether(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com", "bob@example.com")
	mustCreate(t, s, r, createEffects(r))

	mine, err := s.ListByRequester(ctx, "carol@example.com", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"AR-1"}, ids(mine))
	for _, approver := range []string{"alice@example.com", "bob@example.com"} {
		pending, err := s.ListPendingFor(ctx, approver, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"AR-1"}, ids(pending), approver)
	}
	due, err := s.rdb.ZScore(ctx, s.k.due(s.k.shardOf("AR-1")), "approval:AR-1").Result()
	require.NoError(t, err)
	assert.Equal(t, float64(t0.Add(72*time.Hour).UnixMilli()), due)
	assert.ElementsMatch(t, []string{"alice@example.com", "bob@example.com"}, recipients(claimAll(t, s, "a")))
	var trail []governance.AuditRecord
	require.NoError(t, s.Audit(ctx, time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		trail = append(trail, a)
		return nil
	}))
	assert.Equal(t, createEffects(r).Audit, trail)
}

func TestCreate_SameIDTwiceWritesNothingTheSecondTime(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, createEffects(r))
	before := shardCounts(t, s, "AR-1", "carol@example.com", "alice@example.com")
	require.Equal(t, counts{outbox: 1, audit: 1, due: 1, mine: 1, pending: 1}, before)

	retry := request("AR-1", "carol@example.com", "alice@example.com")
	retry.CreatedAt = t0.Add(time.Minute)
	created, err := s.Create(ctx, retry, createEffects(retry))
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, before, shardCounts(t, s, "AR-1", "carol@example.com", "alice@example.com"), "nothing doubled")
	got, err := s.Get(ctx, "AR-1")
	require.NoError(t, err)
	assert.Equal(t, t0, got.CreatedAt, "the first request stays")

	other := request("AR-1", "mallory@example.com", "alice@example.com")
	created, err = s.Create(ctx, other, createEffects(other))
	require.NoError(t, err)
	assert.False(t, created)
	mallory, err := s.ListByRequester(ctx, "mallory@example.com", 10)
	require.NoError(t, err)
	assert.Empty(t, mallory, "a refused create indexes nothing")
}

func TestGet_MissingRequestIsNotFound(t *testing.T) {
	_, err := newStore(t, Options{}).Get(context.Background(), "AR-404")
	assert.ErrorIs(t, err, governance.ErrNotFound)
	assert.ErrorContains(t, err, "AR-404")
}

func TestReserveID(t *testing.T) {
	ctx := context.Background()
	t.Run("the same key gives the same id", func(t *testing.T) {
		s := newStore(t, Options{})
		a, _, err := s.ReserveID(ctx, "slack:trigger-1", "", "")
		require.NoError(t, err)
		again, _, err := s.ReserveID(ctx, "slack:trigger-1", "", "")
		require.NoError(t, err)
		assert.Equal(t, a, again)
		assert.Equal(t, "AR-1", a)
	})
	t.Run("different keys and empty keys give fresh ids", func(t *testing.T) {
		s := newStore(t, Options{IDPrefix: "REQ-"})
		seen := map[string]bool{}
		for _, key := range []string{"k1", "k2", "", "", "k3"} {
			id, _, err := s.ReserveID(ctx, key, "", "")
			require.NoError(t, err)
			assert.False(t, seen[id], "id %s given twice", id)
			assert.True(t, strings.HasPrefix(id, "REQ-"), id)
			seen[id] = true
		}
	})
	t.Run("a binding is kept for a day", func(t *testing.T) {
		s := newStore(t, Options{})
		_, _, err := s.ReserveID(ctx, "k", "", "")
		require.NoError(t, err)
		ttl, err := s.rdb.TTL(ctx, s.k.idempotency("k")).Result()
		require.NoError(t, err)
		assert.InDelta(t, (24 * time.Hour).Seconds(), ttl.Seconds(), 5)
	})
	t.Run("one open request a person may have for an item", func(t *testing.T) {
		s := newStore(t, Options{})
		first, other, err := s.ReserveID(ctx, "k1", "carol@example.com|vpn", "")
		require.NoError(t, err)
		require.Empty(t, other)
		_, other, err = s.ReserveID(ctx, "k2", "carol@example.com|vpn", "")
		require.NoError(t, err)
		assert.Equal(t, first, other, "the open request is named, nothing is bound")
		again, other, err := s.ReserveID(ctx, "k1", "carol@example.com|vpn", "")
		require.NoError(t, err)
		assert.Equal(t, first, again, "a retry of the first gets its own id, not a refusal")
		assert.Empty(t, other)
		n, err := s.rdb.Exists(ctx, s.k.idempotency("k1")).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "the open-request key holds the idempotency binding: no key of its own")
		require.NoError(t, s.rdb.Set(ctx, s.k.open("dave@example.com|vpn"), "AR-77", 0).Err()) // bound before it held the key
		_, other, err = s.ReserveID(ctx, "k9", "dave@example.com|vpn", "")
		require.NoError(t, err)
		assert.Equal(t, "AR-77", other)
		taken, other, err := s.ReserveID(ctx, "k3", "carol@example.com|vpn", first)
		require.NoError(t, err)
		assert.Empty(t, other)
		assert.NotEqual(t, first, taken, "a finished request's place is taken over")
		_, other, err = s.ReserveID(ctx, "k4", "carol@example.com|db", "")
		require.NoError(t, err)
		assert.Empty(t, other, "another item is another place")
	})
	t.Run("concurrent tries of one command get one id", func(t *testing.T) {
		s := newStore(t, Options{})
		var wg sync.WaitGroup
		got := make([]string, 20)
		errs := make([]error, 20)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = s.ReserveID(ctx, "slack:concurrent", "", "")
			}()
		}
		wg.Wait()
		for i := range got {
			require.NoError(t, errs[i])
			assert.Equal(t, got[0], got[i])
		}
		fresh, _, err := s.ReserveID(ctx, "", "", "")
		require.NoError(t, err)
		assert.Equal(t, "AR-2", fresh, "the race used one number of the sequence")
	})
}

// CreateReserved binds a new request as ReserveID would and creates it, in one round trip
// on one Redis server (two on a Cluster, whose slots the keys span); what it refuses
// writes nothing and gives its id back.
func TestCreateReserved(t *testing.T) {
	ctx := context.Background()
	client := redistest.Client(t)
	rec := &keyRecorder{}
	client.AddHook(rec)
	s := New(client, Options{Prefix: redistest.Prefix(t)})
	type result struct {
		id, bound, other string
		created          bool
	}
	create := func(key, open, replace string) result {
		t.Helper()
		res, err := s.CreateReserved(ctx, key, open, replace, func(id string) (*governance.Request, governance.Effects) {
			r := request(id, "carol@example.com", "alice@example.com")
			return r, createEffects(r)
		})
		require.NoError(t, err)
		id := res.Bound
		if res.Created {
			id = res.Request.ID
		}
		return result{id, res.Bound, res.Other, res.Created}
	}
	exists := func(id string) bool {
		n, err := s.rdb.Exists(ctx, s.k.request(id)).Result()
		require.NoError(t, err)
		return n == 1
	}

	first := create("k1", "carol@example.com|vpn", "")
	require.True(t, first.created)
	assert.Equal(t, result{"AR-1", "", "", true}, first)
	assert.True(t, exists("AR-1"))

	rec.reset()
	db := create("k2", "carol@example.com|db", "")
	require.True(t, db.created)
	scripts := rec.scripts() // EVALSHA, each followed by EVAL where a node did not hold the script yet
	if s.cluster {
		assert.Equal(t, 2, scripts, "the binding and the request lie on two slots: two scripts")
	} else {
		assert.Equal(t, 1, scripts, "the binding and the request in one script")
	}

	refused := create("k3", "carol@example.com|vpn", "")
	assert.Equal(t, result{"", "", "AR-1", false}, refused, "the open request is named, nothing written")
	assert.False(t, exists("AR-3"))
	dave := create("k3", "dave@example.com|vpn", "")
	assert.Equal(t, "AR-3", dave.id, "no id is skipped for a refusal")

	retried := create("k1", "carol@example.com|vpn", "")
	assert.Equal(t, "AR-1", retried.bound, "a retried ask is answered with its first attempt's request")
	assert.False(t, retried.created)

	taken := create("k4", "carol@example.com|vpn", "AR-1")
	assert.True(t, taken.created, "a finished request's place is taken over")
	refused = create("k5", "carol@example.com|vpn", "")
	assert.Equal(t, taken.id, refused.other, "and held by the new one")

	var wg sync.WaitGroup // the tries of one command side by side (Slack retrying it): one request
	tries := make([]result, 20)
	for i := range tries {
		wg.Go(func() {
			res, err := s.CreateReserved(ctx, "k-concurrent", "erin@example.com|vpn", "", func(id string) (*governance.Request, governance.Effects) {
				r := request(id, "erin@example.com", "alice@example.com")
				return r, createEffects(r)
			})
			assert.NoError(t, err)
			tries[i] = result{bound: res.Bound, other: res.Other, created: res.Created}
			if res.Created {
				tries[i].id = res.Request.ID
			}
		})
	}
	wg.Wait()
	var made []string
	for _, try := range tries {
		if try.created {
			made = append(made, try.id)
		}
	}
	require.Len(t, made, 1, "one try creates the request")
	for _, try := range tries {
		if !try.created {
			assert.Equal(t, result{"", made[0], "", false}, try, "the others are answered with it")
		}
	}

	extension := create("k6", "", "")
	assert.True(t, extension.created, "an ask without an open-request binding (an extension)")
	retried = create("k6", "", "")
	assert.Equal(t, result{extension.id, extension.id, "", false}, retried, "its key binds it for a day")
}

// A script that ran but whose answer was lost with its connection is run again by
// go-redis. A create or an update that finds its very write stored is answered as its
// first run was, with the tasks that run claimed for this process (notices marked), so
// the ask is created once, its id is never given to another, and a decision is not
// taken for one lost to another.
func TestApply_AScriptRunAgainAfterItsAnswerWasLostIsAnsweredAsItsFirstRun(t *testing.T) {
	ctx := context.Background()
	s, proxy := droppingStore(t)
	create := func(key, requester string) governance.Reserved {
		t.Helper()
		res, err := s.CreateReserved(ctx, key, requester+"|vpn", "", func(id string) (*governance.Request, governance.Effects) {
			r := request(id, requester, "alice@example.com")
			return r, createEffects(r)
		})
		require.NoError(t, err)
		return res
	}
	handed := func() map[governance.TaskKind]bool {
		t.Helper()
		tasks, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimHanded)
		require.NoError(t, err)
		require.NoError(t, s.AckTask(ctx, tasks...))
		marked := map[governance.TaskKind]bool{}
		for _, task := range tasks {
			marked[task.Kind] = task.Marked
		}
		return marked
	}
	_, err := s.ClaimTasks(ctx, "me", 10, governance.ClaimWoken) // this process claims at enqueue from now on
	require.NoError(t, err)
	require.True(t, create("k1", "carol@example.com").Created) // both scripts are loaded
	mustCreate(t, s, request("X-1", "carol@example.com"), governance.Effects{})
	handed()

	proxy.dropNextAnswerTo("evalsha")
	lost := create("k2", "dave@example.com")
	require.Equal(t, 1, proxy.dropped(), "the answer was dropped and the script run again")
	require.True(t, lost.Created, "answered as the run that created it")
	assert.Equal(t, "AR-2", lost.Request.ID)
	assert.Equal(t, map[governance.TaskKind]bool{governance.TaskSendCard: false}, handed(), "its card is handed to this process")
	for i, person := range []string{"erin@example.com", "frank@example.com"} {
		next := create(fmt.Sprintf("k%d", 3+i), person)
		require.True(t, next.Created, "%s's ask is not answered with another person's request: %+v", person, next)
		assert.Equal(t, fmt.Sprintf("AR-%d", 3+i), next.Request.ID)
	}
	handed()

	approved := next(lost.Request, governance.StateApproved)
	fx := governance.Effects{Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-2"},
		{Kind: governance.TaskNotify, RequestID: "AR-2", To: "dave@example.com", Notice: governance.NoticeApproved}}}
	proxy.dropNextAnswerTo("evalsha")
	require.NoError(t, s.Update(ctx, approved, 1, fx), "the decision stored is not taken for one lost to another")
	require.Equal(t, 2, proxy.dropped())
	assert.Equal(t, map[governance.TaskKind]bool{governance.TaskSubmit: false, governance.TaskNotify: true}, handed(),
		"its tasks are handed to this process, the notice marked as it was")
	denied := next(lost.Request, governance.StateDenied)
	assert.ErrorIs(t, s.Update(ctx, denied, 1, governance.Effects{}), governance.ErrConflict, "another write of version 2 conflicts")
	got, err := s.Get(ctx, "AR-2")
	require.NoError(t, err)
	assert.Equal(t, governance.StateApproved, got.State)
}

// A claim whose SET go-redis sent again after its answer was lost is still this caller's;
// another caller's is not.
func TestClaimOnce_ASetSentAgainAfterItsAnswerWasLostIsStillTheCallers(t *testing.T) {
	ctx := context.Background()
	s, proxy := droppingStore(t)
	proxy.dropNextAnswerTo("set")
	first, err := s.ClaimOnce(ctx, "digest:1", time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, proxy.dropped(), "the answer was dropped and the SET sent again")
	assert.True(t, first, "the caller whose SET was sent again holds the claim")
	again, err := s.ClaimOnce(ctx, "digest:1", time.Hour)
	require.NoError(t, err)
	assert.False(t, again, "a second caller does not")
}

// droppingStore is a Store on a Redis of one server (where CreateReserved is one script)
// through a replyDropper.
func droppingStore(t *testing.T) (*Store, *replyDropper) {
	server := redistest.Server(t)
	proxy := newReplyDropper(t, server.Options().Addr)
	opts := *server.Options()
	opts.Addr = proxy.addr()
	client := goredis.NewClient(&opts)
	t.Cleanup(func() { _ = client.Close() })
	return New(client, Options{Prefix: redistest.Prefix(t)}), proxy
}

// replyDropper is a TCP proxy to a Redis that, when told, closes the client's connection
// instead of passing on the answer to the next command of a name.
type replyDropper struct {
	l     net.Listener
	to    string
	armed atomic.Pointer[string] // the command whose answer to drop next, lower case
	drops atomic.Int32
}

func newReplyDropper(t *testing.T, to string) *replyDropper {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	d := &replyDropper{l: l, to: to}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go d.pipe(c)
		}
	}()
	return d
}

func (d *replyDropper) addr() string                    { return d.l.Addr().String() }
func (d *replyDropper) dropNextAnswerTo(command string) { d.armed.Store(&command) }
func (d *replyDropper) dropped() int                    { return int(d.drops.Load()) }

func (d *replyDropper) pipe(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", d.to)
	if err != nil {
		return
	}
	defer server.Close()
	var drop atomic.Bool
	go func() { // client → server; a client waits for each answer before its next command
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				if armed := d.armed.Load(); armed != nil && bytes.Contains(bytes.ToLower(buf[:n]), []byte("\r\n"+*armed+"\r\n")) &&
					d.armed.CompareAndSwap(armed, nil) {
					drop.Store(true)
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_ = server.Close()
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 && drop.Load() {
			d.drops.Add(1)
			return // the script ran; its answer is lost with the connection
		}
		if n > 0 {
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func TestUpdate_WritesTheRequestAndItsEffects(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, createEffects(r))
	claimed := claimAll(t, s, "a")
	require.Len(t, claimed, 1)
	require.NoError(t, s.AckTask(ctx, claimed[0]))

	approved := next(r, governance.StateApproved)
	require.NoError(t, s.Update(ctx, approved, 1, governance.Effects{
		Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-1"}},
		Undue: []string{"approval:AR-1"},
		Audit: []governance.AuditRecord{{At: t0.Add(time.Hour), RequestID: "AR-1", Event: governance.EventApprove}},
	}))
	got, err := s.Get(ctx, "AR-1")
	require.NoError(t, err)
	assert.Equal(t, approved, got)
	assert.Equal(t, counts{outbox: 1, audit: 2, due: 0, mine: 1, pending: 0},
		shardCounts(t, s, "AR-1", "carol@example.com", "alice@example.com"))
	tasks := claimAll(t, s, "a")
	require.Len(t, tasks, 1)
	assert.Equal(t, governance.TaskSubmit, tasks[0].Kind)
}

func TestUpdate_StaleVersionConflictsAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, createEffects(r))
	require.NoError(t, s.Update(ctx, next(r, governance.StateApproved), 1, governance.Effects{}))
	before := shardCounts(t, s, "AR-1", "carol@example.com", "alice@example.com")

	err := s.Update(ctx, next(r, governance.StateDenied), 1, governance.Effects{
		Tasks: []governance.Task{{Kind: governance.TaskNotify, RequestID: "AR-1"}},
		Due:   map[string]time.Time{"expiry:AR-1": t0},
		Undue: []string{"approval:AR-1"},
		Audit: []governance.AuditRecord{{At: t0, RequestID: "AR-1", Event: governance.EventDeny}},
	})
	assert.ErrorIs(t, err, governance.ErrConflict)
	got, err := s.Get(ctx, "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateApproved, got.State)
	assert.Equal(t, before, shardCounts(t, s, "AR-1", "carol@example.com", "alice@example.com"))
}

func TestUpdate_MissingRequestIsNotFound(t *testing.T) {
	s := newStore(t, Options{})
	err := s.Update(context.Background(), request("AR-9", "x@example.com"), 1, governance.Effects{
		Tasks: []governance.Task{{Kind: governance.TaskNotify, RequestID: "AR-9"}}})
	assert.ErrorIs(t, err, governance.ErrNotFound)
	assert.Empty(t, claimAll(t, s, "a"))
}

func TestUpdate_ConcurrentWritersExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, governance.Effects{})
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := next(r, governance.StateApproved)
			n.Reason = fmt.Sprint(i)
			errs[i] = s.Update(ctx, n, 1, governance.Effects{Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: "AR-1"}}})
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			assert.ErrorIs(t, err, governance.ErrConflict)
		}
	}
	assert.Equal(t, 1, wins)
	assert.Len(t, claimAll(t, s, "a"), 1, "one submission")
}

func TestPendingIndex_FollowsTheStateAndTheApprovers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	pendingFor := func(email string) []string {
		t.Helper()
		rs, err := s.ListPendingFor(ctx, email, 10)
		require.NoError(t, err)
		return ids(rs)
	}
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, governance.Effects{})
	assert.Equal(t, []string{"AR-1"}, pendingFor("alice@example.com"))
	assert.Empty(t, pendingFor("dave@example.com"))

	escalated := next(r, governance.StatePendingApproval)
	escalated.Approvers = append(escalated.Approvers, governance.Person{Email: "Dave@Example.com"})
	require.NoError(t, s.Update(ctx, escalated, 1, governance.Effects{}))
	assert.Equal(t, []string{"AR-1"}, pendingFor("dave@example.com"), "an approver who joins sees it")

	require.NoError(t, s.Update(ctx, next(escalated, governance.StateDenied), 2, governance.Effects{}))
	assert.Empty(t, pendingFor("alice@example.com"))
	assert.Empty(t, pendingFor("dave@example.com"))
	mine, err := s.ListByRequester(ctx, "carol@example.com", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"AR-1"}, ids(mine), "the requester still sees it")
}

func TestLists_MergeTheShardsInOrderAndCutAtTheLimit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := 1; i <= 30; i++ {
		r := request(fmt.Sprintf("AR-%d", i), "carol@example.com", "alice@example.com")
		r.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		mustCreate(t, s, r, governance.Effects{})
	}
	shards := map[int]bool{}
	for i := 1; i <= 30; i++ {
		shards[s.k.shardOf(fmt.Sprintf("AR-%d", i))] = true
	}
	require.Greater(t, len(shards), 8, "the requests are spread over the shards")

	cases := []struct {
		name string
		list func(ctx context.Context, email string, limit int) ([]*governance.Request, error)
		who  string
		lim  int
		want []string
	}{
		{"by requester, newest first", s.ListByRequester, "CAROL@example.com", 5, []string{"AR-30", "AR-29", "AR-28", "AR-27", "AR-26"}},
		{"pending, oldest first", s.ListPendingFor, "alice@example.com", 3, []string{"AR-1", "AR-2", "AR-3"}},
		{"a limit above the count gives all", s.ListPendingFor, "alice@example.com", 100, nil},
		{"no limit gives none", s.ListByRequester, "carol@example.com", 0, []string{}},
		{"somebody else", s.ListByRequester, "bob@example.com", 10, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.list(ctx, c.who, c.lim)
			require.NoError(t, err)
			if c.want == nil {
				assert.Len(t, got, 30)
				return
			}
			assert.Equal(t, c.want, append([]string{}, ids(got)...))
		})
	}
}

func TestMessageRefs_OnePerRecipientInAStableOrder(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	refs, err := s.MessageRefs(ctx, "AR-1")
	require.NoError(t, err)
	assert.Empty(t, refs)

	bob := governance.MessageRef{Platform: "slack", Recipient: "bob@example.com", Channel: "D2", ID: "2.0"}
	alice := governance.MessageRef{Platform: "slack", Recipient: "alice@example.com", Channel: "D1", ID: "1.0"}
	aliceAgain := governance.MessageRef{Platform: "slack", Recipient: "alice@example.com", Channel: "D1", ID: "1.5"}
	for _, ref := range []governance.MessageRef{bob, alice, aliceAgain} {
		v, err := s.SaveMessageRef(ctx, "AR-1", ref)
		require.NoError(t, err)
		assert.Zero(t, v, "no request AR-1 is stored here")
	}
	refs, err = s.MessageRefs(ctx, "AR-1")
	require.NoError(t, err)
	assert.Equal(t, []governance.MessageRef{aliceAgain, bob}, refs)
}

func TestChatUserCache_FindsAUserByIdAndByEmail(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	u := governance.ChatUser{Platform: "slack", ID: "U1", Email: "alice@example.com", Name: "Alice", TimeZone: "Europe/Berlin"}
	require.NoError(t, s.SaveChatUser(ctx, u, time.Hour))

	cases := []struct {
		name   string
		lookup func() (governance.ChatUser, bool, error)
		found  bool
	}{
		{"by id", func() (governance.ChatUser, bool, error) { return s.ChatUser(ctx, "slack", "U1") }, true},
		{"by e-mail in any case", func() (governance.ChatUser, bool, error) { return s.ChatUserByEmail(ctx, "slack", "ALICE@example.com") }, true},
		{"not on another platform", func() (governance.ChatUser, bool, error) { return s.ChatUser(ctx, "teams", "U1") }, false},
		{"not an unknown id", func() (governance.ChatUser, bool, error) { return s.ChatUser(ctx, "slack", "U2") }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := c.lookup()
			require.NoError(t, err)
			require.Equal(t, c.found, ok)
			if c.found {
				assert.Equal(t, u, got)
			}
		})
	}
	for _, key := range []string{s.k.chatUser("slack", "U1"), s.k.chatEmail("slack", "alice@example.com")} {
		ttl, err := s.rdb.TTL(ctx, key).Result()
		require.NoError(t, err)
		assert.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 5, "%s expires", key)
	}
}

func TestKeys_EverythingOneTransitionTouchesSharesOneHashTag(t *testing.T) {
	ctx := context.Background()
	client := redistest.Client(t)
	rec := &keyRecorder{}
	client.AddHook(rec)
	s := New(client, Options{Prefix: redistest.Prefix(t)})
	for _, id := range []string{"AR-1", "AR-2", "AR-77", "AR-123456"} {
		r := request(id, "carol@example.com", "alice@example.com", "bob@example.com")
		mustCreate(t, s, r, createEffects(r))
		require.NoError(t, s.Update(ctx, next(r, governance.StateApproved), 1, governance.Effects{
			Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: id}}, Undue: []string{"approval:" + id},
			Audit: []governance.AuditRecord{{At: t0, RequestID: id, Event: governance.EventApprove}}}))
		v, err := s.SaveMessageRef(ctx, id, governance.MessageRef{Platform: "slack", Recipient: "alice@example.com"})
		require.NoError(t, err)
		assert.Equal(t, int64(2), v, "the version as stored when the card was saved")
	}
	_, _, err := s.ReserveID(ctx, "k", "", "")
	require.NoError(t, err)

	require.NotEmpty(t, rec.keys)
	for _, keys := range rec.keys {
		for _, key := range keys {
			assert.True(t, strings.HasPrefix(key, s.k.prefix+":"), "%s has the prefix", key)
			assert.Equal(t, hashTag(keys[0]), hashTag(key), "one slot for %v", keys)
		}
		if strings.Contains(keys[0], ":req:") {
			id := keys[0][strings.LastIndex(keys[0], ":")+1:]
			assert.Equal(t, fmt.Sprintf("s%d", s.k.shardOf(id)), hashTag(keys[0]))
		}
	}
}

// keyRecorder is a go-redis hook that records the keys every command and script names.
type keyRecorder struct {
	mu      sync.Mutex
	keys    [][]string // per command
	evalsha int
}

func (k *keyRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (k *keyRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		k.record(cmd)
		return next(ctx, cmd)
	}
}

func (k *keyRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, c := range cmds {
			k.record(c)
		}
		return next(ctx, cmds)
	}
}

func (k *keyRecorder) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys, k.evalsha = nil, 0
}

// scripts is how many scripts were run: EVALSHA commands.
func (k *keyRecorder) scripts() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.evalsha
}

func (k *keyRecorder) record(cmd goredis.Cmder) {
	args := cmd.Args()
	var keys []string
	name := strings.ToLower(fmt.Sprint(args[0]))
	if name == "evalsha" {
		k.mu.Lock()
		k.evalsha++
		k.mu.Unlock()
	}
	switch name {
	case "eval", "evalsha":
		n := args[2].(int)
		for _, a := range args[3 : 3+n] {
			keys = append(keys, wireArg(a))
		}
	case "multi", "exec", "ping", "hello", "client":
		return
	default:
		keys = []string{wireArg(args[1])}
	}
	k.mu.Lock()
	k.keys = append(k.keys, keys)
	k.mu.Unlock()
}

// hashTag is the part of key Redis Cluster hashes: the first non-empty {…}, else all.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

func TestDueIndex_TransitionsAddMoveAndRemoveMembers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	due := func() map[string]float64 {
		t.Helper()
		zs, err := s.rdb.ZRangeWithScores(ctx, s.k.due(s.k.shardOf("AR-1")), 0, -1).Result()
		require.NoError(t, err)
		out := map[string]float64{}
		for _, z := range zs {
			out[z.Member.(string)] = z.Score
		}
		return out
	}
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, governance.Effects{Due: map[string]time.Time{"approval:AR-1": t0.Add(time.Hour)}})
	assert.Equal(t, map[string]float64{"approval:AR-1": float64(t0.Add(time.Hour).UnixMilli())}, due())

	require.NoError(t, s.Update(ctx, next(r, governance.StatePendingApproval), 1, governance.Effects{
		Due: map[string]time.Time{"approval:AR-1": t0.Add(2 * time.Hour)}}))
	assert.Equal(t, map[string]float64{"approval:AR-1": float64(t0.Add(2 * time.Hour).UnixMilli())}, due(), "moved")

	require.NoError(t, s.Update(ctx, next(next(r, governance.StatePendingApproval), governance.StateActive), 2, governance.Effects{
		Undue: []string{"approval:AR-1"}, Due: map[string]time.Time{"expiry:AR-1": t0.Add(9 * time.Hour)}}))
	assert.Equal(t, map[string]float64{"expiry:AR-1": float64(t0.Add(9 * time.Hour).UnixMilli())}, due())
}

func TestClaimDue_HandsOutDueMembersOnceUntilTheirLeaseEnds(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := range 30 {
		id := fmt.Sprintf("AR-%d", i)
		at := t0.Add(time.Duration(i) * time.Minute)
		if i >= 20 {
			at = at.Add(2 * time.Hour)
		}
		mustCreate(t, s, request(id, "carol@example.com", "alice@example.com"),
			governance.Effects{Due: map[string]time.Time{"approval:" + id: at}})
	}
	now := t0.Add(19 * time.Minute) // AR-0 … AR-19 are due, AR-20 … AR-29 later

	first, err := s.ClaimDue(ctx, now, 5*time.Minute, 8)
	require.NoError(t, err)
	require.Len(t, first, 8)
	rest, err := s.ClaimDue(ctx, now, 5*time.Minute, 100)
	require.NoError(t, err)
	require.Len(t, rest, 12)
	all := append(append([]string{}, first...), rest...)
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("approval:AR-%d", i)
	}
	assert.ElementsMatch(t, want, all, "each due member once")
	assert.IsIncreasing(t, numbers(first), "in the order they came due")

	none, err := s.ClaimDue(ctx, now.Add(5*time.Minute-time.Millisecond), 5*time.Minute, 100)
	require.NoError(t, err)
	assert.Empty(t, none, "leased members wait for the end of their lease")

	again, err := s.ClaimDue(ctx, now.Add(5*time.Minute), 5*time.Minute, 100)
	require.NoError(t, err)
	assert.Len(t, again, 20, "unhandled members are due again when their lease ends")
}

// numbers are the request numbers of due members "approval:AR-<n>".
func numbers(members []string) []int {
	out := make([]int, len(members))
	for i, m := range members {
		_, _ = fmt.Sscanf(m, "approval:AR-%d", &out[i])
	}
	return out
}

// BenchmarkCreate is the store's share of a slash command: reserve the id for the
// command's idempotency key, then create the request with a card for each of its two
// approvers, its due time and its audit record (two round trips).
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id, _, err := s.ReserveID(ctx, "bench-"+strconv.Itoa(i), "", "")
		if err != nil {
			b.Fatal(err)
		}
		r := request(id, "carol@example.com", "alice@example.com", "bob@example.com")
		if _, err := s.Create(ctx, r, createEffects(r)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateReserved is a slash command's store work on one server: an id from the
// process's block, bound and created with a card task per approver in one script.
func BenchmarkCreateReserved(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res, err := s.CreateReserved(ctx, "bench-"+strconv.Itoa(i), "carol@example.com|item-"+strconv.Itoa(i), "",
			func(id string) (*governance.Request, governance.Effects) {
				r := request(id, "carol@example.com", "alice@example.com", "bob@example.com")
				return r, createEffects(r)
			})
		if err != nil || !res.Created {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkApplyCall is the building of apply.lua's keys and arguments for a new request,
// without Redis.
func BenchmarkApplyCall(b *testing.B) {
	s := New(goredis.NewClient(&goredis.Options{}), Options{})
	r := request("AR-493", "carol@example.com", "alice@example.com", "bob@example.com")
	r.Reason, r.Platform = "load test", "slack"
	fx := createEffects(r)
	b.ReportAllocs()
	for b.Loop() {
		a := s.applyArgs(r, fx)
		if _, err := s.applyCall(&a, "create", r, 0, fx); err != nil {
			b.Fatal(err)
		}
	}
}
