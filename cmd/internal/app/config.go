package app

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/accounts"
	"github.com/accessbot/accessbot/governance/builtin"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/pagerduty"
	"github.com/accessbot/accessbot/governance/permissions"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/scheduler"
)

//go:embed sample-catalog.yaml
var sampleCatalog []byte

// Config is everything accessbot is built from: the YAML file (ACCESSBOT_CONFIG or -config)
// for settings, the environment for secrets. Each adapter owns its part (its settings
// type, defaults, checks and health probe); Config composes them with accessbot's own
// settings: the schedule, the outbox, working hours, logging and the catalog.
type Config struct {
	Listen      string               `yaml:"listen"`
	Redis       redisstore.Settings  `yaml:"redis"`
	Slack       slackbot.Settings    `yaml:"slack"`
	Teams       teams.Settings       `yaml:"teams"`
	Builtin     builtin.Settings     `yaml:"builtin"`
	SailPoint   sailpoint.Settings   `yaml:"sailpoint"`
	Entra       entra.Settings       `yaml:"entra"`
	Permissions permissions.Settings `yaml:"permissions"`
	PagerDuty   pagerduty.Settings   `yaml:"pagerduty"` // on-call auto-approval rules
	// Accounts: publicURL, and ACCESSBOT_TOKEN_KEY from the environment (connected accounts).
	Accounts     accounts.Settings `yaml:",inline"`
	Admins       []string          `yaml:"admins"` // may decide escalated requests
	WorkingHours struct {
		Window string   `yaml:"window"` // "09:00-18:00"; "off": any time
		Days   []string `yaml:"days"`   // default mon-fri
		Zone   string   `yaml:"zone"`   // for people whose time zone is unknown; default UTC
	} `yaml:"workingHours"`
	Scheduler scheduler.Config `yaml:"scheduler"`
	Sync      struct {
		First governance.Duration `yaml:"first"` // first status check of a submitted grant; default 1m
		Max   governance.Duration `yaml:"max"`   // checks are never further apart; default 30m
	} `yaml:"sync"`
	Approval struct {
		DaysUntilEscalation  wholeNumber           `yaml:"daysUntilEscalation"`
		DaysBetweenReminders wholeNumber           `yaml:"daysBetweenReminders"`
		MaxReminders         wholeNumber           `yaml:"maxReminders"`
		FallbackApprover     string                `yaml:"fallbackApprover"`
		RequestExpiryDays    wholeNumber           `yaml:"requestExpiryDays"`
		ExpiryNotices        []governance.Duration `yaml:"expiryNotices"`
	} `yaml:"approval"`
	Outbox struct {
		Workers      int                 `yaml:"workers"`
		Poll         governance.Duration `yaml:"poll"`
		ReclaimAfter governance.Duration `yaml:"reclaimAfter"`
		MaxAttempts  int                 `yaml:"maxAttempts"`
	} `yaml:"outbox"`
	Metrics struct {
		// Listen is where GET /metrics (and Go's profiles, with PProf) are served, apart from
		// the public listener; default 127.0.0.1:9090, "off" for none.
		Listen string `yaml:"listen"`
		PProf  bool   `yaml:"pprof"`
		// Token (METRICS_TOKEN) serves /metrics on the public listener too, to that bearer token.
		Token string `yaml:"-"`
	} `yaml:"metrics"`
	metricsListenSet bool // metrics.listen was configured, so failing to listen there stops accessbot
	Retention        struct {
		Finished governance.Duration `yaml:"finished"` // a finished request is kept this long after it finished; default 90d
		Audit    governance.Duration `yaml:"audit"`    // an audit record is kept this long; default 400d
	} `yaml:"retention"`
	ShutdownGrace governance.Duration `yaml:"shutdownGrace"`
	Log           struct {
		Level  string `yaml:"level"`  // debug, info, warn, error
		Format string `yaml:"format"` // json, text; default: text on a terminal, else json
	} `yaml:"log"`
	CatalogFile string    `yaml:"catalogFile"`
	CatalogYAML yaml.Node `yaml:"catalog"`
	// Groups are the groups approval stages name as group:<name>: name → e-mail addresses.
	Groups map[string][]string `yaml:"groups"`
	// Managers maps a person's e-mail to their manager's, for the manager approver kind of
	// items whose backend does not know managers; ManagersFile holds the same map in a file
	// of its own (a directory export).
	Managers     map[string]string `yaml:"managers"`
	ManagersFile string            `yaml:"managersFile"`

	catalog    *governance.Catalog
	sample     bool // no catalog was configured: the sample catalog is in use
	schedule   governance.Schedule
	groups     governance.Groups
	managers   map[string]governance.Person
	admins     []governance.Person
	hours      governance.WorkingHours
	configPath string
	warnings   []string // what is valid but probably not meant; config check and serve say it
}

