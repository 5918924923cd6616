package iscfake

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fail makes the next request matching match answer status with ISC's error body for
// it: 429 {"message":" Rate Limit Exceeded "}, 401 {"error":"JWT validation failed: JWT
// is expired"}, any other an ErrorResponseDto. retryAfter, if not empty, is sent as
// Retry-After. match is "METHOD /path-prefix" (e.g. "POST /v3/access-requests", which
// also matches /v3/access-requests/cancel), a bare method or path prefix, or "" for any
// /v3 request. Each call queues one fault; faults are consumed in order.
func (s *Server) Fail(match string, status int, retryAfter string) {
	f := parseMatch(match)
	f.status, f.retryAfter = status, retryAfter
	s.queue(f)
}

// Lose makes the next request matching match (as for Fail) take effect as usual, but
// answers it 504 Gateway Timeout instead of with ISC's answer, as when a proxy or the
// network loses the answer of a call ISC carried out.
func (s *Server) Lose(match string) {
	f := parseMatch(match)
	f.lose, f.status = true, http.StatusGatewayTimeout
	s.queue(f)
}

// Hang holds the next request matching match (as for Fail) for d, or until the client
// gives up on it or the server closes, then answers 500.
func (s *Server) Hang(match string, d time.Duration) {
	f := parseMatch(match)
	f.isHang, f.hang, f.status = true, d, http.StatusInternalServerError
	s.queue(f)
}

func (s *Server) queue(f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

func parseMatch(match string) fault {
	fields := strings.Fields(match)
	switch {
	case len(fields) == 0:
		return fault{prefix: "/v3/"}
	case len(fields) == 1 && strings.HasPrefix(fields[0], "/"):
		return fault{prefix: fields[0]}
	case len(fields) == 1:
		return fault{method: strings.ToUpper(fields[0]), prefix: "/v3/"}
	}
	return fault{method: strings.ToUpper(fields[0]), prefix: fields[1]}
}

func (f fault) matches(r *http.Request) bool {
	return (f.method == "" || f.method == r.Method) && strings.HasPrefix(r.URL.Path, f.prefix)
}

// takeFault removes and returns the first queued fault r matches.
func (s *Server) takeFault(r *http.Request) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.matches(r) {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return fault{}, false
}

// answerFault holds a Hang, then answers the fault's status with its body.
func (s *Server) answerFault(ctx context.Context, f fault) reply {
	if f.isHang {
		t := time.NewTimer(f.hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-s.done:
		}
		return problem(http.StatusInternalServerError, "The request timed out inside the service.")
	}
	rep := errorReply(f.status)
	if f.retryAfter != "" {
		rep.header = map[string]string{"Retry-After": f.retryAfter}
	}
	return rep
}

// errorReply is ISC's error answer for status.
func errorReply(status int) reply {
	switch status {
	case http.StatusTooManyRequests:
		return reply{status: status, body: map[string]string{"message": " Rate Limit Exceeded "}}
	case http.StatusUnauthorized:
		return unauthorized()
	}
	return problem(status, "An error occurred: "+http.StatusText(status)+".")
}
