package sailpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/governance"
)

// Connected accounts: a person signs in to ISC once (OAuth 2.0 authorization code with
// PKCE, through an ISC OAuth client of its own, apart from accessbot's ORG_ADMIN personal
// access token), and accessbot then decides their approvals with their token, so that ISC
// records them.

var _ governance.Connector = (*Backend)(nil)

// ConnectCallbackPath is where ISC sends the browser back after the sign-in, under
// accessbot's public URL; the connect OAuth client must list <public URL> + this path
// among its redirect URIs.
const ConnectCallbackPath = "/oauth/sailpoint/callback"

// oauthInfo is the answer of GET /oauth/info.
type oauthInfo struct {
	AuthorizeEndpoint string `json:"authorizeEndpoint"`
	TokenEndpoint     string `json:"tokenEndpoint"`
}

// SignIn describes ISC's sign-in: the tenant's authorize endpoint as GET /oauth/info
// names it (tenants with a vanity domain have their own), else the tenant's login host,
// https://{tenant}.login.sailpoint.com/oauth/authorize; the token endpoint on the API
// host; the connect client's id and secret; PKCE S256.
func (b *Backend) SignIn(ctx context.Context) (governance.SignIn, error) {
	if b.connect.ClientID == "" {
		return governance.SignIn{}, errors.New("sailpoint: connected accounts need an OAuth client: set sailpoint.connect.clientId " +
			"(or SAILPOINT_CONNECT_CLIENT_ID) and SAILPOINT_CONNECT_CLIENT_SECRET")
	}
	auth, err := b.authorizeEndpoint(ctx)
	if err != nil {
		return governance.SignIn{}, err
	}
	return governance.SignIn{AuthURL: auth, TokenURL: b.api.cc.TokenURL, ClientID: b.connect.ClientID,
		ClientSecret: b.connect.ClientSecret, Scopes: b.connect.Scopes, PKCE: true}, nil
}

// authorizeEndpoint reads the authorize endpoint from GET /oauth/info, falling back to
// the tenant's login host when the tenant does not answer it.
func (b *Backend) authorizeEndpoint(ctx context.Context) (string, error) {
	info, err := b.oauthInfo(ctx)
	if err == nil && info.AuthorizeEndpoint != "" {
		return info.AuthorizeEndpoint, nil
	}
	if fallback := loginHost(b.api.base); fallback != "" {
		return fallback + "/oauth/authorize", nil
	}
	if err == nil {
		err = errors.New("it names no authorizeEndpoint")
	}
	return "", fmt.Errorf("sailpoint: find the tenant's sign-in page at %s/oauth/info: %w", b.api.base, err)
}

// loginHost is https://{tenant}.login.sailpoint.com for https://{tenant}.api.identitynow.com.
func loginHost(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	tenant, ok := strings.CutSuffix(u.Hostname(), ".api.identitynow.com")
	if !ok || tenant == "" {
		return ""
	}
	return "https://" + tenant + ".login.sailpoint.com"
}

