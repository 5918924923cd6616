package main

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestDoctor(t *testing.T) {
	fake := slackfake.Start(t)
	redisURL := "redis://" + redistest.Client(t).(*goredis.Client).Options().Addr
	cfg := writeConfig(t, "slack:\n  apiURL: "+fake.APIURL()+"\n")
	prod := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "REDIS_URL": redisURL}

	t.Run("everything in order", func(t *testing.T) {
		out := newOutput()
		require.NoError(t, run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, env(prod), out))
		assert.Contains(t, out.String(), "✓ redis")
		assert.Contains(t, out.String(), "✓ slack      bot @accessbot in Fake Workspace")
		assert.Contains(t, out.String(), "– admins")
		assert.Contains(t, out.String(), "everything accessbot needs is in order")
	})
	t.Run("a rejected token and an unreachable Redis are explained", func(t *testing.T) {
		fake.Fail("auth.test", 1, slackfake.Failure{Error: "invalid_auth"})
		broken := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "REDIS_URL": "redis://127.0.0.1:1/0"}
		out := newOutput()
		err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, env(broken), out)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "2 problem(s)")
		assert.Contains(t, out.String(), "✗ redis")
		assert.Contains(t, out.String(), "cannot reach Redis")
		assert.Contains(t, out.String(), "SLACK_BOT_TOKEN is not a working bot token")
	})
	t.Run("development mode", func(t *testing.T) {
		out := newOutput()
		require.NoError(t, run(context.Background(), []string{"accessbot", "doctor"}, env(nil), out))
		assert.Contains(t, out.String(), "– redis      embedded")
		assert.Contains(t, out.String(), "– slack      development mode")
		assert.Contains(t, out.String(), "✓ builtin")
		assert.Contains(t, out.String(), "– teams")
	})
}
