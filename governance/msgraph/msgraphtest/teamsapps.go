package msgraphtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TeamsGraph is a fake Microsoft Graph for Teams app installation in a user's personal scope
// (v1.0): the identity platform's client-credentials token endpoint for one tenant, GET
// /users (by mail or userPrincipalName), GET /appCatalogs/teamsApps (by externalId), and
// /users/{id}/teamwork/installedApps — list (with $expand=teamsApp and a teamsApp/id
// filter), install (201 with no body; 409 Conflict when installed already) and the chat of
// an installation. It refuses what Graph refuses: a token of another tenant, app or scope,
// query options an endpoint does not take, a body with unknown fields or a bind to
// another URL, an app that is not in the org catalog, and every teamwork call while the
// app registration lacks admin consent to a TeamsAppInstallation permission (403).
type TeamsGraph struct {
	*Server
	Tenant, ClientID, ClientSecret string
	AppID                          string // the bot's app id: the manifest id of the org-catalog app
	CatalogID                      string // the app's id in the org catalog (teamsApp.id)

	mu        sync.Mutex
	consented bool
	tokens    map[string]bool
	installed map[string]string // user id → installation id
	raced     map[string]bool   // user id → the next install loses a race, see RaceInstall
	seq       int
}

// StartTeamsGraph runs a fake Graph for tenant, whose org catalog holds the bot appID,
// with admin consent given, until the test ends, with the users given.
func StartTeamsGraph(t testing.TB, tenant, appID, secret string, users ...User) *TeamsGraph {
	g := &TeamsGraph{Tenant: tenant, ClientID: appID, ClientSecret: secret, AppID: appID, CatalogID: "catalog-" + appID,
		consented: true, tokens: map[string]bool{}, installed: map[string]string{},
		raced: map[string]bool{}}
	g.Server = NewServer(Config{Version: "/v1.0", PageSize: 2,
		QueryOptions: []string{"$filter", "$expand", "$select", "$top", "$skiptoken"}, UserFilterJoins: []string{"or"},
		Authorized: g.authorized, Token: g.token, Routes: g.routes})
	for _, u := range users {
		g.AddUser(u)
	}
	t.Cleanup(g.Close)
	return g
}

// LoginURL is the identity platform's host on the fake.
func (g *TeamsGraph) LoginURL() string { return g.URL }

// Consent gives or takes back the admin consent to the app's Teams app installation permission.
func (g *TeamsGraph) Consent(given bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.consented = given
}

// Installed says whether the app is installed for the user (Entra object id).
func (g *TeamsGraph) Installed(userID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.installed[userID]
	return ok
}

// Install installs the app for a user, as they or an admin would in Teams.
func (g *TeamsGraph) Install(userID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	g.installed[userID] = fmt.Sprintf("installation-%d", g.seq)
}

// RaceInstall makes the next install for the user lose a race: someone else installs the
// app for them just before, and Graph answers 409 Conflict.
func (g *TeamsGraph) RaceInstall(userID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.raced[userID] = true
}

// TeamsChatID is the id of the personal chat of a user with the bot, as Graph gives it.
func TeamsChatID(userID, appID string) string {
	return "19:" + userID + "_" + appID + "@unq.gbl.spaces"
}

func (g *TeamsGraph) token(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	switch {
	case r.Method != http.MethodPost || err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS900144: The request body must be form-encoded."})
	case r.URL.Path != "/"+g.Tenant+"/oauth2/v2.0/token":
		WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."})
	case form.Get("grant_type") != "client_credentials":
		WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "AADSTS70003: unsupported grant type."})
	case form.Get("scope") != "https://graph.microsoft.com/.default":
		WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_scope", "error_description": "AADSTS1002012: Client credential flows must have a scope value with /.default suffixed to the resource identifier."})
	case form.Get("client_id") != g.ClientID:
		WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found in the directory."})
	case form.Get("client_secret") != g.ClientSecret:
		WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
	default:
		g.mu.Lock()
		g.seq++
		tok := fmt.Sprintf("graph-token-%d", g.seq)
		g.tokens[tok] = true
		g.mu.Unlock()
		WriteJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

func (g *TeamsGraph) authorized(tok string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.tokens[tok]
}

