package graphfake

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

// The Microsoft identity platform's user sign-in, as the fake serves it: GET
// /{tenant}/oauth2/v2.0/authorize shows a login form, POST checks the username and
// password of a seeded user and redirects back with a one-time code; the token endpoint
// exchanges the code (authorization_code, PKCE S256 verified, the web app's secret
// checked) and refreshes (refresh_token, rotated on every use). Delegated tokens carry the
// user (oid) and the delegated scopes granted (scp); Graph calls that accept no
// application token refuse the app's, and those that need a user's scope refuse a token
// without it.

// DelegatedScopes are the Graph delegated permissions the fake's connect app registration
// has, with admin consent: what a sign-in may ask for.
var DelegatedScopes = []string{"EntitlementManagement.ReadWrite.All", "EntitlementMgmt-SubjectAccess.ReadWrite", "User.Read"}

// session is what a bearer token stands for: accessbot's app (user "") or a signed-in user.
type session struct {
	exp  time.Time
	user string   // object id (oid) of the signed-in user; "" for an application token
	scp  []string // delegated scopes, short names ("EntitlementManagement.ReadWrite.All")
}

type authCode struct {
	user, redirectURI, challenge string
	scp                          []string
	exp                          time.Time
}

type refreshGrant struct {
	user string
	scp  []string
	exp  time.Time
}

// SetLogin lets the user sign in at the login form with username and password.
func (s *Server) SetLogin(userID, username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins[strings.ToLower(username)] = login{userID: userID, password: password}
}

type login struct{ userID, password string }

// ConnectClientID is the app registration people sign in through (a confidential web
// app), and ConnectClientSecret its secret.
func (s *Server) ConnectClientID() string     { return s.o.ConnectClientID }
func (s *Server) ConnectClientSecret() string { return s.o.ConnectClientSecret }

// AuthorizeURL is the tenant's v2.0 authorize endpoint on the fake.
func (s *Server) AuthorizeURL() string { return s.URL + "/" + s.o.TenantID + "/oauth2/v2.0/authorize" }

// TokenURL is the tenant's v2.0 token endpoint on the fake.
func (s *Server) TokenURL() string { return s.URL + "/" + s.o.TenantID + "/oauth2/v2.0/token" }

