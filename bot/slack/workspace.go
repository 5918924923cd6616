package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"

	slackapi "github.com/slack-go/slack"
)

// Workspace is an in-memory Slack workspace that speaks the Web API's wire format (form
// or JSON requests, {"ok":…} answers) for the methods accessbot uses. It records every
// call. accessbot's development mode talks to one through the real slack-go client and
// prints what people would see (a transcript); tests serve one with httptest as the fake
// Slack, and script failures (429 with Retry-After, 5xx, Slack errors) into it.
type Workspace struct {
	mu         sync.Mutex
	users      map[string]WorkspaceUser
	calls      []Call
	ts         int
	failures   map[string][]failure
	transcript io.Writer
	dms        map[string]string // channel → user id
}

// WorkspaceUser is a member of a Workspace.
type WorkspaceUser struct {
	ID, Email, Name, TZ string
}

// Call is one Web API call received.
type Call struct {
	Method   string
	Channel  string
	TS       string
	Text     string
	Blocks   string // JSON
	View     string // JSON, views.open
	Params   url.Values
	Response string // what a response_url received (JSON); Channel is the URL's path after /response/
}

type failure struct {
	status     int
	retryAfter int
	slackError string
}

// NewWorkspace returns an empty workspace.
func NewWorkspace() *Workspace {
	return &Workspace{users: map[string]WorkspaceUser{}, failures: map[string][]failure{}, dms: map[string]string{}}
}

// WithTranscript makes the workspace write every message, update and modal to w as
// people would read them.
func (ws *Workspace) WithTranscript(w io.Writer) *Workspace {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.transcript = w
	return ws
}

// AddUser adds a member.
func (ws *Workspace) AddUser(u WorkspaceUser) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.users[u.ID] = u
}

// Fail makes the next call of method fail: with HTTP status (and Retry-After seconds, if
// retryAfter > 0), or, when status is 200, with {"ok":false,"error":slackError}.
func (ws *Workspace) Fail(method string, status, retryAfter int, slackError string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.failures[method] = append(ws.failures[method], failure{status, retryAfter, slackError})
}

// Calls returns the calls of method received so far ("" for all).
func (ws *Workspace) Calls(method string) []Call {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var out []Call
	for _, c := range ws.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Client returns a slack-go client wired to the workspace in-process (no port, no network).
func (ws *Workspace) Client() *slackapi.Client {
	return slackapi.New("xoxb-workspace", slackapi.OptionAPIURL("http://workspace.invalid/api/"),
		slackapi.OptionHTTPClient(&http.Client{Transport: inProcess{ws}}))
}

type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// ServeHTTP answers /api/<method> like Slack, and records posts to /response/… as
// response_url deliveries.
func (ws *Workspace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if strings.HasPrefix(r.URL.Path, "/response") {
		// The path after /response/ names the response_url, e.g. the user it was given to.
		ws.record(Call{Method: "response_url", Channel: strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/response"), "/"), Response: string(body)})
		_, _ = io.WriteString(w, "ok")
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	ws.mu.Lock()
	var fail *failure
	if fs := ws.failures[method]; len(fs) > 0 {
		fail, ws.failures[method] = &fs[0], fs[1:]
	}
	ws.mu.Unlock()
	if fail != nil && fail.status != http.StatusOK {
		ws.record(Call{Method: method})
		if fail.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(fail.retryAfter))
		}
		w.WriteHeader(fail.status)
		return
	}
	params := url.Values{}
	var jsonBody map[string]json.RawMessage
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &jsonBody)
	} else {
		params, _ = url.ParseQuery(string(body))
	}
	if fail != nil {
		ws.record(Call{Method: method, Params: params})
		answer(w, map[string]any{"ok": false, "error": fail.slackError})
		return
	}
	switch method {
	case "conversations.open":
		users := params.Get("users")
		ch := "D" + strings.ReplaceAll(users, ",", "")
		ws.mu.Lock()
		ws.dms[ch] = users
		ws.mu.Unlock()
		ws.record(Call{Method: method, Channel: ch, Params: params})
		answer(w, map[string]any{"ok": true, "channel": map[string]any{"id": ch}})
	case "chat.postMessage":
		ws.mu.Lock()
		ws.ts++
		ts := fmt.Sprintf("1700000000.%06d", ws.ts)
		ws.mu.Unlock()
		c := Call{Method: method, Channel: params.Get("channel"), TS: ts, Text: params.Get("text"), Blocks: params.Get("blocks"), Params: params}
		ws.record(c)
		ws.write(fmt.Sprintf("accessbot → %s", ws.who(c.Channel)), c)
		answer(w, map[string]any{"ok": true, "channel": c.Channel, "ts": ts})
	case "chat.update":
		c := Call{Method: method, Channel: params.Get("channel"), TS: params.Get("ts"), Text: params.Get("text"), Blocks: params.Get("blocks"), Params: params}
		ws.record(c)
		ws.write(fmt.Sprintf("%s's card, updated in place", ws.who(c.Channel)), c)
		answer(w, map[string]any{"ok": true, "channel": c.Channel, "ts": c.TS, "text": c.Text})
	case "views.open":
		view := string(jsonBody["view"])
		ws.record(Call{Method: method, View: view})
		var v struct {
			Title  wireText        `json:"title"`
			Blocks json.RawMessage `json:"blocks"`
		}
		_ = json.Unmarshal([]byte(view), &v)
		ws.writeText(fmt.Sprintf("form %q opens", v.Title.Text), BlocksText(v.Blocks))
		answer(w, map[string]any{"ok": true, "view": map[string]any{"id": "V" + strconv.Itoa(len(ws.Calls("views.open")))}})
	case "users.info", "users.lookupByEmail":
		ws.record(Call{Method: method, Params: params})
		ws.mu.Lock()
		var found *WorkspaceUser
		for _, u := range ws.users {
			if u.ID == params.Get("user") || (params.Get("email") != "" && strings.EqualFold(u.Email, params.Get("email"))) {
				found = &u
				break
			}
		}
		ws.mu.Unlock()
		if found == nil {
			answer(w, map[string]any{"ok": false, "error": "users_not_found"})
			return
		}
		answer(w, map[string]any{"ok": true, "user": map[string]any{"id": found.ID, "name": strings.ToLower(found.Name),
			"real_name": found.Name, "tz": found.TZ, "profile": map[string]any{"email": found.Email, "real_name": found.Name}}})
	default:
		ws.record(Call{Method: method, Params: params})
		answer(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (ws *Workspace) record(c Call) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.calls = append(ws.calls, c)
}

func (ws *Workspace) who(channel string) string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if u, ok := ws.dms[channel]; ok {
		return u
	}
	return channel
}

func (ws *Workspace) write(title string, c Call) {
	text := plainText(c.Text)
	if c.Blocks != "" {
		text = BlocksText([]byte(c.Blocks))
	}
	ws.writeText(title, text)
}

func (ws *Workspace) writeText(title, body string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.transcript == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "   ┌─ %s\n   │ %s\n   └─\n", title, strings.ReplaceAll(body, "\n", "\n   │ "))
	_, _ = ws.transcript.Write(b.Bytes())
}
