package pagerduty

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Settings are PagerDuty's part of accessbot's configuration: the `pagerduty:` block, and
// PAGERDUTY_API_KEY from the environment.
type Settings struct {
	BaseURL string              `yaml:"baseURL"` // default https://api.pagerduty.com (EU accounts too)
	Timeout governance.Duration `yaml:"timeout"` // one on-call question; default 2s
	APIKey  string              `yaml:"-"`       // PAGERDUTY_API_KEY: a read-only REST API key
}

// FromEnv reads the settings' secret.
func (s *Settings) FromEnv(env governance.Env) { s.APIKey = env.Secret("PAGERDUTY_API_KEY") }

// Enabled reports whether PagerDuty is configured (an API key is set).
func (s *Settings) Enabled() bool { return s.APIKey != "" }

// Check returns every problem of the settings.
func (s *Settings) Check() []error {
	var errs []error
	if t := time.Duration(s.Timeout); t < 0 || t > 10*time.Second {
		errs = append(errs, fmt.Errorf("pagerduty timeout %s: use a duration from 1ms to 10s, like 2s (requests wait that long at most)", t))
	}
	if s.BaseURL != "" {
		if u, err := url.Parse(s.BaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("pagerduty baseURL %q is not an https URL like https://api.pagerduty.com", s.BaseURL))
		}
	}
	return errs
}

// Open returns the client these settings describe.
func (s *Settings) Open(clock governance.Clock) (*Client, error) {
	return New(Options{BaseURL: s.BaseURL, APIKey: s.APIKey, Timeout: time.Duration(s.Timeout), Clock: clock})
}

// Probe checks, for `accessbot doctor`, that PagerDuty answers with the key.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	c, err := s.Open(nil)
	if err != nil {
		return "", err
	}
	return c.Probe(ctx)
}
