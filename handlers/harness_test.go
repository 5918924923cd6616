package handlers_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot"
	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/accounts"
	"github.com/accessbot/accessbot/governance/accounts/oauthfake"
	"github.com/accessbot/accessbot/governance/builtin"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/msgraph"
	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/handlers"
	"github.com/accessbot/accessbot/handlers/metrics"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// secret is Slack's documentation signing secret (chat-platforms.md 1.1).
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

var people = []slackfake.User{
	{ID: "UCAROL", Email: "carol@example.com", Name: "Carol", TZ: "Europe/Berlin"},
	{ID: "UALICE", Email: "alice@example.com", Name: "Alice", TZ: "America/New_York"},
	{ID: "UBOB", Email: "bob@example.com", Name: "Bob", TZ: "Asia/Tokyo"},
	{ID: "UERIN", Email: "erin@example.com", Name: "Erin"},
	{ID: "UDAVE", Email: "dave@example.com", Name: "Dave"},
	{ID: "UBOT", Name: "Some bot", IsBot: true},
}

// world is one accessbot process — its store, service, dispatcher and HTTP handler —
// over a Redis key prefix and a fake Slack that outlive it, so a test can restart it.
type world struct {
	t       testing.TB
	prefix  string
	clock   *governance.ManualClock
	slack   *slackfake.Server
	logs    *governancetest.Logs // what the process logs, for tests about logging
	log     *slog.Logger
	store   *redisstore.Store
	svc     *governance.Service
	disp    *governance.Dispatcher
	handler http.Handler
	config  handlers.Config // what handler was built from
	trigger atomic.Int64
	metrics *metrics.Registry

	catalog string               // default catalogYAML
	extra   []governance.Backend // backends besides the built-in one
	teams   *teamsfake.Server    // when set, Teams is served too, and preferred for those who use it
	// graph, when set with teams, installs accessbot in Teams for those who never wrote to
	// it; teamsOnly makes Teams the only platform anyone hears on (no Slack).
	graph     *msgraphtest.TeamsGraph
	teamsOnly bool
	// answerWithin, when set, is how long a slash command's answer waits for its work
	// (handlers.SlackConfig.AnswerWithin); set it and start again.
	answerWithin time.Duration
	busy         time.Duration // how long a Teams activity waits for room (TeamsConfig.Wait)
	// workspaces are the Slack workspaces served; zero: the bot token's, from auth.test
	workspaces slackbot.Workspaces
	guests     slackbot.Guests // what Slack's guests may do; default GuestsRequest
	background int             // how much work may run after answers; default 64
	homes      bool            // Slack's Home tabs are redrawn through the outbox (governance.Config.Homes)
	bg         *handlers.Background
	groups     governance.Groups            // the groups approval stages name
	managers   map[string]governance.Person // who manages whom, for manager approvers
	onCall     governance.OnCall            // PagerDuty, for on-call auto-approval
	hook       goredis.Hook                 // when set, added to the process's Redis client
	poll       time.Duration                // the dispatcher's poll; default its own
	// idp, when set, is the identity provider of the backend "fakeidp", whose accounts
	// people connect through accessbot's pages at public (see connect_test.go).
	idp      *oauthfake.Server
	public   string
	accounts *accounts.Manager
	// connectors are further backends whose accounts people connect (with public set).
	connectors map[string]governance.Connector
}

func newWorld(t testing.TB, opts ...func(*redisstore.Options)) *world {
	return newWorldWith(t, catalogYAML, nil, opts...)
}

// newWorldWith is a world whose catalog is catalog, with backends extra besides the built-in one.
func newWorldWith(t testing.TB, catalog string, extra []governance.Backend, opts ...func(*redisstore.Options)) *world {
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), slack: slackfake.Start(t, people...), logs: &governancetest.Logs{},
		catalog: catalog, extra: extra, workspaces: slackbot.Workspaces{Teams: []string{slackfake.TeamID}}}
	w.slack.AddChannel("CADMINS")
	w.start(opts...)
	return w
}

