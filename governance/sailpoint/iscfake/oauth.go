package iscfake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ISC's user sign-in, as the fake serves it: GET /oauth/info names the authorize
// endpoint, GET /oauth/authorize shows a login form (ISC's is on the tenant's login host;
// the fake serves it on its own), POST /oauth/authorize checks the username and password
// of a seeded identity and redirects back with a one-time code, and POST /oauth/token
// exchanges the code (authorization_code, with PKCE S256 verified) and refreshes
// (refresh_token, rotated on every use). Tokens then carry the identity that signed in,
// and calls are bounded by that identity's user level.

// OAuthClient is an ISC OAuth client (GetOAuthClientResponse, the fields the fake uses).
type OAuthClient struct {
	ID           string   `json:"id"`
	Secret       string   `json:"-"` // empty: a PUBLIC client
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	RedirectURIs []string `json:"redirectUris"`
	GrantTypes   []string `json:"grantTypes"` // AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS
	AccessType   string   `json:"accessType"` // ONLINE or OFFLINE
	Type         string   `json:"type"`       // CONFIDENTIAL or PUBLIC
	Enabled      bool     `json:"enabled"`
	Scope        []string `json:"scope"`
	// AccessTokenValiditySeconds and RefreshTokenValiditySeconds default to 750 and 86400.
	AccessTokenValiditySeconds  int `json:"accessTokenValiditySeconds"`
	RefreshTokenValiditySeconds int `json:"refreshTokenValiditySeconds"`
}

// The grant types of an OAuth client.
const (
	GrantAuthorizationCode = "AUTHORIZATION_CODE"
	GrantRefreshToken      = "REFRESH_TOKEN"
)

// session is what a bearer token stands for.
type session struct {
	exp        time.Time
	identityID string
	service    bool // the service identity's personal access token
	clientID   string
}

type login struct {
	identityID, password string
}

type authCode struct {
	clientID, redirectURI, identityID string
	challenge                         string
	exp                               time.Time
}

// grantRef is a refresh token's grant: whose, for which client, until when.
type grantRef struct {
	identityID, clientID string
	exp                  time.Time
}

// caller is who a /v3 call is made as.
type caller struct {
	id, level string
}

type callerKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

func (s *Server) callerOf(sess session) caller {
	if sess.service {
		return caller{id: ServiceIdentityID, level: s.opts.UserLevel}
	}
	level := s.levels[sess.identityID]
	if level == "" {
		level = "USER"
	}
	return caller{id: sess.identityID, level: level}
}

// AddOAuthClient registers an OAuth client for the authorization-code sign-in.
func (s *Server) AddOAuthClient(c OAuthClient) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Type == "" {
		c.Type = "CONFIDENTIAL"
		if c.Secret == "" {
			c.Type = "PUBLIC"
		}
	}
	if c.AccessTokenValiditySeconds == 0 {
		c.AccessTokenValiditySeconds = 750
	}
	if c.RefreshTokenValiditySeconds == 0 {
		c.RefreshTokenValiditySeconds = 86400
	}
	s.clients[c.ID] = &c
}

// SetLogin lets the identity sign in at the login form with username and password.
func (s *Server) SetLogin(identityID, username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins[strings.ToLower(username)] = login{identityID: identityID, password: password}
}

// SetUserLevel sets an identity's user level (USER by default; ORG_ADMIN may act on
// everyone's approvals).
func (s *Server) SetUserLevel(identityID, level string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.levels[identityID] = level
}

// RevokeGrants ends every refresh token and access token the identity's sign-ins were
// given, as an admin revoking a user's sessions does.
func (s *Server) RevokeGrants(identityID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.refresh, func(_ string, g grantRef) bool { return g.identityID == identityID })
	maps.DeleteFunc(s.tokens, func(_ string, t session) bool { return !t.service && t.identityID == identityID })
}

// AuthorizeURL is the authorize endpoint GET /oauth/info names.
func (s *Server) AuthorizeURL() string { return s.URL + "/oauth/authorize" }

