package backendtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
)

// NoRedirect answers a redirect instead of following it, so that a test reads where a
// browser would be sent.
var NoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Account is a connected account as governance/accounts keeps one: who the backend said
// the person is, and a token source that refreshes.
type Account struct {
	ID     governance.Identity
	Source oauth2.TokenSource
}

// Identity is who the backend said the person is.
func (a Account) Identity() governance.Identity { return a.ID }

// Token is a current access token; a grant the provider no longer honours is
// governance.ErrConnectAgain.
func (a Account) Token(context.Context) (string, error) {
	t, err := a.Source.Token()
	if err != nil {
		return "", fmt.Errorf("%w: %v", governance.ErrConnectAgain, err)
	}
	return t.AccessToken, nil
}

// OAuthConfig is the OAuth client accessbot makes of a backend's sign-in, with callback as
// its redirect URL.
func OAuthConfig(t testing.TB, c governance.Connector, callback string) oauth2.Config {
	t.Helper()
	si, err := c.SignIn(context.Background())
	require.NoError(t, err)
	return oauth2.Config{ClientID: si.ClientID, ClientSecret: si.ClientSecret, RedirectURL: callback, Scopes: si.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: si.AuthURL, TokenURL: si.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
}

// LogIn posts a fake's login form for the authorization request authURL, as a browser does
// with the form the authorize endpoint shows, and returns the answer without following it.
func LogIn(t testing.TB, authURL, username, password string) *http.Response {
	t.Helper()
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	form := u.Query()
	form.Set("username", username)
	form.Set("password", password)
	u.RawQuery = ""
	resp, err := NoRedirect.PostForm(u.String(), form)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// SignIn runs the sign-in at authURL through the fake's login form, as a browser would,
// and returns the query of the redirect to callback (code and state, or error).
func SignIn(t testing.TB, authURL, username, password, callback string) url.Values {
	t.Helper()
	resp, err := http.Get(authURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the login form")
	resp = LogIn(t, authURL, username, password)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, callback, loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

// Code is the authorization code a sign-in as username through the fake's login form
// returns to cfg's redirect URL, for verifier's challenge.
func Code(t testing.TB, cfg oauth2.Config, verifier, username, password string) string {
	t.Helper()
	return SignIn(t, cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), username, password, cfg.RedirectURL).Get("code")
}

// Connect signs username in at the backend c with PKCE, exchanges the code, and asks c
// whose account the token is, as the connect flow does.
func Connect(t testing.TB, c governance.Connector, callback, username, password string) Account {
	t.Helper()
	ctx := context.Background()
	cfg := OAuthConfig(t, c, callback)
	verifier := oauth2.GenerateVerifier()
	back := SignIn(t, cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), username, password, callback)
	require.Equal(t, "state-1", back.Get("state"))
	tok, err := cfg.Exchange(ctx, back.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken, "a connected account refreshes")
	id, err := c.WhoIs(ctx, tok.AccessToken, tok.Extra)
	require.NoError(t, err)
	return Account{ID: id, Source: cfg.TokenSource(ctx, tok)}
}