// start builds the process objects anew over the same Redis prefix and fake Slack, as a
// restarted process would.
func (w *world) start(opts ...func(*redisstore.Options)) {
	t := w.t
	o := redisstore.Options{Prefix: w.prefix}
	for _, f := range opts {
		f(&o)
	}
	client := redistest.Client(t)
	if w.hook != nil {
		client.AddHook(w.hook)
	}
	w.store = redisstore.New(client, o)
	w.metrics = metrics.New(w.store.OutboxDepth)
	catalog, err := governance.ParseCatalog([]byte(w.catalog))
	require.NoError(t, err)
	backend, err := builtin.New(w.store, builtin.Options{Clock: w.clock})
	require.NoError(t, err)
	log := slog.New(slog.NewJSONHandler(w.logs, nil))
	w.log = log
	api := w.metrics.SlackAPI(slackbot.NewClient("xoxb-test", w.slack.APIURL(), nil))
	dir := slackbot.NewDirectory(api, w.store, slackbot.WithDirectoryLogger(log), slackbot.WithWorkspaces(w.workspaces),
		slackbot.WithGuests(w.guests))
	var notifier governance.Notifier = slackbot.NewNotifier(api, dir, log, slackbot.WithAdminChannel("CADMINS"))
	var tc handlers.TeamsConfig
	if w.teams != nil {
		conn := teams.NewConnector(teams.ConnectorOptions{AppID: teamsApp, AppPassword: "teams-secret", TokenURL: w.teams.TokenURL(),
			ServiceHosts: []string{w.teams.URL}, Logger: log, Observe: w.metrics.TeamsCall})
		tdir := teams.NewDirectory(conn, w.store, []string{"tenant-1"}, teams.WithClock(w.clock), teams.WithDirectoryLogger(log))
		tc = handlers.TeamsConfig{AppID: teamsApp, Connector: conn, Directory: tdir, Wait: w.busy,
			Validator: teams.NewValidator(teams.ValidatorOptions{AppID: teamsApp, MetadataURL: w.teams.MetadataURL(), Now: w.clock.Now})}
		tn := teams.NewNotifier(conn, tdir, nil, log).WithChannelServiceURL(w.teams.URL)
		if w.graph != nil {
			g, err := msgraph.New(msgraph.Options{BaseURL: w.graph.BaseURL(), LoginURL: w.graph.LoginURL(), TenantID: w.graph.Tenant,
				ClientID: w.graph.ClientID, ClientSecret: w.graph.ClientSecret, Name: "Microsoft Teams", Logger: log,
				Permission: msgraph.TeamsPermission})
			require.NoError(t, err)
			apps := msgraph.NewTeamsApps(g, msgraph.TeamsAppsOptions{GraphURL: w.graph.BaseURL(), ManifestID: teamsApp})
			tn.WithInstaller(teams.NewInstaller(apps, teams.InstallerOptions{ServiceURL: w.teams.URL, Tenant: w.graph.Tenant}))
		}
		if w.teamsOnly {
			notifier = bot.NewRouter(teams.Platform, tn)
		} else {
			notifier = bot.NewRouter(slackbot.Platform, notifier, tn)
		}
	}
	var acc handlers.AccountsConfig
	var people governance.Accounts
	if w.idp != nil || len(w.connectors) > 0 {
		keys, err := accounts.ParseKeys(tokenKey)
		require.NoError(t, err)
		connectors := maps.Clone(w.connectors)
		if w.idp != nil {
			connectors = map[string]governance.Connector{"fakeidp": &oauthfake.Connector{Server: w.idp, Client: idpClient, PKCE: true}}
		}
		w.accounts, err = accounts.New(accounts.Options{Store: w.store, Keys: keys, PublicURL: w.public, Clock: w.clock, Logger: log,
			Notifier: notifier.(governance.AccountNotifier), Connectors: connectors})
		require.NoError(t, err)
		acc, people = handlers.AccountsConfig{Connections: w.accounts}, w.accounts
	}
	w.svc, err = governance.NewService(governance.Config{Catalog: catalog, Store: w.store, Backends: append([]governance.Backend{backend}, w.extra...),
		Notifier: notifier, Clock: w.clock, Logger: log, Accounts: people,
		Schedule: governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 1,
			FallbackApprover: "erin@example.com", RequestExpiryDays: 14, ExpiryNotices: []time.Duration{time.Hour}},
		Admins: []governance.Person{{Email: "dave@example.com"}}, Observer: w.metrics, Homes: w.homes,
		Groups: w.groups, Managers: w.managers, OnCall: w.onCall})
	require.NoError(t, err)
	var dopts []governance.DispatcherOption
	if w.poll > 0 {
		dopts = append(dopts, governance.WithPoll(w.poll))
	}
	w.disp = governance.NewDispatcher(w.svc, fmt.Sprintf("test-%p", w.svc), dopts...)
	w.bg = handlers.NewBackground(cmp.Or(w.background, 64), log)
	w.config = handlers.Config{Service: w.svc, Logger: log, Metrics: w.metrics, Background: w.bg,
		Slack: handlers.SlackConfig{SigningSecret: secret, API: api, Directory: dir, AnswerWithin: w.answerWithin,
			Respond: slackbot.NewResponder(nil, w.slack.URL()).Respond}, Teams: tc, Accounts: acc}
	w.handler = handlers.New(w.config)
}