func (s *Server) info() reply {
	return reply{status: http.StatusOK, body: map[string]any{
		"tenant":            "fake-tenant",
		"authorizeEndpoint": s.AuthorizeURL(),
		"tokenEndpoint":     s.URL + "/oauth/token",
	}}
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Sign in — fake SailPoint</title></head>
<body>
<h1>Sign in to fake-tenant</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="signin" type="submit">Sign in</button>
</form>
</body></html>`))

// authorizeParams are the parameters the login form carries through.
var authorizeParams = []string{"client_id", "response_type", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method"}

// authorize is GET (the form) and POST (its answer) /oauth/authorize. A request whose
// client or redirect URI is not registered is refused on the page and never redirected.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[string]string{}
	for _, k := range authorizeParams {
		if v := r.Form.Get(k); v != "" {
			p[k] = v
		}
	}
	c, ok := s.clients[p["client_id"]]
	switch {
	case !ok || !c.Enabled:
		http.Error(w, "Unknown or disabled client_id.", http.StatusBadRequest)
		return
	case !slices.Contains(c.RedirectURIs, p["redirect_uri"]):
		http.Error(w, "redirect_uri does not match the client's registered redirect URIs.", http.StatusBadRequest)
		return
	}
	back := func(q url.Values) {
		if st := p["state"]; st != "" {
			q.Set("state", st)
		}
		http.Redirect(w, r, p["redirect_uri"]+"?"+q.Encode(), http.StatusFound)
	}
	switch {
	case p["response_type"] != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case !slices.Contains(c.GrantTypes, GrantAuthorizationCode):
		back(url.Values{"error": {"unauthorized_client"}})
		return
	case p["code_challenge"] != "" && p["code_challenge_method"] != "S256":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge_method must be S256"}})
		return
	case c.Type == "PUBLIC" && p["code_challenge"] == "":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"a public client must send a PKCE code_challenge"}})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodGet {
		_ = loginPage.Execute(w, map[string]any{"Params": p})
		return
	}
	l, ok := s.logins[strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))]
	if !ok || subtle.ConstantTimeCompare([]byte(l.password), []byte(r.PostForm.Get("password"))) != 1 {
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, map[string]any{"Params": p, "Error": "The username or password is not right."})
		return
	}
	code := newID()
	s.codes[code] = &authCode{clientID: c.ID, redirectURI: p["redirect_uri"], identityID: l.identityID,
		challenge: p["code_challenge"], exp: s.now().Add(5 * time.Minute)}
	back(url.Values{"code": {code}})
}

// client authenticates the OAuth client of a token call: a confidential client by its
// secret, a public one by its id alone.
func (s *Server) client(r *http.Request) (*OAuthClient, bool) {
	id, secret := clientCredentials(r)
	c, ok := s.clients[id]
	if !ok || !c.Enabled {
		return nil, false
	}
	if c.Type == "CONFIDENTIAL" && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return nil, false
	}
	return c, true
}

func (s *Server) exchangeCode(r *http.Request) reply {
	c, ok := s.client(r)
	if !ok {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Bad client credentials")
	}
	code, ok := s.codes[r.Form.Get("code")]
	delete(s.codes, r.Form.Get("code")) // one use, right or wrong
	switch {
	case !ok || !s.now().Before(code.exp) || code.clientID != c.ID:
		return oauthError(http.StatusBadRequest, "invalid_grant", "Invalid authorization code")
	case r.Form.Get("redirect_uri") != code.redirectURI:
		return oauthError(http.StatusBadRequest, "invalid_grant", "Redirect URI mismatch")
	case code.challenge != "" && pkce(r.Form.Get("code_verifier")) != code.challenge:
		return oauthError(http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
	case code.challenge == "" && r.Form.Get("code_verifier") != "":
		return oauthError(http.StatusBadRequest, "invalid_grant", "code_verifier sent without a code_challenge")
	}
	return s.userTokens(c, code.identityID)
}

func (s *Server) refreshGrant(r *http.Request) reply {
	c, ok := s.client(r)
	if !ok {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Bad client credentials")
	}
	if !slices.Contains(c.GrantTypes, GrantRefreshToken) {
		return oauthError(http.StatusBadRequest, "unauthorized_client", "The client may not use refresh_token")
	}
	rt := r.Form.Get("refresh_token")
	g, ok := s.refresh[rt]
	delete(s.refresh, rt) // rotated: each refresh token works once
	if !ok || g.clientID != c.ID || !s.now().Before(g.exp) {
		return oauthError(http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
	}
	return s.userTokens(c, g.identityID)
}

// userTokens issues an access token (and, for a client allowed to refresh, a refresh
// token) for the identity that signed in, with the user context ISC's response carries.
func (s *Server) userTokens(c *OAuthClient, identityID string) reply {
	ttl := time.Duration(c.AccessTokenValiditySeconds) * time.Second
	token := newID() + newID()
	s.tokens[token] = session{exp: s.now().Add(ttl), identityID: identityID, clientID: c.ID}
	s.tokensIssued++
	body := map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   c.AccessTokenValiditySeconds,
		"scope":        strings.Join(c.Scope, " "),
		"tenant_id":    "2c9180a46faadee4016fb4e018c20639",
		"pod":          "stg01-useast1",
		"strong_auth":  false,
		"org":          "fake-tenant",
		"identity_id":  identityID,
		"user_id":      s.identities[identityID].email,
		"jti":          newID(),
	}
	if slices.Contains(c.GrantTypes, GrantRefreshToken) {
		rt := newID() + newID()
		s.refresh[rt] = grantRef{identityID: identityID, clientID: c.ID,
			exp: s.now().Add(time.Duration(c.RefreshTokenValiditySeconds) * time.Second)}
		body["refresh_token"] = rt
	}
	return reply{status: http.StatusOK, token: token, body: body}
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// getOAuthClient is GET /v3/oauth-clients/{id} (ORG_ADMIN).
func (s *Server) getOAuthClient(r *http.Request, id string) reply {
	if callerOf(r).level != OrgAdmin {
		return problem(http.StatusForbidden, "Reading OAuth clients requires ORG_ADMIN.")
	}
	c, ok := s.clients[id]
	if !ok {
		return problem(http.StatusNotFound, fmt.Sprintf("OAuth client %q was not found.", id))
	}
	return reply{status: http.StatusOK, body: c}
}
