package redis

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

var updateWire = flag.Bool("update-wire", false, "rewrite testdata/wire*.golden from what the store sends now")

// The store's hot path sends what it sent before it was tuned for fewer allocations, byte
// for byte: every key, value and script argument of a command's creation, a decision, a
// card saved with its acknowledgement, and a reservation, round trip by round trip, as
// Redis receives them (an argument is written the same whether it was an int64 or the
// string of its digits). testdata/wire.golden was recorded before that tuning; rerecord
// it (-update-wire) only for a change that means to alter what is stored.
func TestWire_HotPathSendsWhatItAlwaysSent(t *testing.T) {
	onEachClient(t, func(t *testing.T, client goredis.UniversalClient, rec *wireRecorder) {
		// Once unrecorded, so that the servers hold the scripts (no EVAL after a
		// NOSCRIPT) and the pool its connections; then recorded, under a prefix of its own.
		wireScenario(t, New(client, Options{Prefix: redistest.Prefix(t)}))
		rec.reset()
		prefix := redistest.Prefix(t)
		s := New(client, Options{Prefix: prefix})
		wireScenario(t, s)

		golden := "testdata/wire.golden"
		if s.cluster {
			golden = "testdata/wire-cluster.golden"
		}
		got := rec.text(prefix)
		if *updateWire {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err)
		assert.Equal(t, string(want), got)
	})
}

// wireScenario is a slash command's request created (and another one, created directly),
// its card saved with the acknowledgement of its tasks, an approval that enqueues a
// notice, and a reservation for an extension.
func wireScenario(t *testing.T, s *Store) {
	ctx := context.Background()
	_, err := s.ClaimTasks(ctx, "c1", 10, governance.ClaimWoken) // claim at enqueue time for c1 from now on
	require.NoError(t, err)

	res, err := s.CreateReserved(ctx, "trigger-1", "Carol@example.com|vpn", "", func(id string) (*governance.Request, governance.Effects) {
		r := request(id, "Carol@example.com", "alice@example.com", "bob@example.com")
		r.Reason, r.Platform = "on call", "slack"
		r.Schedule = governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 2,
			ExpiryNotices: []time.Duration{24 * time.Hour, time.Hour}}
		return r, createEffects(r)
	})
	require.NoError(t, err)
	require.True(t, res.Created)
	r := res.Request

	other := request("AR-900", "dave@example.com", "alice@example.com")
	mustCreate(t, s, other, createEffects(other))

	tasks, err := s.ClaimTasks(ctx, "c1", 10, governance.ClaimHanded)
	require.NoError(t, err)
	require.Len(t, tasks, 3, "both requests' card tasks were claimed for c1 as they were enqueued")
	versions, err := s.AckWithCards(ctx, []governance.SentCard{
		{Request: r, Ref: governance.MessageRef{Platform: "slack", Recipient: "alice@example.com", Channel: "D1", ID: "1700000000.000100"}},
		{Request: r, Ref: governance.MessageRef{Platform: "slack", Recipient: "bob@example.com", Channel: "D 2", ID: "1700000000.000200"}},
	}, tasks[:2]...)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 1}, versions)
	v, err := s.SaveMessageRef(ctx, other.ID, governance.MessageRef{Platform: "teams", Recipient: "alice@example.com", Channel: "a:1", ID: "m1"})
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)

	approved := next(r, governance.StateApproved)
	approved.Decision = &governance.Decision{By: governance.Person{Email: "alice@example.com"}, Approved: true, At: t0.Add(time.Hour)}
	require.NoError(t, s.Update(ctx, approved, 1, governance.Effects{
		Tasks: []governance.Task{{Kind: governance.TaskSubmit, RequestID: r.ID},
			{Kind: governance.TaskNotify, RequestID: r.ID, To: "carol@example.com", Notice: governance.NoticeApproved}},
		Due:   map[string]time.Time{"sync:" + r.ID: t0.Add(2 * time.Hour)},
		Undue: []string{"approval:" + r.ID},
		Audit: []governance.AuditRecord{{At: t0.Add(time.Hour), RequestID: r.ID, Event: governance.EventApprove,
			From: governance.StatePendingApproval, To: governance.StateApproved, Actor: "alice@example.com", Platform: "slack"}},
	}))

	id, other2, err := s.ReserveID(ctx, "extend-1", "", "")
	require.NoError(t, err)
	assert.Empty(t, other2)
	assert.NotEmpty(t, id)
}