// drain delivers everything the outbox holds.
func (w *world) drain() {
	w.t.Helper()
	require.NoError(w.t, w.disp.Drain(context.Background()))
}

// signed is a request as Slack sends it, signed now.
func (w *world) signed(path, body string, header ...string) *http.Request {
	ts := w.clock.Now().Unix()
	r := slackRequest(path, body, ts, handlers.SlackSignature(secret, ts, []byte(body)))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// slackRequest is a POST of the form body to path as Slack sends it, sent at ts and with
// the signature sig; a zero ts or an empty sig leaves its header out.
func slackRequest(path, body string, ts int64, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ts != 0 {
		r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	}
	if sig != "" {
		r.Header.Set("X-Slack-Signature", sig)
	}
	return r
}

// serve is h's answer to r.
// serve serves r and returns the answer once the handler returns, or once it has
// flushed an answer it wrote while its work goes on (a slow slash command's "Working on
// it…"), as Slack reads it.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := &flushRecorder{ResponseRecorder: httptest.NewRecorder(), flushed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, r)
	}()
	select {
	case <-done:
	case <-rec.flushed:
	}
	return rec.ResponseRecorder
}

// flushRecorder is a ResponseRecorder that says when it is flushed.
type flushRecorder struct {
	*httptest.ResponseRecorder
	once    sync.Once
	flushed chan struct{}
}

func (f *flushRecorder) Flush() {
	f.ResponseRecorder.Flush()
	f.once.Do(func() { close(f.flushed) })
}

func (w *world) post(path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	return serve(w.handler, w.signed(path, form.Encode(), header...))
}

func (w *world) nextTrigger() string {
	return fmt.Sprintf("%d.4744562.%x", w.trigger.Add(1), w.clock.Now().Unix())
}

func (w *world) commandWith(user, text, trigger string, header ...string) *httptest.ResponseRecorder {
	return w.post("/slack/commands", w.commandForm(user, text, trigger), header...)
}

// commandForm is the slash command Slack sends when user types /access text.
func (w *world) commandForm(user, text, trigger string) url.Values {
	return url.Values{"command": {"/access"}, "text": {text}, "user_id": {user}, "user_name": {"someone"},
		"team_id": {slackfake.TeamID}, "channel_id": {"C1"}, "trigger_id": {trigger}, "response_url": {w.slack.ResponseURL(user)}}
}

func (w *world) command(user, text string) *httptest.ResponseRecorder {
	return w.commandWith(user, text, w.nextTrigger())
}

func (w *world) interaction(payload map[string]any) *httptest.ResponseRecorder {
	b, err := json.Marshal(payload)
	require.NoError(w.t, err)
	return w.post("/slack/interactions", url.Values{"payload": {string(b)}})
}

// click is user pressing a button of the card in their DM.
func (w *world) click(user, action, id string) *httptest.ResponseRecorder {
	return w.interaction(w.clickPayload(user, action, id))
}

// clickPayload is the interaction Slack sends when user presses a button of the card in their DM.
func (w *world) clickPayload(user, action, id string) map[string]any {
	return map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": "alice"}, "team": map[string]any{"id": slackfake.TeamID},
		"trigger_id": w.nextTrigger(), "response_url": w.slack.ResponseURL(user),
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": slackfake.DM(user)},
		"actions": []map[string]any{{"type": "button", "action_id": action, "block_id": "decide:" + id + ":1", "value": id,
			"action_ts": "1700000001.000001"}},
	}
}

func (w *world) submit(user, callback, metadata string, values map[string]string) *httptest.ResponseRecorder {
	return w.interaction(w.submitPayload(user, callback, metadata, values))
}

// submitPayload is the view_submission Slack sends when user submits a modal.
func (w *world) submitPayload(user, callback, metadata string, values map[string]string) map[string]any {
	state := map[string]any{}
	for block, v := range values {
		el := map[string]any{"type": "plain_text_input", "value": v}
		if block == slackbot.BlockItem {
			el = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}
		}
		state[block] = map[string]any{slackbot.InputActionID(block): el}
	}
	return map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user}, "team": map[string]any{"id": slackfake.TeamID},
		"view": map[string]any{"id": "V" + user, "hash": w.nextTrigger(), "callback_id": callback, "type": "modal",
			"private_metadata": metadata, "state": map[string]any{"values": state}},
	}
}

