package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Connected accounts: a person signs in to Microsoft once (identity platform v2.0,
// authorization code with PKCE, through a web app registration with delegated Graph
// permissions), and accessbot then decides their Entitlement Management approvals with
// their delegated token, so that Entra records them — the approval APIs accept no
// application token.

var (
	_ governance.Connector   = (*Backend)(nil)
	_ governance.Connectable = (*Backend)(nil)
)

// ConnectCallbackPath is where Microsoft sends the browser back after the sign-in, under
// accessbot's public URL; the connect app registration must list <public URL> + this path
// among its Web redirect URIs.
const ConnectCallbackPath = "/oauth/entra/callback"

// ConnectScopes are the delegated permissions a sign-in asks for: a refresh token
// (offline_access), who signed in (openid, profile, and User.Read for GET /me), and
// EntitlementManagement.ReadWrite.All, the least privileged permission that lets an
// approver read and decide their approval stages (Graph offers no Read-only option for
// it, and no application permission at all).
var ConnectScopes = []string{"offline_access", "openid", "profile", "https://graph.microsoft.com/User.Read",
	"https://graph.microsoft.com/EntitlementManagement.ReadWrite.All"}

// ConnectClient is the app registration people connect their accounts through.
type ConnectClient struct {
	ClientID     string   `yaml:"clientId"`
	ClientSecret string   `yaml:"-"`      // ENTRA_CONNECT_CLIENT_SECRET
	Scopes       []string `yaml:"scopes"` // default ConnectScopes
}

// Connectable reports whether people can connect their Microsoft accounts: the connect
// app registration is configured.
func (b *Backend) Connectable() bool { return b.connect.ClientID != "" }

// SignIn describes the Microsoft identity platform's sign-in for the tenant: its v2.0
// authorize and token endpoints at the authority (LoginURL), the connect app's id and
// secret, the delegated scopes, PKCE S256.
func (b *Backend) SignIn(context.Context) (governance.SignIn, error) {
	if b.connect.ClientID == "" {
		return governance.SignIn{}, errors.New("entra: connected accounts need an app registration: set entra.connect.clientId " +
			"(or ENTRA_CONNECT_CLIENT_ID) and ENTRA_CONNECT_CLIENT_SECRET")
	}
	scopes := b.connect.Scopes
	if len(scopes) == 0 {
		scopes = ConnectScopes
	}
	root := b.authority()
	return governance.SignIn{AuthURL: root + "/oauth2/v2.0/authorize", TokenURL: root + "/oauth2/v2.0/token",
		ClientID: b.connect.ClientID, ClientSecret: b.connect.ClientSecret, Scopes: scopes, PKCE: true}, nil
}

// authority is https://login.microsoftonline.com/{tenant}, or the configured login host's.
func (b *Backend) authority() string {
	return strings.TrimRight(b.loginURL, "/") + "/" + url.PathEscape(b.tenantID)
}

// WhoIs reads the signed-in user from GET /me with their new token: the object id, and
// the mail (else the user principal name) that accessbot compares with the chat user's.
func (b *Backend) WhoIs(ctx context.Context, accessToken string, _ func(string) any) (governance.Identity, error) {
	var me msgraph.User
	api := b.api.As(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"}))
	if err := api.Do(ctx, http.MethodGet, "/me", url.Values{"$select": {msgraph.UserSelect}}, nil, &me); err != nil {
		return governance.Identity{}, fmt.Errorf("entra: read who signed in (GET /me): %w", err)
	}
	email := strings.ToLower(firstOf(me.Mail, me.UserPrincipalName))
	if me.ID == "" || email == "" {
		return governance.Identity{}, &governance.Problem{Err: governance.ErrNotFound, Message: "Microsoft has no e-mail for the account " +
			"you signed in with, so accessbot cannot tell it is yours; ask your access admins to check your Entra user"}
	}
	return governance.Identity{ID: strings.ToLower(me.ID), Email: email, Name: me.DisplayName}, nil
}

// tokens is a connected account as an oauth2.TokenSource, for msgraph's delegated client.
type tokens struct {
	ctx context.Context
	as  governance.Account
}

func (t tokens) Token() (*oauth2.Token, error) {
	tok, err := t.as.Token(t.ctx)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}, nil
}

// asPerson is a Graph client that calls with the account's delegated token.
func (b *Backend) asPerson(ctx context.Context, as governance.Account) *msgraph.Client {
	return b.api.As(tokens{ctx: ctx, as: as})
}

// delegatedError turns what Graph answered a call made with a person's token into what
// they are told: a token Graph no longer takes means connecting again; the rest is as
// the application's.
func delegatedError(err error) error {
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Status == http.StatusUnauthorized {
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrConnectAgain, ge),
			Message: "Microsoft no longer accepts your connected account; connect it again with `connect entra`"})
	}
	return err
}

// CheckConnect is doctor's check of the connect app registration: it is configured with
// a secret, and the tenant's authorize endpoint answers. (Its redirect URIs and delegated
// permissions are not readable without Application.Read.All, which accessbot does not
// ask for; docs/backends/entra.md lists them.)
func (b *Backend) CheckConnect(ctx context.Context, callback string) (string, error) {
	si, err := b.SignIn(ctx)
	if err != nil {
		return "", err
	}
	if si.ClientSecret == "" {
		return "", errors.New("set ENTRA_CONNECT_CLIENT_SECRET to a client secret of the connect app registration " + b.connect.ClientID)
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, si.AuthURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("Microsoft's sign-in page %s does not answer: %w", si.AuthURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return "", fmt.Errorf("Microsoft's sign-in page %s answered HTTP %d", si.AuthURL, resp.StatusCode)
	}
	return fmt.Sprintf("people connect through the app registration %s at %s; it must list %s among its Web redirect URIs",
		b.connect.ClientID, si.AuthURL, callback), nil
}
