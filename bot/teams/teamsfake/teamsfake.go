// Package teamsfake is a fake Microsoft Teams for tests: one httptest server that plays
// the Bot Framework's login service (OpenID metadata, signing keys, the token endpoint)
// and the Bot Connector (send, update, members), speaking their wire formats, and a
// channel that signs activities with its key as the Bot Framework would.
package teamsfake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/golang-jwt/jwt/v4"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// User is a Teams user the fake knows.
type User struct {
	ID       string // the user's MRI, "29:…"
	Email    string
	Name     string
	ObjectID string // Entra object id
	Tenant   string // the user's Entra tenant; default "tenant-1"
}

// Call is one request to the Bot Connector.
type Call struct {
	Method         string
	Conversation   string
	ActivityID     string // PUT: the activity replaced; POST: the id given to the new one
	Activity       schema.Activity
	Authorization  string
	MemberLookedUp string
	Size           int // POST, PUT: the activity's size as Teams measures it (UTF-16 bytes of its JSON)
}

// MaxActivityBytes is the largest activity the fake takes, in bytes of the UTF-16
// encoding of the activity's JSON as it arrives, the way Teams measures a message. Teams'
// documented limit has been 40 KB (until 2025) and "about 100 KB" (since); the fake
// refuses at the lower, so that a card it takes is taken by either.
const MaxActivityBytes = 40 << 10

// Server is the fake.
type Server struct {
	URL   string // serviceUrl of activities, and base of the login endpoints
	AppID string
	// MaxActivityBytes is the largest activity this fake takes; default the package's.
	MaxActivityBytes int

	srv *httptest.Server

	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	kid     string
	users   map[string]User
	calls   []Call
	refused []Call
	tokens  int
	keyGets int
	nextID  int
	token   string
	waiters []chan struct{}
	hold    chan struct{} // while set, Bot Connector calls wait until it is closed
	graph   Installations // where personal chats made by installing the app are known, see UseGraph
}

// Installations says for whom the app is installed: a fake Graph's
// (msgraphtest.TeamsGraph).
type Installations interface {
	Installed(userID string) bool
}

// UseGraph makes the personal chats of g's installations conversations of the bot: a
// message to one is refused (403, the bot is not in its roster) until the app is installed
// for that user.
func (s *Server) UseGraph(g Installations) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph = g
}

// Start runs the fake for the bot appID until the test ends.
func Start(t testing.TB, appID string, users ...User) *Server {
	s := &Server{AppID: appID, MaxActivityBytes: MaxActivityBytes, keys: map[string]*rsa.PrivateKey{}, users: map[string]User{},
		token: "connector-token-1"}
	s.RotateKey()
	for _, u := range users {
		s.users[u.ID] = u
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// MetadataURL is where the fake publishes its OpenID metadata.
func (s *Server) MetadataURL() string { return s.URL + "/v1/.well-known/openidconfiguration" }

// TokenURL is the fake's token endpoint for the bot's client credentials.
func (s *Server) TokenURL() string { return s.URL + "/botframework.com/oauth2/v2.0/token" }

// RotateKey starts signing with a new key, published at once, as the Bot Framework does.
func (s *Server) RotateKey() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kid = fmt.Sprintf("key-%d", len(s.keys)+1)
	s.keys[s.kid] = k
	return s.kid
}

// Token is a Bot Framework JWT for an activity to the bot from serviceURL, valid for an
// hour from now; edit changes its claims or header before it is signed.
func (s *Server) Token(serviceURL string, now time.Time, edit ...func(jwt.MapClaims, map[string]any)) string {
	claims := jwt.MapClaims{"iss": "https://api.botframework.com", "aud": s.AppID, "serviceurl": serviceURL,
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	s.mu.Lock()
	kid, key := s.kid, s.keys[s.kid]
	s.mu.Unlock()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	for _, e := range edit {
		e(claims, tok.Header)
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		panic(err)
	}
	return signed
}

// Calls returns every call to the Bot Connector so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Wait blocks until the connector has received at least n calls, or fails the test.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Call {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		if len(s.calls) >= n {
			out := append([]Call(nil), s.calls...)
			s.mu.Unlock()
			return out
		}
		ch := make(chan struct{})
		s.waiters = append(s.waiters, ch)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("teamsfake: %d calls after %s, want %d", len(s.Calls()), timeout, n)
		}
	}
}

