package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"

	"github.com/accessbot/accessbot/cmd/internal/slackclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// output collects what run prints and lets a test wait for a line, without sleeping.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newOutput() *output { return &output{changed: make(chan struct{}, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor returns the first match of re in the output, failing after timeout.
func (o *output) waitFor(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		if m := rx.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		select {
		case <-o.changed:
		case <-deadline:
			t.Fatalf("no %q in output within %s:\n%s", re, timeout, o.String())
		}
	}
}

func TestRun_ServesOnEmbeddedDefaultsAndShutsDownGracefully(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newOutput()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"accessbot"}, env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0"}), out)
	}()
	addr := out.waitFor(t, `listening on (http://[0-9.:]+)`, 10*time.Second)[1]
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
	out.waitFor(t, `DM to bob@example.com \(BOB\)`, 10*time.Second) // the card, delivered by the background dispatcher

	_, err = c.Click(ctx, "BOB", "approve", "AR-1", "")
	require.NoError(t, err)
	out.waitFor(t, `Your access to Office VPN .* is active until`, 10*time.Second)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	assert.Contains(t, out.String(), `"msg":"stopped"`)
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "accessbot.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestRun_ConfigCheck(t *testing.T) {
	out := newOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "config", "check"}, env(nil), out))
	assert.Contains(t, out.String(), "configuration is valid")
	assert.Contains(t, out.String(), "3 items (the sample catalog")

	bad := writeConfig(t, "listen: nowhere\napproval:\n  maxReminders: 40\n")
	err := run(context.Background(), []string{"accessbot", "config", "check", "-config", bad}, env(nil), newOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host:port")
	assert.Contains(t, err.Error(), "between 0 and 20")
}

func TestRun_BadCommandLinesSayWhatToDo(t *testing.T) {
	for _, args := range [][]string{{"accessbot", "frobnicate"}, {"accessbot", "config"}, {"accessbot", "audit"}, {"accessbot", "manifest"}} {
		err := run(context.Background(), args, env(nil), newOutput())
		require.Error(t, err, strings.Join(args, " "))
		assert.True(t, strings.Contains(err.Error(), "accessbot help") || strings.Contains(err.Error(), "usage:"), err.Error())
	}
}

func TestRun_DevelopmentToolsPointAtTheDevelopmentCommand(t *testing.T) {
	for _, tool := range []string{"demo", "say", "click", "loadtest"} {
		err := run(context.Background(), []string{"accessbot", tool}, env(nil), newOutput())
		require.Error(t, err, tool)
		assert.Contains(t, err.Error(), "go run ./cmd/accessbot-dev "+tool)
	}
}

func TestRun_HelpPrintsTheUsageAndSucceeds(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			out := newOutput()
			require.NoError(t, run(context.Background(), []string{"accessbot", arg}, env(nil), out))
			assert.Equal(t, usage, out.String())
		})
	}
}

// The doc comment of main.go and the usage list the same commands.
func TestUsage_ListsTheCommandsTheDocCommentLists(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	commands := func(text, prefix string) []string {
		var names []string
		for _, m := range regexp.MustCompile(`(?m)^`+prefix+`accessbot (\[?[a-z]+)`).FindAllStringSubmatch(text, -1) {
			if name := strings.TrimPrefix(m[1], "["); !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		return names
	}
	doc := commands(string(src), `//\t`)
	require.NotEmpty(t, doc)
	assert.Equal(t, doc, commands(usage, `  `))
}

func TestRun_UnreachableRedisIsExplained(t *testing.T) {
	err := run(context.Background(), []string{"accessbot"}, env(map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "ACCESSBOT_LISTEN": "127.0.0.1:0"}), newOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reach Redis")
}

func TestRun_ServesTeamsWhenConfigured(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newOutput()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"accessbot"}, env(map[string]string{"ACCESSBOT_LISTEN": "127.0.0.1:0",
			"TEAMS_APP_ID": "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e", "TEAMS_APP_PASSWORD": "p",
			"TEAMS_TENANT_IDS": "11111111-2222-3333-4444-555555555555"}), out)
	}()
	addr := out.waitFor(t, `listening on (http://[0-9.:]+)`, 10*time.Second)[1]
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
	cancel()
	require.NoError(t, <-done)
}
