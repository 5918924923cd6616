package app

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/permissions"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/scheduler"
)

//go:embed sample-catalog.yaml
var sampleCatalog []byte

// DevSigningSecret signs Slack requests to a wholly local accessbot (the embedded store, no
// Slack token, no Teams), so a person can talk to it with `accessbot-dev say`. It is never
// accepted next to a token, and never used with a real Redis or Teams.
const DevSigningSecret = "accessbot-dev-signing-secret"

// Config is everything accessbot is built from: the YAML file (ACCESSBOT_CONFIG or -config)
// for settings, the environment for secrets.
type Config struct {
	Listen string `yaml:"listen"`
	Redis  struct {
		URL        string   `yaml:"url"`        // redis:// or rediss://; REDIS_URL wins
		Addrs      []string `yaml:"addrs"`      // Redis Cluster (one configuration endpoint, or its nodes)
		MasterName string   `yaml:"masterName"` // with addrs: the Sentinels' master
		Username   string   `yaml:"username"`   // with addrs; the password is REDIS_PASSWORD
		TLS        bool     `yaml:"tls"`        // with addrs
		Prefix     string   `yaml:"prefix"`
	} `yaml:"redis"`
	Slack struct {
		APIURL       string            `yaml:"apiURL"`       // for a fake Slack in tests
		Users        map[string]string `yaml:"users"`        // dev mode: Slack user id → e-mail or "Name <e-mail>"
		AdminChannel string            `yaml:"adminChannel"` // channel id (C…) for escalation alerts
	} `yaml:"slack"`
	Admins       []string `yaml:"admins"` // may decide escalated requests
	WorkingHours struct {
		Window string   `yaml:"window"` // "09:00-18:00"; "off": any time
		Days   []string `yaml:"days"`   // default mon-fri
		Zone   string   `yaml:"zone"`   // for people whose time zone is unknown; default UTC
	} `yaml:"workingHours"`
	Scheduler scheduler.Config `yaml:"scheduler"`
	Builtin   struct {
		WebhookURL string   `yaml:"webhookURL"`
		Timeout    duration `yaml:"timeout"` // each webhook call; default 10s
	} `yaml:"builtin"`
	Teams struct {
		AppID        string   `yaml:"appID"`   // the Azure Bot's Microsoft app id; TEAMS_APP_ID wins
		Tenants      []string `yaml:"tenants"` // Entra tenant ids whose people may use the bot; TEAMS_TENANT_IDS wins; default homeTenant
		AdminChannel struct {
			ServiceURL     string `yaml:"serviceURL"`     // e.g. https://smba.trafficmanager.net/emea/
			ConversationID string `yaml:"conversationID"` // the channel's id, 19:…@thread.tacv2
		} `yaml:"adminChannel"` // escalation alerts, with working buttons
		ServiceHosts []string `yaml:"serviceHosts"` // Bot Connector hosts accessbot may call; default public, GCC, GCC High
		MetadataURL  string   `yaml:"metadataURL"`  // Bot Framework OpenID metadata; default public cloud
		TokenURL     string   `yaml:"tokenURL"`     // default https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token
	} `yaml:"teams"`
	SailPoint struct {
		BaseURL  string  `yaml:"baseURL"`  // https://{tenant}.api.identitynow.com; SAILPOINT_BASE_URL wins
		TokenURL string  `yaml:"tokenURL"` // default baseURL + /oauth/token
		Rate     float64 `yaml:"rate"`     // calls per second; default 9 (ISC: 100 per token per 10 s)
		Burst    int     `yaml:"burst"`    // default 10
	} `yaml:"sailpoint"`
	Entra struct {
		GraphURL string  `yaml:"graphURL"` // default https://graph.microsoft.com/v1.0 (national clouds differ)
		LoginURL string  `yaml:"loginURL"` // default https://login.microsoftonline.com
		Rate     float64 `yaml:"rate"`     // Graph calls per second; default 10
		Burst    int     `yaml:"burst"`
	} `yaml:"entra"`
	Permissions struct {
		GraphURL string  `yaml:"graphURL"` // default https://graph.microsoft.com/beta (its API is beta only)
		LoginURL string  `yaml:"loginURL"` // default https://login.microsoftonline.com
		Rate     float64 `yaml:"rate"`     // Graph calls per second; default 10
		Burst    int     `yaml:"burst"`
	} `yaml:"permissions"`
	Sync struct {
		First duration `yaml:"first"` // first status check of a submitted grant; default 1m
		Max   duration `yaml:"max"`   // checks are never further apart; default 30m
	} `yaml:"sync"`
	Approval struct {
		DaysUntilEscalation  int        `yaml:"daysUntilEscalation"`
		DaysBetweenReminders int        `yaml:"daysBetweenReminders"`
		MaxReminders         int        `yaml:"maxReminders"`
		FallbackApprover     string     `yaml:"fallbackApprover"`
		RequestExpiryDays    int        `yaml:"requestExpiryDays"`
		ExpiryNotices        []duration `yaml:"expiryNotices"`
	} `yaml:"approval"`
	Outbox struct {
		Workers      int      `yaml:"workers"`
		Poll         duration `yaml:"poll"`
		ReclaimAfter duration `yaml:"reclaimAfter"`
		MaxAttempts  int      `yaml:"maxAttempts"`
	} `yaml:"outbox"`
	ShutdownGrace duration `yaml:"shutdownGrace"`
	Log           struct {
		Level  string `yaml:"level"`  // debug, info, warn, error
		Format string `yaml:"format"` // json, text; default: text on a terminal, else json
	} `yaml:"log"`
	CatalogFile string    `yaml:"catalogFile"`
	CatalogYAML yaml.Node `yaml:"catalog"`

	// From the environment only; never logged.
	RedisPassword           string `yaml:"-"` // with redis.addrs
	RedisSentinelPassword   string `yaml:"-"`
	SlackSigningSecret      string `yaml:"-"`
	SlackBotToken           string `yaml:"-"`
	BuiltinWebhookSecret    string `yaml:"-"`
	TeamsAppPassword        string `yaml:"-"`
	AzureTenantID           string `yaml:"-"`
	EntraClientID           string `yaml:"-"`
	EntraClientSecret       string `yaml:"-"`
	PermissionsClientID     string `yaml:"-"`
	PermissionsClientSecret string `yaml:"-"`
	PermissionsRefreshToken string `yaml:"-"`
	SailPointClientID       string `yaml:"-"`
	SailPointClientSecret   string `yaml:"-"`

	catalog    *governance.Catalog
	sample     bool // no catalog was configured: the sample catalog is in use
	schedule   governance.Schedule
	admins     []governance.Person
	hours      governance.WorkingHours
	configPath string
}

