package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/accessbot/accessbot/governance"
)

// Settings are the SailPoint backend's part of accessbot's configuration: the
// `sailpoint:` block, and from the environment SAILPOINT_BASE_URL (which wins over
// baseURL), SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET.
type Settings struct {
	BaseURL      string  `yaml:"baseURL"`  // https://{tenant}.api.identitynow.com
	TokenURL     string  `yaml:"tokenURL"` // default baseURL + /oauth/token
	Rate         float64 `yaml:"rate"`     // calls per second, across replicas; default 9 (ISC: 100 per client_id per 10 s)
	Burst        int     `yaml:"burst"`    // default 10
	ClientID     string  `yaml:"-"`
	ClientSecret string  `yaml:"-"`
	// Limiter shares Rate and Burst across every replica (the Redis store's Limiter); the
	// composition root sets it before Open. Nil: each process paces itself alone.
	Limiter Limiter `yaml:"-"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.ClientID = env.Secret("SAILPOINT_CLIENT_ID")
	s.ClientSecret = env.Secret("SAILPOINT_CLIENT_SECRET")
	if v := env.Get("SAILPOINT_BASE_URL"); v != "" {
		s.BaseURL = v
	}
}

// Options are the backend's options from the settings.
func (s *Settings) Options() Options {
	return Options{BaseURL: s.BaseURL, TokenURL: s.TokenURL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		Rate: s.Rate, Burst: s.Burst, Limiter: s.Limiter}
}

// Check returns every problem of the settings of a catalog that uses the backend.
func (s *Settings) Check() []error {
	if s.BaseURL == "" || s.ClientID == "" || s.ClientSecret == "" {
		return []error{errors.New("the catalog uses the sailpoint backend: set sailpoint.baseURL (or SAILPOINT_BASE_URL) " +
			"and SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET to a personal access token of accessbot's service identity")}
	}
	if _, err := New(s.Options()); err != nil {
		return []error{err}
	}
	return nil
}

// CheckItem checks a catalog item of the backend: its ref names an access profile, a
// role or an entitlement, unless the item stands for a search.
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

// Probe is `accessbot doctor`'s check: the tenant answers, and accessbot's token is an
// ORG_ADMIN's. It says what works, or returns what to fix.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	b, err := New(s.Options())
	if err != nil {
		return "", err
	}
	if err := b.CheckAdmin(ctx); err != nil {
		return "", fmt.Errorf("%s: %w", s.BaseURL, err)
	}
	return fmt.Sprintf("%s answers; accessbot's token is an ORG_ADMIN's personal access token "+
		"(it may list other identities' access requests)", s.BaseURL), nil
}
