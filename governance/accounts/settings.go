package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/governance"
)

// Settings are connected accounts' part of accessbot's configuration: `publicURL` (or
// ACCESSBOT_PUBLIC_URL, which wins), where people's browsers reach accessbot, and
// ACCESSBOT_TOKEN_KEY (or ACCESSBOT_TOKEN_KEY_FILE), the keys that seal their tokens.
// Both are needed only when a configured backend has connected accounts.
type Settings struct {
	PublicURL string `yaml:"publicURL"`
	TokenKey  string `yaml:"-"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.TokenKey = env.Secret("ACCESSBOT_TOKEN_KEY")
	if v := env.Get("ACCESSBOT_PUBLIC_URL"); v != "" {
		s.PublicURL = v
	}
}

// Check returns every problem of the settings when the backends named connect accounts
// (none: nothing is required, but what is set must still be right).
func (s *Settings) Check(connecting []string) []error {
	var errs []error
	need := len(connecting) > 0
	why := "the " + strings.Join(connecting, " and ") + " backend connects people's accounts"
	switch {
	case s.PublicURL == "" && need:
		errs = append(errs, fmt.Errorf("%s: set publicURL (or ACCESSBOT_PUBLIC_URL) to the https address people's browsers reach accessbot at, such as https://accessbot.example.com", why))
	case s.PublicURL != "":
		if err := checkPublicURL(s.PublicURL); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case s.TokenKey == "" && need:
		errs = append(errs, fmt.Errorf("%s: set ACCESSBOT_TOKEN_KEY to k1:<base64 of 32 random bytes> (openssl rand -base64 32); it seals their tokens", why))
	case s.TokenKey != "":
		if _, err := ParseKeys(s.TokenKey); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkPublicURL requires an absolute https URL without query or fragment; plain http
// only on loopback, for trying accessbot out on one machine.
func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("publicURL %q: write the address people's browsers reach accessbot at, such as https://accessbot.example.com", raw)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("publicURL %q: use https; sign-in codes and cookies must not cross the network in the clear (http is only for localhost)", raw)
		}
	}
	return nil
}

// Keyring is the keyring the settings hold.
func (s *Settings) Keyring() (*Keyring, error) { return ParseKeys(s.TokenKey) }

// Probe is `accessbot doctor`'s check: the token key seals and opens, and each
// connector's sign-in answers with endpoints and a client. It says what works, or what
// to fix.
func (s *Settings) Probe(ctx context.Context, connectors map[string]governance.Connector) (string, error) {
	keys, err := s.Keyring()
	if err != nil {
		return "", err
	}
	if err := keys.Check(); err != nil {
		return "", fmt.Errorf("ACCESSBOT_TOKEN_KEY: %w", err)
	}
	var names []string
	for name := range connectors {
		names = append(names, name)
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		in, err := connectors[name].SignIn(ctx)
		if err == nil {
			err = checkSignIn(in)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s sign-in: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("token key %q seals and opens; sign-in of %s answers; each OAuth client must list %s/oauth/<backend>/callback as a redirect URL",
		keys.SealingKey(), strings.Join(names, ", "), strings.TrimRight(s.PublicURL, "/")), nil
}

// checkSignIn checks what a connector says about its sign-in.
func checkSignIn(in governance.SignIn) error {
	for _, e := range []struct{ name, v string }{{"authorize URL", in.AuthURL}, {"token URL", in.TokenURL}} {
		if u, err := url.Parse(e.v); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("the %s %q is not an absolute URL", e.name, e.v)
		}
	}
	if in.ClientID == "" {
		return errors.New("no OAuth client id")
	}
	return nil
}
