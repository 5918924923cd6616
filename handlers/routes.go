// Package handlers is accessbot's HTTP edge: it verifies what arrives, turns it into one
// governance command, and answers within the platform's deadline. No business rule lives
// here, and no HTTP type reaches governance.
package handlers

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

// Config is what the HTTP edge is built from.
type Config struct {
	Service *governance.Service // required
	Slack   SlackConfig
	Teams   TeamsConfig
	Clock   governance.Clock // checks Slack's request timestamps; default: the service's clock
	Logger  *slog.Logger     // default slog.Default()
	MaxBody int64            // bytes; default 64 KiB
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
	// Metrics, if set, times every endpoint and serves GET /metrics.
	Metrics *Metrics
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
//	POST /teams/messages      every Bot Framework activity (when Teams is configured)
//	GET  /healthz             200 "ok" while the process runs
//	GET  /readyz              200 when the store answers, else 503 with the reason
//	GET  /metrics             Prometheus metrics (when Config.Metrics is set)
func New(cfg Config) http.Handler {
	if cfg.Service == nil {
		panic("handlers: Config.Service is required")
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.MaxBody = cmp.Or(cfg.MaxBody, 64<<10)
	if cfg.Clock == nil {
		cfg.Clock = cfg.Service.Clock()
	}
	start := func(_ context.Context, f func()) bool { cfg.Go(f); return true } // a caller's Go runs all it is given
	if cfg.Go == nil {
		bg := cmp.Or(cfg.Background, NewBackground(64, cfg.Logger))
		cfg.Go, start = bg.Go, bg.Start
	}
	cfg.Slack.AnswerWithin = cmp.Or(cfg.Slack.AnswerWithin, 2500*time.Millisecond)
	if cfg.Slack.Respond == nil {
		cfg.Slack.Respond = slackbot.NewResponder(nil).Respond
	}
	s := &slackHandler{cfg: cfg, svc: cfg.Service, log: cfg.Logger, start: start}

	mux := http.NewServeMux()
	route := func(pattern, endpoint string, h http.Handler) {
		if cfg.Metrics != nil {
			h = cfg.Metrics.instrument(endpoint, h)
		}
		mux.Handle(pattern, h)
	}
	route("POST /slack/commands", "/slack/commands", s.verified(s.command))
	route("POST /slack/interactions", "/slack/interactions", s.verified(s.interaction))
	if cfg.Teams.Connector != nil {
		route("POST /teams/messages", "/teams/messages", http.HandlerFunc(newTeamsHandler(cfg, start).messages))
	}
	route("GET /healthz", "/healthz", http.HandlerFunc(healthz))
	route("GET /readyz", "/readyz", readyz(cfg.Service, cfg.Logger))
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	return mux
}

// Background runs the work handlers do after answering, at most a fixed number at a time,
// so a slow Slack or Bot Connector cannot pile up goroutines; Wait lets a shutting-down
// server finish it before the process exits. The work runs on long-lived goroutines (at
// most that number, started as needed), whose stacks have grown to what the work needs:
// a fresh goroutine per command would grow its stack again every time.
type Background struct {
	sem     chan struct{}
	work    chan func() // to an idle worker
	workers atomic.Int32
	log     *slog.Logger

	mu     sync.Mutex
	active int           // functions started and not yet returned
	idle   chan struct{} // closed when active drops to zero
}

// NewBackground runs at most n functions at a time; log (nil: slog.Default()) hears of
// the ones dropped.
func NewBackground(n int, log *slog.Logger) *Background {
	return &Background{sem: make(chan struct{}, n), work: make(chan func()), log: cmp.Or(log, slog.Default())}
}

// Go runs f, or drops it when every slot is busy, and logs that. It is for Slack replies:
// the action they answer is done and acknowledged already, and a lost reply is better
// than a pile of waiting ones.
func (b *Background) Go(f func()) {
	select {
	case b.sem <- struct{}{}:
		b.run(f)
	default:
		b.log.Warn("too many replies in flight; one was dropped", "limit", cap(b.sem))
	}
}

// Start runs f as soon as a slot is free, waiting at most until ctx ends, and reports
// whether f runs. It is for work that is the command itself (Teams), which must be
// refused while the sender still waits for the answer, never acknowledged and then lost.
func (b *Background) Start(ctx context.Context, f func()) bool {
	select {
	case b.sem <- struct{}{}:
	default:
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
	}
	b.run(f)
	return true
}

// Running is how many functions are running now.
func (b *Background) Running() int { return len(b.sem) }

// Wait waits until every function started has returned, or ctx ends (then it returns
// ctx's error). Call it after the HTTP server has stopped taking requests.
func (b *Background) Wait(ctx context.Context) error {
	b.mu.Lock()
	if b.active == 0 {
		b.mu.Unlock()
		return nil
	}
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run hands f, which holds a slot, to an idle worker, or starts one while there are fewer
// workers than slots; otherwise a worker is about to be idle (it has just given up its
// slot), and f waits for it.
func (b *Background) run(f func()) {
	b.mu.Lock()
	if b.active == 0 {
		b.idle = make(chan struct{})
	}
	b.active++
	b.mu.Unlock()
	select {
	case b.work <- f:
		return
	default:
	}
	if b.workers.Add(1) <= int32(cap(b.sem)) {
		go b.worker(f)
		return
	}
	b.workers.Add(-1)
	b.work <- f
}

func (b *Background) worker(f func()) {
	for {
		f()
		b.mu.Lock()
		if b.active--; b.active == 0 {
			close(b.idle)
		}
		b.mu.Unlock()
		<-b.sem
		f = <-b.work
	}
}
