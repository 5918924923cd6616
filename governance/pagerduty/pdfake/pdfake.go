// Package pdfake is a strict fake of PagerDuty's REST API v2 for tests: GET /users and
// GET /oncalls, in PagerDuty's wire format (reach-apis.md §6).
//
// It refuses what PagerDuty refuses and what a client must not rely on: a missing or
// malformed `Authorization: Token token=<key>` (401), another key (401), a method other
// than GET (405), a limit above 100 or offset+limit above 10 000 (400), a filter written
// without its [] (`schedule_ids=`, which PagerDuty would ignore, widening the answer), an
// unknown query parameter, and a missing v2 Accept header (400, so a client never depends
// on its key's own version). Tests add users and on-call entries, make it fail (Fail) or
// hang until the caller gives up (Hang), and read back what it was sent (Calls).
package pdfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Accept is the header that pins the API to v2.
const Accept = "application/vnd.pagerduty+json;version=2"

// User is a PagerDuty user.
type User struct{ ID, Name, Email string }

// OnCall is one on-call entry: the user is on call now at level for a schedule (may be
// "") within an escalation policy.
type OnCall struct {
	UserID, ScheduleID, PolicyID string
	Level                        int
}

// Call is a request the fake received.
type Call struct {
	Method, Path string
	Query        url.Values
	Auth, Accept string
}

// Server is the fake.
type Server struct {
	*httptest.Server
	key string

	mu      sync.Mutex
	users   []User
	oncalls []OnCall
	calls   []Call
	fail    int           // answer every request with this status, when not 0
	hang    chan struct{} // when set, requests wait for the caller to give up
}

// Start starts a fake that accepts API key key; it stops with the test.
func Start(t testing.TB, key string) *Server {
	s := &Server{key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			close(s.hang)
			s.hang = nil
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

// AddUser adds a user.
func (s *Server) AddUser(u User) { s.mu.Lock(); s.users = append(s.users, u); s.mu.Unlock() }

// SetOnCall replaces who is on call now.
func (s *Server) SetOnCall(oc ...OnCall) { s.mu.Lock(); s.oncalls = oc; s.mu.Unlock() }

// Fail makes every request answer status (PagerDuty's error body), or work again with 0.
func (s *Server) Fail(status int) { s.mu.Lock(); s.fail = status; s.mu.Unlock() }

// Hang makes every request wait until its caller gives up (a PagerDuty too slow to wait for).
func (s *Server) Hang() { s.mu.Lock(); s.hang = make(chan struct{}); s.mu.Unlock() }

// Calls lists what the fake received.
func (s *Server) Calls() []Call { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.calls) }

func pdError(w http.ResponseWriter, status, code int, msg string, errs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "code": code, "errors": errs}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept")})
	fail, hang := s.fail, s.hang
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
		return
	}
	if fail != 0 {
		pdError(w, fail, 2001, http.StatusText(fail))
		return
	}
	if r.Header.Get("Authorization") != "Token token="+s.key {
		pdError(w, http.StatusUnauthorized, 2006, "Authentication failed")
		return
	}
	if r.Method != http.MethodGet {
		pdError(w, http.StatusMethodNotAllowed, 2000, "Method not allowed")
		return
	}
	if r.Header.Get("Accept") != Accept {
		pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "send Accept: "+Accept)
		return
	}
	q := r.URL.Query()
	limit, offset := 25, 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	if limit < 1 || limit > 100 || offset < 0 || offset+limit > 10000 {
		pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "limit must be 1..100 and offset+limit at most 10000")
		return
	}
	switch r.URL.Path {
	case "/users":
		s.listUsers(w, q, limit)
	case "/oncalls":
		s.onCalls(w, q, limit)
	default:
		pdError(w, http.StatusNotFound, 2100, "Not Found")
	}
}

func known(q url.Values, keys ...string) error {
	for k := range q {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("unknown parameter %q", k)
		}
	}
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, q url.Values, limit int) {
	if err := known(q, "query", "limit", "offset", "total", "include[]", "team_ids[]"); err != nil {
		pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", err.Error())
		return
	}
	s.mu.Lock()
	var out []map[string]any
	query := strings.ToLower(q.Get("query"))
	for _, u := range s.users {
		if query == "" || strings.Contains(strings.ToLower(u.Name), query) || strings.Contains(strings.ToLower(u.Email), query) {
			out = append(out, map[string]any{"id": u.ID, "type": "user", "name": u.Name, "email": u.Email, "summary": u.Name})
		}
	}
	s.mu.Unlock()
	writePage(w, "users", out, limit)
}

func (s *Server) onCalls(w http.ResponseWriter, q url.Values, limit int) {
	if err := known(q, "time_zone", "limit", "offset", "total", "include[]", "user_ids[]", "escalation_policy_ids[]",
		"schedule_ids[]", "since", "until", "earliest"); err != nil {
		pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", err.Error())
		return
	}
	in := func(key, v string) bool { return len(q[key]) == 0 || slices.Contains(q[key], v) }
	s.mu.Lock()
	var out []map[string]any
	for _, oc := range s.oncalls {
		if !in("user_ids[]", oc.UserID) || !in("schedule_ids[]", oc.ScheduleID) || !in("escalation_policy_ids[]", oc.PolicyID) {
			continue
		}
		var sched any
		if oc.ScheduleID != "" {
			sched = map[string]any{"id": oc.ScheduleID, "type": "schedule_reference"}
		}
		out = append(out, map[string]any{
			"user":              map[string]any{"id": oc.UserID, "type": "user_reference"},
			"schedule":          sched,
			"escalation_policy": map[string]any{"id": oc.PolicyID, "type": "escalation_policy_reference"},
			"escalation_level":  oc.Level, "start": nil, "end": nil})
	}
	s.mu.Unlock()
	writePage(w, "oncalls", out, limit)
}

func writePage(w http.ResponseWriter, key string, items []map[string]any, limit int) {
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	if items == nil {
		items = []map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{key: items, "limit": limit, "offset": 0, "more": more, "total": nil})
}
