package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
	"github.com/accessbot/accessbot/cmd/internal/slackclient"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// TestShutdownDuringABurst_LosesNothing stops the server (as SIGTERM does) in the middle
// of a burst of requests, starts a new one over the same Redis, and checks that every
// stored request got exactly one approval card: nothing lost, nothing doubled.
func TestShutdownDuringABurst_LosesNothing(t *testing.T) {
	fake := slackfake.Start(t,
		slackfake.User{ID: "UCAROL", Email: "carol@example.com", Name: "Carol"},
		slackfake.User{ID: "UBOB", Email: "bob@example.com", Name: "Bob"})
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := clitest.WriteConfig(t, "redis:\n  prefix: "+prefix+"\nslack:\n  apiURL: "+fake.APIURL()+"\noutbox:\n  reclaimAfter: 1s\nshutdownGrace: 10s\n")
	vars := clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "burst-secret",
		"REDIS_URL": "redis://" + client.(*goredis.Client).Options().Addr})

	start := func() *clitest.Server {
		return clitest.Serve(t, run, []string{"accessbot", "serve", "-config", cfg}, vars)
	}

	bot := start()
	c := &slackclient.Client{Base: bot.Addr, Secret: "burst-secret", Do: (&http.Client{Timeout: 5 * time.Second}).Do, Now: time.Now}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		half  = make(chan struct{})
		once  sync.Once
	)
	idRe := regexp.MustCompile(`AR-\d+`)
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := c.Command(context.Background(), "UCAROL", "request vpn because burst")
			if err != nil {
				return // refused while shutting down: the person sees an error and asks again
			}
			mu.Lock()
			acked = append(acked, idRe.FindString(string(body)))
			if len(acked) == 20 {
				once.Do(func() { close(half) })
			}
			mu.Unlock()
		}()
	}
	<-half
	bot.Stop() // SIGTERM
	require.NoError(t, <-bot.Done)
	wg.Wait()

	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	stored, err := store.ListByRequester(context.Background(), "carol@example.com", 1000)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(stored), len(acked), "every acknowledged request was stored")

	next := start() // the next process delivers whatever is left
	fake.Wait(t, "chat.postMessage", len(stored), 20*time.Second)
	next.Stop()
	require.NoError(t, <-next.Done)

	cards := map[string]int{}
	for _, m := range fake.Messages(slackfake.DM("UBOB")) {
		cards[idRe.FindString(slackbot.BlocksText(m.Blocks))]++
	}
	for _, r := range stored {
		assert.Equal(t, 1, cards[r.ID], "%s: exactly one card", r.ID)
	}
	for _, id := range acked {
		assert.True(t, strings.HasPrefix(id, "AR-"))
	}
}

// TestShutdown_FinishesWorkStartedAfterAnAnswer stops the server (as SIGTERM does) right
// after an approve click was acknowledged, while the reply to the click's response_url is
// still on its way: the process ends only once that reply is sent.
func TestShutdown_FinishesWorkStartedAfterAnAnswer(t *testing.T) {
	fake := slackfake.Start(t,
		slackfake.User{ID: "UCAROL", Email: "carol@example.com", Name: "Carol"},
		slackfake.User{ID: "UBOB", Email: "bob@example.com", Name: "Bob"})
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var replied atomic.Bool
	responseURL := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release // Slack's response_url being slow
		replied.Store(true)
	}))
	defer responseURL.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	cfg := clitest.WriteConfig(t, "slack:\n  apiURL: "+fake.APIURL()+"\n  responseOrigins: ["+responseURL.URL+"]\n")
	vars := clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3"})
	ctx := context.Background()
	bot := clitest.Serve(t, run, []string{"accessbot", "serve", "-config", cfg}, vars)
	out, done := bot.Out, bot.Done
	c := &slackclient.Client{Base: bot.Addr, Secret: "s3", Do: http.DefaultClient.Do, Now: time.Now}
	_, err := c.Command(ctx, "UCAROL", "request vpn because a conference")
	require.NoError(t, err)
	_, err = c.Click(ctx, "UBOB", "approve", "AR-1", responseURL.URL+"/actions/1")
	require.NoError(t, err)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the reply to the click never reached its response_url")
	}

	bot.Stop() // SIGTERM
	for !strings.Contains(out.String(), "finishing work after answers") {
		select {
		case err := <-done:
			t.Fatalf("serve returned (%v) while the reply to the click was still on its way", err)
		case <-out.Changed():
		case <-time.After(10 * time.Second):
			t.Fatalf("no word of the work in flight:\n%s", out.String())
		}
	}
	// Shutdown has begun and knows of the reply; it must not end while the reply is held.
	// (How long to watch for something not happening is a judgement: half a second is
	// ages for a server with nothing else left to do.)
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) while the reply to the click was still held", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-done)
	assert.True(t, replied.Load(), "the reply was sent before the process ended")
}
