package handlers_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// The Redis round trips a slash command and an approve click may cost, all their work
// included: a command's card delivered and its reference saved, a click's decision, its
// cards updated, the grant submitted and recorded and the requester told of both. They
// are counted through the HTTP entry points, with the outbox dispatcher running as
// `accessbot serve` runs it, so that none can creep back unseen. docs/performance.md
// says where each goes.
const (
	maxTripsPerCommand = 3
	maxTripsPerClick   = 4
	// On a Redis that is one server a command's id is reserved in the script that creates
	// it, from a block of ids the process took: besides taking a block (an INCRBY, one per
	// 64 commands under load), a command costs 2.
	tripsPerCommandOnOneServer = 2
)

func TestRoundTrips_SlashCommandAndApproveClickStayWithinTheirBudget(t *testing.T) {
	trips := &tripCounter{acked: make(chan struct{}, 64)}
	w := newWorld(t)
	w.hook, w.poll = trips, time.Hour // the poll's passes are not a command's; they are counted apart below
	w.start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	w.svc.SetWake(w.disp)
	go func() { done <- w.disp.Run(ctx, time.Minute) }()
	t.Cleanup(func() { cancel(); <-done })
	quiet := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: w.prefix}) // looks without being counted

	// until waits for acknowledgements until the outbox holds nothing.
	until := func(what string) {
		t.Helper()
		for {
			n, _, err := quiet.OutboxDepth(context.Background())
			require.NoError(t, err)
			if n == 0 {
				return
			}
			select {
			case <-trips.acked:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the outbox still holds %d tasks; round trips: %v", what, n, trips.log())
			}
		}
	}
	// ask is carol's request for the VPN (one approver, Bob) with its card delivered.
	ask := func(user, id string) {
		t.Helper()
		posted := len(w.slack.Calls("chat.postMessage"))
		require.Contains(t, ephemeral(t, w.command(user, "request vpn for 7d because the office")), id)
		w.slack.Wait(t, "chat.postMessage", posted+1, 10*time.Second)
		until("card of " + id)
	}

	w.command("UALICE", "status") // Alice is known, as most people are
	ask("UCAROL", "AR-1")         // warms the scripts, the connections and the directory
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	until("approval of AR-1")

	trips.reset()
	ask("UALICE", "AR-2")
	command := trips.log()
	t.Logf("slash command: %d round trips: %v", len(command), command)
	assert.LessOrEqual(t, len(command), maxTripsPerCommand, "round trips of a slash command: %v", command)
	if os.Getenv("REDISTEST_CLIENT") != "cluster" {
		besides := slices.DeleteFunc(slices.Clone(command), func(trip string) bool { return trip == "incrby" })
		assert.LessOrEqual(t, len(besides), tripsPerCommandOnOneServer, "round trips of a slash command besides a block of ids: %v", command)
	}

	trips.reset()
	rec := w.click("UBOB", slackbot.ActionApprove, "AR-2")
	require.Less(t, rec.Code, 300)
	until("approval of AR-2")
	click := trips.log()
	t.Logf("approve click: %d round trips: %v", len(click), click)
	assert.LessOrEqual(t, len(click), maxTripsPerClick, "round trips of an approve click: %v", click)
	assert.Contains(t, w.dmText("UALICE"), "AR-2", "the requester heard of the approval")
	assert.Equal(t, "active", string(w.state("AR-2")))
}

// tripCounter is a go-redis hook that counts round trips: each command sent on its own
// and each pipeline. It names each by its commands, so a failure says what was sent.
type tripCounter struct {
	mu    sync.Mutex
	trips []string
	acked chan struct{} // a token after every round trip that acknowledged outbox tasks
}

func (c *tripCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips = nil
}

func (c *tripCounter) log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.trips...)
}

// add logs a round trip before it is sent (so that nothing Redis has done is missing from
// the log) and returns whether it acknowledges outbox tasks.
func (c *tripCounter) add(cmds []goredis.Cmder) (ack bool) {
	names := make([]string, len(cmds))
	for i, cmd := range cmds {
		names[i] = strings.ToLower(cmd.Name())
		ack = ack || names[i] == "xack"
	}
	if names[0] == "hello" || names[0] == "client" {
		return false // a new pooled connection introducing itself, not work of ours
	}
	c.mu.Lock()
	c.trips = append(c.trips, strings.Join(names, "+"))
	c.mu.Unlock()
	return ack
}

// done signals an acknowledgement that Redis has carried out.
func (c *tripCounter) done(ack bool) {
	if ack {
		select {
		case c.acked <- struct{}{}:
		default:
		}
	}
}

func (c *tripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		ack := c.add([]goredis.Cmder{cmd})
		err := next(ctx, cmd)
		c.done(ack)
		return err
	}
}

func (c *tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		ack := c.add(cmds)
		err := next(ctx, cmds)
		c.done(ack)
		return err
	}
}
