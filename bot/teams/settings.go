package teams

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/accessbot/accessbot/governance"
)

// Settings are Microsoft Teams' part of accessbot's configuration: the `teams:` block, and
// from the environment TEAMS_APP_ID and TEAMS_TENANT_IDS (which win over the file) and
// TEAMS_APP_PASSWORD.
type Settings struct {
	AppID        string   `yaml:"appID"`   // the Azure Bot's Microsoft app id
	Tenants      []string `yaml:"tenants"` // Entra tenant ids whose people may use the bot; default: the home tenant
	AdminChannel struct {
		ServiceURL     string `yaml:"serviceURL"`     // e.g. https://smba.trafficmanager.net/emea/
		ConversationID string `yaml:"conversationID"` // the channel's id, 19:…@thread.tacv2
	} `yaml:"adminChannel"` // escalation alerts, with working buttons
	// ChannelServiceURL is the Bot Connector serviceUrl through which catalog items'
	// approval channels (approvalChannel: teams:19:…@thread.tacv2) are posted; the
	// serviceUrl of any activity from that team.
	ChannelServiceURL string `yaml:"channelServiceURL"`
	// Install reaches people who never wrote to the bot: accessbot is installed for them
	// through Microsoft Graph (see Installer).
	Install      InstallSettings `yaml:"install"`
	ServiceHosts []string        `yaml:"serviceHosts"` // Bot Connector hosts accessbot may call; default public, GCC, GCC High
	MetadataURL  string          `yaml:"metadataURL"`  // Bot Framework OpenID metadata; default public cloud
	TokenURL     string          `yaml:"tokenURL"`     // default https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token
	AppPassword  string          `yaml:"-"`
}

// InstallSettings are `teams.install`: installing accessbot through Graph for people who
// never wrote to it.
type InstallSettings struct {
	Enabled bool `yaml:"enabled"`
	// CatalogAppID is the app's id in the org app catalog; empty: looked up by the
	// manifest id (the bot's app id), which needs AppCatalog.Read.All.
	CatalogAppID string `yaml:"catalogAppID"`
	// ServiceURL is the Bot Connector serviceUrl for people not yet seen; default
	// DefaultServiceURL. Each person's own replaces it with their first activity.
	ServiceURL string `yaml:"serviceURL"`
	GraphURL   string `yaml:"graphURL"` // default https://graph.microsoft.com/v1.0 (national clouds differ)
	LoginURL   string `yaml:"loginURL"` // default https://login.microsoftonline.com
}

// DefaultServiceURL is the public cloud's global Bot Connector serviceUrl, which Microsoft
// publishes for proactive messages when no activity has given one.
const DefaultServiceURL = "https://smba.trafficmanager.net/teams/"

// Installer is the installer the settings describe over apps (nil when teams.install is
// off).
func (s *Settings) Installer(apps Apps) *Installer {
	if !s.Install.Enabled || len(s.Tenants) == 0 || apps == nil {
		return nil
	}
	return NewInstaller(apps, InstallerOptions{ServiceURL: cmp.Or(s.Install.ServiceURL, DefaultServiceURL), Tenant: s.Tenants[0]})
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.AppPassword = env.Secret("TEAMS_APP_PASSWORD")
	if v := env.Get("TEAMS_APP_ID"); v != "" {
		s.AppID = v
	}
	if v := env.Get("TEAMS_TENANT_IDS"); v != "" {
		s.Tenants = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
}

// Enabled reports whether accessbot serves Microsoft Teams.
func (s *Settings) Enabled() bool { return s.AppID != "" }

// Defaults serves the organisation's own tenant when no tenant is listed: the one in the
// token URL of a single-tenant bot (login.microsoftonline.com/<tenant id>/…), else
// homeTenant (AZURE_TENANT_ID, the tenant of accessbot's Entra app registration).
func (s *Settings) Defaults(homeTenant string) {
	if !s.Enabled() || len(s.Tenants) > 0 {
		return
	}
	if u, err := url.Parse(s.TokenURL); err == nil && s.TokenURL != "" {
		if id, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/"); guid.MatchString(id) {
			s.Tenants = []string{id}
			return
		}
	}
	if guid.MatchString(homeTenant) {
		s.Tenants = []string{homeTenant}
	}
}

