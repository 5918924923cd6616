// Package msgraphtest is what accessbot's fake Microsoft Graph servers share (the Entitlement
// Management fake in governance/entra/graphfake, the Permissions Management one in
// governance/permissions/pmfake): the core server each is built on (NewServer: version
// root, bearer-token and query-option checks, GET /users, created bodies), recorded calls,
// injected faults, and Graph's wire conventions for errors, paging, $filter and strict
// bodies. Each fake keeps only its own resources.
package msgraphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one request a fake received.
type Call struct {
	Method string
	Path   string // below Graph's version root ("/users"), or "/token"
	Query  url.Values
	Body   []byte
	Status int
}

type fault struct {
	match      string
	status     int
	retryAfter string
	hang       time.Duration
}

// Wire records the calls a fake receives and injects the faults a test asks for.
type Wire struct {
	closing chan struct{}
	once    sync.Once

	mu     sync.Mutex
	calls  []Call
	faults []fault
}

// NewWire returns a Wire with nothing recorded and no fault.
func NewWire() *Wire { return &Wire{closing: make(chan struct{})} }

// Fail makes the next call that matches answer status with an OData error, and with
// Retry-After when retryAfter is not empty. match is "METHOD path", the path below Graph's
// version root ("POST /identityGovernance/entitlementManagement/assignmentRequests") or
// "/token"; a trailing * matches any path with that prefix. Each Fail is used once.
func (w *Wire) Fail(match string, status int, retryAfter string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, fault{match: match, status: status, retryAfter: retryAfter})
}

// Hang makes the next call that matches take effect but hold its answer for d (or until
// the caller gives up), as a lost answer after a timeout.
func (w *Wire) Hang(match string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, fault{match: match, hang: d})
}

// Lose makes the next call that matches take effect but never answer it (until the caller
// gives up or the fake closes), as a proxy or the network that loses an answer.
func (w *Wire) Lose(match string) { w.Hang(match, time.Hour) }

// Calls lists the requests received, in order.
func (w *Wire) Calls() []Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// Release lets every held answer go; call it before closing the server.
func (w *Wire) Release() { w.once.Do(func() { close(w.closing) }) }

// Serve records the call to path (below the version root) and answers it with answer,
// unless a fault matches: then it answers with the injected error, or lets answer take
// effect and holds its answer back.
func (w *Wire) Serve(rw http.ResponseWriter, r *http.Request, path string, body []byte, answer func(http.ResponseWriter)) {
	call := Call{Method: r.Method, Path: path, Query: r.URL.Query(), Body: body}
	w.mu.Lock()
	f, ok := w.takeFault(r.Method, path)
	w.mu.Unlock()
	if ok && f.hang == 0 {
		w.record(call, f.status)
		WriteError(rw, f.status, f.retryAfter, codeFor(f.status), fmt.Sprintf("Injected failure (HTTP %d).", f.status))
		return
	}
	rec := httptest.NewRecorder()
	answer(rec)
	w.record(call, rec.Code)
	if ok {
		select {
		case <-time.After(f.hang):
		case <-r.Context().Done():
			return
		case <-w.closing:
			return
		}
	}
	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	_, _ = rw.Write(rec.Body.Bytes())
}

func (w *Wire) takeFault(method, path string) (fault, bool) {
	for i, f := range w.faults {
		m, p, _ := strings.Cut(f.match, " ")
		if m == method && (p == path || (strings.HasSuffix(p, "*") && strings.HasPrefix(path, strings.TrimSuffix(p, "*")))) {
			w.faults = slices.Delete(w.faults, i, i+1)
			return f, true
		}
	}
	return fault{}, false
}

func (w *Wire) record(c Call, status int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c.Status = status
	w.calls = append(w.calls, c)
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalidRequest"
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken"
	case http.StatusForbidden:
		return "accessDenied"
	case http.StatusNotFound:
		return "itemNotFound"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "activityLimitReached"
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	}
	return "generalException"
}

// RequestID finds the request-id of an error body the fakes wrote.
var RequestID = regexp.MustCompile(`a1b2c3d4-0000-4000-8000-[0-9]{12}`)