// backend is what accessbot asks of the settings of a governance backend other than the
// built-in one, which is always there.
type backend interface {
	CheckItem(it governance.Item) []error // a catalog item of the backend
	Check() []error                       // the settings, when the catalog uses the backend
	Open(clock governance.Clock, log *slog.Logger) (governance.Backend, error)
	Probe(ctx context.Context) (string, error) // for doctor
}

// backend returns the settings of the backend called name, or nil when this build has no
// such backend besides the built-in one.
func (c *Config) backend(name string) backend {
	switch name {
	case sailpoint.Name:
		return &c.SailPoint
	case entra.Name:
		return &c.Entra
	case permissions.Name:
		return &c.Permissions
	}
	return nil
}

// LoadConfig reads the config file (if any) and the environment, fills in defaults and
// checks everything, returning every problem found at once.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	c := &Config{configPath: path}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w (set ACCESSBOT_CONFIG or -config to a readable YAML file)", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var errs []error
	secret := func(name string) string {
		if f := getenv(name + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		return getenv(name)
	}
	env := governance.Env{Get: getenv, Secret: secret}
	for _, s := range []interface{ FromEnv(governance.Env) }{&c.Redis, &c.Slack, &c.Teams, &c.Builtin, &c.SailPoint, &c.Entra, &c.Permissions, &c.Accounts, &c.PagerDuty} {
		s.FromEnv(env)
	}
	if c.Accounts.PublicURL != "" {
		c.SailPoint.CallbackURL = strings.TrimRight(c.Accounts.PublicURL, "/") + sailpoint.ConnectCallbackPath
		c.Entra.CallbackURL = strings.TrimRight(c.Accounts.PublicURL, "/") + entra.ConnectCallbackPath
	}
	c.Metrics.Token = secret("METRICS_TOKEN")
	if v := getenv("ACCESSBOT_METRICS_LISTEN"); v != "" {
		c.Metrics.Listen = v
	}
	if v := getenv("ACCESSBOT_PPROF_LISTEN"); v != "" { // deprecated: metrics.pprof
		c.Metrics.Listen, c.Metrics.PProf = v, true
	}
	c.metricsListenSet = c.Metrics.Listen != ""
	if v := getenv("ACCESSBOT_LISTEN"); v != "" {
		c.Listen = v
	} else if v := getenv("PORT"); v != "" && c.Listen == "" {
		c.Listen = ":" + v
	}
	c.defaults()
	errs = append(errs, c.check()...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	c.Redis.Defaults()
	if c.Outbox.Workers == 0 {
		c.Outbox.Workers = 8
	}
	if c.Outbox.Poll == 0 {
		c.Outbox.Poll = governance.Duration(500 * time.Millisecond)
	}
	if c.Outbox.ReclaimAfter == 0 {
		c.Outbox.ReclaimAfter = governance.Duration(time.Minute)
	}
	if c.Outbox.MaxAttempts == 0 {
		c.Outbox.MaxAttempts = 10
	}
	if c.Metrics.Listen == "" {
		c.Metrics.Listen = "127.0.0.1:9090"
	}
	if c.Retention.Finished == 0 {
		c.Retention.Finished = governance.Duration(governance.DefaultRetainFinished)
	}
	if c.Retention.Audit == 0 {
		c.Retention.Audit = governance.Duration(governance.DefaultRetainAudit)
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = governance.Duration(25 * time.Second)
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.configPath == "" && c.CatalogFile == "" && c.CatalogYAML.Kind == 0 {
		// Nothing configured: the sample catalog with a schedule that shows every part of it.
		c.Approval.DaysUntilEscalation, c.Approval.DaysBetweenReminders, c.Approval.MaxReminders = 3, 1, 3
		c.Approval.RequestExpiryDays = 14
		c.Approval.FallbackApprover = sampleFallback
		c.Admins = []string{sampleAdmin}
	}
	if c.Approval.ExpiryNotices == nil {
		c.Approval.ExpiryNotices = []governance.Duration{governance.Duration(24 * time.Hour), governance.Duration(time.Hour)}
	}
	// AZURE_TENANT_ID is the tenant of accessbot's Entra app registration.
	c.Teams.Defaults(c.Entra.TenantID)
}

// check returns every problem of the configuration: each adapter's, then accessbot's own.
func (c *Config) check() []error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port (write :8080 or 127.0.0.1:8080)", c.Listen))
	}
	if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil && c.Metrics.Listen != "off" {
		errs = append(errs, fmt.Errorf("metrics listen: %q is not host:port or off (write 127.0.0.1:9090, or :9090 for a scraper in another pod)", c.Metrics.Listen))
	}
	if c.Metrics.Listen == c.Listen {
		errs = append(errs, fmt.Errorf("metrics listen is the public listen address %s; give metrics a port of their own, or set metrics.listen: off and METRICS_TOKEN", c.Listen))
	}
	for _, s := range []interface{ Check() []error }{&c.Redis, &c.Slack, &c.Teams, &c.Builtin, &c.PagerDuty} {
		errs = append(errs, s.Check()...)
	}
	errs = append(errs, c.checkApproval()...)
	errs = append(errs, c.checkPeople()...)
	errs = append(errs, c.checkRuntime()...)
	errs = append(errs, c.checkDirectory()...)
	if catErrs := c.loadCatalog(); len(catErrs) > 0 {
		errs = append(errs, catErrs...)
	} else {
		errs = append(errs, governance.CheckPolicies(c.catalog, c.policyOptions())...)
	}
	errs = append(errs, c.Accounts.Check(c.connecting())...)
	errs = append(errs, c.checkChannels()...)
	return append(errs, c.checkSigningSecret()...)
}

