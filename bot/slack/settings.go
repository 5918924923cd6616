package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// DevSigningSecret signs Slack requests to a wholly local accessbot (the embedded store, no
// Slack token, no Teams), so a person can talk to it with `accessbot-dev say`. It is never
// accepted next to a token, and never used with a real Redis or Teams.
const DevSigningSecret = "accessbot-dev-signing-secret"

// DefaultResponseOrigins are where Slack's response_urls point: Slack's, and GovSlack's
// (Settings.ResponseOrigins names others).
var DefaultResponseOrigins = []string{"https://hooks.slack.com", "https://hooks.slack-gov.com"}

// ErrNotSlacks refuses a response_url that does not point at Slack: a payload's
// response_url is where accessbot would post what it tells a person, so one pointing
// elsewhere (another service, this machine's loopback) is never called.
var ErrNotSlacks = errors.New("response_url does not point at Slack")

// Settings are Slack's part of accessbot's configuration: the `slack:` block, and
// SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_TEAM_IDS and
// SLACK_ENTERPRISE_ID (these two win over the file) from the environment.
type Settings struct {
	APIURL       string            `yaml:"apiURL"`       // for a fake Slack in tests
	Users        map[string]string `yaml:"users"`        // dev mode: Slack user id → e-mail or "Name <e-mail>"
	AdminChannel string            `yaml:"adminChannel"` // channel id (C…) for escalation alerts
	// ResponseOrigins are where response_urls may point (scheme://host); default
	// DefaultResponseOrigins (Slack's and GovSlack's hooks).
	ResponseOrigins []string `yaml:"responseOrigins"`
	// Teams are the workspace ids (T…) served, Enterprise an Enterprise org id (E…) all
	// of whose workspaces are served. Neither: the bot token's workspace (auth.test).
	Teams      []string `yaml:"teams"`
	Enterprise string   `yaml:"enterprise"`
	// Guests is what Slack's guests may do: "request" (default: ask, never decide or
	// administer) or "refuse" (nothing).
	Guests Guests `yaml:"guests"`
	// SocketConnections is how many Socket Mode connections each replica holds (default
	// DefaultSocketConnections; Slack allows 10 per app, all replicas together).
	SocketConnections int `yaml:"socketConnections"`
	// HomeTab redraws each person's App Home tab whenever something it shows changes
	// (default true); off, the tab is drawn only when opened.
	HomeTab       *bool  `yaml:"homeTab"`
	SigningSecret string `yaml:"-"`
	BotToken      string `yaml:"-"`
	// AppToken, an app-level token (xapp-…) with connections:write, turns Socket Mode on.
	AppToken string `yaml:"-"`
}

// Homes reports whether changes redraw the Home tabs: with a bot token, unless homeTab is off.
func (s *Settings) Homes() bool { return !s.DevMode() && (s.HomeTab == nil || *s.HomeTab) }

// DefaultSocketConnections is how many Socket Mode connections a replica holds: slack-go
// closes a connection before it opens the next, so a second one keeps accessbot
// reachable while either reconnects.
const DefaultSocketConnections = 2

// maxSocketConnections is Slack's limit of Socket Mode connections per app.
const maxSocketConnections = 10

