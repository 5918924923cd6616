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
// and from the environment AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET, and
// for connected accounts ENTRA_CONNECT_CLIENT_ID and ENTRA_CONNECT_CLIENT_SECRET.
// Graph's root defaults to https://graph.microsoft.com/v1.0.
type Settings struct {
	msgraph.Settings `yaml:",inline"`
	// Connect is the app registration people connect their Microsoft accounts through,
	// which items with approvals: backend need (docs/backends/entra.md).
	Connect ConnectClient `yaml:"connect"`
	// CallbackURL is where Microsoft sends people back after they connect
	// (<public URL>/oauth/entra/callback); the composition root sets it.
	CallbackURL string `yaml:"-"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.ReadEnv(env, "ENTRA")
	if v := env.Get("ENTRA_CONNECT_CLIENT_ID"); v != "" {
		s.Connect.ClientID = v
	}
	s.Connect.ClientSecret = env.Secret("ENTRA_CONNECT_CLIENT_SECRET")
}

// Options are the backend's options from the settings.
func (s *Settings) Options() Options {
	return Options{TenantID: s.TenantID, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		BaseURL: s.GraphURL, LoginURL: s.LoginURL, Rate: s.Rate, Burst: s.Burst, Connect: s.Connect}
}

// Check returns every problem of the settings of a catalog that uses the backend.
func (s *Settings) Check() []error {
	if s.TenantID == "" || s.ClientID == "" || s.ClientSecret == "" {
		return []error{errors.New("the catalog uses the entra backend: set " + credentials + " " +
			"(accessbot's app registration, with the Graph application permissions EntitlementManagement.ReadWrite.All, User.Read.All and GroupMember.Read.All)")}
	}
	if _, err := New(s.Options()); err != nil {
		return []error{err}
	}
	return nil
}

// CheckItem checks a catalog item of the backend: its ref names an access package (and
// policy), unless the item stands for a search.
func (s *Settings) CheckItem(it governance.Item) []error {
	var errs []error
	if _, _, err := ParseRef(it.Ref); err != nil && !it.Search {
		errs = append(errs, err)
	}
	if it.BackendDecides() && (s.Connect.ClientID == "" || s.Connect.ClientSecret == "") {
		errs = append(errs, errors.New("approvals: backend decides in Entra as each approver, whose own Microsoft account accessbot uses: "+
			"set entra.connect.clientId (or ENTRA_CONNECT_CLIENT_ID) and ENTRA_CONNECT_CLIENT_SECRET to the app registration they connect through "+
			"(docs/backends/entra.md)"))
	}
	return errs
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
	out := fmt.Sprintf("tenant %s: accessbot's app signs in and may read access packages", s.TenantID)
	if s.Connect.ClientID != "" {
		if s.CallbackURL == "" {
			return "", errors.New("connected accounts need accessbot's public URL (publicURL or ACCESSBOT_PUBLIC_URL), " +
				"to which Microsoft sends people back after they sign in")
		}
		connect, err := b.CheckConnect(ctx, s.CallbackURL)
		if err != nil {
			return "", err
		}
		out += "; " + connect
	}
	return out, nil
}