// wireRecorder is a go-redis hook that records each round trip's commands as Redis
// receives them: each argument as the bytes go-redis writes for it.
type wireRecorder struct {
	mu    sync.Mutex
	trips [][]string
}

func (w *wireRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (w *wireRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		w.record([]goredis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (w *wireRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		w.record(cmds)
		return next(ctx, cmds)
	}
}

func (w *wireRecorder) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trips = nil
}

func (w *wireRecorder) record(cmds []goredis.Cmder) {
	var trip []string
	for _, c := range cmds {
		if name := c.Name(); name == "hello" || name == "client" {
			continue // a new connection's handshake
		}
		args := make([]string, len(c.Args()))
		for j, a := range c.Args() {
			args[j] = strconv.Quote(wireArg(a))
		}
		trip = append(trip, strings.Join(args, " "))
	}
	if len(trip) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trips = append(w.trips, trip)
}

// wireArg is an argument as go-redis's writer puts it on the wire (internal/proto,
// Writer.WriteArg), for the types the store passes.
func wireArg(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case *string:
		return *v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case *int64:
		return strconv.FormatInt(*v, 10)
	case time.Duration:
		return strconv.FormatInt(int64(v), 10)
	case *sentAgain:
		return v.String()
	}
	panic(fmt.Sprintf("wireArg: an argument of type %T", a))
}

// msNow matches a Unix millisecond time: the wall clock, which stamps outbox entries.
var msNow = regexp.MustCompile(`\b1[0-9]{12}\b`)

// text is the recording with the test's prefix as <p> and this hour's millisecond
// times as <now> (the test's own times are days earlier).
func (w *wireRecorder) text(prefix string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now().UnixMilli()
	var b strings.Builder
	for _, trip := range w.trips {
		if len(trip) > 1 {
			fmt.Fprintf(&b, "pipeline of %d\n", len(trip))
		}
		for _, c := range trip {
			c = strings.ReplaceAll(c, prefix, "<p>")
			c = msNow.ReplaceAllStringFunc(c, func(m string) string {
				if n, _ := strconv.ParseInt(m, 10, 64); n > now-int64(time.Hour/time.Millisecond) && n <= now {
					return "<now>"
				}
				return m
			})
			b.WriteString(c)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// A server that does not hold a script (restarted, or its cache flushed) is sent it, as
// goredis.Script.Run does: EVALSHA, refused with NOSCRIPT, then EVAL with the source. The
// script is one no server has seen (its source names the test's prefix), so no server's
// script cache is flushed for it.
func TestRun_SendsTheScriptToAServerThatDoesNotHoldIt(t *testing.T) {
	ctx := context.Background()
	onEachClient(t, func(t *testing.T, client goredis.UniversalClient, rec *wireRecorder) {
		prefix := redistest.Prefix(t)
		s := New(client, Options{Prefix: prefix})
		src := "-- " + prefix + "\nreturn redis.call('SET', KEYS[1], ARGV[1])"
		sc := goredis.NewScript(src)
		fresh := &script{Script: sc, src: src, sha: sc.Hash()}

		require.NoError(t, s.run(ctx, fresh, []string{prefix + "k"}, []string{"v"}, nil).Err())
		got, err := client.Get(ctx, prefix+"k").Result()
		require.NoError(t, err)
		assert.Equal(t, "v", got)
		require.NoError(t, s.run(ctx, fresh, []string{prefix + "k"}, []string{"w"}, nil).Err())
		var names []string
		for _, trip := range rec.trips {
			for _, c := range trip {
				names = append(names, c[:strings.IndexByte(c, ' ')])
			}
		}
		assert.Equal(t, []string{`"evalsha"`, `"eval"`, `"get"`, `"evalsha"`}, names, "EVAL once, then the server holds it")
	})
}

// onEachClient runs test on one Redis server and on a Cluster, with a recorder of what the
// client sends.
func onEachClient(t *testing.T, test func(t *testing.T, client goredis.UniversalClient, rec *wireRecorder)) {
	for _, tc := range []struct {
		name   string
		client func(testing.TB) goredis.UniversalClient
	}{{"Client", redistest.Client}, {"Cluster", redistest.Cluster}} {
		t.Run(tc.name, func(t *testing.T) {
			client := tc.client(t)
			rec := &wireRecorder{}
			client.AddHook(rec)
			test(t, client, rec)
		})
	}
}
