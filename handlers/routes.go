// Package handlers is accessbot's edge, HTTP and Slack's Socket Mode (socketmode.go): it
// verifies what arrives, turns it into one governance command, and answers within the
// platform's deadline. No business rule lives here, and no HTTP type reaches governance.
package handlers

import (
	"cmp"
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	httppprof "net/http/pprof"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/handlers/metrics"
)

// Config is what the HTTP edge is built from.
type Config struct {
	Service *governance.Service // required
	Slack   SlackConfig
	Teams   TeamsConfig
	// Accounts are people's connected accounts: the connect commands, and the sign-in's
	// pages (GET /connect/{backend}, GET /oauth/{backend}/callback) when set.
	Accounts AccountsConfig
	Clock    governance.Clock // checks Slack's request timestamps; default: the service's clock
	Logger   *slog.Logger     // default slog.Default()
	MaxBody  int64            // bytes; default 64 KiB
	// Go runs work that must not delay the answer (replies to response_url, a slash
	// command's work, Teams commands). Default: a goroutine, at most 64 at a time; beyond
	// that a reply to a button is dropped and logged (what it answers is done already), a
	// slash command waits for a slot for at most Slack.AnswerWithin and a Teams activity
	// for at most TeamsConfig.Wait, else they are refused ("busy", or 503): a command is
	// never acknowledged and then dropped. The demo runs it inline so its output stays in
	// order.
	Go func(func())
	// Background, when Go is nil, runs that work (default: NewBackground(64, Logger)); a
	// server passes its own so that it can wait for the work when it shuts down.
	Background *Background
	// Metrics, if set, times every endpoint. GET /metrics is served by Ops, on a listener
	// of its own; here only when MetricsToken is set, and then only to that bearer token.
	Metrics      *metrics.Registry
	MetricsToken string
}

// SlackConfig is the Slack side of the edge.
type SlackConfig struct {
	// SigningSecret verifies every request (v0 HMAC). Empty refuses every Slack request.
	SigningSecret string
	API           slackbot.API        // views.open
	Directory     *slackbot.Directory // Slack user id → person
	// Respond answers the person who acted through a response_url; default
	// slackbot.NewResponder(nil).Respond (a 5-second timeout).
	Respond func(ctx context.Context, responseURL string, m slackbot.Message) error
	// AnswerWithin is how long a slash command's HTTP answer waits for its work (a
	// users.info, a backend's catalog search); past it the person is told "Working on
	// it…" and the result follows through the command's response_url. Default 2.5 s,
	// inside the 3 s after which Slack shows the person operation_timeout.
	AnswerWithin time.Duration
}

// New returns the whole HTTP surface of accessbot:
//
//	POST /slack/commands      the /access slash command
//	POST /slack/interactions  button clicks and modal submissions
//	POST /slack/events        the Events API: app_home_opened draws the person's Home tab
//	POST /teams/messages      every Bot Framework activity (when Teams is configured)
//	GET  /connect/{backend}   a one-time connect link: on to the identity provider (with connected accounts)
//	GET  /oauth/{backend}/callback  the identity provider's answer; a page saying connected, or why not
//	GET  /healthz             200 "ok" while the process runs
//	GET  /readyz              200 when the store answers, else 503 with the reason
//	GET  /metrics             Prometheus metrics, only with Config.MetricsToken as a bearer token
//
// Ops is what the metrics listener serves.
func New(cfg Config) http.Handler {
	s := newSlackHandler(cfg)
	cfg, start := s.cfg, s.start

	mux := http.NewServeMux()
	route := func(pattern, endpoint string, h http.Handler) {
		if cfg.Metrics != nil {
			h = cfg.Metrics.Instrument(endpoint, h)
		}
		mux.Handle(pattern, h)
	}
	route("POST /slack/commands", "/slack/commands", s.verified(s.command))
	route("POST /slack/interactions", "/slack/interactions", s.verified(s.interaction))
	// app_home_opened carries the Home tab as last drawn, up to 100 blocks: more than a
	// command or a click ever holds.
	route("POST /slack/events", "/slack/events", s.verifiedBody(max(cfg.MaxBody, eventsMaxBody), s.events))
	if cfg.Teams.Connector != nil {
		route("POST /teams/messages", "/teams/messages", http.HandlerFunc(newTeamsHandler(cfg, start).messages))
	}
	if cfg.Accounts.Connections != nil {
		si := &signIn{cfg: cfg.Accounts, log: cfg.Logger, svc: cfg.Service, run: cfg.Go}
		route("GET /connect/{backend}", "/connect", http.HandlerFunc(si.connect))
		route("GET /oauth/{backend}/callback", "/oauth/callback", http.HandlerFunc(si.callback))
	}
	route("GET /healthz", "/healthz", http.HandlerFunc(healthz))
	route("GET /readyz", "/readyz", readyz(cfg.Service, cfg.Logger))
	if cfg.Metrics != nil && cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", bearer(cfg.MetricsToken, cfg.Metrics.Handler()))
	}
	return mux
}

// newSlackHandler is the Slack edge over cfg with its defaults filled in; HTTP and Socket
// Mode serve Slack through it alike.
func newSlackHandler(cfg Config) *slackHandler {
	if cfg.Service == nil {
		panic("handlers: Config.Service is required")
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.MaxBody = cmp.Or(cfg.MaxBody, 64<<10)
	if cfg.Clock == nil {
		cfg.Clock = cfg.Service.Clock()
	}
	// A caller's Go runs all it is given: no slots to take.
	start := func(_ context.Context, f func()) bool { cfg.Go(f); return true }
	enter, tryEnter, leave := func(context.Context) bool { return true }, func() bool { return true }, func() {}
	if cfg.Go == nil {
		bg := cmp.Or(cfg.Background, NewBackground(64, cfg.Logger))
		cfg.Go, start, enter, tryEnter, leave = bg.Go, bg.Start, bg.Enter, bg.TryEnter, bg.Leave
	}
	cfg.Slack.AnswerWithin = cmp.Or(cfg.Slack.AnswerWithin, 2500*time.Millisecond)
	if cfg.Slack.Respond == nil {
		cfg.Slack.Respond = slackbot.NewResponder(nil).Respond
	}
	return &slackHandler{cfg: cfg, svc: cfg.Service, log: cfg.Logger, start: start, enter: enter, tryEnter: tryEnter, leave: leave}
}

// Ops is the operators' HTTP surface, for a listener apart from the public one (by
// default on loopback; in Kubernetes on a port the Service does not expose):
//
//	GET /metrics          Prometheus metrics
//	GET /debug/pprof/...  Go's profiles, when pprof is true
func Ops(m *metrics.Registry, pprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if pprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	}
	return mux
}

// bearer serves h only to requests that carry token as their bearer token.
func bearer(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="accessbot metrics"`)
			http.Error(w, "metrics need the bearer token (METRICS_TOKEN)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
