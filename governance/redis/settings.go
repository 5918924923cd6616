package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

// Protocol is the protocol accessbot speaks to Redis (RESP2). It uses nothing RESP3 adds,
// and with RESP2 go-redis skips the check for push notifications it makes before every
// command.
const Protocol = 2

// Settings are Redis' part of accessbot's configuration: the `redis:` block, and from the
// environment REDIS_URL (which wins over url), REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD.
// With neither url nor addrs, none is configured (accessbot then runs on an embedded one).
type Settings struct {
	URL              string   `yaml:"url"`        // redis:// or rediss://
	Addrs            []string `yaml:"addrs"`      // Redis Cluster (one configuration endpoint, or its nodes)
	MasterName       string   `yaml:"masterName"` // with addrs: the Sentinels' master
	Username         string   `yaml:"username"`   // with addrs; the password is REDIS_PASSWORD
	TLS              bool     `yaml:"tls"`        // with addrs
	Prefix           string   `yaml:"prefix"`     // default accessbot
	Password         string   `yaml:"-"`          // with addrs
	SentinelPassword string   `yaml:"-"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.Password = env.Secret("REDIS_PASSWORD")
	s.SentinelPassword = env.Secret("REDIS_SENTINEL_PASSWORD")
	if v := env.Secret("REDIS_URL"); v != "" { // a secret: it may hold the password
		s.URL = v
	}
}

// Defaults fills in the key prefix.
func (s *Settings) Defaults() {
	if s.Prefix == "" {
		s.Prefix = "accessbot"
	}
}

// Configured reports whether a Redis is configured.
func (s *Settings) Configured() bool { return s.URL != "" || len(s.Addrs) > 0 }

// Check returns every problem of the settings.
func (s *Settings) Check() []error {
	var errs []error
	if s.URL != "" {
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("redis url (REDIS_URL): write it as redis://host:6379/0 or rediss://user:password@host:6380"))
		}
		if len(s.Addrs) > 0 {
			errs = append(errs, errors.New("redis: set either url (REDIS_URL) or addrs, not both"))
		}
		if s.Username != "" || s.TLS || s.Password != "" || s.SentinelPassword != "" {
			errs = append(errs, errors.New("redis: username, tls, REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD go with addrs; with REDIS_URL, put them in the URL (rediss://user:password@host:6380)"))
		}
	}
	if s.MasterName != "" && len(s.Addrs) == 0 {
		errs = append(errs, errors.New("redis masterName needs addrs: the Sentinels' addresses"))
	}
	if strings.ContainsAny(s.Prefix, "{} \t") {
		errs = append(errs, fmt.Errorf("redis prefix %q must not contain braces or spaces", s.Prefix))
	}
	return errs
}

// Describe says which Redis is used, without the password.
func (s *Settings) Describe() string {
	switch {
	case s.URL != "":
		u, err := url.Parse(s.URL)
		if err != nil {
			return "REDIS_URL (unparseable)"
		}
		return fmt.Sprintf("%s://%s%s, prefix %q", u.Scheme, u.Host, u.Path, s.Prefix)
	case len(s.Addrs) > 0:
		kind := "cluster"
		if s.MasterName != "" {
			kind = "sentinel " + s.MasterName
		}
		if s.TLS {
			kind += " (TLS)"
		}
		return fmt.Sprintf("%s %v, prefix %q", kind, s.Addrs, s.Prefix)
	}
	return "embedded in-process store (nothing survives a restart)"
}

// UniversalOptions are the options for addrs: Sentinel with a master name, else Redis
// Cluster, also behind a single configuration endpoint (as managed clusters give one),
// which go-redis would otherwise take for a plain server.
func (s *Settings) UniversalOptions() *goredis.UniversalOptions {
	o := &goredis.UniversalOptions{Addrs: s.Addrs, MasterName: s.MasterName, Protocol: Protocol,
		IsClusterMode: s.MasterName == "",
		Username:      s.Username, Password: s.Password, SentinelPassword: s.SentinelPassword}
	if s.TLS {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o
}

// Open connects to the configured Redis and checks that it answers.
func (s *Settings) Open(ctx context.Context) (goredis.UniversalClient, error) {
	var client goredis.UniversalClient
	switch {
	case s.URL != "":
		opts, err := goredis.ParseURL(s.URL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if !strings.Contains(s.URL, "protocol=") {
			opts.Protocol = Protocol
		}
		client = goredis.NewClient(opts)
	case len(s.Addrs) > 0:
		client = goredis.NewUniversalClient(s.UniversalOptions())
	default:
		return nil, errors.New("redis: no url (REDIS_URL) and no addrs configured")
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s: %w (is it running, and are its address and password right: REDIS_URL, or redis.addrs and REDIS_PASSWORD?)", s.Describe(), err)
	}
	return client, nil
}

// Probe is `accessbot doctor`'s check: the configured Redis answers, and how fast. It says
// so, or returns what to fix.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	client, err := s.Open(ctx)
	if err != nil {
		return "", err
	}
	defer client.Close()
	start := time.Now()
	if err := client.Ping(ctx).Err(); err != nil {
		return "", fmt.Errorf("%s: %w", s.Describe(), err)
	}
	return fmt.Sprintf("%s answers (%s)", s.Describe(), time.Since(start).Round(time.Microsecond)), nil
}
