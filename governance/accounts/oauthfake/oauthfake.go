// Package oauthfake is a strict OAuth 2.0 authorization server for tests: an HTML login
// form, the authorization-code grant with PKCE (S256 only), refresh tokens that rotate,
// a userinfo endpoint, and grants that can be revoked. It refuses what a real provider
// refuses (an unknown client, a redirect URI not registered exactly, a code used twice,
// a wrong verifier or client secret, a used or revoked refresh token) with RFC 6749's
// error codes and statuses. Connector is a governance.Connector over it.
//
// It is for tests and development tools only; the server binary never links it.
package oauthfake

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is someone who can sign in at the fake.
type User struct {
	Login, Password string
	ID, Email, Name string
}

// Client is a registered OAuth client. A public client has no Secret and must use PKCE.
type Client struct {
	ID, Secret   string
	RedirectURIs []string
	RequirePKCE  bool
}

// Server is the fake provider.
type Server struct {
	*httptest.Server
	// AccessTTL is the access tokens' lifetime (expires_in); default one hour.
	AccessTTL time.Duration
	now       func() time.Time

	mu      sync.Mutex
	users   map[string]User
	clients map[string]Client
	codes   map[string]*code
	access  map[string]*grant // access token → grant
	refresh map[string]*grant // current refresh token → grant
	calls   map[string]int
}

type code struct {
	client, redirect, challenge, login string
	expires                            time.Time
	used                               bool
	grant                              *grant // what the code was exchanged for, revoked if it is replayed
}

type grant struct {
	login, client string
	revoked       bool
	accessExpires time.Time
}

// Start starts a fake provider for t; now is its clock (nil: the wall clock).
func Start(t testing.TB, now func() time.Time) *Server {
	s := &Server{AccessTTL: time.Hour, now: now, users: map[string]User{}, clients: map[string]Client{},
		codes: map[string]*code{}, access: map[string]*grant{}, refresh: map[string]*grant{}, calls: map[string]int{}}
	if s.now == nil {
		s.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /authorize", s.login)
	mux.HandleFunc("/token", s.token)
	mux.HandleFunc("/userinfo", s.userinfo)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// AddUser lets u sign in.
func (s *Server) AddUser(u User) { s.mu.Lock(); defer s.mu.Unlock(); s.users[u.Login] = u }

// AddClient registers c.
func (s *Server) AddClient(c Client) { s.mu.Lock(); defer s.mu.Unlock(); s.clients[c.ID] = c }

// AuthURL, TokenURL and UserinfoURL are the fake's endpoints.
func (s *Server) AuthURL() string     { return s.URL + "/authorize" }
func (s *Server) TokenURL() string    { return s.URL + "/token" }
func (s *Server) UserinfoURL() string { return s.URL + "/userinfo" }

// Revoke revokes every grant login gave: its access and refresh tokens stop working, as
// when a person or an admin revokes an app's access at the provider.
func (s *Server) Revoke(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refresh {
		if g.login == login {
			g.revoked = true
		}
	}
	for _, g := range s.access {
		if g.login == login {
			g.revoked = true
		}
	}
}

// Calls is how often an endpoint was called ("authorize", "login", "token:authorization_code",
// "token:refresh_token", "userinfo").
func (s *Server) Calls(name string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[name] }

// Tokens lists every access and refresh token the fake has issued, for tests that check
// tokens appear nowhere they must not.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.access {
		out = append(out, t)
	}
	for t := range s.refresh {
		out = append(out, t)
	}
	return out
}