// duration reads Go durations ("500ms", "90s") and days ("7d") from YAML.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if v, err := time.ParseDuration(s); err == nil {
		*d = duration(v)
		return nil
	}
	if strings.HasSuffix(s, "d") {
		if days, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil {
			*d = duration(time.Duration(days) * governance.Day)
			return nil
		}
	}
	return fmt.Errorf("line %d: %q is not a duration; write it like 500ms, 30s, 8h or 7d", n.Line, s)
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
	c.RedisPassword = secret("REDIS_PASSWORD")
	c.RedisSentinelPassword = secret("REDIS_SENTINEL_PASSWORD")
	c.SlackSigningSecret = secret("SLACK_SIGNING_SECRET")
	c.SlackBotToken = secret("SLACK_BOT_TOKEN")
	c.BuiltinWebhookSecret = secret("BUILTIN_WEBHOOK_SECRET")
	c.TeamsAppPassword = secret("TEAMS_APP_PASSWORD")
	if v := getenv("TEAMS_APP_ID"); v != "" {
		c.Teams.AppID = v
	}
	if v := getenv("TEAMS_TENANT_IDS"); v != "" {
		c.Teams.Tenants = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
	c.AzureTenantID = getenv("AZURE_TENANT_ID")
	c.EntraClientID = secret("ENTRA_CLIENT_ID")
	c.EntraClientSecret = secret("ENTRA_CLIENT_SECRET")
	c.PermissionsClientID = secret("PERMISSIONS_CLIENT_ID")
	c.PermissionsClientSecret = secret("PERMISSIONS_CLIENT_SECRET")
	c.PermissionsRefreshToken = secret("PERMISSIONS_REFRESH_TOKEN")
	c.SailPointClientID = secret("SAILPOINT_CLIENT_ID")
	c.SailPointClientSecret = secret("SAILPOINT_CLIENT_SECRET")
	if v := getenv("SAILPOINT_BASE_URL"); v != "" {
		c.SailPoint.BaseURL = v
	}
	if v := getenv("REDIS_URL"); v != "" {
		c.Redis.URL = v
	}
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
	if c.Redis.Prefix == "" {
		c.Redis.Prefix = "accessbot"
	}
	if c.Outbox.Workers == 0 {
		c.Outbox.Workers = 8
	}
	if c.Outbox.Poll == 0 {
		c.Outbox.Poll = duration(500 * time.Millisecond)
	}
	if c.Outbox.ReclaimAfter == 0 {
		c.Outbox.ReclaimAfter = duration(time.Minute)
	}
	if c.Outbox.MaxAttempts == 0 {
		c.Outbox.MaxAttempts = 10
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = duration(25 * time.Second)
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Approval.ExpiryNotices == nil {
		c.Approval.ExpiryNotices = []duration{duration(24 * time.Hour), duration(time.Hour)}
	}
	// The development secret is public, so it signs requests only to a bot that is wholly
	// local: the embedded store, no Slack token, no Teams. Anywhere else a missing
	// SLACK_SIGNING_SECRET leaves it empty, and /slack/* refuses every request.
	if c.SlackBotToken == "" && c.SlackSigningSecret == "" && c.Redis.URL == "" && len(c.Redis.Addrs) == 0 && c.Teams.AppID == "" {
		c.SlackSigningSecret = DevSigningSecret
	}
	if c.teamsEnabled() && len(c.Teams.Tenants) == 0 {
		c.Teams.Tenants = c.homeTenant()
	}
}

// homeTenant is the organisation's own Entra tenant where the configuration already names
// it: in the token URL of a single-tenant bot (login.microsoftonline.com/<tenant id>/…),
// or as AZURE_TENANT_ID, the tenant of accessbot's Entra app registration.
func (c *Config) homeTenant() []string {
	if u, err := url.Parse(c.Teams.TokenURL); err == nil && c.Teams.TokenURL != "" {
		if id, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/"); appIDPattern.MatchString(id) {
			return []string{id}
		}
	}
	if appIDPattern.MatchString(c.AzureTenantID) {
		return []string{c.AzureTenantID}
	}
	return nil
}