// checkChannels refuses approval channels on a platform that cannot post to them.
func (c *Config) checkChannels() []error {
	if c.catalog == nil {
		return nil
	}
	var errs []error
	for _, it := range c.catalog.Items() {
		platform, _, _ := strings.Cut(it.Channel, ":")
		switch {
		case platform == "slack" && c.Slack.DevMode() && c.Teams.Enabled(): // Teams-only
			errs = append(errs, fmt.Errorf("catalog item %s: approvalChannel %s is a Slack channel, and Slack is not configured (SLACK_BOT_TOKEN)", it.ID, it.Channel))
		case platform == "teams" && (!c.Teams.Enabled() || c.Teams.ChannelServiceURL == ""):
			errs = append(errs, fmt.Errorf("catalog item %s: approvalChannel %s is a Teams channel: serve Teams (TEAMS_APP_ID) and set "+
				"teams.channelServiceURL to the serviceUrl of an activity from that team", it.ID, it.Channel))
		}
	}
	return errs
}

// checkSigningSecret decides what signs Slack's requests when SLACK_SIGNING_SECRET is not
// set. The development secret is public, and a development bot takes any Slack user id as
// a person, so with it anyone who can reach accessbot can ask and approve as anyone. It is
// used only by a bot with no effect outside this machine (outside): listening on loopback,
// the embedded store, no Slack, no Teams, no fulfilment webhook, only the built-in backend.
// A Teams-only bot (no Slack token) leaves Slack off, and a Socket Mode bot (an app
// token) needs no secret: in both, /slack/* refuses every request. Anything else must
// set the secret, or it does not start.
func (c *Config) checkSigningSecret() []error {
	if c.Slack.SigningSecret != "" {
		return nil
	}
	outside := c.outsideEffects()
	switch {
	case len(outside) == 0:
		c.Slack.SigningSecret = slackbot.DevSigningSecret
	case c.Slack.BotToken == "" && c.Teams.Enabled():
	case c.Slack.SocketMode():
	default:
		return []error{fmt.Errorf("SLACK_SIGNING_SECRET is not set, and this accessbot %s, so the public development secret "+
			"would let anyone who reaches it act as anyone: set SLACK_SIGNING_SECRET to your Slack app's signing secret "+
			"(Basic Information), or to a long random string for a private try-out", strings.Join(outside, ", "))}
	}
	return nil
}