// RevokeSessions ends every refresh and access token the user was given, as "revoke
// sessions" in Entra does.
func (s *Server) RevokeSessions(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.refresh, func(_ string, g refreshGrant) bool { return g.user == userID })
	maps.DeleteFunc(s.tokens, func(_ string, t session) bool { return t.user == userID })
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Sign in to your account — fake Microsoft</title></head>
<body>
<h1>Sign in</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label>Email, phone, or Skype <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="signin" type="submit">Sign in</button>
</form>
</body></html>`))

var authorizeParams = []string{"client_id", "response_type", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "response_mode", "prompt", "login_hint"}

// pages serves the authorize endpoint.
func (s *Server) pages(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/authorize") {
		return false
	}
	if r.URL.Path != "/"+s.o.TenantID+"/oauth2/v2.0/authorize" {
		http.Error(w, "AADSTS90002: Tenant not found.", http.StatusBadRequest)
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return true
	}
	p := map[string]string{}
	for _, k := range authorizeParams {
		if v := r.Form.Get(k); v != "" {
			p[k] = v
		}
	}
	switch {
	case p["client_id"] != s.o.ConnectClientID:
		http.Error(w, "AADSTS700016: Application with identifier '"+p["client_id"]+"' was not found in the directory.", http.StatusBadRequest)
		return true
	case !slices.Contains(s.o.RedirectURIs, p["redirect_uri"]):
		http.Error(w, "AADSTS50011: The redirect URI '"+p["redirect_uri"]+"' specified in the request does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return true
	}
	back := func(q url.Values) {
		if st := p["state"]; st != "" {
			q.Set("state", st)
		}
		http.Redirect(w, r, p["redirect_uri"]+"?"+q.Encode(), http.StatusFound)
	}
	scp, bad := delegated(p["scope"])
	switch {
	case p["response_type"] != "code":
		back(url.Values{"error": {"unsupported_response_type"}, "error_description": {"AADSTS700054: response_type 'code' is expected."}})
		return true
	case p["code_challenge"] == "" || p["code_challenge_method"] != "S256":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS501491: PKCE with code_challenge_method S256 is required."}})
		return true
	case bad != "":
		back(url.Values{"error": {"invalid_client"}, "error_description": {"AADSTS650053: The application asked for scope '" + bad + "' that doesn't exist on the resource or was not consented."}})
		return true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page := map[string]any{"Params": p, "Action": r.URL.Path}
	if r.Method == http.MethodGet {
		_ = loginPage.Execute(w, page)
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logins[strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))]
	if !ok || subtle.ConstantTimeCompare([]byte(l.password), []byte(r.PostForm.Get("password"))) != 1 {
		w.WriteHeader(http.StatusUnauthorized)
		page["Error"] = "Your account or password is incorrect."
		_ = loginPage.Execute(w, page)
		return true
	}
	code := randomID()
	s.codes[code] = &authCode{user: l.userID, redirectURI: p["redirect_uri"], challenge: p["code_challenge"], scp: scp,
		exp: s.o.Now().Add(10 * time.Minute)}
	back(url.Values{"code": {code}, "session_state": {randomID()}})
	return true
}

// delegated reads a v2.0 scope parameter: the Graph scopes (full URIs or, for Graph, short
// names) and the OpenID ones; bad is the first it does not know.
func delegated(scope string) (scp []string, bad string) {
	for _, v := range strings.Fields(scope) {
		switch short := strings.TrimPrefix(v, "https://graph.microsoft.com/"); {
		case v == "openid" || v == "profile" || v == "email" || v == "offline_access":
			scp = append(scp, v)
		case slices.Contains(DelegatedScopes, short):
			scp = append(scp, short)
		default:
			return nil, v
		}
	}
	return scp, ""
}

// userGrant serves the authorization_code and refresh_token grants of the connect app.
func (s *Server) userGrant(w http.ResponseWriter, form url.Values) {
	oauthErr := func(status int, code, desc string) {
		msgraphtest.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
	}
	if form.Get("client_id") != s.o.ConnectClientID {
		oauthErr(http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(form.Get("client_secret")), []byte(s.o.ConnectClientSecret)) != 1 {
		oauthErr(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var user string
	var scp []string
	switch form.Get("grant_type") {
	case "authorization_code":
		c, ok := s.codes[form.Get("code")]
		delete(s.codes, form.Get("code")) // one use, right or wrong
		switch {
		case !ok || !s.o.Now().Before(c.exp):
			oauthErr(http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already redeemed.")
			return
		case form.Get("redirect_uri") != c.redirectURI:
			oauthErr(http.StatusBadRequest, "invalid_grant", "AADSTS50011: The redirect URI does not match the one the code was issued for.")
			return
		case pkce(form.Get("code_verifier")) != c.challenge:
			oauthErr(http.StatusBadRequest, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.")
			return
		}
		user, scp = c.user, c.scp
	case "refresh_token":
		g, ok := s.refresh[form.Get("refresh_token")]
		delete(s.refresh, form.Get("refresh_token")) // rotated: each refresh token works once
		if !ok || !s.o.Now().Before(g.exp) {
			oauthErr(http.StatusBadRequest, "invalid_grant", "AADSTS700082: The refresh token has expired or was revoked.")
			return
		}
		user, scp = g.user, g.scp
	}
	tok := "fake-user-token-" + randomID()
	s.tokens[tok] = session{exp: time.Now().Add(s.o.TokenTTL), user: user, scp: scp}
	s.issued++
	secs := int(s.o.TokenTTL / time.Second)
	var granted []string
	for _, v := range scp {
		if v != "offline_access" {
			granted = append(granted, v)
		}
	}
	body := map[string]any{"token_type": "Bearer", "scope": strings.Join(granted, " "), "expires_in": secs, "ext_expires_in": secs, "access_token": tok}
	if slices.Contains(scp, "offline_access") {
		rt := "fake-refresh-" + randomID()
		s.refresh[rt] = refreshGrant{user: user, scp: scp, exp: s.o.Now().Add(90 * 24 * time.Hour)}
		body["refresh_token"] = rt
	}
	if slices.Contains(scp, "openid") {
		body["id_token"] = "header.payload.signature" // accessbot reads /me, not the id token
	}
	msgraphtest.WriteJSON(w, http.StatusOK, body)
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// caller is the session of a call's bearer token (authorized already).
func (s *Server) caller(r *http.Request) session {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

// me is GET /me: the signed-in user; an application token has none.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	c := s.caller(r)
	if c.user == "" {
		msgraphtest.WriteError(w, http.StatusBadRequest, "", "BadRequest", "/me request is only valid with delegated authentication flow.")
		return
	}
	if !slices.Contains(c.scp, "User.Read") { // GET /me: least privileged delegated permission User.Read
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	if u, ok := s.found(w, c.user, "The signed-in user no longer exists."); ok {
		writeUser(w, u, "@odata.context", s.BaseURL()+"/$metadata#users/$entity")
	}
}
