package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// AppToken is an app-level token the fake Socket Mode accepts (any "xapp-" token is).
const AppToken = "xapp-1-A0FAKE-1-slackfake"

// maxAck is Slack's limit on a Socket Mode message from the app: an acknowledgement of
// 20 KB or more is dropped without a word.
const maxAck = 20 * 1024

// SocketMode is a fake of Slack's Socket Mode: apps.connections.open (with an app-level
// token, in the Authorization header as Slack requires) hands out a WebSocket URL, and
// each connection to it is greeted with hello. A test sends envelopes (slash_commands,
// interactive, events_api) as Slack does, to the newest open connection, and waits for
// their acknowledgement by envelope_id; it can ask a connection to disconnect, as Slack
// does before it recycles one, or drop it.
type SocketMode struct {
	srv *httptest.Server

	mu      sync.Mutex
	opens   int                 // successful apps.connections.open calls
	conns   []*socketConn       // every connection ever made, oldest first
	acks    map[string]envelope // envelope id → where its acknowledgement's payload goes
	strays  []string            // acknowledgements of no envelope sent, or refused (too large)
	seq     int
	changed chan struct{} // closed and replaced when a connection opens or closes
}

// envelope is one envelope sent and waiting for its acknowledgement.
type envelope struct {
	ack            chan json.RawMessage
	acceptsPayload bool
}

type socketConn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex // one writer at a time
	open   bool
	closed chan struct{}
}

// StartSocketMode is a fake Socket Mode for a test; it closes when the test ends.
func StartSocketMode(t testing.TB) *SocketMode {
	f := &SocketMode{acks: map[string]envelope{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/apps.connections.open", f.connectionsOpen)
	mux.HandleFunc("/link/", f.link)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// StartSocketMode turns on Socket Mode in the fake Slack: its apps.connections.open
// hands out connections to a fake Socket Mode, which it returns.
func (s *Server) StartSocketMode(t testing.TB) *SocketMode {
	sm := StartSocketMode(t)
	s.mu.Lock()
	s.socket = sm
	s.mu.Unlock()
	return sm
}

// APIURL is the Web API base URL to give slack-go (slack.OptionAPIURL).
func (f *SocketMode) APIURL() string { return f.srv.URL + "/api/" }

// Close drops every connection and stops the server.
func (f *SocketMode) Close() {
	f.mu.Lock()
	conns := append([]*socketConn(nil), f.conns...)
	f.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	f.srv.Close()
}

// connectionsOpen is apps.connections.open: POST, the app-level token as a bearer token.
func (f *SocketMode) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case r.Method != http.MethodPost:
		_ = json.NewEncoder(w).Encode(fail("invalid_request"))
	case !ok || token == "":
		_ = json.NewEncoder(w).Encode(fail("not_authed"))
	case !strings.HasPrefix(token, "xapp-"):
		_ = json.NewEncoder(w).Encode(fail("not_allowed_token_type"))
	default:
		f.mu.Lock()
		f.opens++
		n := f.opens
		f.mu.Unlock()
		url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + fmt.Sprintf("/link/?ticket=%d&app_id=A0FAKE", n)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": url})
	}
}

// link is the WebSocket a URL from apps.connections.open leads to.
func (f *SocketMode) link(w http.ResponseWriter, r *http.Request) {
	// Slack's clients send Origin https://api.slack.com, which is not the fake's host.
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://api.slack.com" }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &socketConn{ws: ws, open: true, closed: make(chan struct{})}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	n := len(f.open())
	f.mu.Unlock()
	_ = c.write(map[string]any{"type": "hello", "num_connections": n,
		"connection_info": map[string]any{"app_id": "A0FAKE"},
		"debug_info":      map[string]any{"host": "applink-fake", "approximate_connection_time": 18060}})
	c.ping() // Slack pings every few seconds; a client that hears none reconnects
	f.notify()
	defer func() {
		f.mu.Lock()
		c.open = false
		f.mu.Unlock()
		close(c.closed)
		_ = ws.Close()
		f.notify()
	}()
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		f.ack(msg)
	}
}