// outsideEffects lists what makes this accessbot reachable or effective beyond this
// machine; empty for a wholly local development bot.
func (c *Config) outsideEffects() []string {
	var out []string
	if host, _, err := net.SplitHostPort(c.Listen); err == nil && !loopback(host) {
		out = append(out, fmt.Sprintf("listens on %s, beyond this machine", c.Listen))
	}
	if c.Redis.Configured() {
		out = append(out, "uses a real Redis")
	}
	if c.Slack.BotToken != "" {
		out = append(out, "talks to Slack")
	}
	if c.Teams.Enabled() {
		out = append(out, "serves Teams")
	}
	if c.Builtin.WebhookURL != "" {
		out = append(out, "calls a fulfilment webhook")
	}
	if c.catalog != nil {
		for _, b := range c.catalog.Backends() {
			if b != builtin.Name {
				out = append(out, "grants through "+b)
			}
		}
	}
	return out
}

// loopback reports whether host (from a listen address) is reachable from this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkApproval checks the reminder and escalation schedule and sets c.schedule.
func (c *Config) checkApproval() []error {
	var errs []error
	a := c.Approval
	if a.DaysUntilEscalation < 0 {
		errs = append(errs, errors.New("approval daysUntilEscalation must be 0 or more (0: no reminders, no escalation)"))
	}
	if a.DaysBetweenReminders < 0 {
		errs = append(errs, errors.New("approval daysBetweenReminders must be 0 or more"))
	}
	if a.MaxReminders < 0 || a.MaxReminders > 20 {
		errs = append(errs, fmt.Errorf("approval maxReminders is %d; it must be between 0 and 20", a.MaxReminders))
	}
	if a.RequestExpiryDays < 0 {
		errs = append(errs, errors.New("approval requestExpiryDays must be 0 or more (0: requests never time out)"))
	}
	if a.RequestExpiryDays > 0 && a.DaysUntilEscalation > 0 && a.RequestExpiryDays < a.DaysUntilEscalation {
		errs = append(errs, fmt.Errorf("approval requestExpiryDays (%d) is before daysUntilEscalation (%d): requests would time out before anyone is reminded",
			a.RequestExpiryDays, a.DaysUntilEscalation))
	}
	c.schedule = governance.Schedule{DaysUntilEscalation: int(a.DaysUntilEscalation), DaysBetweenReminders: int(a.DaysBetweenReminders),
		MaxReminders: int(a.MaxReminders), RequestExpiryDays: int(a.RequestExpiryDays)}
	if a.FallbackApprover != "" {
		p, err := governance.ParsePerson(a.FallbackApprover)
		if err != nil {
			errs = append(errs, fmt.Errorf("approval fallbackApprover: %w", err))
		}
		c.schedule.FallbackApprover = p.Email
	}
	for _, d := range a.ExpiryNotices {
		if d <= 0 {
			errs = append(errs, errors.New("approval expiryNotices must be positive durations such as 24h or 1h"))
		}
		c.schedule.ExpiryNotices = append(c.schedule.ExpiryNotices, time.Duration(d))
	}
	c.warnings = append(c.warnings, scheduleWarnings(c.schedule)...)
	return errs
}

