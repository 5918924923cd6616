package msgraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/accessbot/accessbot/governance"
)

// TeamsApps installs a Teams app in people's personal scope through Graph and names the
// personal chat each installation makes: how a bot reaches someone who never wrote to it
// (bot/teams's Installer asks it; cmd wires the two). The app must be in the
// organisation's app catalog, and the app registration needs admin consent to the Graph
// application permissions TeamsAppInstallation.ReadWriteSelfForUser.All, User.Read.All
// and (unless the catalog id is configured) AppCatalog.Read.All.
type TeamsApps struct {
	graph      *Client
	graphURL   string // Graph's root, for the catalog app's @odata.bind
	manifestID string // the app's manifest id, by which the catalog is searched

	mu      sync.Mutex
	catalog string // the app's id in the org catalog (teamsApp.id)
}

// TeamsAppsOptions configure TeamsApps.
type TeamsAppsOptions struct {
	// GraphURL is Graph's root with its version (default DefaultBaseURL).
	GraphURL string
	// ManifestID is the Teams app's manifest id (accessbot's: the bot's app id);
	// CatalogID, when known, the app's id in the org catalog, which is looked up by
	// ManifestID otherwise.
	ManifestID, CatalogID string
}

// NewTeamsApps returns TeamsApps that call Graph through c.
func NewTeamsApps(c *Client, o TeamsAppsOptions) *TeamsApps {
	if o.GraphURL == "" {
		o.GraphURL = DefaultBaseURL
	}
	return &TeamsApps{graph: c, graphURL: strings.TrimRight(o.GraphURL, "/"), manifestID: o.ManifestID, catalog: o.CatalogID}
}

// TeamsPermission is the Graph application permission each TeamsApps call needs, for
// Options.Permission.
func TeamsPermission(method, path string) string {
	switch {
	case strings.Contains(path, "/teamwork/installedApps"):
		return "TeamsAppInstallation.ReadWriteSelfForUser.All"
	case strings.HasPrefix(path, "/appCatalogs"):
		return "AppCatalog.Read.All"
	}
	return Permission(method, path)
}

// Install makes sure the app is installed for the person with this e-mail, and returns
// the id of their personal chat with it and their display name.
func (a *TeamsApps) Install(ctx context.Context, email string) (chatID, name string, err error) {
	u, err := a.graph.UserByEmail(ctx, email)
	if err != nil {
		return "", "", fmt.Errorf("find %s in Entra: %w", email, err)
	}
	app, err := a.CatalogID(ctx)
	if err != nil {
		return "", "", err
	}
	installations := "/users/" + url.PathEscape(u.ID) + "/teamwork/installedApps"
	inst, err := a.installation(ctx, installations, app)
	if err == nil && inst == "" {
		body := map[string]string{"teamsApp@odata.bind": a.graphURL + "/appCatalogs/teamsApps/" + url.PathEscape(app)}
		err = a.graph.Do(ctx, http.MethodPost, installations, nil, body, nil)
		var ge *Error
		if errors.As(err, &ge) && ge.Status == http.StatusConflict {
			err = nil // installed meanwhile (by them, or by another replica)
		}
		if err == nil {
			inst, err = a.installation(ctx, installations, app)
			if err == nil && inst == "" {
				err = fmt.Errorf("msgraph: the Teams app was installed for %s, but Graph lists no installation", email)
			}
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("install the Teams app for %s: %w", email, err)
	}
	var chat struct {
		ID string `json:"id"`
	}
	if err := a.graph.Do(ctx, http.MethodGet, installations+"/"+url.PathEscape(inst)+"/chat", nil, nil, &chat); err != nil {
		return "", "", fmt.Errorf("personal chat of %s with the Teams app: %w", email, err)
	}
	if chat.ID == "" {
		return "", "", fmt.Errorf("msgraph: Graph gave no personal chat for %s", email)
	}
	return chat.ID, u.DisplayName, nil
}

// installation is the id of the app's installation among the user's, or "".
func (a *TeamsApps) installation(ctx context.Context, path, app string) (string, error) {
	q := url.Values{"$expand": {"teamsApp"}, "$filter": {"teamsApp/id eq " + Quote(app)}}
	found, err := All[struct {
		ID string `json:"id"`
	}](ctx, a.graph, path, q, 1)
	if err != nil || len(found) == 0 {
		return "", err
	}
	return found[0].ID, nil
}

// CatalogID is the app's id in the org catalog: configured, or looked up once by its
// manifest id (an org-published app's catalog id is not its manifest id).
func (a *TeamsApps) CatalogID(ctx context.Context) (string, error) {
	a.mu.Lock()
	id := a.catalog
	a.mu.Unlock()
	if id != "" {
		return id, nil
	}
	q := url.Values{"$filter": {"externalId eq " + Quote(a.manifestID)}}
	found, err := All[struct {
		ID string `json:"id"`
	}](ctx, a.graph, "/appCatalogs/teamsApps", q, 2)
	switch {
	case err != nil:
		return "", fmt.Errorf("find accessbot in the Teams app catalog: %w", err)
	case len(found) != 1:
		return "", governance.Permanent(fmt.Errorf("teams: the org app catalog has %d apps with the manifest id %s; "+
			"publish accessbot's app package to the org catalog (Teams admin center → Manage apps → Upload), or set teams.install.catalogAppID",
			len(found), a.manifestID))
	}
	a.mu.Lock()
	a.catalog = found[0].ID
	a.mu.Unlock()
	return found[0].ID, nil
}