// ack takes an acknowledgement: {"envelope_id": …, "payload": …}.
func (f *SocketMode) ack(msg []byte) {
	var a struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := json.Unmarshal(msg, &a); err != nil || len(msg) >= maxAck {
		f.strays = append(f.strays, string(msg))
		return
	}
	e, ok := f.acks[a.EnvelopeID]
	// A payload where the envelope accepts none is ignored by Slack: the app meant
	// something that nobody sees.
	if !ok || (!e.acceptsPayload && len(a.Payload) > 0 && string(a.Payload) != "null") {
		f.strays = append(f.strays, string(msg))
		return
	}
	delete(f.acks, a.EnvelopeID)
	e.ack <- a.Payload
}

func (c *socketConn) ping() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
}

func (c *socketConn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteJSON(v)
}

// open is the connections open now, oldest first; f.mu is held.
func (f *SocketMode) open() []*socketConn {
	var out []*socketConn
	for _, c := range f.conns {
		if c.open {
			out = append(out, c)
		}
	}
	return out
}

func (f *SocketMode) notify() {
	f.mu.Lock()
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// Opened is how many connections have been made so far.
func (f *SocketMode) Opened() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// WaitOpen waits until open connections are open and made have been made in all, or
// fails the test after timeout.
func (f *SocketMode) WaitOpen(t testing.TB, open, made int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		f.mu.Lock()
		have, total, changed := len(f.open()), len(f.conns), f.changed
		f.mu.Unlock()
		if have >= open && total >= made {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("slackfake: %d of %d connections open, %d of %d made, after %v", have, open, total, made, timeout)
		}
	}
}

// Disconnect asks the oldest open connection to go, as Slack does before it recycles
// one (reason "refresh_requested" or "warning"), and waits until the client closed it.
func (f *SocketMode) Disconnect(t testing.TB, reason string, timeout time.Duration) {
	t.Helper()
	c := f.oldest(t)
	require(t, c.write(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "applink-fake"}}))
	select {
	case <-c.closed:
	case <-time.After(timeout):
		t.Fatalf("slackfake: the client kept the connection %v after disconnect", timeout)
	}
}

// Drop closes the oldest open connection without a word, as a network failure does.
func (f *SocketMode) Drop(t testing.TB) {
	t.Helper()
	c := f.oldest(t)
	_ = c.ws.Close()
	<-c.closed
}

func (f *SocketMode) oldest(t testing.TB) *socketConn {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	open := f.open()
	if len(open) == 0 {
		t.Fatal("slackfake: no open Socket Mode connection")
	}
	return open[0]
}

// Send sends an envelope of type typ ("slash_commands", "interactive", "events_api")
// with payload on the newest open connection and returns its acknowledgement's payload
// (nil for an empty one); it fails the test when no acknowledgement comes within
// timeout. acceptsPayload is the envelope's accepts_response_payload: true for slash
// commands and view submissions.
func (f *SocketMode) Send(t testing.TB, typ string, payload any, acceptsPayload bool, timeout time.Duration) json.RawMessage {
	t.Helper()
	f.mu.Lock()
	open := f.open()
	if len(open) == 0 {
		f.mu.Unlock()
		t.Fatal("slackfake: no open Socket Mode connection")
	}
	c := open[len(open)-1]
	f.seq++
	id := fmt.Sprintf("e%04d-fake-envelope", f.seq)
	ch := make(chan json.RawMessage, 1)
	f.acks[id] = envelope{ack: ch, acceptsPayload: acceptsPayload}
	f.mu.Unlock()
	require(t, c.write(map[string]any{"envelope_id": id, "type": typ, "payload": payload, "accepts_response_payload": acceptsPayload}))
	select {
	case p := <-ch:
		if string(p) == "null" {
			return nil
		}
		return p
	case <-time.After(timeout):
		t.Fatalf("slackfake: envelope %s (%s) not acknowledged within %v", id, typ, timeout)
		return nil
	}
}

// Strays are acknowledgements that answered no envelope sent, or that Slack would drop
// (20 KB or more), or whose payload Slack would ignore (the envelope accepts none).
func (f *SocketMode) Strays() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.strays...)
}

func require(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("slackfake: %v", err)
	}
}
