package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/cmd/internal/clitest"
)

func TestMain(m *testing.M) {
	// The load tool starts this binary as its servers; in a test, this binary is the test
	// binary, which then behaves as accessbot-dev itself.
	if os.Getenv("ACCESSBOT_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun_HelpPrintsTheUsageAndSucceeds(t *testing.T) {
	clitest.HelpPrintsTheUsage(t, run, "accessbot-dev", usage)

	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot-dev"}, clitest.Env(nil), out), "no command")
	assert.Equal(t, usage, out.String())
}

func TestUsage_ListsTheCommandsTheDocCommentLists(t *testing.T) {
	clitest.UsageListsTheDocCommentsCommands(t, "accessbot-dev", usage)
}

func TestRun_BadCommandLinesSayWhatToDo(t *testing.T) {
	for _, args := range [][]string{{"accessbot-dev", "frobnicate"}, {"accessbot-dev", "serve"}, {"accessbot-dev", "click", "approve"}} {
		err := run(context.Background(), args, clitest.Env(nil), clitest.NewOutput())
		require.Error(t, err, strings.Join(args, " "))
		assert.True(t, strings.Contains(err.Error(), "accessbot-dev help") || strings.Contains(err.Error(), "usage:"), err.Error())
	}
}

func TestRun_Demo(t *testing.T) {
	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "demo"}, clitest.Env(nil), out))
	for _, want := range []string{
		"Carol asks for read access",
		"[ Approve ] [ Deny ]",
		"You can't decide your own request AR-1",
		"There is no request AR-1",
		"Approved by Alice Approver (alice@example.com)",
		"is active until 2026-11-23 17:12 UTC",
		"AR-1 was already approved by Alice Approver",
		`Did you mean ` + "`vpn`",
		"denied your request AR-2",
		"use the bastion host instead",
		"Cancelled by requester Carol",
		"AR-3 AWS production admin",
		"needs a ticket in the reason: it must contain text matching `^(INC|CHG)-[0-9]+`",
		"Approval: 0 of 1 required · stage 1 of 2: team lead",
		"Approval: 1 of 2 required · stage 2 of 2: database owners",
		"Approved so far: team lead: Alice Approver (alice@example.com) · database owners: Bob Backup (bob@example.com)",
		"passed stage 1 of 2; stage 2, database owners, is with Bob Backup, Dave Owner, Erin Owner (2 of them must approve)",
		"You already approved AR-4, and nobody decides twice",
		"Stage 2 of 2, database owners, began 2026-11-23 09:17 UTC, with 1 of 2 required approvals so far",
		"Approved by Dave (dave@example.com)",
		"Your access to Production database (write) `prod-db-write` is active until",
	} {
		assert.Contains(t, out.String(), want)
	}
}

func TestLoadtest_MeasuresAccessbotAgainstTheFloor(t *testing.T) {
	t.Setenv("ACCESSBOT_TEST_AS_MAIN", "1") // the servers it starts are this binary, as accessbot
	out := clitest.NewOutput()
	err := run(context.Background(), []string{"accessbot", "loadtest", "-rate", "40", "-clicks", "20", "-duration", "1s", "-slice", "500ms", "-warmup", "500ms"}, clitest.Env(nil), out)
	report := out.String()
	for _, want := range []string{"40 commands/s for 1s each, in 2 turns of 500ms, after a 500ms warm-up", "floor ", "fair floor ", "accessbot ", "clicks ", "approve click → backend submission", "(20 of 20 submitted)",
		"ratios (accessbot / floor)", "ratios (accessbot / fair floor)", "Redis memory per pending request, its card sent:", "errors 0", "targets:",
		"Redis memory per pending request at most 1.2 KB: not judged on 60 requests (from 10000"} {
		assert.Contains(t, report, want)
	}
	if err != nil { // the figures of a loaded test machine may miss a target; the run itself must work
		assert.Contains(t, err.Error(), "target(s) missed", report)
	}

	err = run(context.Background(), []string{"accessbot", "loadtest", "-rate", "0"}, clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be positive")
	err = run(context.Background(), []string{"accessbot", "loadtest", "-slice", "0s"}, clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-slice and -concurrency must be positive")
	err = run(context.Background(), []string{"accessbot", "loadtest", "-warmup", "-1s"}, clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-warmup not negative")
}

// -against runs another build's accessbot in the same turns, with keys of its own, and
// compares the two in one run.
func TestLoadtest_ComparesTwoBuildsInOneRun(t *testing.T) {
	t.Setenv("ACCESSBOT_TEST_AS_MAIN", "1")
	self, err := os.Executable() // this binary, as another build
	require.NoError(t, err)
	out := clitest.NewOutput()
	err = run(context.Background(), []string{"accessbot", "loadtest", "-rate", "40", "-clicks", "20", "-duration", "1s", "-slice", "500ms",
		"-warmup", "200ms", "-against", self}, clitest.Env(nil), out)
	report := out.String()
	for _, want := range []string{"\naccessbot ", "\nagainst ", "ratios (against / fair floor): cpu per request", "accessbot / against: cpu per request",
		"Redis memory per pending request, its card sent:", "(20 of 20 submitted)"} {
		assert.Contains(t, report, want)
	}
	assert.Equal(t, 5, strings.Count(report, "errors 0"), "four servers and the clicks without an error: both accessbots answer "+
		"every command with a request of their own\n%s", report)
	if err != nil {
		assert.Contains(t, err.Error(), "target(s) missed", report)
	}

	err = run(context.Background(), []string{"accessbot", "loadtest", "-against", "/nonexistent/accessbot-dev"}, clitest.Env(nil), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-against /nonexistent/accessbot-dev")
}

// say and click find a local bot where the bot listens: ACCESSBOT_LISTEN, else the config
// file's listen, else PORT.
func TestSayAndClick_FindTheBotWhereItListens(t *testing.T) {
	cfg := clitest.WriteConfig(t, "listen: \":9191\"\n")
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", nil, "127.0.0.1:8080"},
		{"ACCESSBOT_LISTEN", map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:7070", "PORT": "1"}, "127.0.0.1:7070"},
		{"the config file", map[string]string{"ACCESSBOT_CONFIG": cfg, "PORT": "1"}, "127.0.0.1:9191"},
		{"PORT", map[string]string{"PORT": "8181"}, "127.0.0.1:8181"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, defaultDevAddr(clitest.Env(tt.env)))
		})
	}
}
