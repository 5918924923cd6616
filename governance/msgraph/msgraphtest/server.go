package msgraphtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config is what one fake Graph adds to the core every fake shares.
type Config struct {
	// Version is the Graph version root the fake serves ("/v1.0", "/beta").
	Version string
	// PageSize is how many items a collection page holds at most (default 2), so that
	// tests exercise @odata.nextLink.
	PageSize int
	// QueryOptions are the OData query options the fake's endpoints accept; any other is
	// refused with 400.
	QueryOptions []string
	// UserFilterJoins are the words that may join the clauses of a GET /users $filter of
	// more than one clause ("or", "and").
	UserFilterJoins []string
	// Authorized says whether a call's bearer token is accepted; a call without one is
	// always refused with 401.
	Authorized func(token string) bool
	// Token serves the identity platform's token endpoint (…/oauth2/v2.0/token, recorded
	// as "/token"); nil when the fake has none.
	Token func(w http.ResponseWriter, r *http.Request, body []byte)
	// Routes serves every authorized call but GET /users; path is below the version root.
	Routes func(w http.ResponseWriter, r *http.Request, path string, body []byte)
	// Pages serves what a browser opens rather than an API (the identity platform's
	// authorize page), unrecorded and without a token; it reports whether it answered r.
	Pages func(w http.ResponseWriter, r *http.Request) bool
}

// User is a directory user. ManagerID is served only by fakes with a manager endpoint.
type User struct {
	ID, Mail, UserPrincipalName, DisplayName string
	ManagerID                                string
}

// Server is the core of a fake Graph: an httptest server under a version root that
// records its calls and injects faults (Wire), refuses calls without an accepted bearer
// token or with query options the endpoints do not take, serves the directory's users
// (GET /users with eq filters on mail and userPrincipalName), pages collections and
// keeps the bodies of what it created.
type Server struct {
	*httptest.Server
	*Wire
	c Config

	mu      sync.Mutex
	users   []User
	created []map[string]any
}

// NewServer starts a fake Graph core.
func NewServer(c Config) *Server {
	if c.PageSize <= 0 {
		c.PageSize = 2
	}
	s := &Server{Wire: NewWire(), c: c}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close releases hung answers and stops the server.
func (s *Server) Close() {
	s.Release()
	s.Server.Close()
}

// BaseURL is the fake's Graph version root.
func (s *Server) BaseURL() string { return s.URL + s.c.Version }

// AddUser adds a directory user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

// User returns a directory user.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.users, func(u User) bool { return u.ID == id })
	if i < 0 {
		return User{}, false
	}
	return s.users[i], true
}

// Created lists the bodies of what the fake created (201), in order, as JSON objects.
func (s *Server) Created() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// KeepCreated records body as created and returns it as a JSON object.
func (s *Server) KeepCreated(body []byte) map[string]any {
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, raw)
	return raw
}

// Page writes one page of items, with @odata.nextLink when more follow.
func (s *Server) Page(w http.ResponseWriter, r *http.Request, items []map[string]any) {
	Page(w, r, s.BaseURL(), s.c.PageSize, items)
}

// serve records the call, applies any fault, and answers it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.c.Pages != nil && s.c.Pages(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, s.c.Version)
	if s.c.Token != nil && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		path = "/token"
	}
	s.Wire.Serve(w, r, path, body, func(rec http.ResponseWriter) {
		if path == "/token" && s.c.Token != nil {
			s.c.Token(rec, r, body)
		} else {
			s.graph(rec, r, path, body)
		}
	})
}

// graph checks the token and the query options of a Graph call, then answers it.
func (s *Server) graph(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" || !s.c.Authorized(tok) {
		WriteError(w, http.StatusUnauthorized, "", "InvalidAuthenticationToken", "Access token is empty, expired or not valid.")
		return
	}
	for k := range r.URL.Query() {
		if !slices.Contains(s.c.QueryOptions, k) {
			BadRequest(w, "Query option '%s' is not allowed.", k)
			return
		}
	}
	if r.Method == http.MethodGet && path == "/users" {
		s.listUsers(w, r)
		return
	}
	s.c.Routes(w, r, path, body)
}

