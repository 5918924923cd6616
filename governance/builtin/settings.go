package builtin

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Settings are the built-in backend's part of accessbot's configuration: the `builtin:`
// block, and BUILTIN_WEBHOOK_SECRET from the environment.
type Settings struct {
	WebhookURL    string              `yaml:"webhookURL"`
	Timeout       governance.Duration `yaml:"timeout"` // each webhook call; default 10s
	WebhookSecret string              `yaml:"-"`       // BUILTIN_WEBHOOK_SECRET
}

// FromEnv reads the settings' secrets.
func (s *Settings) FromEnv(env governance.Env) {
	s.WebhookSecret = env.Secret("BUILTIN_WEBHOOK_SECRET")
}

// Check returns every problem of the settings.
func (s *Settings) Check() []error {
	var errs []error
	if t := time.Duration(s.Timeout); t < 0 || t > time.Minute {
		errs = append(errs, fmt.Errorf("builtin timeout %s: use a duration between 1ms and 1m, like 10s", t))
	}
	if s.WebhookURL != "" {
		if u, err := url.Parse(s.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("builtin webhookURL %q is not an http(s) URL", s.WebhookURL))
		}
		if s.WebhookSecret == "" {
			errs = append(errs, errors.New("builtin webhookURL is set but BUILTIN_WEBHOOK_SECRET is not; the webhook must be signed"))
		}
	}
	return errs
}

// New returns the backend these settings describe, keeping its records in ledger and
// offering catalog to searches.
func (s *Settings) New(ledger Ledger, clock governance.Clock, catalog []governance.ItemRef) (*Backend, error) {
	return New(ledger, Options{WebhookURL: s.WebhookURL, WebhookSecret: s.WebhookSecret, Timeout: time.Duration(s.Timeout),
		Clock: clock, Catalog: catalog})
}

// Describe says, for `accessbot doctor`, how the backend is set up; it calls nothing.
func (s *Settings) Describe() string {
	if s.WebhookURL == "" {
		return "accessbot is the system of record; no fulfilment webhook"
	}
	return fmt.Sprintf("fulfilment webhook %s, signed with BUILTIN_WEBHOOK_SECRET (not called by doctor)", s.WebhookURL)
}