// guid is the form of Microsoft app ids and Entra tenant ids.
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Check returns every problem of the settings.
func (s *Settings) Check() []error {
	var errs []error
	if !s.Enabled() {
		if s.AppPassword != "" || s.AdminChannel.ConversationID != "" {
			errs = append(errs, errors.New("teams: set TEAMS_APP_ID (the Azure Bot's Microsoft app id) to serve Teams"))
		}
		return errs
	}
	if !guid.MatchString(s.AppID) {
		errs = append(errs, fmt.Errorf("TEAMS_APP_ID %q is not a Microsoft app id (a GUID; Azure portal → the Azure Bot → Configuration)", s.AppID))
	}
	if s.AppPassword == "" {
		errs = append(errs, errors.New("TEAMS_APP_PASSWORD is not set: create a client secret for the bot's app registration and set it"))
	}
	if len(s.Tenants) == 0 {
		errs = append(errs, errors.New("teams: set teams.tenants (or TEAMS_TENANT_IDS) to your organisation's Entra tenant id "+
			"(Azure portal → Microsoft Entra ID → Overview → Tenant ID): a multi-tenant bot can be messaged from any organisation, "+
			"and accessbot serves only the people of the tenants listed"))
	}
	for _, id := range s.Tenants {
		if !guid.MatchString(id) {
			errs = append(errs, fmt.Errorf("teams tenant %q is not an Entra tenant id (a GUID: Azure portal → Microsoft Entra ID → Overview → Tenant ID)", id))
		}
	}
	if (s.AdminChannel.ServiceURL == "") != (s.AdminChannel.ConversationID == "") {
		errs = append(errs, errors.New("teams adminChannel: set both serviceURL and conversationID (from an activity the bot received in that channel)"))
	}
	if s.Install.Enabled && len(s.Tenants) > 1 {
		errs = append(errs, errors.New("teams.install: accessbot installs itself for people of one tenant; list only that tenant in teams.tenants"))
	}
	for _, u := range []struct{ name, v string }{{"metadataURL", s.MetadataURL}, {"tokenURL", s.TokenURL}, {"adminChannel.serviceURL", s.AdminChannel.ServiceURL},
		{"install.serviceURL", s.Install.ServiceURL}, {"channelServiceURL", s.ChannelServiceURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || p.Scheme != "https" || p.Host == "" {
			errs = append(errs, fmt.Errorf("teams %s %q is not an https URL", u.name, u.v))
		}
	}
	return errs
}

// Connector is the Bot Connector client the settings describe, logging to log (nil:
// slog.Default()) and telling observe (nil: nobody) of every call.
func (s *Settings) Connector(log *slog.Logger, observe func(call string, err error)) *Connector {
	return NewConnector(ConnectorOptions{AppID: s.AppID, AppPassword: s.AppPassword, TokenURL: s.TokenURL, ServiceHosts: s.ServiceHosts,
		Logger: log, Observe: observe})
}

// Validator checks the Bot Framework tokens of the activities sent to the bot.
func (s *Settings) Validator() *Validator {
	return NewValidator(ValidatorOptions{AppID: s.AppID, MetadataURL: s.MetadataURL})
}

// Admin is the channel escalation alerts go to, or nil.
func (s *Settings) Admin() *Conversation {
	if s.AdminChannel.ConversationID == "" {
		return nil
	}
	return &Conversation{ServiceURL: s.AdminChannel.ServiceURL, ID: s.AdminChannel.ConversationID}
}

// Probe is `accessbot doctor`'s check: the app gets Bot Connector tokens, and with
// teams.install on, apps finds it in the org catalog. It says what is served, or returns
// what to fix.
func (s *Settings) Probe(ctx context.Context, apps Apps) (string, error) {
	if err := s.Connector(nil, nil).CheckCredentials(); err != nil {
		return "", fmt.Errorf("no Bot Connector token for app %s: %w (check TEAMS_APP_ID and TEAMS_APP_PASSWORD)", s.AppID, err)
	}
	msg := fmt.Sprintf("app %s gets Bot Connector tokens; serves the people of tenant %s only; messaging endpoint: <public URL>/teams/messages",
		s.AppID, strings.Join(s.Tenants, ", "))
	if s.Installer(apps) == nil {
		return msg, nil
	}
	id, err := apps.CatalogID(ctx)
	if err != nil {
		return "", fmt.Errorf("teams.install: %w (the app registration needs AppCatalog.Read.All, or set teams.install.catalogAppID)", err)
	}
	return msg + fmt.Sprintf("; installs itself for people who never wrote to it (org catalog app %s)", id), nil
}
