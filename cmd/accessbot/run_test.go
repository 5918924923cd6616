package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
	"github.com/accessbot/accessbot/cmd/internal/slackclient"
)

func TestRun_ServesOnEmbeddedDefaultsAndShutsDownGracefully(t *testing.T) {
	ctx := context.Background()
	bot := clitest.Serve(t, run, []string{"accessbot"}, clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0"}))
	addr, out := bot.Addr, bot.Out
	banner := out.String()
	assert.Contains(t, banner, "in-process store; every request is lost")
	assert.Contains(t, banner, "sample catalog")
	assert.Contains(t, banner, slackbot.DevSigningSecret)
	assert.Contains(t, banner, "go run ./cmd/accessbot-dev say")

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(addr + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	c := &slackclient.Client{Base: addr, Secret: slackbot.DevSigningSecret, Do: http.DefaultClient.Do, Now: time.Now}
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

func TestRun_ConfigCheck(t *testing.T) {
	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "config", "check"}, clitest.Env(nil), out))
	assert.Contains(t, out.String(), "configuration is valid")
	assert.Contains(t, out.String(), "3 items (the sample catalog")

	bad := clitest.WriteConfig(t, "listen: nowhere\napproval:\n  maxReminders: 40\n")
	err := run(context.Background(), []string{"accessbot", "config", "check", "-config", bad}, clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host:port")
	assert.Contains(t, err.Error(), "between 0 and 20")
}

func TestRun_BadCommandLinesSayWhatToDo(t *testing.T) {
	for _, args := range [][]string{{"accessbot", "frobnicate"}, {"accessbot", "config"}, {"accessbot", "audit"}, {"accessbot", "manifest"}} {
		err := run(context.Background(), args, clitest.Env(nil), clitest.NewOutput())
		require.Error(t, err, strings.Join(args, " "))
		assert.True(t, strings.Contains(err.Error(), "accessbot help") || strings.Contains(err.Error(), "usage:"), err.Error())
	}
}

func TestRun_DevelopmentToolsPointAtTheDevelopmentCommand(t *testing.T) {
	for _, tool := range []string{"demo", "say", "click", "loadtest"} {
		err := run(context.Background(), []string{"accessbot", tool}, clitest.Env(nil), clitest.NewOutput())
		require.Error(t, err, tool)
		assert.Contains(t, err.Error(), "go run ./cmd/accessbot-dev "+tool)
	}
}

func TestRun_HelpPrintsTheUsageAndSucceeds(t *testing.T) {
	clitest.HelpPrintsTheUsage(t, run, "accessbot", usage)
}

func TestUsage_ListsTheCommandsTheDocCommentLists(t *testing.T) {
	clitest.UsageListsTheDocCommentsCommands(t, "accessbot", usage)
}

func TestRun_UnreachableRedisIsExplained(t *testing.T) {
	err := run(context.Background(), []string{"accessbot"}, clitest.Env(map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "REDIS_URL": "redis://127.0.0.1:1/0", "ACCESSBOT_LISTEN": "127.0.0.1:0"}), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reach Redis")
}

// The review's case: listening beyond this machine with a fulfilment webhook, and no
// SLACK_SIGNING_SECRET. serve does not start, and config check and doctor fail, all with
// the same words saying what to set.
func TestRun_APublicBotWithoutASigningSecretDoesNotStart(t *testing.T) {
	cfg := clitest.WriteConfig(t, "builtin:\n  webhookURL: https://fulfil.internal.example.com/accessbot\n")
	env := clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "0.0.0.0:0", "BUILTIN_WEBHOOK_SECRET": "s"})
	const words = "SLACK_SIGNING_SECRET is not set, and this accessbot listens on 0.0.0.0:0, beyond this machine, calls a fulfilment webhook"
	for _, args := range [][]string{{"accessbot", "-config", cfg}, {"accessbot", "config", "check", "-config", cfg}, {"accessbot", "doctor", "-config", cfg}} {
		out := clitest.NewOutput()
		err := run(context.Background(), args, env, out)
		require.Error(t, err, args)
		assert.Contains(t, err.Error()+out.String(), words, args)
		assert.NotContains(t, out.String(), "listening on", "%v: nothing is served", args)
	}
}

// Metrics are served on a listener of their own, never on the public one.
func TestRun_MetricsOnTheirOwnListener(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	metricsAddr := free.Addr().String()
	require.NoError(t, free.Close())
	bot := clitest.Serve(t, run, []string{"accessbot"}, clitest.Env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0",
		"ACCESSBOT_METRICS_LISTEN": metricsAddr}))
	get := func(url string) int {
		resp, err := http.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get("http://"+metricsAddr+"/metrics"))
	assert.Equal(t, http.StatusNotFound, get(bot.Addr+"/metrics"), "not on the public listener")
	assert.Equal(t, http.StatusNotFound, get("http://"+metricsAddr+"/debug/pprof/"), "profiles only with metrics.pprof")
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
	forger := &slackclient.Client{Base: addr, Secret: slackbot.DevSigningSecret, Do: http.DefaultClient.Do, Now: time.Now}
	_, err = forger.Command(ctx, "MALLORY", "request vpn because forged")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	bot.Stop()
	require.NoError(t, <-bot.Done)
}