// replies waits until user's response_url has received n replies and returns them as
// text. (Replies are sent after the HTTP answer, so they may still be on their way.)
func (w *world) replies(user string, n int) []string {
	w.t.Helper()
	for {
		var out []string
		all := w.slack.Calls("response_url")
		for _, c := range all {
			if c.Hook == user {
				out = append(out, slackbot.ResponseText(c.Body))
			}
		}
		if len(out) >= n {
			return out
		}
		w.slack.Wait(w.t, "response_url", len(all)+1, 5*time.Second)
	}
}

// dms returns the text of every message posted to user's DM, oldest first.
func (w *world) dms(user string) []string {
	var out []string
	for _, c := range w.slack.Calls("chat.postMessage") {
		if c.Channel == slackfake.DM(user) && c.Failed == "" {
			out = append(out, slackbot.MessageText(c.Text, c.Blocks))
		}
	}
	return out
}

// card is the approval card in user's DM as it reads now.
func (w *world) card(user string) string {
	w.t.Helper()
	msgs := w.slack.Messages(slackfake.DM(user))
	require.NotEmpty(w.t, msgs, "no message in %s's DM", user)
	return slackbot.BlocksText(msgs[0].Blocks)
}

// ephemeral checks that rec is Slack's 200 with an ephemeral message and returns its text.
func ephemeral(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	require.Equal(t, "ephemeral", m["response_type"], rec.Body.String())
	return slackbot.ResponseText(rec.Body.Bytes())
}

// viewAnswer decodes a view_submission answer.
type viewAnswer struct {
	Action string            `json:"response_action"`
	Errors map[string]string `json:"errors"`
}

func decodeView(t testing.TB, rec *httptest.ResponseRecorder) viewAnswer {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code)
	var a viewAnswer
	if strings.TrimSpace(rec.Body.String()) != "" {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a), rec.Body.String())
	}
	return a
}

// quiet is a logger that writes nowhere, for the backends under test.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// approved is a request made by user with a slash command (answered with AR-1) and
// approved by Alice, its outbox drained after each step.
func (w *world) approved(user, text string) {
	w.t.Helper()
	assert.Contains(w.t, ephemeral(w.t, w.command(user, text)), "AR-1")
	w.drain()
	w.approve("UALICE", "AR-1")
}

// lastDM is the last direct message user got.
func (w *world) lastDM(user string) string {
	w.t.Helper()
	dms := w.dms(user)
	require.NotEmpty(w.t, dms, "no direct message to %s", user)
	return dms[len(dms)-1]
}

// grantEnd is when the built-in backend's grant of request id ends; there must be one.
func (w *world) grantEnd(id string) time.Time {
	w.t.Helper()
	backend, err := builtin.New(w.store, builtin.Options{Clock: w.clock})
	require.NoError(w.t, err)
	g, err := backend.Status(context.Background(), governance.Submission{ExternalID: "builtin:" + id})
	require.NoError(w.t, err, "the built-in backend holds a grant for %s", id)
	return g.End
}

// dmText is every direct message user got, one after the other.
func (w *world) dmText(user string) string { return strings.Join(w.dms(user), "\n") }

// state is the state request id is in now.
func (w *world) state(id string) governance.State { return w.request(id).State }

// request is request id as stored now.
func (w *world) request(id string) *governance.Request {
	w.t.Helper()
	r, err := w.store.Get(context.Background(), id)
	require.NoError(w.t, err)
	return r
}

// startedWith is a started world with catalog and backend be, on the clock be and its fake
// share.
func startedWith(t testing.TB, catalog string, clock *governance.ManualClock, be governance.Backend) *world {
	w := newWorldWith(t, catalog, []governance.Backend{be})
	w.clock = clock
	w.start()
	return w
}

// ask is user's slash command, answered, with the outbox drained after it; it returns
// the answer.
func (w *world) ask(user, text string) string {
	w.t.Helper()
	answer := ephemeral(w.t, w.command(user, text))
	w.drain()
	return answer
}

// approve is approver's click on Approve of request id, with the outbox drained after it.
func (w *world) approve(approver, id string) {
	w.t.Helper()
	w.click(approver, slackbot.ActionApprove, id)
	w.drain()
}