// FromEnv reads the settings' secrets, and the workspaces served when the environment names them.
func (s *Settings) FromEnv(env governance.Env) {
	s.SigningSecret = env.Secret("SLACK_SIGNING_SECRET")
	s.BotToken = env.Secret("SLACK_BOT_TOKEN")
	s.AppToken = env.Secret("SLACK_APP_TOKEN")
	if v := env.Get("SLACK_TEAM_IDS"); v != "" {
		s.Teams = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
	if v := env.Get("SLACK_ENTERPRISE_ID"); v != "" {
		s.Enterprise = strings.TrimSpace(v)
	}
}

// Workspaces are the workspaces and org the settings name; zero when they name none.
func (s *Settings) Workspaces() Workspaces {
	return Workspaces{Teams: s.Teams, Enterprise: s.Enterprise}
}

// Slack's ids: a workspace's starts with T, an Enterprise org's with E.
var (
	teamID       = regexp.MustCompile(`^T[A-Z0-9]{2,}$`)
	enterpriseID = regexp.MustCompile(`^E[A-Z0-9]{2,}$`)
)

// DevMode reports whether accessbot runs without Slack: messages are printed, not sent.
func (s *Settings) DevMode() bool { return s.BotToken == "" }

// SocketMode reports whether Slack's commands and interactions come over Socket Mode
// (an app-level token is set) rather than to /slack/*.
func (s *Settings) SocketMode() bool { return s.AppToken != "" && s.BotToken != "" }

// Connections is how many Socket Mode connections a replica holds.
func (s *Settings) Connections() int {
	if s.SocketConnections <= 0 {
		return DefaultSocketConnections
	}
	return s.SocketConnections
}

// Check returns every problem of the settings.
func (s *Settings) Check() []error {
	var errs []error
	if s.BotToken != "" {
		if s.SigningSecret == "" && s.AppToken == "" {
			errs = append(errs, errors.New("SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information page "+
				"(or set SLACK_APP_TOKEN to use Socket Mode, which needs none)"))
		}
		if s.SigningSecret == DevSigningSecret {
			errs = append(errs, errors.New("SLACK_SIGNING_SECRET is the development secret; use your Slack app's real signing secret"))
		}
		if !strings.HasPrefix(s.BotToken, "xoxb-") {
			errs = append(errs, errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…) from your Slack app's OAuth & Permissions page"))
		}
	}
	if s.AppToken != "" {
		if !strings.HasPrefix(s.AppToken, "xapp-") {
			errs = append(errs, errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope, "+
				"from your Slack app's Basic Information page (App-Level Tokens)"))
		}
		if s.BotToken == "" {
			errs = append(errs, errors.New("SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: Socket Mode brings commands in, "+
				"but cards go out with the bot token (OAuth & Permissions)"))
		}
	}
	if s.SocketConnections < 0 || s.SocketConnections > maxSocketConnections {
		errs = append(errs, fmt.Errorf("slack socketConnections: %d is not between 1 and %d (Slack's limit per app, all replicas together)",
			s.SocketConnections, maxSocketConnections))
	}
	for _, t := range s.Teams {
		if !teamID.MatchString(t) {
			errs = append(errs, fmt.Errorf("slack teams: %q is not a workspace id (T…: auth.test's team_id, or the T… in the workspace's URL app.slack.com/client/T…)", t))
		}
	}
	if s.Enterprise != "" && !enterpriseID.MatchString(s.Enterprise) {
		errs = append(errs, fmt.Errorf("slack enterprise: %q is not an Enterprise org id (E…)", s.Enterprise))
	}
	if s.Guests != "" && s.Guests != GuestsRequest && s.Guests != GuestsRefuse {
		errs = append(errs, fmt.Errorf("slack guests: %q is neither %q (guests may ask, never decide) nor %q (guests cannot use accessbot)",
			s.Guests, GuestsRequest, GuestsRefuse))
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
		return s.reached() + "; serves " + s.served() + "; " + s.guests().describe()
	case s.SigningSecret == DevSigningSecret:
		return fmt.Sprintf("development mode (no SLACK_BOT_TOKEN): messages are printed, not sent; requests are signed with the development secret %q", DevSigningSecret)
	case s.SigningSecret == "":
		return "off: no SLACK_BOT_TOKEN and no SLACK_SIGNING_SECRET, so /slack/* refuses every request " +
			"(the public development secret is used only with the embedded store and without Teams)"
	default:
		return "development mode (no SLACK_BOT_TOKEN): messages are printed, not sent; requests are checked with SLACK_SIGNING_SECRET, which say and click use too"
	}
}

// reached says how Slack's commands reach accessbot.
func (s *Settings) reached() string {
	switch {
	case s.SocketMode() && s.SigningSecret != "":
		return fmt.Sprintf("bot token set; Socket Mode (%d connections), and /slack/* checked with the signing secret", s.Connections())
	case s.SocketMode():
		return fmt.Sprintf("bot token set; Socket Mode (%d connections), /slack/* off (no signing secret)", s.Connections())
	}
	return "bot token and signing secret set"
}

// served names the workspaces served.
func (s *Settings) served() string {
	if s.Workspaces().IsZero() {
		return "the bot token's workspace (auth.test)"
	}
	return s.Workspaces().String()
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
	if s.SocketMode() {
		// apps.connections.open hands out a URL nobody dials; it proves the app-level token.
		api := slackapi.New("", slackapi.OptionAppLevelToken(s.AppToken), slackapi.OptionAPIURL(apiBase(s.APIURL)),
			slackapi.OptionHTTPClient(&http.Client{Timeout: DefaultTimeout}))
		if _, _, err := api.StartSocketModeContext(ctx); err != nil {
			return "", fmt.Errorf("apps.connections.open failed: %w: SLACK_APP_TOKEN must be an app-level token with connections:write, "+
				"and Socket Mode must be on in the app's settings", err)
		}
	}
	served := "the token's workspace, " + who.TeamID
	if !s.Workspaces().IsZero() {
		served = s.Workspaces().String()
		if !s.Workspaces().Serves(who.TeamID, who.EnterpriseID) {
			return "", fmt.Errorf("the bot token belongs to workspace %s (%s), which slack.teams and slack.enterprise do not name: "+
				"nobody there could use accessbot; add %s to slack.teams, or use the token of a workspace they name", who.Team, who.TeamID, who.TeamID)
		}
	}
	how := ""
	if s.SocketMode() {
		how = "; Socket Mode connects"
	}
	return fmt.Sprintf("bot @%s in %s (%s); serves %s%s", who.User, who.Team, who.TeamID, served, how), nil
}

// guests is the guest policy in force.
func (s *Settings) guests() Guests {
	if s.Guests == "" {
		return GuestsRequest
	}
	return s.Guests
}

// DirectoryOptions are the Directory's share of the settings: the workspaces served and what guests may do.
func (s *Settings) DirectoryOptions() []DirectoryOption {
	return []DirectoryOption{WithWorkspaces(s.Workspaces()), WithGuests(s.guests())}
}

// loopbackHost reports whether host is this machine.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