// The sample schedule's fallback approver and admin (no configuration at all).
const (
	sampleFallback = "Frank Fallback <frank@example.com>"
	sampleAdmin    = "Ada Admin <ada@example.com>"
)

// scheduleWarnings says what in a valid schedule is probably not meant.
func scheduleWarnings(s governance.Schedule) []string {
	var out []string
	D, B, M, T := s.DaysUntilEscalation, s.DaysBetweenReminders, s.MaxReminders, s.RequestExpiryDays
	firstEscalation := D + M*B
	switch {
	case D == 0 && T == 0:
		out = append(out, "approval: no reminders, no escalation and no timeout; undecided requests wait for ever "+
			"(set daysUntilEscalation, such as 3, and requestExpiryDays, such as 14)")
	case D > 0 && T > 0 && T == D:
		out = append(out, fmt.Sprintf("approval: requests time out on day %d, the day of the first reminder, so nobody is ever reminded "+
			"(make requestExpiryDays later than daysUntilEscalation)", T))
	case D > 0 && B > 0 && T > 0 && T <= firstEscalation:
		out = append(out, fmt.Sprintf("approval: requests time out on day %d, before they first escalate on day %d, so the fallback approver "+
			"and the admins never see them (make requestExpiryDays later than %d)", T, firstEscalation, firstEscalation))
	}
	if D > 0 && B > 0 && s.FallbackApprover == "" {
		out = append(out, "approval: no fallbackApprover; an escalation without managers known to the backend only alerts the admins")
	}
	return out
}

// wholeNumber is a count in the configuration (days, reminders) that must be written as
// a whole number: 1.5 days is refused, not read as 1.
type wholeNumber int

// UnmarshalYAML reads a whole number and refuses anything else, fractions included.
func (n *wholeNumber) UnmarshalYAML(v *yaml.Node) error {
	i, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || err != nil {
		return fmt.Errorf("line %d: %q is not a whole number; write days and counts like 3", v.Line, v.Value)
	}
	*n = wholeNumber(i)
	return nil
}

// checkPeople checks the admins and the working hours, and sets c.admins and c.hours.
func (c *Config) checkPeople() []error {
	var errs []error
	for _, a := range c.Admins {
		p, err := governance.ParsePerson(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("admins: %w", err))
		}
		c.admins = append(c.admins, p)
	}
	if wh := c.WorkingHours; wh.Window != "off" {
		window := wh.Window
		if window == "" {
			window = "09:00-18:00"
		}
		h, err := governance.ParseWorkingHours(window, wh.Days)
		if err != nil {
			errs = append(errs, fmt.Errorf("workingHours: %w", err))
		}
		if wh.Zone != "" {
			if h.Zone, err = time.LoadLocation(wh.Zone); err != nil {
				errs = append(errs, fmt.Errorf("workingHours zone %q is not a time zone name such as Europe/Berlin", wh.Zone))
			}
		}
		c.hours = h
	}
	return errs
}