func (g *TeamsGraph) routes(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/appCatalogs/teamsApps":
		g.catalog(w, r)
	case len(seg) >= 4 && seg[0] == "users" && seg[2] == "teamwork" && seg[3] == "installedApps":
		g.mu.Lock()
		consented := g.consented
		g.mu.Unlock()
		if !consented {
			WriteError(w, http.StatusForbidden, "", "Forbidden", "Missing role permissions on the request. API requires one of "+
				"'TeamsAppInstallation.ReadWriteSelfForUser.All, TeamsAppInstallation.ReadWriteForUser.All'.")
			return
		}
		if _, ok := g.User(seg[1]); !ok {
			WriteError(w, http.StatusNotFound, "", "NotFound", "User not found")
			return
		}
		switch {
		case len(seg) == 4 && r.Method == http.MethodGet:
			g.listInstalled(w, r, seg[1])
		case len(seg) == 4 && r.Method == http.MethodPost:
			g.install(w, r, seg[1], body)
		case len(seg) == 6 && seg[5] == "chat" && r.Method == http.MethodGet:
			g.chat(w, r, seg[1], seg[4])
		default:
			WriteError(w, http.StatusMethodNotAllowed, "", "BadRequest", "Unsupported request")
		}
	default:
		WriteError(w, http.StatusNotFound, "", "BadRequest", "Resource not found for the segment '"+seg[0]+"'.")
	}
}

// catalog is GET /appCatalogs/teamsApps: the org catalog holds the bot's app, whose
// externalId is its manifest id.
func (g *TeamsGraph) catalog(w http.ResponseWriter, r *http.Request) {
	cs, _, err := ParseFilter(r.URL.Query().Get("$filter"), "externalId", "distributionMethod")
	if err != nil {
		BadRequest(w, "%s", err.Error())
		return
	}
	items := []map[string]any{{"id": g.CatalogID, "externalId": g.AppID, "displayName": "accessbot", "distributionMethod": "organization"}}
	for _, c := range cs {
		if (c.Path == "externalId" && c.Value != g.AppID) || (c.Path == "distributionMethod" && c.Value != "organization") {
			items = nil
		}
	}
	g.Page(w, r, items)
}

// listInstalled is GET /users/{id}/teamwork/installedApps, which takes $expand=teamsApp
// and $filter=teamsApp/id eq '…'.
func (g *TeamsGraph) listInstalled(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	if e := q.Get("$expand"); e != "" && e != "teamsApp" && e != "teamsAppDefinition" {
		BadRequest(w, "Could not find a property named '%s' on type 'microsoft.graph.userScopeTeamsAppInstallation'.", e)
		return
	}
	cs, _, err := ParseFilter(q.Get("$filter"), "teamsApp/id")
	if err != nil {
		BadRequest(w, "%s", err.Error())
		return
	}
	g.mu.Lock()
	id, ok := g.installed[user]
	g.mu.Unlock()
	var items []map[string]any
	if ok {
		it := map[string]any{"id": id}
		if q.Get("$expand") == "teamsApp" {
			it["teamsApp"] = map[string]any{"id": g.CatalogID, "externalId": g.AppID, "displayName": "accessbot", "distributionMethod": "organization"}
		}
		items = append(items, it)
		for _, c := range cs {
			if c.Value != g.CatalogID {
				items = nil
			}
		}
	}
	g.Page(w, r, items)
}

// install is POST /users/{id}/teamwork/installedApps with
// {"teamsApp@odata.bind":"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{id}"}:
// 201 Created with no body, 409 Conflict when the app is installed already.
func (g *TeamsGraph) install(w http.ResponseWriter, r *http.Request, user string, body []byte) {
	var in struct {
		Bind string `json:"teamsApp@odata.bind"`
	}
	if !DecodeBody(w, r, body, &in) {
		return
	}
	app, ok := strings.CutPrefix(in.Bind, "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/")
	if !ok { // the fake's own root stands for Graph's
		app, ok = strings.CutPrefix(in.Bind, g.BaseURL()+"/appCatalogs/teamsApps/")
	}
	if !ok || app != g.CatalogID {
		WriteError(w, http.StatusNotFound, "", "NotFound", "The app was not found in the app catalog.")
		return
	}
	g.mu.Lock()
	_, installed := g.installed[user]
	raced := g.raced[user]
	delete(g.raced, user)
	g.mu.Unlock()
	if raced {
		g.Install(user)
		installed = true
	}
	if installed {
		WriteError(w, http.StatusConflict, "", "Conflict", "App is already installed.")
		return
	}
	g.Install(user)
	g.KeepCreated(body)
	w.WriteHeader(http.StatusCreated)
}

// chat is GET /users/{id}/teamwork/installedApps/{installationId}/chat.
func (g *TeamsGraph) chat(w http.ResponseWriter, r *http.Request, user, installation string) {
	g.mu.Lock()
	id, ok := g.installed[user]
	g.mu.Unlock()
	if !ok || id != installation {
		WriteError(w, http.StatusNotFound, "", "NotFound", "Installation not found.")
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"id": TeamsChatID(user, g.AppID), "topic": nil, "chatType": "oneOnOne",
		"tenantId": g.Tenant})
}