var form = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in — fake provider</title></head>
<body><h1>Sign in</h1>{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="/authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="signin" name="action" value="signin" type="submit">Sign in</button>
<button id="deny" name="action" value="deny" type="submit">Cancel</button>
</form></body></html>`))

// request is an authorization request's parameters, checked.
type request struct {
	client                        Client
	redirect, state, challenge    string
	scope                         string
	responseType, challengeMethod string
}

// check reads an authorization request. A bad client or redirect URI is answered with an
// error page and never redirected (RFC 6749 4.1.2.1); other errors are redirected.
func (s *Server) check(w http.ResponseWriter, r *http.Request, q url.Values) (request, bool) {
	s.mu.Lock()
	c, ok := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return request{}, false
	}
	req := request{client: c, redirect: q.Get("redirect_uri"), state: q.Get("state"), challenge: q.Get("code_challenge"),
		challengeMethod: q.Get("code_challenge_method"), responseType: q.Get("response_type"), scope: q.Get("scope")}
	if !slices.Contains(c.RedirectURIs, req.redirect) {
		http.Error(w, "redirect_uri is not registered for this client", http.StatusBadRequest)
		return request{}, false
	}
	fail := func(code, desc string) (request, bool) {
		s.redirectError(w, r, req, code, desc)
		return request{}, false
	}
	switch {
	case req.responseType != "code":
		return fail("unsupported_response_type", "only response_type=code")
	case req.challenge != "" && req.challengeMethod != "S256":
		return fail("invalid_request", "code_challenge_method must be S256")
	case req.challenge == "" && (c.RequirePKCE || c.Secret == ""):
		return fail("invalid_request", "code_challenge is required")
	case req.challenge != "" && len(req.challenge) != 43:
		return fail("invalid_request", "code_challenge is not a base64url SHA-256")
	}
	return req, true
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req request, code, desc string) {
	v := url.Values{"error": {code}, "error_description": {desc}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	http.Redirect(w, r, req.redirect+"?"+v.Encode(), http.StatusFound)
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	s.count("authorize")
	q := r.URL.Query()
	if _, ok := s.check(w, r, q); !ok {
		return
	}
	s.page(w, q, "")
}

func (s *Server) page(w http.ResponseWriter, q url.Values, msg string) {
	hidden := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "response_type", "scope"} {
		if v := q.Get(k); v != "" {
			hidden[k] = v
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = form.Execute(w, map[string]any{"Hidden": hidden, "Error": msg})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.count("login")
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req, ok := s.check(w, r, r.PostForm)
	if !ok {
		return
	}
	if r.PostForm.Get("action") == "deny" {
		s.redirectError(w, r, req, "access_denied", "the user cancelled the sign-in")
		return
	}
	s.mu.Lock()
	u, known := s.users[r.PostForm.Get("username")]
	s.mu.Unlock()
	if !known || subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostForm.Get("password"))) != 1 {
		s.page(w, r.PostForm, "Wrong username or password.")
		return
	}
	c := random()
	s.mu.Lock()
	s.codes[c] = &code{client: req.client.ID, redirect: req.redirect, challenge: req.challenge, login: u.Login, expires: s.now().Add(time.Minute)}
	s.mu.Unlock()
	v := url.Values{"code": {c}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	http.Redirect(w, r, req.redirect+"?"+v.Encode(), http.StatusFound)
}

// oauthError writes a token endpoint's error (RFC 6749 5.2).
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	f := r.PostForm
	s.count("token:" + f.Get("grant_type"))
	c, ok := s.client(r)
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("grant_type") {
	case "authorization_code":
		cd, ok := s.codes[f.Get("code")]
		switch {
		case !ok || cd.client != c.ID || s.now().After(cd.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or expired code")
		case cd.used:
			if cd.grant != nil { // a replayed code revokes what it was exchanged for (RFC 6749 4.1.2)
				cd.grant.revoked = true
			}
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was used already")
		case f.Get("redirect_uri") != cd.redirect:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		case cd.challenge != "" && !verifies(f.Get("code_verifier"), cd.challenge):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		case cd.challenge == "" && f.Get("code_verifier") != "":
			oauthError(w, http.StatusBadRequest, "invalid_request", "code_verifier without a code_challenge")
		default:
			cd.used = true
			cd.grant = &grant{login: cd.login, client: c.ID}
			s.issue(w, cd.grant)
		}
	case "refresh_token":
		g, ok := s.refresh[f.Get("refresh_token")]
		if !ok || g.client != c.ID || g.revoked {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid, used or revoked")
			return
		}
		delete(s.refresh, f.Get("refresh_token")) // rotation: each refresh token works once
		s.issue(w, g)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "authorization_code or refresh_token")
	}
}

// client authenticates the calling client: HTTP Basic or client_id/client_secret in the
// body (not both), or a public client by client_id alone.
func (s *Server) client(r *http.Request) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Get("client_secret") != "" {
			return Client{}, false
		}
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

// issue answers a new access token and a new refresh token for g (caller holds mu).
func (s *Server) issue(w http.ResponseWriter, g *grant) {
	at, rt := "at-"+random(), "rt-"+random()
	g.accessExpires = s.now().Add(s.AccessTTL)
	s.access[at] = g
	s.refresh[rt] = g
	u := s.users[g.login]
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "Bearer", "refresh_token": rt,
		"expires_in": int(s.AccessTTL / time.Second), "identity_id": u.ID})
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	s.count("userinfo")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g, known := s.access[tok]
	var u User
	valid := ok && known && !g.revoked && s.now().Before(g.accessExpires)
	if valid {
		u = s.users[g.login]
	}
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": u.ID, "email": u.Email, "name": u.Name})
}

func (s *Server) count(name string) { s.mu.Lock(); s.calls[name]++; s.mu.Unlock() }

// verifies checks a PKCE verifier against an S256 challenge (RFC 7636 4.6).
func verifies(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
