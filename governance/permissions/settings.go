package permissions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Settings are the Permissions Management backend's part of accessbot's configuration:
// the `permissions:` block, and from the environment AZURE_TENANT_ID,
// PERMISSIONS_CLIENT_ID, PERMISSIONS_CLIENT_SECRET and PERMISSIONS_REFRESH_TOKEN (the
// delegated sign-in of the account accessbot acts as).
// Graph's root defaults to https://graph.microsoft.com/beta (its API is beta only).
type Settings struct {
	msgraph.Settings `yaml:",inline"`
	RefreshToken     string `yaml:"-"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.ReadEnv(env, "PERMISSIONS")
	s.RefreshToken = env.Secret("PERMISSIONS_REFRESH_TOKEN")
}

// Options are the backend's options from the settings, checked. It makes no call: the
// delegated token is redeemed on first use.
func (s *Settings) Options() (Options, error) {
	ts, err := RefreshTokenSource(Delegated{TenantID: s.TenantID, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		RefreshToken: s.RefreshToken, LoginURL: s.LoginURL})
	if err != nil {
		return Options{}, fmt.Errorf("%w (set %s, see docs/backends/permissions-management.md)", err, DefaultCredentials)
	}
	o := Options{TokenSource: ts, BaseURL: s.GraphURL, Rate: s.Rate, Burst: s.Burst}
	_, err = New(o) // checks graphURL
	return o, err
}

// Check returns every problem of the settings of a catalog that uses the backend.
func (s *Settings) Check() []error {
	if _, err := s.Options(); err != nil {
		return []error{fmt.Errorf("the catalog uses the permissions backend: %w", err)}
	}
	return nil
}

// CheckItem checks a catalog item of the backend: its ref names a permission request, and
// it has a default duration (Permissions Management grants for a limited time only).
func (s *Settings) CheckItem(it governance.Item) []error {
	var errs []error
	if _, err := ParseRef(it.Ref); err != nil {
		errs = append(errs, err)
	}
	if it.DefaultDuration == 0 {
		errs = append(errs, errors.New("Permissions Management grants for a limited time only; set defaultDuration (e.g. 1h)"))
	}
	return errs
}

// Open returns the backend the settings describe.
func (s *Settings) Open(clock governance.Clock, log *slog.Logger) (governance.Backend, error) {
	o, err := s.Options()
	if err != nil {
		return nil, err
	}
	o.Clock, o.Logger = clock, log
	return New(o)
}

// Probe is `accessbot doctor`'s check: the delegated sign-in works and may read
// Permissions Management's requests. It says what works, or returns what to fix.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	o, err := s.Options()
	if err != nil {
		return "", err
	}
	b, err := New(o)
	if err != nil {
		return "", err
	}
	if _, err := b.Changes(ctx, time.Now().Add(-time.Hour)); err != nil {
		return "", fmt.Errorf("tenant %s: %w", s.TenantID, err)
	}
	return fmt.Sprintf("tenant %s: the delegated sign-in works and may read Permissions Management's requests", s.TenantID), nil
}