// Hold makes every Bot Connector call (send, update, member lookup) wait, as a stuck
// Teams would, until release is called; the end of the test releases it too.
func (s *Server) Hold(t testing.TB) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(ch)
		})
	}
	t.Cleanup(release) // before the server closes, which waits for the held calls
	return release
}

// SetUser adds a user, or changes what the member record of u.ID says (an e-mail an
// admin changed, a new name).
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// Refused returns the activities the fake refused as too large, with their size.
func (s *Server) Refused() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.refused...)
}

// TokensIssued is how many tokens the token endpoint gave out.
func (s *Server) TokensIssued() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tokens }

// KeyFetches is how many times the signing keys were fetched.
func (s *Server) KeyFetches() int { s.mu.Lock(); defer s.mu.Unlock(); return s.keyGets }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/.well-known/openidconfiguration":
		writeJSON(w, map[string]any{"issuer": "https://api.botframework.com", "jwks_uri": s.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "token_endpoint_auth_methods_supported": []string{"private_key_jwt"}})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/.well-known/keys":
		s.serveKeys(w)
	case r.Method == http.MethodPost && r.URL.Path == "/botframework.com/oauth2/v2.0/token":
		s.serveToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/v3/conversations/"):
		s.serveConnector(w, r)
	default:
		http.Error(w, `{"error":{"code":"NotFound","message":"no such endpoint"}}`, http.StatusNotFound)
	}
}

