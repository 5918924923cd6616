package permissions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance/msgraph"
)

// Delegated is the sign-in of the account accessbot acts as in Permissions Management:
// accessbot's app registration and a refresh token the account granted it (through the
// authorization-code flow, with the offline_access scope).
type Delegated struct {
	// TenantID is the directory (tenant) id; ClientID and ClientSecret are accessbot's app
	// registration (ClientSecret is empty for a public client).
	TenantID, ClientID, ClientSecret string
	// RefreshToken is the account's refresh token for that app.
	RefreshToken string
	// LoginURL is the identity platform's host (default https://login.microsoftonline.com).
	LoginURL string
	// Scopes default to the delegated Graph permissions the backend needs, with
	// offline_access.
	Scopes     []string
	HTTPClient *http.Client // for the token endpoint; default one with a 20 s timeout
}

// RefreshTokenSource returns a token source that redeems d's refresh token at the
// identity platform's v2.0 token endpoint for access tokens, and reuses each until
// shortly before it expires. The platform may return a new refresh token with each
// access token; it is used from then on but kept in memory only, so a restart starts
// again from d.RefreshToken, which stays valid until the account's sign-in is revoked or
// lapses (by default after 90 days unused). A refused refresh token is an
// *oauth2.RetrieveError, which the backend reports as credentials to renew.
//
// The source is a msgraph.Forgetter: when Graph refuses an access token before it
// expires (a revoked session, continuous access evaluation), the backend tells it to
// forget that token, and the next call redeems the refresh token again.
func RefreshTokenSource(d Delegated) (oauth2.TokenSource, error) {
	var errs []error
	if d.TenantID == "" || strings.ContainsAny(d.TenantID, "/?#@ ") {
		errs = append(errs, fmt.Errorf("permissions: tenant id %q should be the directory (tenant) id or its primary domain", d.TenantID))
	}
	if d.ClientID == "" {
		errs = append(errs, errors.New("permissions: the app registration's client id is needed"))
	}
	if d.RefreshToken == "" {
		errs = append(errs, errors.New("permissions: a refresh token of the account accessbot acts as is needed"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &refresher{d: d, refresh: d.RefreshToken,
		tokenURL: strings.TrimRight(firstOf(d.LoginURL, msgraph.DefaultLoginURL), "/") + "/" + url.PathEscape(d.TenantID) + "/oauth2/v2.0/token"}
	if len(r.d.Scopes) == 0 {
		r.d.Scopes = []string{"https://graph.microsoft.com/" + permissionRequests, "https://graph.microsoft.com/" + permissionUsers, "offline_access"}
	}
	if r.d.HTTPClient == nil {
		r.d.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	return &reuse{fresh: r}, nil
}

// reuse hands out the cached access token until shortly before it expires, or until it
// is forgotten, then gets a fresh one.
type reuse struct {
	fresh oauth2.TokenSource

	mu  sync.Mutex
	tok *oauth2.Token
}

var _ msgraph.Forgetter = (*reuse)(nil)

func (s *reuse) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok, nil
	}
	t, err := s.fresh.Token()
	if err != nil {
		return nil, err
	}
	s.tok = t
	return t, nil
}

// Forget drops the cached access token if it is the refused one (a concurrent caller
// may have replaced it already); the refresh token stays.
func (s *reuse) Forget(refused *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == refused.AccessToken {
		s.tok = nil
	}
}

// refresher redeems the refresh token. It sends the scopes, which the v2.0 endpoint
// requires on a refresh and golang.org/x/oauth2's own refresher does not send.
type refresher struct {
	d        Delegated
	tokenURL string

	mu      sync.Mutex
	refresh string
}

func (r *refresher) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.refresh}, "client_id": {r.d.ClientID},
		"scope": {strings.Join(r.d.Scopes, " ")}}
	if r.d.ClientSecret != "" {
		form.Set("client_secret", r.d.ClientSecret)
	}
	resp, err := r.d.HTTPClient.PostForm(r.tokenURL, form)
	if err != nil {
		return nil, fmt.Errorf("refresh the delegated token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("refresh the delegated token: %w", err)
	}
	var t struct {
		AccessToken      string `json:"access_token"`
		TokenType        string `json:"token_type"`
		ExpiresIn        int64  `json:"expires_in"`
		RefreshToken     string `json:"refresh_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &t)
	if resp.StatusCode/100 != 2 || t.AccessToken == "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: t.Error, ErrorDescription: t.ErrorDescription}
	}
	if t.RefreshToken != "" {
		r.refresh = t.RefreshToken
	}
	tok := &oauth2.Token{AccessToken: t.AccessToken, TokenType: firstOf(t.TokenType, "Bearer"), RefreshToken: r.refresh}
	if t.ExpiresIn > 0 {
		tok.Expiry = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return tok, nil
}
