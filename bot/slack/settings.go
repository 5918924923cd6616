package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// DevSigningSecret signs Slack requests to a wholly local accessbot (the embedded store, no
// Slack token, no Teams), so a person can talk to it with `accessbot-dev say`. It is never
// accepted next to a token, and never used with a real Redis or Teams.
const DevSigningSecret = "accessbot-dev-signing-secret"

// Settings are Slack's part of accessbot's configuration: the `slack:` block, and
// SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN from the environment.
type Settings struct {
	APIURL       string            `yaml:"apiURL"`       // for a fake Slack in tests
	Users        map[string]string `yaml:"users"`        // dev mode: Slack user id → e-mail or "Name <e-mail>"
	AdminChannel string            `yaml:"adminChannel"` // channel id (C…) for escalation alerts
	// ResponseOrigins are where response_urls may point (scheme://host); default
	// DefaultResponseOrigins (Slack's and GovSlack's hooks).
	ResponseOrigins []string `yaml:"responseOrigins"`
	SigningSecret   string   `yaml:"-"`
	BotToken        string   `yaml:"-"`
}

// FromEnv reads the settings' secrets.
func (s *Settings) FromEnv(env governance.Env) {
	s.SigningSecret = env.Secret("SLACK_SIGNING_SECRET")
	s.BotToken = env.Secret("SLACK_BOT_TOKEN")
}

// DevMode reports whether accessbot runs without Slack: messages are printed, not sent.
func (s *Settings) DevMode() bool { return s.BotToken == "" }

// Check returns every problem of the settings.
func (s *Settings) Check() []error {
	var errs []error
	if s.BotToken != "" {
		if s.SigningSecret == "" {
			errs = append(errs, errors.New("SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information page"))
		}
		if s.SigningSecret == DevSigningSecret {
			errs = append(errs, errors.New("SLACK_SIGNING_SECRET is the development secret; use your Slack app's real signing secret"))
		}
		if !strings.HasPrefix(s.BotToken, "xoxb-") {
			errs = append(errs, errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…) from your Slack app's OAuth & Permissions page"))
		}
	}
	for _, o := range s.ResponseOrigins {
		if u, err := url.Parse(o); err != nil || u.Host == "" || u.Path != "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname()))) {
			errs = append(errs, fmt.Errorf("slack responseOrigins: %q is not an origin; write https://hooks.slack.com (http only for this machine, in tests)", o))
		}
	}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("slack apiURL %q is not a URL", s.APIURL))
		}
	}
	return errs
}

// Describe says how Slack is set up, for the banner, `config check` and `doctor`.
func (s *Settings) Describe() string {
	switch {
	case !s.DevMode():
		return "bot token and signing secret set"
	case s.SigningSecret == DevSigningSecret:
		return fmt.Sprintf("development mode (no SLACK_BOT_TOKEN): messages are printed, not sent; requests are signed with the development secret %q", DevSigningSecret)
	case s.SigningSecret == "":
		return "off: no SLACK_BOT_TOKEN and no SLACK_SIGNING_SECRET, so /slack/* refuses every request " +
			"(the public development secret is used only with the embedded store and without Teams)"
	default:
		return "development mode (no SLACK_BOT_TOKEN): messages are printed, not sent; requests are checked with SLACK_SIGNING_SECRET, which say and click use too"
	}
}

// Probe is `accessbot doctor`'s check of the bot token (auth.test). It says whose bot it
// is, or returns what to fix.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	who, err := NewClient(s.BotToken, s.APIURL, nil).AuthTestContext(ctx)
	var se slackapi.SlackErrorResponse
	switch {
	case errors.As(err, &se) && (se.Err == "invalid_auth" || se.Err == "not_authed" || se.Err == "token_revoked" || se.Err == "account_inactive"):
		return "", fmt.Errorf("auth.test says %s: SLACK_BOT_TOKEN is not a working bot token; copy it again from the app's OAuth & Permissions page", se.Err)
	case err != nil:
		return "", fmt.Errorf("auth.test failed: %w (can this machine reach Slack?)", err)
	}
	return fmt.Sprintf("bot @%s in %s (%s)", who.User, who.Team, who.TeamID), nil
}

// loopbackHost reports whether host is this machine.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