// slackDescription says how Slack is set up, for the banner and `config check`.
func (c *Config) slackDescription() string {
	switch {
	case !c.devMode():
		return "bot token and signing secret set"
	case c.SlackSigningSecret == DevSigningSecret:
		return fmt.Sprintf("development mode (no SLACK_BOT_TOKEN): messages are printed, not sent; requests are signed with the development secret %q", DevSigningSecret)
	case c.SlackSigningSecret == "":
		return "off: no SLACK_BOT_TOKEN and no SLACK_SIGNING_SECRET, so /slack/* refuses every request " +
			"(the public development secret is used only with the embedded store and without Teams)"
	default:
		return "development mode (no SLACK_BOT_TOKEN): messages are printed, not sent; requests are checked with SLACK_SIGNING_SECRET, which say and click use too"
	}
}

// devMode reports whether accessbot runs without Slack: messages go to the log.
func (c *Config) devMode() bool { return c.SlackBotToken == "" }

func (c *Config) check() []error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port (write :8080 or 127.0.0.1:8080)", c.Listen))
	}
	if c.Redis.URL != "" {
		if u, err := url.Parse(c.Redis.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("redis url (REDIS_URL): write it as redis://host:6379/0 or rediss://user:password@host:6380"))
		}
		if len(c.Redis.Addrs) > 0 {
			errs = append(errs, errors.New("redis: set either url (REDIS_URL) or addrs, not both"))
		}
		if c.Redis.Username != "" || c.Redis.TLS || c.RedisPassword != "" || c.RedisSentinelPassword != "" {
			errs = append(errs, errors.New("redis: username, tls, REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD go with addrs; with REDIS_URL, put them in the URL (rediss://user:password@host:6380)"))
		}
	}
	if c.Redis.MasterName != "" && len(c.Redis.Addrs) == 0 {
		errs = append(errs, errors.New("redis masterName needs addrs: the Sentinels' addresses"))
	}
	if strings.ContainsAny(c.Redis.Prefix, "{} \t") {
		errs = append(errs, fmt.Errorf("redis prefix %q must not contain braces or spaces", c.Redis.Prefix))
	}
	if c.SlackBotToken != "" {
		if c.SlackSigningSecret == "" {
			errs = append(errs, errors.New("SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information page"))
		}
		if c.SlackSigningSecret == DevSigningSecret {
			errs = append(errs, errors.New("SLACK_SIGNING_SECRET is the development secret; use your Slack app's real signing secret"))
		}
		if !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
			errs = append(errs, errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…) from your Slack app's OAuth & Permissions page"))
		}
	}
	errs = append(errs, c.checkTeams()...)
	if c.Slack.APIURL != "" {
		if u, err := url.Parse(c.Slack.APIURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("slack apiURL %q is not a URL", c.Slack.APIURL))
		}
	}
	if t := time.Duration(c.Builtin.Timeout); t < 0 || t > time.Minute {
		errs = append(errs, fmt.Errorf("builtin timeout %s: use a duration between 1ms and 1m, like 10s", t))
	}
	if c.Builtin.WebhookURL != "" {
		if u, err := url.Parse(c.Builtin.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("builtin webhookURL %q is not an http(s) URL", c.Builtin.WebhookURL))
		}
		if c.BuiltinWebhookSecret == "" {
			errs = append(errs, errors.New("builtin webhookURL is set but BUILTIN_WEBHOOK_SECRET is not; the webhook must be signed"))
		}
	}
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
	c.schedule = governance.Schedule{DaysUntilEscalation: a.DaysUntilEscalation, DaysBetweenReminders: a.DaysBetweenReminders,
		MaxReminders: a.MaxReminders, RequestExpiryDays: a.RequestExpiryDays}
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
	if err := c.Scheduler.Check(); err != nil {
		errs = append(errs, err)
	}
	if c.Outbox.Workers < 1 || c.Outbox.Workers > 256 {
		errs = append(errs, fmt.Errorf("outbox workers is %d; use 1 to 256", c.Outbox.Workers))
	}
	between := func(name string, d duration, lo, hi time.Duration, example string) {
		if v := time.Duration(d); v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s is %s; use a duration from %s to %s, such as %s", name, v, lo, hi, example))
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
	errs = append(errs, c.loadCatalog()...)
	return errs
}

