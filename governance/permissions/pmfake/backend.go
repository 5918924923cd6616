package pmfake

import (
	"io"
	"log/slog"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/permissions"
)

// Backend is accessbot's Permissions Management backend against the fake: its Graph beta
// root, a static delegated token the fake accepts (Options.Token, or any), clock, a rate
// that never holds a test back, and a logger that discards; opts change the options
// before the backend is built.
func (s *Server) Backend(clock governance.Clock, opts ...func(*permissions.Options)) (*permissions.Backend, error) {
	tok := s.o.Token
	if tok == "" {
		tok = "delegated"
	}
	o := permissions.Options{BaseURL: s.BaseURL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}),
		Clock: clock, Rate: 1000, Burst: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(&o)
	}
	return permissions.New(o)
}
