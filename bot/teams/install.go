package teams

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Installer reaches people who never wrote to the bot in Teams, where a bot cannot
// message anyone it has no conversation with: it installs accessbot in their personal
// scope through Microsoft Graph and takes the personal chat that the installation makes
// as the conversation to reach them in (see docs/teams.md, "Reaching people who never
// wrote to the bot"). The app must be in the organisation's app catalog, and its app
// registration needs admin consent to the Graph application permissions
// TeamsAppInstallation.ReadWriteSelfForUser.All, User.Read.All and (unless the catalog id
// is configured) AppCatalog.Read.All.
type Installer struct {
	graph      *msgraph.Client
	graphURL   string // Graph's root, for the catalog app's @odata.bind
	manifestID string // the app's manifest id, by which the catalog is searched
	serviceURL string // the Bot Connector's serviceUrl for the tenant
	tenant     string

	mu      sync.Mutex
	catalog string // the app's id in the org catalog (teamsApp.id)
}

// InstallerOptions configure an Installer.
type InstallerOptions struct {
	Graph *msgraph.Client
	// GraphURL is Graph's root with its version (default msgraph.DefaultBaseURL).
	GraphURL string
	// ManifestID is the Teams app's manifest id (accessbot's: the bot's app id);
	// CatalogID, when known, the app's id in the org catalog, which is looked up by
	// ManifestID otherwise.
	ManifestID, CatalogID string
	// ServiceURL is the Bot Connector serviceUrl of the tenant's region, used until an
	// activity from the person gives theirs.
	ServiceURL string
	// Tenant is the Entra tenant the people are installed in.
	Tenant string
}

// NewInstaller returns an installer.
func NewInstaller(o InstallerOptions) *Installer {
	if o.GraphURL == "" {
		o.GraphURL = msgraph.DefaultBaseURL
	}
	return &Installer{graph: o.Graph, graphURL: strings.TrimRight(o.GraphURL, "/"), manifestID: o.ManifestID,
		catalog: o.CatalogID, serviceURL: o.ServiceURL, tenant: o.Tenant}
}

// GraphPermission is the Graph application permission each installer call needs.
func GraphPermission(method, path string) string {
	switch {
	case strings.Contains(path, "/teamwork/installedApps"):
		return "TeamsAppInstallation.ReadWriteSelfForUser.All"
	case strings.HasPrefix(path, "/appCatalogs"):
		return "AppCatalog.Read.All"
	}
	return msgraph.Permission(method, path)
}

// Install makes sure accessbot is installed in Teams for the person with this e-mail,
// and returns the personal chat to reach them in, and who they are.
func (i *Installer) Install(ctx context.Context, email string) (Conversation, governance.ChatUser, error) {
	u, err := i.graph.UserByEmail(ctx, email)
	if err != nil {
		return Conversation{}, governance.ChatUser{}, fmt.Errorf("find %s in Entra: %w", email, err)
	}
	app, err := i.catalogID(ctx)
	if err != nil {
		return Conversation{}, governance.ChatUser{}, err
	}
	installations := "/users/" + url.PathEscape(u.ID) + "/teamwork/installedApps"
	inst, err := i.installation(ctx, installations, app)
	if err == nil && inst == "" {
		body := map[string]string{"teamsApp@odata.bind": i.graphURL + "/appCatalogs/teamsApps/" + url.PathEscape(app)}
		err = i.graph.Do(ctx, http.MethodPost, installations, nil, body, nil)
		var ge *msgraph.Error
		if errors.As(err, &ge) && ge.Status == http.StatusConflict {
			err = nil // installed meanwhile (by them, or by another replica)
		}
		if err == nil {
			inst, err = i.installation(ctx, installations, app)
			if err == nil && inst == "" {
				err = fmt.Errorf("teams: accessbot installed for %s, but Graph lists no installation", email)
			}
		}
	}
	if err != nil {
		return Conversation{}, governance.ChatUser{}, fmt.Errorf("install accessbot in Teams for %s: %w", email, err)
	}
	var chat struct {
		ID string `json:"id"`
	}
	if err := i.graph.Do(ctx, http.MethodGet, installations+"/"+url.PathEscape(inst)+"/chat", nil, nil, &chat); err != nil {
		return Conversation{}, governance.ChatUser{}, fmt.Errorf("personal chat of %s with accessbot: %w", email, err)
	}
	if chat.ID == "" {
		return Conversation{}, governance.ChatUser{}, fmt.Errorf("teams: Graph gave no personal chat for %s", email)
	}
	conv := Conversation{ServiceURL: i.serviceURL, ID: chat.ID, TenantID: i.tenant}
	who := governance.ChatUser{Platform: Platform, Email: strings.ToLower(email), Name: u.DisplayName, Org: strings.ToLower(i.tenant),
		Reach: encodeConversation(conv)}
	return conv, who, nil
}

// installation is the id of accessbot's installation among the user's, or "".
func (i *Installer) installation(ctx context.Context, path, app string) (string, error) {
	q := url.Values{"$expand": {"teamsApp"}, "$filter": {"teamsApp/id eq " + msgraph.Quote(app)}}
	found, err := msgraph.All[struct {
		ID string `json:"id"`
	}](ctx, i.graph, path, q, 1)
	if err != nil || len(found) == 0 {
		return "", err
	}
	return found[0].ID, nil
}

// catalogID is the app's id in the org catalog: configured, or looked up once by its
// manifest id (an org-published app's catalog id is not its manifest id).
func (i *Installer) catalogID(ctx context.Context) (string, error) {
	i.mu.Lock()
	id := i.catalog
	i.mu.Unlock()
	if id != "" {
		return id, nil
	}
	q := url.Values{"$filter": {"externalId eq " + msgraph.Quote(i.manifestID)}}
	found, err := msgraph.All[struct {
		ID string `json:"id"`
	}](ctx, i.graph, "/appCatalogs/teamsApps", q, 2)
	switch {
	case err != nil:
		return "", fmt.Errorf("find accessbot in the Teams app catalog: %w", err)
	case len(found) != 1:
		return "", governance.Permanent(fmt.Errorf("teams: the org app catalog has %d apps with the manifest id %s; "+
			"publish accessbot's app package to the org catalog (Teams admin center → Manage apps → Upload), or set teams.install.catalogAppID",
			len(found), i.manifestID))
	}
	i.mu.Lock()
	i.catalog = found[0].ID
	i.mu.Unlock()
	return found[0].ID, nil
}