func (c *Config) loadCatalog() []error {
	var err error
	switch {
	case c.CatalogFile != "" && c.CatalogYAML.Kind != 0:
		return []error{errors.New("set either catalog or catalogFile, not both")}
	case c.CatalogFile != "":
		var data []byte
		data, err = os.ReadFile(c.CatalogFile)
		if err != nil {
			return []error{fmt.Errorf("catalogFile: %w", err)}
		}
		c.catalog, err = governance.ParseCatalog(data)
	case c.CatalogYAML.Kind != 0:
		c.catalog, err = governance.CatalogFromYAML(&c.CatalogYAML)
	default:
		c.sample = true
		c.catalog, err = governance.ParseCatalog(sampleCatalog)
	}
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, it := range c.catalog.Items() {
		switch it.Backend {
		case builtin.Name:
		case sailpoint.Name:
			if _, _, err := sailpoint.ParseRef(it.Ref); err != nil && !it.Search {
				errs = append(errs, fmt.Errorf("catalog item %s: %w", it.ID, err))
			}
		case entra.Name:
			if _, _, err := entra.ParseRef(it.Ref); err != nil && !it.Search {
				errs = append(errs, fmt.Errorf("catalog item %s: %w", it.ID, err))
			}
		case permissions.Name:
			if _, err := permissions.ParseRef(it.Ref); err != nil {
				errs = append(errs, fmt.Errorf("catalog item %s: %w", it.ID, err))
			}
			if it.DefaultDuration == 0 {
				errs = append(errs, fmt.Errorf("catalog item %s: Permissions Management grants for a limited time only; set defaultDuration (e.g. 1h)", it.ID))
			}
		default:
			errs = append(errs, fmt.Errorf("catalog item %s: backend %q is not available in this build; use builtin, sailpoint, entra or permissions", it.ID, it.Backend))
		}
	}
	if slices.Contains(c.catalog.Backends(), entra.Name) {
		if c.AzureTenantID == "" || c.EntraClientID == "" || c.EntraClientSecret == "" {
			errs = append(errs, errors.New("the catalog uses the entra backend: set AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET "+
				"(accessbot's app registration, with the Graph application permissions EntitlementManagement.ReadWrite.All and User.Read.All)"))
		} else if _, err := entra.New(c.entraOptions()); err != nil {
			errs = append(errs, err)
		}
	}
	if slices.Contains(c.catalog.Backends(), permissions.Name) {
		if _, err := c.permissionsOptions(); err != nil {
			errs = append(errs, fmt.Errorf("the catalog uses the permissions backend: %w", err))
		}
	}
	if slices.Contains(c.catalog.Backends(), sailpoint.Name) {
		if c.SailPoint.BaseURL == "" || c.SailPointClientID == "" || c.SailPointClientSecret == "" {
			errs = append(errs, errors.New("the catalog uses the sailpoint backend: set sailpoint.baseURL (or SAILPOINT_BASE_URL) "+
				"and SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET to a personal access token of accessbot's service identity"))
		} else if _, err := c.sailpointOptions(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// sailpointOptions are the SailPoint backend's settings, checked.
func (c *Config) sailpointOptions() (sailpoint.Options, error) {
	o := sailpoint.Options{BaseURL: c.SailPoint.BaseURL, TokenURL: c.SailPoint.TokenURL,
		ClientID: c.SailPointClientID, ClientSecret: c.SailPointClientSecret,
		Rate: c.SailPoint.Rate, Burst: c.SailPoint.Burst}
	_, err := sailpoint.New(o)
	return o, err
}

var appIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// teamsEnabled reports whether accessbot serves Microsoft Teams.
func (c *Config) teamsEnabled() bool { return c.Teams.AppID != "" }

func (c *Config) checkTeams() []error {
	var errs []error
	t := c.Teams
	if !c.teamsEnabled() {
		if c.TeamsAppPassword != "" || t.AdminChannel.ConversationID != "" {
			errs = append(errs, errors.New("teams: set TEAMS_APP_ID (the Azure Bot's Microsoft app id) to serve Teams"))
		}
		return errs
	}
	if !appIDPattern.MatchString(t.AppID) {
		errs = append(errs, fmt.Errorf("TEAMS_APP_ID %q is not a Microsoft app id (a GUID; Azure portal → the Azure Bot → Configuration)", t.AppID))
	}
	if c.TeamsAppPassword == "" {
		errs = append(errs, errors.New("TEAMS_APP_PASSWORD is not set: create a client secret for the bot's app registration and set it"))
	}
	if len(t.Tenants) == 0 {
		errs = append(errs, errors.New("teams: set teams.tenants (or TEAMS_TENANT_IDS) to your organisation's Entra tenant id "+
			"(Azure portal → Microsoft Entra ID → Overview → Tenant ID): a multi-tenant bot can be messaged from any organisation, "+
			"and accessbot serves only the people of the tenants listed"))
	}
	for _, id := range t.Tenants {
		if !appIDPattern.MatchString(id) {
			errs = append(errs, fmt.Errorf("teams tenant %q is not an Entra tenant id (a GUID: Azure portal → Microsoft Entra ID → Overview → Tenant ID)", id))
		}
	}
	if (t.AdminChannel.ServiceURL == "") != (t.AdminChannel.ConversationID == "") {
		errs = append(errs, errors.New("teams adminChannel: set both serviceURL and conversationID (from an activity the bot received in that channel)"))
	}
	for _, u := range []struct{ name, v string }{{"metadataURL", t.MetadataURL}, {"tokenURL", t.TokenURL}, {"adminChannel.serviceURL", t.AdminChannel.ServiceURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || p.Scheme != "https" || p.Host == "" {
			errs = append(errs, fmt.Errorf("teams %s %q is not an https URL", u.name, u.v))
		}
	}
	return errs
}

// permissionsOptions are the Permissions Management backend's settings, checked. It
// makes no call: the delegated token is redeemed on first use.
func (c *Config) permissionsOptions() (permissions.Options, error) {
	ts, err := permissions.RefreshTokenSource(permissions.Delegated{TenantID: c.AzureTenantID,
		ClientID: c.PermissionsClientID, ClientSecret: c.PermissionsClientSecret,
		RefreshToken: c.PermissionsRefreshToken, LoginURL: c.Permissions.LoginURL})
	if err != nil {
		return permissions.Options{}, fmt.Errorf("%w (set %s, see the README)", err, permissions.DefaultCredentials)
	}
	o := permissions.Options{TokenSource: ts, BaseURL: c.Permissions.GraphURL, Rate: c.Permissions.Rate, Burst: c.Permissions.Burst}
	_, err = permissions.New(o) // checks graphURL
	return o, err
}

// entraOptions are the Entra backend's settings.
func (c *Config) entraOptions() entra.Options {
	return entra.Options{TenantID: c.AzureTenantID, ClientID: c.EntraClientID, ClientSecret: c.EntraClientSecret,
		BaseURL: c.Entra.GraphURL, LoginURL: c.Entra.LoginURL, Rate: c.Entra.Rate, Burst: c.Entra.Burst}
}
