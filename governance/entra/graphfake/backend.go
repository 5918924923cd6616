package graphfake

import (
	"log/slog"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
)

// Backend is accessbot's Entra backend against the fake: its Graph root, sign-in host and
// app registration, clock, a rate that never holds a test back, and a logger that
// discards; opts change the options before the backend is built.
func (s *Server) Backend(clock governance.Clock, opts ...func(*entra.Options)) (*entra.Backend, error) {
	o := entra.Options{BaseURL: s.BaseURL(), LoginURL: s.LoginURL(), TenantID: s.TenantID(), ClientID: s.ClientID(),
		ClientSecret: s.ClientSecret(), Clock: clock, Rate: 1000, Burst: 100, Logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	return entra.New(o)
}