// checkRuntime checks the scheduler, the outbox, status sync, shutdown and logging.
func (c *Config) checkRuntime() []error {
	var errs []error
	if err := c.Scheduler.Check(); err != nil {
		errs = append(errs, err)
	}
	if c.Outbox.Workers < 1 || c.Outbox.Workers > 256 {
		errs = append(errs, fmt.Errorf("outbox workers is %d; use 1 to 256", c.Outbox.Workers))
	}
	show := func(d time.Duration) string {
		if d > 0 && d%time.Minute == 0 {
			return governance.FormatDuration(d) // 90d rather than 2160h0m0s
		}
		return d.String()
	}
	between := func(name string, d governance.Duration, lo, hi time.Duration, example string) {
		if v := time.Duration(d); v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s is %s; use a duration from %s to %s, such as %s", name, show(v), show(lo), show(hi), example))
		}
	}
	between("outbox poll", c.Outbox.Poll, time.Millisecond, time.Minute, "500ms")
	// Shorter than a delivery takes, and another replica delivers the same task again.
	between("outbox reclaimAfter", c.Outbox.ReclaimAfter, time.Second, 24*time.Hour, "1m")
	if c.Outbox.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("outbox maxAttempts is %d; use 1 or more, such as 10", c.Outbox.MaxAttempts))
	}
	// It also bounds each outbox pass while running, so it must leave a delivery time.
	between("shutdownGrace", c.ShutdownGrace, time.Second, 10*time.Minute, "25s")
	between("retention finished", c.Retention.Finished, governance.Day, 10*365*governance.Day, "90d")
	between("retention audit", c.Retention.Audit, governance.Day, 10*365*governance.Day, "400d")
	if c.Sync.First < 0 || c.Sync.Max < 0 {
		errs = append(errs, errors.New("sync first and max must be positive durations such as 1m and 30m (leave them out for those defaults)"))
	} else if c.Sync.First > 0 && c.Sync.Max > 0 && c.Sync.First > c.Sync.Max {
		errs = append(errs, fmt.Errorf("sync first (%s) is after sync max (%s): the first status check cannot be further off than the longest gap",
			time.Duration(c.Sync.First), time.Duration(c.Sync.Max)))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: use debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log format %q: use json or text", c.Log.Format))
	}
	return errs
}

// checkDirectory reads the groups and the managers (inline and from managersFile), and
// sets c.groups and c.managers.
func (c *Config) checkDirectory() []error {
	var errs []error
	c.groups = governance.Groups{}
	for name, members := range c.Groups {
		if name == "" || strings.ContainsAny(name, " \t:") {
			errs = append(errs, fmt.Errorf("groups: %q is not a group name; use letters, digits and dashes, such as db-owners", name))
		}
		for _, m := range members {
			p, err := governance.ParsePerson(m)
			if err != nil {
				errs = append(errs, fmt.Errorf("groups %s: %w", name, err))
				continue
			}
			c.groups[name] = append(c.groups[name], p)
		}
	}
	managers := map[string]string{}
	if c.ManagersFile != "" {
		data, err := os.ReadFile(c.ManagersFile)
		if err != nil {
			return append(errs, fmt.Errorf("managersFile: %w", err))
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&managers); err != nil && !errors.Is(err, io.EOF) {
			return append(errs, fmt.Errorf("managersFile %s: %w (write one line per person: alice@example.com: bob@example.com)", c.ManagersFile, err))
		}
	}
	for who, m := range c.Managers {
		managers[who] = m
	}
	c.managers = map[string]governance.Person{}
	for who, m := range managers {
		p, err := governance.ParsePerson(who)
		mp, merr := governance.ParsePerson(m)
		if err = errors.Join(err, merr); err != nil {
			errs = append(errs, fmt.Errorf("managers: %w", err))
			continue
		}
		if p.Is(mp) {
			errs = append(errs, fmt.Errorf("managers: %s is named their own manager; nobody may approve their own request", p.Email))
			continue
		}
		c.managers[p.Email] = mp
	}
	return errs
}

