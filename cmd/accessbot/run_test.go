package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/cmd/internal/clitest"
)

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
	err := run(context.Background(), []string{"accessbot"}, clitest.Env(map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "ACCESSBOT_LISTEN": "127.0.0.1:0"}), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reach Redis")
}
