package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
)

// TestFaults_BackendSlackAndRedisFailingMidRunLoseAndDoubleNothing runs the load while the
// backend fails 30% of deliveries (500, 429 with Retry-After, no answer until accessbot's
// webhook timeout gives up, a dropped connection),
// Slack's API answers 429 with Retry-After and 5xx, and Redis (AOF, fsync always) is
// killed and restarted; afterwards nothing acknowledged is lost and nothing is doubled.
func TestFaults_BackendSlackAndRedisFailingMidRunLoseAndDoubleNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	redis := startAOFRedis(t, ctx)
	defer redis.kill()

	// 30% of deliveries fail, but none of a request more than twice, so that catching up
	// takes seconds of backoff (2 s, then 4 s), not the minutes a long run of bad luck
	// would (the outbox would still deliver it; the test would not wait that long).
	var fmu sync.Mutex
	failed := map[string]int{}
	var injected [4]int // of each kind of failure below
	flaky := func(w http.ResponseWriter, r *http.Request, request string) bool {
		fmu.Lock()
		defer fmu.Unlock()
		if failed[request] >= 2 || rand.Float64() >= 0.3 {
			return false
		}
		failed[request]++
		kind := rand.IntN(4)
		injected[kind]++
		switch kind {
		case 0:
			http.Error(w, "backend down", http.StatusInternalServerError)
		case 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 2:
			fmu.Unlock()
			defer fmu.Lock()
			select { // no answer: held until accessbot's 500 ms timeout drops the call
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
		default:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close() // the connection drops mid-request
			}
		}
		return true
	}
	c := newChaos(t, ctx, redis.url, flaky)
	c.load()
	time.Sleep(time.Second)
	c.slack.Fail("chat.postMessage", 20, slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1})
	time.Sleep(500 * time.Millisecond)
	c.slack.Fail("chat.postMessage", 20, slackfake.Failure{Status: http.StatusServiceUnavailable})
	time.Sleep(500 * time.Millisecond)

	redis.kill() // mid-run; every write Redis acknowledged is in its append-only file
	time.Sleep(300 * time.Millisecond)
	redis.start()
	time.Sleep(1500 * time.Millisecond)
	c.verify(90 * time.Second)
	fmu.Lock()
	defer fmu.Unlock()
	for kind, n := range injected {
		require.NotZero(t, n, "failure kind %d (500, 429, no answer, dropped) was injected", kind)
	}
}

// aofRedis is a redis-server with an append-only file that fsyncs every write, which a
// test can kill and start again on the same port and data.
type aofRedis struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	port int
	url  string
	cmd  *exec.Cmd
}

func startAOFRedis(t *testing.T, ctx context.Context) *aofRedis {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &aofRedis{t: t, ctx: ctx, dir: t.TempDir(), port: port, url: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	r.start()
	return r
}

func (r *aofRedis) start() {
	bin, err := exec.LookPath("redis-server")
	require.NoError(r.t, err, "install redis-server")
	r.cmd = exec.CommandContext(r.ctx, bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	require.NoError(r.t, r.cmd.Start())
	opts, _ := goredis.ParseURL(r.url)
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	for range 100 {
		if rdb.Ping(r.ctx).Err() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

func (r *aofRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}