// policyOptions is what the catalog's approval stages may rely on: the groups, the
// managers, and which backends tell managers and item owners.
func (c *Config) policyOptions() governance.PolicyOptions {
	o := governance.PolicyOptions{Groups: c.groups, Managers: len(c.managers) > 0, PagerDuty: c.PagerDuty.Enabled()}
	for name, b := range map[string]any{builtin.Name: (*builtin.Backend)(nil), sailpoint.Name: (*sailpoint.Backend)(nil),
		entra.Name: (*entra.Backend)(nil), permissions.Name: (*permissions.Backend)(nil)} {
		if _, ok := b.(governance.ManagerFinder); ok {
			o.ManagerBackends = append(o.ManagerBackends, name)
		}
		if _, ok := b.(governance.OwnerFinder); ok {
			o.Owners = append(o.Owners, name)
		}
		if _, ok := b.(governance.GroupFinder); ok {
			o.GroupBackends = append(o.GroupBackends, name)
		}
	}
	return o
}

// loadCatalog reads the catalog (or the sample one) and checks each item with its
// backend's settings, and the settings of each backend the catalog uses.
func (c *Config) loadCatalog() []error {
	var err error
	// SailPoint's approvalsMustBeExternal is the tenant's: its items decide as it does.
	modes := []governance.CatalogOption{governance.BackendApprovals(sailpoint.Name, c.SailPoint.Approvals)}
	switch {
	case c.CatalogFile != "" && c.CatalogYAML.Kind != 0:
		return []error{errors.New("set either catalog or catalogFile, not both")}
	case c.CatalogFile != "":
		var data []byte
		data, err = os.ReadFile(c.CatalogFile)
		if err != nil {
			return []error{fmt.Errorf("catalogFile: %w", err)}
		}
		c.catalog, err = governance.ParseCatalog(data, modes...)
	case c.CatalogYAML.Kind != 0:
		c.catalog, err = governance.CatalogFromYAML(&c.CatalogYAML, modes...)
	default:
		c.sample = true
		c.catalog, err = governance.ParseCatalog(sampleCatalog)
	}
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, it := range c.catalog.Items() {
		b := c.backend(it.Backend)
		switch {
		case it.Backend == builtin.Name:
		case b == nil:
			errs = append(errs, fmt.Errorf("catalog item %s: backend %q is not available in this build; use builtin, sailpoint, entra or permissions", it.ID, it.Backend))
		default:
			for _, err := range b.CheckItem(it) {
				errs = append(errs, fmt.Errorf("catalog item %s: %w", it.ID, err))
			}
		}
	}
	for _, name := range c.catalog.Backends() {
		if b := c.backend(name); b != nil {
			errs = append(errs, b.Check()...)
		}
	}
	return errs
}

// connecting lists the backends the catalog uses whose people can connect their accounts
// (their backend is a governance.Connector); opening a backend does no I/O.
func (c *Config) connecting() []string {
	var out []string
	for name, b := range c.connectors(governance.SystemClock{}, slog.New(slog.DiscardHandler)) {
		if b != nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// connectors opens the backends the catalog uses and returns those whose people can
// connect their accounts, by name. A backend whose settings do not open is left out (its
// own check says why).
func (c *Config) connectors(clock governance.Clock, log *slog.Logger) map[string]governance.Connector {
	out := map[string]governance.Connector{}
	if c.catalog == nil {
		return out
	}
	for _, name := range c.catalog.Backends() {
		b := c.backend(name)
		if b == nil {
			continue
		}
		be, err := b.Open(clock, log)
		if err != nil {
			continue
		}
		if conn, ok := connector(be); ok {
			out[name] = conn
		}
	}
	return out
}

// connector is be as a Connector, when its people can connect their accounts: it is one,
// and, if its sign-in depends on configuration (governance.Connectable), that is set up.
func connector(be governance.Backend) (governance.Connector, bool) {
	conn, ok := be.(governance.Connector)
	if !ok {
		return nil, false
	}
	if c, ok := be.(governance.Connectable); ok && !c.Connectable() {
		return nil, false
	}
	return conn, true
}
