// Package handlers is accessbot's HTTP edge: it verifies what arrives, turns it into one
// governance command, and answers within the platform's deadline. No business rule lives
// here, and no HTTP type reaches governance.
package handlers

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

// Config is what the HTTP edge is built from.
type Config struct {
	Service *governance.Service
	Slack   SlackConfig
	Clock   governance.Clock // default: the service's clock
	Logger  *slog.Logger
	MaxBody int64 // bytes; default 64 KiB
	// Go runs work that must not delay the answer (replies to response_url); default: a
	// new goroutine. The demo runs it inline so its output stays in order.
	Go func(func())
}

// SlackConfig is the Slack side of the edge.
type SlackConfig struct {
	SigningSecret string
	API           slackbot.API        // views.open
	Directory     *slackbot.Directory // Slack user → person
	HTTPClient    *http.Client        // for response_url; default 5 s timeout
}

// New returns the whole HTTP surface of accessbot.
func New(cfg Config) http.Handler {
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.MaxBody = cmp.Or(cfg.MaxBody, 64<<10)
	if cfg.Clock == nil {
		cfg.Clock = cfg.Service.Clock()
	}
	if cfg.Go == nil {
		cfg.Go = func(f func()) { go f() }
	}
	if cfg.Slack.HTTPClient == nil {
		cfg.Slack.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	s := &slackHandler{cfg: cfg, svc: cfg.Service, log: cfg.Logger}

	mux := http.NewServeMux()
	mux.Handle("POST /slack/commands", s.verified(s.command))
	mux.Handle("POST /slack/interactions", s.verified(s.interaction))
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(cfg.Service, cfg.Logger))
	return mux
}
