package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
	"github.com/accessbot/accessbot/cmd/internal/slackclient"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// TestServe_SecretsNeverReachTheLogs runs the real server with a bot token, a signing
// secret and a webhook secret against a fake Slack, at debug level, drives a request
// through approval and a forged request, and then searches every byte it printed.
func TestServe_SecretsNeverReachTheLogs(t *testing.T) {
	const (
		token   = "xoxb-0000-SECRET-BOT-TOKEN"
		signing = "signing-secret-must-not-leak"
		webhook = "webhook-secret-must-not-leak"
	)
	fake := slackfake.Start(t,
		slackfake.User{ID: "UCAROL", Email: "carol@example.com", Name: "Carol"},
		slackfake.User{ID: "UBOB", Email: "bob@example.com", Name: "Bob"})
	client := redistest.Client(t)
	cfg := clitest.WriteConfig(t, "log:\n  level: debug\nredis:\n  prefix: "+redistest.Prefix(t)+"\nslack:\n  apiURL: "+fake.APIURL()+"\n")

	ctx := context.Background()
	bot := clitest.Serve(t, run, []string{"accessbot", "serve", "-config", cfg}, clitest.Env(map[string]string{
		"ACCESSBOT_LISTEN": "127.0.0.1:0", "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": signing,
		"BUILTIN_WEBHOOK_SECRET": webhook, "REDIS_URL": "redis://" + client.(*goredis.Client).Options().Addr,
	}))
	addr, out := bot.Addr, bot.Out

	c := &slackclient.Client{Base: addr, Secret: signing, Do: http.DefaultClient.Do, Now: time.Now}
	ack, err := c.Command(ctx, "UCAROL", "request vpn because travel")
	require.NoError(t, err)
	id := regexpFind(t, `AR-\d+`, string(ack))
	fake.Wait(t, "chat.postMessage", 1, 10*time.Second) // Bob's card
	_, err = c.Click(ctx, "UBOB", "approve", id, "")
	require.NoError(t, err)
	fake.Wait(t, "chat.postMessage", 3, 10*time.Second) // approved + active notices to Carol

	forged := &slackclient.Client{Base: addr, Secret: "wrong", Do: http.DefaultClient.Do, Now: time.Now}
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

func regexpFind(t *testing.T, re, s string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindString(s)
	require.NotEmpty(t, m, "no %s in %q", re, s)
	return m
}
