package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/cmd/internal/app"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
)

func TestRun_ConfigCheck(t *testing.T) {
	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "config", "check"}, clitest.Env(nil), out))
	assert.Contains(t, out.String(), "configuration is valid")
	assert.Contains(t, out.String(), "4 items (the sample catalog")

	bad := clitest.WriteConfig(t, "listen: nowhere\napproval:\n  maxReminders: 40\n")
	err := run(context.Background(), []string{"accessbot", "config", "check", "-config", bad}, clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host:port")
	assert.Contains(t, err.Error(), "between 0 and 20")
}

// With nothing configured the sample catalog comes with a schedule that shows every part
// of it; a real configuration that switches all of it off, or times requests out before
// they are reminded or escalated, is valid but warned about; a fraction of a day is refused.
func TestRun_ConfigCheck_TheSchedule(t *testing.T) {
	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "config", "check"}, clitest.Env(nil), out))
	assert.Contains(t, out.String(), "approval: daysUntilEscalation 3, daysBetweenReminders 1, maxReminders 3, fallback frank@example.com, requests time out after 14 days")
	assert.NotContains(t, out.String(), "warning")

	for yaml, want := range map[string]string{
		"catalogFile: \"\"\nadmins: [a@example.com]\n":                  "no reminders, no escalation and no timeout",
		"approval:\n  daysUntilEscalation: 3\n  requestExpiryDays: 3\n": "nobody is ever reminded",
		"approval:\n  daysUntilEscalation: 3\n  daysBetweenReminders: 1\n  maxReminders: 3\n  fallbackApprover: f@example.com\n  requestExpiryDays: 5\n": "before they first escalate on day 6",
	} {
		out := clitest.NewOutput()
		require.NoError(t, run(context.Background(), []string{"accessbot", "config", "check", "-config", clitest.WriteConfig(t, yaml)}, clitest.Env(nil), out))
		assert.Contains(t, out.String(), "warning:  approval: ", yaml)
		assert.Contains(t, out.String(), want, yaml)
	}

	err := run(context.Background(), []string{"accessbot", "config", "check", "-config", clitest.WriteConfig(t, "approval:\n  daysUntilEscalation: 1.5\n")},
		clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"1.5" is not a whole number`)
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

// The usage says which secrets may come from a file (NAME_FILE); each it names is read so.
func TestUsage_SecretsItNamesAreReadFromNameFile(t *testing.T) {
	_, after, ok := strings.Cut(usage, "(or NAME_FILE):")
	require.True(t, ok, "the usage names the secrets that NAME_FILE covers")
	list, _, _ := strings.Cut(after, ".")
	asked := map[string]bool{}
	_, _ = app.LoadConfig("", func(name string) string { asked[name] = true; return "" })
	names := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
	require.NotEmpty(t, names)
	for _, name := range names {
		assert.True(t, asked[name+"_FILE"], "the usage says %s may come from %s_FILE, but it is read from the environment only", name, name)
	}
}
