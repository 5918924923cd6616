package main

import (
	"context"
	"fmt"
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

func TestRun_ServesOnEmbeddedDefaultsAndShutsDownGracefully(t *testing.T) {
	ctx := context.Background()
	bot := clitest.Serve(t, run, []string{"accessbot"}, clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0"}))
	addr, out := bot.Addr, bot.Out
	banner := out.String()
	assert.Contains(t, banner, "in-process store; every request is lost")
	assert.Contains(t, banner, "sample catalog")
	assert.Contains(t, banner, slackbot.DevSigningSecret)
	assert.Contains(t, banner, "go run ./cmd/accessbot-dev say -url "+addr+" -as CAROL", "the hint works as printed: it names where the bot listens")

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(addr + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	c := slackUser(addr, slackbot.DevSigningSecret)
	ack, err := c.Command(ctx, "CAROL", "request vpn for 2d because conference wifi")
	require.NoError(t, err)
	assert.Contains(t, string(ack), "AR-1")
	out.WaitFor(t, `DM to bob@example.com \(BOB\)`, 10*time.Second) // the card, delivered by the background dispatcher

	_, err = c.Click(ctx, "BOB", "approve", "AR-1", "")
	require.NoError(t, err)
	out.WaitFor(t, `Your access to Office VPN .* is active until`, 10*time.Second)

	bot.Stop()
	select {
	case err := <-bot.Done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	assert.Contains(t, out.String(), `"msg":"stopped"`)
}

func TestRun_ServesTeamsWhenConfigured(t *testing.T) {
	ctx := context.Background()
	bot := clitest.Serve(t, run, []string{"accessbot"}, clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0",
		"TEAMS_APP_ID": "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e", "TEAMS_APP_PASSWORD": "p",
		"TEAMS_TENANT_IDS": "11111111-2222-3333-4444-555555555555"}))
	addr, out := bot.Addr, bot.Out
	assert.Contains(t, out.String(), "/teams/messages")
	assert.Contains(t, out.String(), "people of tenant 11111111-2222-3333-4444-555555555555 only")

	resp, err := http.Post(addr+"/teams/messages", "application/json", strings.NewReader(`{"type":"message","text":"help"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "served, and nothing without a Bot Framework token")

	// No SLACK_SIGNING_SECRET next to Teams: Slack's endpoints take nothing, least of all a
	// request signed with the public development secret.
	assert.Contains(t, out.String(), "/slack/* refuses every request")
	forger := slackUser(addr, slackbot.DevSigningSecret)
	_, err = forger.Command(ctx, "MALLORY", "request vpn because forged")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	bot.Stop()
	require.NoError(t, <-bot.Done)
}

// TestServe_SecretsNeverReachTheLogs runs the real server with a bot token, a signing
// secret and a webhook secret against a fake Slack, at debug level, drives a request
// through approval and a forged request, and then searches every byte it printed.
func TestServe_SecretsNeverReachTheLogs(t *testing.T) {
	const (
		token   = "xoxb-0000-SECRET-BOT-TOKEN"
		signing = "signing-secret-must-not-leak"
		webhook = "webhook-secret-must-not-leak"
	)
	fake := carolAndBob(t)
	client := redistest.Client(t)
	cfg := clitest.WriteConfig(t, "log:\n  level: debug\nredis:\n  prefix: "+redistest.Prefix(t)+"\nslack:\n  apiURL: "+fake.APIURL()+"\n")

	ctx := context.Background()
	bot := clitest.Serve(t, run, []string{"accessbot", "serve", "-config", cfg}, clitest.Env(map[string]string{
		"ACCESSBOT_LISTEN": "127.0.0.1:0", "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": signing,
		"BUILTIN_WEBHOOK_SECRET": webhook, "REDIS_URL": "redis://" + client.(*goredis.Client).Options().Addr,
	}))
	addr, out := bot.Addr, bot.Out

	c := slackUser(addr, signing)
	ack, err := c.Command(ctx, "UCAROL", "request vpn because travel")
	require.NoError(t, err)
	id := regexpFind(t, `AR-\d+`, string(ack))
	fake.Wait(t, "chat.postMessage", 1, 10*time.Second) // Bob's card
	_, err = c.Click(ctx, "UBOB", "approve", id, "")
	require.NoError(t, err)
	fake.Wait(t, "chat.postMessage", 3, 10*time.Second) // approved + active notices to Carol

	forged := slackUser(addr, "wrong")
	_, err = forged.Command(ctx, "UCAROL", "status")
	require.Error(t, err, "a forged request is refused")
	out.WaitFor(t, `slack request refused`, 5*time.Second)

	bot.Stop()
	require.NoError(t, <-bot.Done)
	logs := out.String()
	for _, secret := range []string{token, signing, webhook, "SECRET-BOT-TOKEN"} {
		assert.NotContains(t, logs, secret)
	}
	assert.True(t, strings.Contains(logs, `"level":"DEBUG"`) || strings.Contains(logs, "request submitted"), "the logs were written")
}

// carolAndBob starts a fake Slack workspace in which Carol asks for access and Bob
// approves it, as the sample catalog has it.
func carolAndBob(t *testing.T) *slackfake.Server {
	return slackfake.Start(t,
		slackfake.User{ID: "UCAROL", Email: "carol@example.com", Name: "Carol"},
		slackfake.User{ID: "UBOB", Email: "bob@example.com", Name: "Bob"})
}

// slackUser sends Slack's signed requests to the bot at base, as Slack would with secret.
func slackUser(base, secret string) *slackclient.Client {
	return &slackclient.Client{Base: base, Secret: secret, Do: http.DefaultClient.Do, Now: time.Now, Team: slackfake.TeamID}
}

func regexpFind(t *testing.T, re, s string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindString(s)
	require.NotEmpty(t, m, "no %s in %q", re, s)
	return m
}

// TestShutdownDuringABurst_LosesNothing stops the server (as SIGTERM does) in the middle
// of a burst of requests, starts a new one over the same Redis, and checks that every
// stored request got exactly one approval card: nothing lost, nothing doubled.
func TestShutdownDuringABurst_LosesNothing(t *testing.T) {
	fake := carolAndBob(t)
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	// One item per command: a second ask for the same item is refused while the first is open.
	items := "catalog:\n"
	for i := range 60 {
		items += fmt.Sprintf("  - {id: item-%d, name: Item %d, backend: builtin, approvers: [bob@example.com], defaultDuration: 8h}\n", i, i)
	}
	cfg := clitest.WriteConfig(t, "redis:\n  prefix: "+prefix+"\nslack:\n  apiURL: "+fake.APIURL()+"\noutbox:\n  reclaimAfter: 1s\nshutdownGrace: 10s\n"+items)
	vars := clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "burst-secret",
		"REDIS_URL": "redis://" + client.(*goredis.Client).Options().Addr})

	start := func() *clitest.Server {
		return clitest.Serve(t, run, []string{"accessbot", "serve", "-config", cfg}, vars)
	}

	bot := start()
	c := &slackclient.Client{Base: bot.Addr, Secret: "burst-secret", Do: (&http.Client{Timeout: 5 * time.Second}).Do, Now: time.Now,
		Team: slackfake.TeamID}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		half  = make(chan struct{})
		once  sync.Once
	)
	idRe := regexp.MustCompile(`AR-\d+`)
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := c.Command(context.Background(), "UCAROL", fmt.Sprintf("request item-%d because burst", i))
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
	fake := carolAndBob(t)
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
	c := slackUser(bot.Addr, "s3")
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

// With an app token, accessbot takes Slack's commands and clicks over Socket Mode: no
// signing secret, /slack/* refusing everything, and every answer in the acknowledgement
// or through response_url as over HTTP.
func TestServe_SlackOverSocketMode(t *testing.T) {
	fake := carolAndBob(t)
	sm := fake.StartSocketMode(t)
	client := redistest.Client(t)
	cfg := clitest.WriteConfig(t, "redis:\n  prefix: "+redistest.Prefix(t)+"\nslack:\n  apiURL: "+fake.APIURL()+
		"\n  responseOrigins: ["+fake.URL()+"]\n")
	bot := clitest.Serve(t, run, []string{"accessbot", "serve", "-config", cfg}, clitest.Env(map[string]string{
		"ACCESSBOT_LISTEN": "127.0.0.1:0", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": slackfake.AppToken,
		"REDIS_URL": "redis://" + client.(*goredis.Client).Options().Addr,
	}))
	assert.Contains(t, bot.Out.String(), "Slack: Socket Mode, 2 connections from here")
	sm.WaitOpen(t, 2, 2, 10*time.Second)

	ack := sm.Send(t, "slash_commands", map[string]string{"command": "/access", "text": "request vpn because travel", "user_id": "UCAROL",
		"team_id": slackfake.TeamID, "channel_id": "C1", "trigger_id": "1.2.socket", "response_url": fake.ResponseURL("UCAROL")}, true, 10*time.Second)
	id := regexpFind(t, `AR-\d+`, string(ack))
	fake.Wait(t, "chat.postMessage", 1, 10*time.Second) // Bob's card

	click := map[string]any{"type": "block_actions", "user": map[string]any{"id": "UBOB"}, "team": map[string]any{"id": slackfake.TeamID},
		"trigger_id": "2.3.socket", "response_url": fake.ResponseURL("UBOB"),
		"actions": []map[string]any{{"type": "button", "action_id": slackbot.ActionApprove, "block_id": "decide:" + id + ":1", "value": id}}}
	assert.Nil(t, sm.Send(t, "interactive", click, false, 10*time.Second), "a click is acknowledged empty")
	fake.Wait(t, "response_url", 1, 10*time.Second) // "You approved …", to Bob
	fake.Wait(t, "chat.postMessage", 3, 10*time.Second)

	resp, err := http.Post(bot.Addr+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("user_id=UCAROL&text=status"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "without a signing secret /slack/* takes nothing")

	bot.Stop()
	require.NoError(t, <-bot.Done)
	assert.Empty(t, sm.Strays())
}