// UserJSON is a user as Graph writes one.
func UserJSON(u User) map[string]any {
	return map[string]any{"id": u.ID, "displayName": u.DisplayName, "mail": Nullable(u.Mail), "userPrincipalName": u.UserPrincipalName}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	f := r.URL.Query().Get("$filter")
	cs, join, err := ParseFilter(f, "mail", "userPrincipalName")
	if err == nil && len(cs) > 1 && !slices.Contains(s.c.UserFilterJoins, join) {
		BadRequest(w, "Invalid filter clause: %s", f)
		return
	}
	if err != nil {
		BadRequest(w, "%s", err.Error())
		return
	}
	s.mu.Lock()
	var items []map[string]any
	for _, u := range s.users {
		match := len(cs) == 0
		for _, c := range cs {
			v := u.Mail
			if c.Path == "userPrincipalName" {
				v = u.UserPrincipalName
			}
			match = match || strings.EqualFold(v, c.Value)
		}
		if match {
			items = append(items, UserJSON(u))
		}
	}
	s.mu.Unlock()
	s.Page(w, r, items)
}

// DecodeBody reads a JSON body as Graph does: application/json, one object, no unknown
// properties. It answers 400 and returns false when the body is refused.
func DecodeBody(w http.ResponseWriter, r *http.Request, body []byte, v any) bool {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		BadRequest(w, "Content-Type must be application/json.")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		BadRequest(w, "Invalid request body: %v", err)
		return false
	}
	if dec.More() {
		BadRequest(w, "Invalid request body: data after the JSON object.")
		return false
	}
	return true
}

// ScheduleBody is a schedule as a create body carries it (entitlementManagementSchedule,
// requestSchedule).
type ScheduleBody struct {
	StartDateTime *string         `json:"startDateTime"`
	Expiration    *ExpirationBody `json:"expiration"`
	Recurrence    json.RawMessage `json:"recurrence"`
}

// ExpirationBody is a schedule's expirationPattern.
type ExpirationBody struct {
	Type        *string `json:"type"`
	EndDateTime *string `json:"endDateTime"`
	Duration    *string `json:"duration"`
}

// Str is *p, or "" for nil.
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ParseTime reads an Edm.DateTimeOffset, with Graph's error when it is not one.
func ParseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, CannotConvert(v, "Edm.DateTimeOffset")
	}
	return t, nil
}

// CopyOf is a copy of *p, and whether there was one.
func CopyOf[T any](p *T) (T, bool) {
	if p == nil {
		var zero T
		return zero, false
	}
	return *p, true
}

// Records are the records of one kind a fake keeps (its requests), in the order they were
// made. They share the lock of the fake that keeps them, so that a handler changes them
// with the fake's other state in one step: List and Find are for a holder of that lock;
// Get and All take it and hand out copies.
type Records[T any] struct {
	lock sync.Locker
	id   func(*T) string
	List []*T
}

// NewRecords keeps records under lock, each known by id.
func NewRecords[T any](lock sync.Locker, id func(*T) string) *Records[T] {
	return &Records[T]{lock: lock, id: id}
}

// Add keeps one more record.
func (r *Records[T]) Add(p *T) { r.List = append(r.List, p) }

// Find is the record with that id, or nil.
func (r *Records[T]) Find(id string) *T {
	for _, p := range r.List {
		if r.id(p) == id {
			return p
		}
	}
	return nil
}

// Get is a copy of the record with that id, and whether there is one.
func (r *Records[T]) Get(id string) (T, bool) {
	r.lock.Lock()
	defer r.lock.Unlock()
	return CopyOf(r.Find(id))
}

// All are copies of every record, in the order they were made.
func (r *Records[T]) All() []T {
	r.lock.Lock()
	defer r.lock.Unlock()
	return Copies(r.List)
}

// Copies are copies of the records list points to, in order.
func Copies[T any](list []*T) []T {
	out := make([]T, len(list))
	for i, p := range list {
		out[i] = *p
	}
	return out
}
