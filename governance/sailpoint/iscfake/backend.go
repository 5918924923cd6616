package iscfake

import (
	"io"
	"log/slog"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/sailpoint"
)

// Backend is accessbot's SailPoint backend against the fake tenant: its URL and the
// credentials its token endpoint accepts, clock, a rate that never holds a test back, and
// a logger that discards; opts change the options before the backend is built.
func (s *Server) Backend(clock governance.Clock, opts ...func(*sailpoint.Options)) (*sailpoint.Backend, error) {
	o := sailpoint.Options{BaseURL: s.URL, ClientID: s.opts.ClientID, ClientSecret: s.opts.ClientSecret, Clock: clock,
		Rate: 1000, Burst: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(&o)
	}
	return sailpoint.New(o)
}