func (s *Server) serveKeys(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keyGets++
	var keys []any
	for kid, k := range s.keys {
		keys = append(keys, map[string]any{"kty": "RSA", "use": "sig", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			"endorsements": []string{"msteams", "emulator"}})
	}
	writeJSON(w, map[string]any{"keys": keys})
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != s.AppID || r.PostForm.Get("client_secret") == "" ||
		r.PostForm.Get("scope") != "https://api.botframework.com/.default" {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": "invalid_request", "error_description": "AADSTS900144: bad client credentials request"})
		return
	}
	s.mu.Lock()
	s.tokens++
	tok := s.token
	s.mu.Unlock()
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// serveConnector answers /v3/conversations/{id}/activities[/{activityId}] and
// /v3/conversations/{id}/members/{userId}.
func (s *Server) serveConnector(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/v3/conversations/")
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		parts[i], _ = url.PathUnescape(p)
	}
	call := Call{Method: r.Method, Conversation: parts[0], Authorization: r.Header.Get("Authorization")}
	if call.Authorization != "Bearer "+s.token {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"error": map[string]any{"code": "Unauthorized", "message": "bad token"}})
		return
	}
	switch {
	case len(parts) == 3 && parts[1] == "members" && r.Method == http.MethodGet:
		s.mu.Lock()
		u, ok := s.users[parts[2]]
		s.mu.Unlock()
		call.MemberLookedUp = parts[2]
		s.record(call)
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			writeJSON(w, map[string]any{"error": map[string]any{"code": "MemberNotFoundInConversation", "message": "member not found"}})
			return
		}
		tenant := u.Tenant
		if tenant == "" {
			tenant = "tenant-1"
		}
		writeJSON(w, map[string]any{"id": u.ID, "name": u.Name, "objectId": u.ObjectID, "email": u.Email,
			"userPrincipalName": u.Email, "tenantId": tenant, "userRole": "user"})
	case len(parts) >= 2 && parts[1] == "activities" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		if !s.inRoster(parts[0]) {
			w.WriteHeader(http.StatusForbidden)
			writeJSON(w, map[string]any{"error": map[string]any{"code": "BotNotInConversationRoster",
				"message": "The bot is not part of the conversation roster."}})
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &call.Activity); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"error": map[string]any{"code": "BadArgument", "message": err.Error()}})
			return
		}
		// Teams counts the whole message in UTF-16 and refuses one too large with 413
		// (RequestEntityTooLarge) and this error body.
		if call.Size = utf16Bytes(body); call.Size > s.MaxActivityBytes {
			s.mu.Lock()
			s.refused = append(s.refused, call)
			s.mu.Unlock()
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			writeJSON(w, map[string]any{"error": map[string]any{"code": "MessageSizeTooBig", "message": "Message size too large."}})
			return
		}
		if r.Method == http.MethodPut {
			if len(parts) != 3 {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			call.ActivityID = parts[2]
		} else {
			s.mu.Lock()
			s.nextID++
			call.ActivityID = fmt.Sprintf("1:%d", s.nextID)
			s.mu.Unlock()
		}
		s.record(call)
		writeJSON(w, map[string]any{"id": call.ActivityID})
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// inRoster says whether the bot is in a conversation: a personal chat Graph gave out
// (19:{user}_{app}@unq.gbl.spaces) only while the app is installed for its user.
func (s *Server) inRoster(conversation string) bool {
	s.mu.Lock()
	g := s.graph
	s.mu.Unlock()
	rest, ok := strings.CutSuffix(conversation, "_"+s.AppID+"@unq.gbl.spaces")
	user, personal := strings.CutPrefix(rest, "19:")
	if g == nil || !ok || !personal {
		return true
	}
	return g.Installed(user)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	for _, ch := range s.waiters {
		close(ch)
	}
	s.waiters = nil
}

// utf16Bytes is the length of UTF-8 text b in UTF-16.
func utf16Bytes(b []byte) int {
	return 2 * len(utf16.Encode([]rune(string(b))))
}

func writeJSON(w http.ResponseWriter, v any) { _ = json.NewEncoder(w).Encode(v) }

// CardOf returns the Adaptive Card an activity carries, as JSON, or nil.
func CardOf(a schema.Activity) map[string]any {
	for _, at := range a.Attachments {
		if at.ContentType == "application/vnd.microsoft.card.adaptive" {
			if m, ok := at.Content.(map[string]any); ok {
				return m
			}
		}
	}
	return nil
}

// CardText is every text of a card (TextBlocks and facts), joined by newlines.
func CardText(card any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				b.WriteString(t + "\n")
			}
			if x["type"] == nil && x["title"] != nil && x["value"] != nil { // a fact
				fmt.Fprintf(&b, "%v: %v\n", x["title"], x["value"])
			}
			for _, k := range []string{"body", "items", "facts", "actions", "columns"} {
				walk(x[k])
			}
			if x["type"] == "Action.Execute" {
				fmt.Fprintf(&b, "[%v]\n", x["title"])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(card)
	return b.String()
}

// Button is the data of a card's button for verb on request id (any, for id "") in an
// ActionSet of the card's body, or of a Container in it, or nil when the card has none.
func Button(card any, verb, id string) map[string]any {
	c, _ := card.(map[string]any)
	return buttonIn(c["body"], verb, id)
}

func buttonIn(elems any, verb, id string) map[string]any {
	list, _ := elems.([]any)
	for _, e := range list {
		el, _ := e.(map[string]any)
		if el["type"] == "Container" {
			if d := buttonIn(el["items"], verb, id); d != nil {
				return d
			}
		}
		actions, _ := el["actions"].([]any)
		for _, a := range actions {
			action, _ := a.(map[string]any)
			if data, _ := action["data"].(map[string]any); action["verb"] == verb && (id == "" || data["request"] == id) {
				return data
			}
		}
	}
	return nil
}
