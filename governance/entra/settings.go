package entra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Settings are the Entra backend's part of accessbot's configuration: the `entra:` block,
// and from the environment AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET.
// Graph's root defaults to https://graph.microsoft.com/v1.0.
type Settings struct {
	msgraph.Settings `yaml:",inline"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) { s.ReadEnv(env, "ENTRA") }

// Options are the backend's options from the settings.
func (s *Settings) Options() Options {
	return Options{TenantID: s.TenantID, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		BaseURL: s.GraphURL, LoginURL: s.LoginURL, Rate: s.Rate, Burst: s.Burst}
}

// Check returns every problem of the settings of a catalog that uses the backend.
func (s *Settings) Check() []error {
	if s.TenantID == "" || s.ClientID == "" || s.ClientSecret == "" {
		return []error{errors.New("the catalog uses the entra backend: set " + credentials + " " +
			"(accessbot's app registration, with the Graph application permissions EntitlementManagement.ReadWrite.All and User.Read.All)")}
	}
	if _, err := New(s.Options()); err != nil {
		return []error{err}
	}
	return nil
}

// CheckItem checks a catalog item of the backend: its ref names an access package (and
// policy), unless the item stands for a search.
func (s *Settings) CheckItem(it governance.Item) []error {
	if _, _, err := ParseRef(it.Ref); err != nil && !it.Search {
		return []error{err}
	}
	return nil
}

// Open returns the backend the settings describe.
func (s *Settings) Open(clock governance.Clock, log *slog.Logger) (governance.Backend, error) {
	o := s.Options()
	o.Clock, o.Logger = clock, log
	return New(o)
}

// Probe is `accessbot doctor`'s check: accessbot's app signs in and may read access
// packages. It says what works, or returns what to fix.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	b, err := New(s.Options())
	if err != nil {
		return "", err
	}
	if _, err := b.SearchCatalog(ctx, "accessbot doctor"); err != nil {
		return "", fmt.Errorf("tenant %s: %w", s.TenantID, err)
	}
	return fmt.Sprintf("tenant %s: accessbot's app signs in and may read access packages", s.TenantID), nil
}