func (b *Backend) oauthInfo(ctx context.Context) (oauthInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, b.api.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api.base+"/oauth/info", nil)
	if err != nil {
		return oauthInfo{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := b.api.http.Do(req)
	if err != nil {
		return oauthInfo{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return oauthInfo{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return oauthInfo{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var info oauthInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return oauthInfo{}, fmt.Errorf("unreadable answer: %w", err)
	}
	return info, nil
}

// WhoIs says whose account a fresh token is: ISC's token response names the identity
// (identity_id), and its e-mail, which accessbot compares with the chat user's, is read
// with accessbot's own token.
func (b *Backend) WhoIs(ctx context.Context, _ string, extra func(key string) any) (governance.Identity, error) {
	id, _ := extra("identity_id").(string)
	if id == "" {
		return governance.Identity{}, &governance.Problem{Err: governance.ErrNotFound, Message: "SailPoint's answer names no identity " +
			"(the connect OAuth client gave a token without a user in it); ask your access admins to check its grant types"}
	}
	var found []publicIdentity
	q := url.Values{"filters": {"id eq " + quote(id)}, "limit": {"1"}}
	if err := b.api.call(ctx, http.MethodGet, "/public-identities", q, nil, &found); err != nil {
		return governance.Identity{}, err
	}
	if len(found) == 0 || found[0].Email == "" {
		return governance.Identity{}, &governance.Problem{Err: governance.ErrNotFound, Message: "SailPoint has no e-mail for the account " +
			"you signed in with, so accessbot cannot tell it is yours; ask your access admins to check your SailPoint identity"}
	}
	return governance.Identity{ID: found[0].ID, Email: strings.ToLower(found[0].Email), Name: found[0].Name}, nil
}

// ConnectClient is the ISC OAuth client people connect their accounts through.
type ConnectClient struct {
	ClientID     string   `yaml:"clientId"`
	ClientSecret string   `yaml:"-"`      // SAILPOINT_CONNECT_CLIENT_SECRET; empty for a PUBLIC client
	Scopes       []string `yaml:"scopes"` // empty: the client's own scope
}

// oauthClient is GetOAuthClientResponse, the fields doctor reads.
type oauthClient struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectUris"`
	GrantTypes   []string `json:"grantTypes"`
	AccessType   string   `json:"accessType"`
	Type         string   `json:"type"`
	Enabled      bool     `json:"enabled"`
}

// CheckConnect checks the connect OAuth client for the callback URL accessbot will use:
// the tenant names its authorize endpoint, and (read with accessbot's ORG_ADMIN token,
// GET /v3/oauth-clients/{id}) the client is enabled, may use AUTHORIZATION_CODE and
// REFRESH_TOKEN, is OFFLINE (so it gets refresh tokens), and lists callback among its
// redirect URIs. It says what works, or returns every problem with what to change.
func (b *Backend) CheckConnect(ctx context.Context, callback string) (string, error) {
	if b.connect.ClientID == "" {
		return "", errors.New("set sailpoint.connect.clientId (or SAILPOINT_CONNECT_CLIENT_ID) to the ISC OAuth client people connect through")
	}
	auth, err := b.authorizeEndpoint(ctx)
	if err != nil {
		return "", err
	}
	var c oauthClient
	if err := b.api.call(ctx, http.MethodGet, "/oauth-clients/"+url.PathEscape(b.connect.ClientID), nil, nil, &c); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			return "", fmt.Errorf("SailPoint has no OAuth client %s: create it (docs/backends/sailpoint.md) and set SAILPOINT_CONNECT_CLIENT_ID to its id", b.connect.ClientID)
		}
		return "", fmt.Errorf("read the OAuth client %s: %w", b.connect.ClientID, err)
	}
	var problems []error
	if !c.Enabled {
		problems = append(problems, fmt.Errorf("the OAuth client %s is disabled: enable it", c.ID))
	}
	for _, g := range []string{"AUTHORIZATION_CODE", "REFRESH_TOKEN"} {
		if !containsFold(c.GrantTypes, g) {
			problems = append(problems, fmt.Errorf("the OAuth client %s lacks the grant type %s: add it", c.ID, g))
		}
	}
	if c.AccessType != "" && c.AccessType != "OFFLINE" {
		problems = append(problems, fmt.Errorf("the OAuth client %s has accessType %s: set it to OFFLINE, so that it gets refresh tokens", c.ID, c.AccessType))
	}
	if !contains(c.RedirectURIs, callback) {
		problems = append(problems, fmt.Errorf("the OAuth client %s does not list %s among its redirect URIs (it lists %s): add it",
			c.ID, callback, strings.Join(c.RedirectURIs, ", ")))
	}
	if c.Type == "CONFIDENTIAL" && b.connect.ClientSecret == "" {
		problems = append(problems, fmt.Errorf("the OAuth client %s is CONFIDENTIAL: set SAILPOINT_CONNECT_CLIENT_SECRET to its secret", c.ID))
	}
	if err := errors.Join(problems...); err != nil {
		return "", err
	}
	return fmt.Sprintf("people connect through the OAuth client %s (%q) at %s; it sends them back to %s", c.ID, c.Name, auth, callback), nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
