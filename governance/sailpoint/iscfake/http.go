package iscfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// reply is an answer before it is written.
type reply struct {
	status int
	body   any
	header map[string]string
	token  string // a token issued, for the call record
}

type handler func(s *Server, r *http.Request, body []byte) reply

// routes are the /v3 endpoints, by path and method.
var routes = map[string]map[string]handler{
	"/v3/access-requests":        {http.MethodPost: (*Server).submit},
	"/v3/access-requests/cancel": {http.MethodPost: (*Server).cancel},
	"/v3/access-request-status":  {http.MethodGet: (*Server).status},
	"/v3/access-request-config":  {http.MethodGet: (*Server).getConfig, http.MethodPut: (*Server).putConfig},
	"/v3/requestable-objects":    {http.MethodGet: (*Server).requestableObjects},
	"/v3/public-identities":      {http.MethodGet: (*Server).publicIdentities},
	"/v3/search":                 {http.MethodPost: (*Server).search},
	"/beta/workgroups":           {http.MethodGet: (*Server).workgroups},
	"/v3/access-request-approvals/pending": {http.MethodGet: func(s *Server, r *http.Request, _ []byte) reply {
		return s.listApprovals(r, false)
	}},
	"/v3/access-request-approvals/completed": {http.MethodGet: func(s *Server, r *http.Request, _ []byte) reply {
		return s.listApprovals(r, true)
	}},
}

// ServeHTTP records the call, then answers it: with a queued fault if one matches, else
// as ISC would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/authorize" {
		s.record(r, nil) // the body holds a password: not recorded
		s.authorize(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	idx := s.record(r, body)
	var rep reply
	if err != nil {
		rep = problem(http.StatusBadRequest, "The request body could not be read: "+err.Error())
	} else if f, ok := s.takeFault(r); ok && f.lose {
		s.serve(r, body)
		rep = errorReply(f.status)
	} else if ok {
		rep = s.answerFault(r.Context(), f)
	} else {
		rep = s.serve(r, body)
	}
	s.write(w, idx, rep)
}

func (s *Server) record(r *http.Request, body []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Body: body, At: s.now(), Token: bearer(r)})
	return len(s.calls) - 1
}

// serve answers a request that no fault took, under the lock.
func (s *Server) serve(r *http.Request, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/oauth/token":
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		return s.issueToken(r, body)
	case "/oauth/info":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		return s.info()
	}
	if !strings.HasPrefix(r.URL.Path, "/v3/") && !strings.HasPrefix(r.URL.Path, "/beta/") {
		return notFound(r)
	}
	sess, ok := s.tokens[bearer(r)]
	if !ok || !s.now().Before(sess.exp) {
		return unauthorized()
	}
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, s.callerOf(sess)))
	if s.limiter != nil && !s.limiter.Allow() {
		s.rateLimited++
		rep := errorReply(http.StatusTooManyRequests)
		rep.header = map[string]string{"Retry-After": strconv.Itoa(s.opts.RetryAfter)}
		return rep
	}
	methods, ok := routes[r.URL.Path]
	if !ok {
		if methods, ok = s.dynamicRoute(r); !ok {
			return notFound(r)
		}
	}
	h, ok := methods[r.Method]
	if !ok {
		return methodNotAllowed(slices.Sorted(maps.Keys(methods))...)
	}
	return h(s, r, body)
}

// write records the status and token of call idx and sends the answer.
func (s *Server) write(w http.ResponseWriter, idx int, rep reply) {
	s.mu.Lock()
	data, err := json.Marshal(rep.body)
	if err != nil {
		rep = problem(http.StatusInternalServerError, "The answer could not be encoded: "+err.Error())
		data, _ = json.Marshal(rep.body)
	}
	s.calls[idx].Status = rep.status
	if rep.token != "" {
		s.calls[idx].Token = rep.token
	}
	s.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(data)
}

func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// problem is an ErrorResponseDto answer.
func problem(status int, text string) reply {
	return reply{status: status, body: ErrorResponse{
		DetailCode: detailCode(status),
		TrackingID: newID(),
		Messages:   []ErrorMessage{message(text)},
		Causes:     []ErrorMessage{},
	}}
}

func badRequest(format string, args ...any) reply {
	return problem(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

func detailCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "400.1 Bad Request Content"
	case http.StatusForbidden:
		return "403 Forbidden"
	case http.StatusNotFound:
		return "404 Not found"
	case http.StatusInternalServerError:
		return "500.0 Internal Fault"
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

func message(text string) ErrorMessage {
	return ErrorMessage{Locale: "en-US", LocaleOrigin: "DEFAULT", Text: text}
}

func unauthorized() reply {
	return reply{status: http.StatusUnauthorized, body: map[string]string{"error": "JWT validation failed: JWT is expired"}}
}

func notFound(r *http.Request) reply {
	return problem(http.StatusNotFound, fmt.Sprintf("The path %s was not found.", r.URL.Path))
}

func methodNotAllowed(allowed ...string) reply {
	rep := problem(http.StatusMethodNotAllowed, "The method is not allowed here; allowed: "+strings.Join(allowed, ", ")+".")
	rep.header = map[string]string{"Allow": strings.Join(allowed, ", ")}
	return rep
}
