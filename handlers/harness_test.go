package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/handlers"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

const catalogYAML = `
items:
  - id: prod-db
    name: Production database
    backend: builtin
    approvers: ["Alice <alice@example.com>", "Bob <bob@example.com>"]
    defaultDuration: 8h
    maxDuration: 7d
    justificationRequired: true
  - id: vpn
    name: Office VPN
    backend: builtin
    approvers: ["Bob <bob@example.com>"]
    defaultDuration: 30d
  - id: carol-only
    name: Carol's own thing
    backend: builtin
    approvers: ["Carol <carol@example.com>"]
`

// world is one accessbot process: its store, service, dispatcher and HTTP handler, over
// a Redis key prefix and a fake Slack that may outlive it (to simulate a restart).
type world struct {
	t       testing.TB
	prefix  string
	clock   *governance.ManualClock
	ws      *slackbot.Workspace
	slack   *httptest.Server
	store   *redisstore.Store
	svc     *governance.Service
	disp    *governance.Dispatcher
	handler http.Handler
	trigger atomic.Int64
}

type worldOption func(*redisstore.Options)

func newWorld(t testing.TB, opts ...worldOption) *world {
	ws := slackbot.NewWorkspace()
	for _, u := range []slackbot.WorkspaceUser{
		{ID: "UCAROL", Email: "carol@example.com", Name: "Carol", TZ: "Europe/Berlin"},
		{ID: "UALICE", Email: "alice@example.com", Name: "Alice", TZ: "America/New_York"},
		{ID: "UBOB", Email: "bob@example.com", Name: "Bob", TZ: "Asia/Tokyo"},
		{ID: "UERIN", Email: "erin@example.com", Name: "Erin"},
	} {
		ws.AddUser(u)
	}
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), ws: ws, slack: srv}
	w.start(opts...)
	return w
}

// start builds the process objects anew over the same Redis prefix and fake Slack, as a
// restarted process would.
func (w *world) start(opts ...worldOption) {
	t := w.t
	o := redisstore.Options{Prefix: w.prefix}
	for _, f := range opts {
		f(&o)
	}
	w.store = redisstore.New(redistest.Client(t), o)
	catalog, err := governance.ParseCatalog([]byte(catalogYAML))
	require.NoError(t, err)
	backend, err := builtin.New(w.store, builtin.Options{Clock: w.clock})
	require.NoError(t, err)
	api := slackbot.NewClient("xoxb-test", w.slack.URL+"/api/", nil)
	dir := slackbot.NewDirectory(api, w.store)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.svc, err = governance.NewService(governance.Config{Catalog: catalog, Store: w.store, Backends: []governance.Backend{backend},
		Notifier: slackbot.NewNotifier(api, dir, log), Clock: w.clock, Logger: log,
		Schedule: governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3, RequestExpiryDays: 14}})
	require.NoError(t, err)
	w.disp = governance.NewDispatcher(w.svc, "test-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	w.handler = handlers.New(handlers.Config{Service: w.svc, Logger: log, Go: func(f func()) { f() },
		Slack: handlers.SlackConfig{SigningSecret: secret, API: api, Directory: dir}})
}

func (w *world) drain() {
	w.t.Helper()
	require.NoError(w.t, w.disp.Drain(context.Background()))
}

func (w *world) post(path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	body := form.Encode()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	ts := w.clock.Now().Unix()
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("X-Slack-Signature", handlers.SlackSignature(secret, ts, []byte(body)))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, r)
	return rec
}

func (w *world) nextTrigger() string { return fmt.Sprintf("trigger-%d", w.trigger.Add(1)) }

func (w *world) commandWith(user, text, trigger string, header ...string) *httptest.ResponseRecorder {
	return w.post("/slack/commands", url.Values{"command": {"/access"}, "text": {text}, "user_id": {user},
		"team_id": {"T1"}, "channel_id": {"C1"}, "trigger_id": {trigger}, "response_url": {w.slack.URL + "/response/cmd"}}, header...)
}

func (w *world) command(user, text string) *httptest.ResponseRecorder {
	return w.commandWith(user, text, w.nextTrigger())
}

func (w *world) interaction(payload map[string]any) *httptest.ResponseRecorder {
	b, err := json.Marshal(payload)
	require.NoError(w.t, err)
	return w.post("/slack/interactions", url.Values{"payload": {string(b)}})
}

func (w *world) click(user, action, id string) *httptest.ResponseRecorder {
	return w.interaction(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "team": map[string]any{"id": "T1"},
		"trigger_id": w.nextTrigger(), "response_url": w.slack.URL + "/response/" + user,
		"container": map[string]any{"type": "message", "message_ts": "1.1", "channel_id": "D" + user},
		"actions":   []map[string]any{{"type": "button", "action_id": action, "block_id": "decide:" + id, "value": id}},
	})
}

func (w *world) submit(user, callback, metadata string, values map[string]string) *httptest.ResponseRecorder {
	state := map[string]any{}
	for block, v := range values {
		el := map[string]any{"type": "plain_text_input", "value": v}
		if block == slackbot.BlockItem {
			el = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}
		}
		state[block] = map[string]any{slackbot.InputActionID(block): el}
	}
	return w.interaction(map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user}, "team": map[string]any{"id": "T1"},
		"view": map[string]any{"id": "V" + user, "hash": w.nextTrigger(), "callback_id": callback,
			"private_metadata": metadata, "state": map[string]any{"values": state}},
	})
}

// replies returns what the response_url of user's clicks received, as text.
func (w *world) replies(user string) []string {
	var out []string
	for _, c := range w.ws.Calls("response_url") {
		if c.Channel == user {
			out = append(out, slackbot.ResponseText([]byte(c.Response)))
		}
	}
	return out
}

// dms returns the text of every message posted to user's DM channel.
func (w *world) dms(user string) []string {
	var out []string
	for _, c := range w.ws.Calls("chat.postMessage") {
		if c.Channel == "D"+user {
			out = append(out, slackbot.BlocksText([]byte(c.Blocks)))
		}
	}
	return out
}

func ephemeral(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	require.Equal(t, "ephemeral", m["response_type"])
	return slackbot.ResponseText(rec.Body.Bytes())
}
