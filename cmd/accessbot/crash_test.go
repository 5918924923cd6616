package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
)

// TestCrash_KilledFiveTimesUnderLoadLosesAndDoublesNothing runs accessbot as a process
// under a steady stream of requests and approvals, kills it with SIGKILL at random moments
// five times, restarts it each time, and then checks every invariant: each request the
// bot acknowledged exists in one valid state; each approval it acknowledged is kept; each
// approved request reached the backend, once per request; the outbox drained.
func TestCrash_KilledFiveTimesUnderLoadLosesAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes for about half a minute")
	}
	t.Setenv("ACCESSBOT_TEST_AS_MAIN", "1") // the child processes are this binary, as accessbot
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		stop, url, err := startRedis(ctx, dir)
		require.NoError(t, err)
		defer stop()
		redisURL = url
	}
	const requesters = 20
	users := []slackfake.User{{ID: "UAPPROVER", Email: "approver@example.com", Name: "Approver"}}
	for i := range requesters {
		users = append(users, slackfake.User{ID: fmt.Sprintf("U%05d", i), Email: fmt.Sprintf("user%d@example.com", i)})
	}
	slack := slackfake.New(users...)
	defer slack.Close()

	// The backend's fulfilment service: it keeps grants by request, as the webhook's
	// contract asks ((type, request) is the idempotency key), and counts deliveries.
	var mu sync.Mutex
	grants, deliveries := map[string]int{}, 0
	fl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fulfil := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Type, Request string }
		if json.NewDecoder(r.Body).Decode(&body) == nil && body.Type == "grant" {
			mu.Lock()
			grants[body.Request]++
			deliveries++
			mu.Unlock()
		}
	})}
	go fulfil.Serve(fl)
	defer fulfil.Close()

	prefix := "crash" + newID("")
	cfg := filepath.Join(dir, "accessbot.yaml")
	// Tasks a killed process had claimed are taken over after reclaimAfter.
	conf := strings.Replace(fmt.Sprintf(loadtestConfig, slack.APIURL(), "http://"+fl.Addr().String(), prefix),
		"outbox:\n", "outbox:\n  reclaimAfter: 3s\n", 1)
	require.NoError(t, os.WriteFile(cfg, []byte(conf), 0o600))
	lt := &load{out: io.Discard, dir: dir}
	secret := "crash-secret"
	env := []string{"ACCESSBOT_CONFIG=" + cfg, "REDIS_URL=" + redisURL, "SLACK_BOT_TOKEN=xoxb-crash",
		"SLACK_SIGNING_SECRET=" + secret, "BUILTIN_WEBHOOK_SECRET=crash-webhook"}
	var addr atomic.Value
	start := func() child {
		a, c, err := lt.child(ctx, "accessbot", []string{"serve"}, env)
		require.NoError(t, err)
		addr.Store(a)
		return c
	}
	bot := start()

	// The load: requests at about 100/s, approvals of acknowledged requests at about 50/s.
	var (
		lmu      sync.Mutex
		created  []string // acknowledged requests
		approved []string // acknowledged approvals
	)
	client := func() *slackClient {
		return &slackClient{base: "http://" + addr.Load().(string), secret: secret, do: loadHTTP.Do, now: time.Now}
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; loadCtx.Err() == nil; i++ {
			ack, err := client().command(loadCtx, fmt.Sprintf("U%05d", i%requesters), "request vpn for 2h because crash test")
			if id := requestID.FindString(string(ack)); err == nil && id != "" {
				lmu.Lock()
				created = append(created, id)
				lmu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	wg.Go(func() {
		next := 0
		for loadCtx.Err() == nil {
			lmu.Lock()
			var id string
			if next < len(created) {
				id = created[next]
			}
			lmu.Unlock()
			if id == "" {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			ack, err := client().click(loadCtx, "UAPPROVER", "approve", id, slack.ResponseURL("UAPPROVER"))
			switch {
			case err == nil && !strings.Contains(string(ack), "error"):
				lmu.Lock()
				approved = append(approved, id)
				lmu.Unlock()
				next++
			case err == nil: // refused (already decided before a crash): move on
				next++
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	for kill := range 5 {
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		require.NoError(t, syscall.Kill(bot.pid, syscall.SIGKILL), "kill %d", kill+1)
		bot.stop() // reaps the killed process
		bot = start()
	}
	time.Sleep(500 * time.Millisecond)
	stopLoad()
	wg.Wait()
	defer func() { bot.stop() }()

	opts, err := goredis.ParseURL(redisURL)
	require.NoError(t, err)
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	lmu.Lock()
	defer lmu.Unlock()
	require.NotEmpty(t, approved, "the load reached the bot")

	// Once the restarted bot has caught up, every approved request is active and granted.
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending, _, err := store.OutboxDepth(ctx)
		require.NoError(t, err)
		mu.Lock()
		granted := len(grants)
		mu.Unlock()
		if pending == 0 && granted >= len(approved) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after a minute: %d outbox tasks, %d of %d approved requests granted", pending, granted, len(approved))
		}
		time.Sleep(100 * time.Millisecond)
	}

	valid := map[governance.State]bool{governance.StatePendingApproval: true, governance.StateActive: true}
	for _, id := range created {
		r, err := store.Get(ctx, id)
		require.NoError(t, err, "acknowledged request %s is lost", id)
		assert.True(t, valid[r.State], "%s is %s", id, r.State)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range approved {
		r, err := store.Get(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, r.Decision, "the approval of %s is lost", id)
		assert.True(t, r.Decision.Approved)
		assert.Equal(t, governance.StateActive, r.State, id)
		assert.Equal(t, 1, min(grants[id], 1), "%s never reached the backend", id)
	}
	for id := range grants {
		r, err := store.Get(ctx, id)
		require.NoError(t, err)
		assert.NotNil(t, r.Decision, "%s was granted without an approval", id)
	}
	t.Logf("5 kills: %d requests acknowledged, %d approvals acknowledged, %d granted (%d webhook deliveries: %d repeated after a kill)",
		len(created), len(approved), len(grants), deliveries, deliveries-len(grants))
}