var requestSeq struct {
	sync.Mutex
	n int
}

// WriteError writes Graph's error body, with innerError's request-id and date.
func WriteError(w http.ResponseWriter, status int, retryAfter, code, message string) {
	requestSeq.Lock()
	requestSeq.n++
	id := fmt.Sprintf("a1b2c3d4-0000-4000-8000-%012d", requestSeq.n)
	requestSeq.Unlock()
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("request-id", id)
	WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": id, "client-request-id": id}}})
}

// BadRequest writes a 400 with Graph's BadRequest code.
func BadRequest(w http.ResponseWriter, format string, args ...any) {
	WriteError(w, http.StatusBadRequest, "", "BadRequest", fmt.Sprintf(format, args...))
}

// WriteJSON writes v as a JSON answer.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Page writes one page of a collection at most size long (less with $top), from the
// $skiptoken on, with @odata.nextLink when more follow. root is the server's Graph
// version root ("http://127.0.0.1:1234/v1.0").
func Page(w http.ResponseWriter, r *http.Request, root string, size int, items []map[string]any) {
	q := r.URL.Query()
	if v := q.Get("$top"); v != "" {
		top, err := strconv.Atoi(v)
		if err != nil || top <= 0 {
			BadRequest(w, "Invalid value '%s' for $top.", v)
			return
		}
		size = min(size, top)
	}
	from := 0
	if t := q.Get("$skiptoken"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(items) {
			BadRequest(w, "The skip token is not valid.")
			return
		}
		from = n
	}
	to := min(from+size, len(items))
	base, _ := url.Parse(root)
	out := map[string]any{"@odata.context": root + "/$metadata#" + strings.TrimPrefix(r.URL.Path, base.Path+"/"),
		"value": append([]map[string]any{}, items[from:to]...)}
	if to < len(items) {
		next := url.Values{}
		for k, v := range q {
			if k != "$skiptoken" {
				next[k] = v
			}
		}
		next.Set("$skiptoken", strconv.Itoa(to))
		out["@odata.nextLink"] = base.Scheme + "://" + base.Host + r.URL.Path + "?" + next.Encode()
	}
	WriteJSON(w, http.StatusOK, out)
}

// Clause is one "<path> eq '<value>'" comparison of a $filter.
type Clause struct{ Path, Value string }

var clauseRE = regexp.MustCompile(`^([A-Za-z]+(?:/[A-Za-z]+)?) eq '((?:[^']|'')*)'$`)

// ParseFilter reads "a eq 'x' and b eq 'y'" (or with "or"): the clauses and the joining
// word. Only eq comparisons of the allowed paths are accepted, as Graph supports them.
func ParseFilter(f string, allowed ...string) ([]Clause, string, error) {
	if f == "" {
		return nil, "", nil
	}
	join := "and"
	parts := SplitOutsideQuotes(f, " and ")
	if len(parts) == 1 {
		if or := SplitOutsideQuotes(f, " or "); len(or) > 1 {
			parts, join = or, "or"
		}
	}
	var out []Clause
	for _, p := range parts {
		m := clauseRE.FindStringSubmatch(strings.TrimSpace(p))
		if m == nil {
			return nil, "", fmt.Errorf("Invalid filter clause: %s", p)
		}
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, m[1]) })
		if i < 0 {
			return nil, "", fmt.Errorf("Unsupported or invalid query filter clause specified for property '%s'.", m[1])
		}
		out = append(out, Clause{Path: allowed[i], Value: strings.ReplaceAll(m[2], "''", "'")})
	}
	return out, join, nil
}

// SplitOutsideQuotes splits s at sep where sep is not inside a '…' literal.
func SplitOutsideQuotes(s, sep string) []string {
	var parts []string
	in, start := false, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			in = !in
			continue
		}
		if !in && strings.HasPrefix(s[i:], sep) {
			parts = append(parts, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[start:])
}

// CannotConvert is Graph's error for a literal that is not of the expected type.
func CannotConvert(literal, typ string) error {
	return fmt.Errorf("Cannot convert the literal '%s' to the expected type '%s'.", literal, typ)
}

// Nullable is s, or JSON null when s is empty.
func Nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
