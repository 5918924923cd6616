// Package slackfake is a fake Slack for tests: an httptest server that speaks the Web API's
// wire format (form-encoded or JSON requests, {"ok":…} answers, HTTP 429 with Retry-After)
// for the methods accessbot uses, plus response_url endpoints. It records every call for
// assertions and can be told to fail a method a number of times, or to hold its calls.
//
// It behaves like Slack where accessbot could get Slack wrong: chat.update needs the D…
// channel a message was posted in (a user id is channel_not_found), a trigger id works
// once, users are found by their own id or e-mail only, and blocks that slack-go cannot
// decode or that break the 50-block limit are invalid_blocks. views.publish takes only a
// Home tab view of a member, within a Home tab's limits (see Home).
//
// It knows nothing of accessbot: point any slack-go client at APIURL.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Token is the bot token the fake accepts (any "xoxb-" token is accepted unless
// RequireToken names another).
const Token = "xoxb-slackfake"

// TeamID is the fake workspace's id: auth.test names it, and users are its members unless
// they say otherwise.
const TeamID = "T0FAKE"

// User is a member of the fake workspace, or someone Slack shows it (a Slack Connect
// user of another workspace). users.info and users.lookupByEmail answer with the fields
// Slack documents for the user object: team_id, deleted, is_bot, is_app_user,
// is_restricted, is_ultra_restricted, is_stranger and, on Enterprise Grid, enterprise_user.
type User struct {
	ID    string
	Email string // empty: the profile shows none (a bot, or no users:read.email scope)
	Name  string
	TZ    string
	IsBot bool
	// Team is the user's workspace; default TeamID. Enterprise, when set, is their org
	// (enterprise_user.enterprise_id, with Team as their one workspace in it).
	Team, Enterprise string
	Deleted          bool // deactivated: users.lookupByEmail no longer finds them
	IsAppUser        bool
	Restricted       bool // a multi-channel guest
	UltraRestricted  bool // a single-channel guest
	Stranger         bool // of another workspace, seen through a Slack Connect channel
}

// Call is one request the fake received.
type Call struct {
	Method  string          // Web API method ("chat.postMessage"), or "response_url"
	Params  url.Values      // the form fields; for JSON bodies, the top-level string fields
	JSON    bool            // the arguments came as an application/json body
	Bearer  bool            // the token came in an "Authorization: Bearer" header
	Channel string          // chat.*: the channel asked for; conversations.open: the DM opened
	TS      string          // chat.postMessage: the ts given out; chat.update: the ts asked for
	Text    string          // the message's "text"
	Blocks  json.RawMessage // the message's "blocks", as sent
	View    json.RawMessage // views.open: the view
	Body    json.RawMessage // response_url: the JSON posted
	Hook    string          // response_url: the name given to ResponseURL
	Thread  string          // chat.postMessage: the thread_ts it replies in
	Failed  string          // the error or HTTP status the fake answered with, if any
}

// DecodeBlocks decodes the call's blocks with slack-go, as a Slack client would.
func (c Call) DecodeBlocks() (slackapi.Blocks, error) {
	var b slackapi.Blocks
	err := json.Unmarshal(c.Blocks, &b)
	return b, err
}

// Message is a message as it stands now in the fake, after any updates.
type Message struct {
	Channel string
	TS      string
	Text    string
	Blocks  json.RawMessage
	Updates int
	Thread  string // the ts of the message whose thread it is in; "" for none
}

// Failure is a scripted failure: an HTTP status (with a Retry-After header when
// RetryAfter is set), or, when Status is 0 or 200, {"ok":false,"error":Error}.
type Failure struct {
	Status     int
	RetryAfter int // seconds
	Error      string
}

// Server is the fake Slack.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]User
	calls    []Call
	messages []*Message
	dms      map[string]string // user id → D channel
	channels map[string]bool   // channels the bot is in (C…), see AddChannel
	triggers map[string]bool   // trigger ids used
	homes    map[string]*Home  // user id → their Home tab, see views.publish
	failures map[string][]Failure
	holds    map[string]chan struct{} // method → closed when held calls may go on, see Hold
	closed   chan struct{}            // closed by Close: held calls go on
	seq      int
	changed  chan struct{} // closed and replaced whenever a call is recorded
	socket   *SocketMode   // answers apps.connections.open, see StartSocketMode
}

// New starts a fake Slack with the given members. Close it when done.
func New(users ...User) *Server {
	s := &Server{users: map[string]User{}, dms: map[string]string{}, channels: map[string]bool{}, triggers: map[string]bool{}, homes: map[string]*Home{},
		failures: map[string][]Failure{}, holds: map[string]chan struct{}{}, closed: make(chan struct{}), changed: make(chan struct{})}
	for _, u := range users {
		s.users[u.ID] = u
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Start is New for a test: the server closes when the test ends.
func Start(t testing.TB, users ...User) *Server {
	s := New(users...)
	t.Cleanup(s.Close)
	return s
}

// Close releases held calls (see Hold) and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base to give slack-go (slackapi.OptionAPIURL).
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL is a response_url whose deliveries are recorded with Hook = name.
func (s *Server) ResponseURL(name string) string {
	return s.srv.URL + "/response/" + url.PathEscape(name)
}

// Client returns a slack-go client for the fake, with a timeout and no retries.
func (s *Server) Client() *slackapi.Client {
	return slackapi.New(Token, slackapi.OptionAPIURL(s.APIURL()), slackapi.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

// AddUser adds or replaces a member.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// DM is the direct-message channel the fake gives the user with this id.
func DM(userID string) string { return "D" + userID }

// Fail makes the next times calls of method fail with f.
func (s *Server) Fail(method string, times int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.failures[method] = append(s.failures[method], f)
	}
}

// Hold makes every call of method wait, unanswered and unrecorded, until release is
// called (or the caller gives up, or the server closes): a slow Slack. Scripted failures
// apply once a call goes on.
func (s *Server) Hold(method string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[method] = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.holds[method] == ch {
				delete(s.holds, method)
			}
			close(ch)
		})
	}
}

// hold waits while method is held.
func (s *Server) hold(r *http.Request, method string) {
	s.mu.Lock()
	ch := s.holds[method]
	s.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-r.Context().Done():
	case <-s.closed:
	}
}

// Calls returns the calls of method so far, oldest first ("" for every call).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the messages in channel as they stand now, oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Wait returns the calls of method once there are at least n, or fails the test after
// timeout. For work that happens after an HTTP answer (replies to response_url).
func (s *Server) Wait(t testing.TB, method string, n int, timeout time.Duration) []Call {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if calls := s.Calls(method); len(calls) >= n {
			return calls
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("slackfake: %d %s calls after %s, want %d", len(s.Calls(method)), method, timeout, n)
			return nil
		}
	}
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) nextFailure(method string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.failures[method]
	if len(fs) == 0 {
		return Failure{}, false
	}
	s.failures[method] = fs[1:]
	return fs[0], true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if hook, ok := strings.CutPrefix(r.URL.Path, "/response/"); ok {
		s.responseURL(w, hook, body)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	socket := s.socket
	s.mu.Unlock()
	if method == "apps.connections.open" && socket != nil {
		socket.connectionsOpen(w, r)
		return
	}
	s.hold(r, method)
	c, err := decode(method, r, body)
	if err != nil {
		s.record(Call{Method: method, Failed: "invalid_form_data"})
		answer(w, fail("invalid_form_data"))
		return
	}
	token := c.Params.Get("token")
	if c.JSON {
		token = "" // Slack takes the token of a JSON body only from the Authorization header
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token, c.Bearer = bearer, true
	}
	if f, ok := s.nextFailure(method); ok {
		if f.Status != 0 && f.Status != http.StatusOK {
			c.Failed = strconv.Itoa(f.Status)
			s.record(c)
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			w.WriteHeader(f.Status)
			return
		}
		c.Failed = f.Error
		s.record(c)
		answer(w, fail(f.Error))
		return
	}
	var resp map[string]any
	switch {
	case token == "":
		resp = fail("not_authed")
	case !strings.HasPrefix(token, "xoxb-"):
		resp = fail("invalid_auth")
	default:
		resp = s.call(&c)
	}
	if resp["ok"] != true {
		c.Failed, _ = resp["error"].(string)
	} else if c.JSON && !strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "charset=") {
		resp["warning"] = "missing_charset" // as Slack answers a JSON body without a charset
		resp["response_metadata"] = map[string]any{"warnings": []string{"missing_charset"}}
	}
	s.record(c)
	answer(w, resp)
}

// decode reads a Web API request as Slack takes it: as a form (slack-go's way for most
// methods), as JSON (views.*, and accessbot's chat.postMessage and chat.update), or, for a
// few methods, as GET with a query.
func decode(method string, r *http.Request, body []byte) (Call, error) {
	c := Call{Method: method, Params: url.Values{}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		c.JSON = true
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return c, err
		}
		for k, v := range fields {
			var str string
			if json.Unmarshal(v, &str) == nil {
				c.Params.Set(k, str)
			}
		}
		c.View = fields["view"]
		c.Channel, c.TS, c.Text, c.Thread = c.Params.Get("channel"), c.Params.Get("ts"), c.Params.Get("text"), c.Params.Get("thread_ts")
		// blocks come as an array, as Slack documents them; a string holding the array works too.
		if b := fields["blocks"]; len(b) > 0 && string(b) != "null" {
			c.Blocks = b
			if s := c.Params.Get("blocks"); s != "" {
				c.Blocks = json.RawMessage(s)
			}
		}
		return c, nil
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return c, err
	}
	for k, v := range r.URL.Query() { // GET methods (chat.getPermalink) send their arguments in the query
		params[k] = v
	}
	c.Params = params
	c.Channel, c.TS, c.Text, c.Thread = params.Get("channel"), params.Get("ts"), params.Get("text"), params.Get("thread_ts")
	if b := params.Get("blocks"); b != "" {
		c.Blocks = json.RawMessage(b)
	}
	return c, nil
}

func (s *Server) call(c *Call) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.Method {
	case "conversations.open":
		users := c.Params.Get("users")
		u, ok := s.users[users]
		if !ok {
			return fail("user_not_found")
		}
		if u.IsBot {
			return fail("cannot_dm_bot")
		}
		ch := DM(u.ID)
		s.dms[u.ID] = ch
		c.Channel = ch
		return map[string]any{"ok": true, "channel": map[string]any{"id": ch, "is_im": true, "user": u.ID}}
	case "chat.postMessage":
		ch, ok := s.channel(c.Channel, true)
		if !ok {
			return fail("channel_not_found")
		}
		if e := checkMessage(c); e != "" {
			return fail(e)
		}
		if c.Thread != "" && !s.hasMessage(ch, c.Thread) {
			return fail("thread_not_found") // a reply names the ts of a message in the same channel
		}
		s.seq++
		c.TS = fmt.Sprintf("1700000000.%06d", s.seq)
		s.messages = append(s.messages, &Message{Channel: ch, TS: c.TS, Text: c.Text, Blocks: c.Blocks, Thread: c.Thread})
		return map[string]any{"ok": true, "channel": ch, "ts": c.TS, "message": map[string]any{"text": c.Text, "ts": c.TS}}
	case "chat.update":
		ch, ok := s.channel(c.Channel, false) // chat.update takes the D… channel, never a user id
		if !ok {
			return fail("channel_not_found")
		}
		if e := checkMessage(c); e != "" {
			return fail(e)
		}
		for _, m := range s.messages {
			if m.Channel == ch && m.TS == c.TS {
				m.Text, m.Blocks = c.Text, c.Blocks
				m.Updates++
				return map[string]any{"ok": true, "channel": ch, "ts": m.TS, "text": m.Text}
			}
		}
		return fail("message_not_found")
	case "views.open":
		trigger := c.Params.Get("trigger_id")
		switch {
		case trigger == "":
			return fail("invalid_arguments")
		case s.triggers[trigger]:
			return fail("trigger_exchanged")
		}
		s.triggers[trigger] = true
		var v slackapi.View
		if err := json.Unmarshal(c.View, &v); err != nil || len(v.Blocks.BlockSet) > 100 || v.Title == nil || len([]rune(v.Title.Text)) > 24 {
			return fail("invalid_arguments")
		}
		s.seq++
		id := fmt.Sprintf("V%06d", s.seq)
		return map[string]any{"ok": true, "view": map[string]any{"id": id, "callback_id": v.CallbackID,
			"private_metadata": v.PrivateMetadata, "hash": fmt.Sprintf("%d.hash", s.seq)}}
	case "views.publish":
		return s.publish(c)
	case "users.info":
		u, ok := s.users[c.Params.Get("user")]
		if !ok {
			return fail("user_not_found")
		}
		return map[string]any{"ok": true, "user": userJSON(u)}
	case "users.lookupByEmail":
		for _, u := range s.users {
			if u.Email != "" && !u.Deleted && strings.EqualFold(u.Email, c.Params.Get("email")) {
				return map[string]any{"ok": true, "user": userJSON(u)}
			}
		}
		return fail("users_not_found")
	case "chat.getPermalink":
		ch, ok := s.channel(c.Params.Get("channel"), false)
		if !ok {
			return fail("channel_not_found")
		}
		for _, m := range s.messages {
			if m.Channel == ch && m.TS == c.Params.Get("message_ts") {
				return map[string]any{"ok": true, "channel": ch,
					"permalink": "https://fake.slack.invalid/archives/" + ch + "/p" + strings.ReplaceAll(m.TS, ".", "")}
			}
		}
		return fail("message_not_found")
	case "auth.test":
		return map[string]any{"ok": true, "url": "https://fake.slack.invalid/", "team": "Fake Workspace", "team_id": TeamID,
			"user": "accessbot", "user_id": "UBOT", "bot_id": "B0FAKE"}
	}
	return fail("unknown_method")
}

func (s *Server) hasMessage(ch, ts string) bool {
	for _, m := range s.messages {
		if m.Channel == ch && m.TS == ts {
			return true
		}
	}
	return false
}

// Home is a person's App Home tab as last published.
type Home struct {
	View      json.RawMessage // the view as sent
	Hash      string          // what the next views.publish may give as hash
	Publishes int
}

// Home returns the Home tab last published for a user, or nil when none was.
func (s *Server) Home(userID string) *Home {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.homes[userID]; ok {
		cp := *h
		return &cp
	}
	return nil
}

// maxViewBytes is the size of a view Slack refuses as view_too_large.
const maxViewBytes = 250 << 10

// publish is views.publish as Slack does it: a member's id, a view of type home that
// slack-go decodes, at most 100 blocks, private_metadata of at most 3000 characters, a
// callback_id of at most 255, and, when hash is given, the hash of the view it replaces.
func (s *Server) publish(c *Call) map[string]any {
	uid := c.Params.Get("user_id")
	if uid == "" || len(c.View) == 0 {
		return fail("invalid_arguments")
	}
	u, ok := s.users[uid]
	if !ok || u.Deleted {
		return fail("user_not_found")
	}
	if len(c.View) > maxViewBytes {
		return fail("view_too_large")
	}
	var v slackapi.View
	if err := json.Unmarshal(c.View, &v); err != nil || v.Type != slackapi.VTHomeTab || len(v.Blocks.BlockSet) > 100 ||
		len([]rune(v.PrivateMetadata)) > 3000 || len(v.CallbackID) > 255 {
		return fail("invalid_arguments")
	}
	h := s.homes[uid]
	if hash := c.Params.Get("hash"); hash != "" && (h == nil || h.Hash != hash) {
		return fail("hash_conflict")
	}
	if h == nil {
		h = &Home{}
		s.homes[uid] = h
	}
	s.seq++
	h.View, h.Hash = c.View, fmt.Sprintf("%d.home", s.seq)
	h.Publishes++
	return map[string]any{"ok": true, "view": map[string]any{"id": "VH" + uid, "type": "home", "team_id": TeamID,
		"callback_id": v.CallbackID, "private_metadata": v.PrivateMetadata, "hash": h.Hash}}
}

// channel resolves a channel argument to a DM the fake has opened; chat.postMessage
// (byUser) also takes a user id, as Slack does.
// AddChannel makes a channel (such as an admin channel, C…) one the bot can post in.
func (s *Server) AddChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = true
}

func (s *Server) channel(ch string, byUser bool) (string, bool) {
	if s.channels[ch] {
		return ch, true
	}
	for uid, dm := range s.dms {
		if ch == dm || (byUser && ch == uid) {
			return dm, true
		}
	}
	if _, ok := s.users[ch]; ok && byUser {
		s.dms[ch] = DM(ch)
		return DM(ch), true
	}
	return "", false
}

// checkMessage refuses what Slack refuses: no content, blocks that do not decode, more
// than 50 blocks, text over 40,000 characters.
func checkMessage(c *Call) string {
	var b slackapi.Blocks
	if len(c.Blocks) > 0 {
		if err := json.Unmarshal(c.Blocks, &b); err != nil || len(b.BlockSet) > 50 {
			return "invalid_blocks"
		}
	}
	if c.Text == "" && len(b.BlockSet) == 0 {
		return "no_text"
	}
	if len([]rune(c.Text)) > 40000 {
		return "msg_too_long"
	}
	return ""
}

func (s *Server) responseURL(w http.ResponseWriter, hook string, body []byte) {
	hook, _ = url.PathUnescape(hook)
	c := Call{Method: "response_url", Hook: hook, Body: body}
	var m struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		c.Failed = "invalid_payload"
		s.record(c)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	c.Text, c.Blocks = m.Text, m.Blocks
	s.record(c)
	_, _ = io.WriteString(w, "ok")
}

func userJSON(u User) map[string]any {
	profile := map[string]any{"real_name": u.Name, "display_name": u.Name}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	team := u.Team
	if team == "" {
		team = TeamID
	}
	j := map[string]any{"id": u.ID, "team_id": team, "name": strings.ToLower(strings.ReplaceAll(u.Name, " ", ".")), "real_name": u.Name,
		"tz": u.TZ, "is_bot": u.IsBot, "is_app_user": u.IsAppUser, "deleted": u.Deleted,
		"is_restricted": u.Restricted || u.UltraRestricted, "is_ultra_restricted": u.UltraRestricted, "profile": profile}
	if u.Stranger {
		j["is_stranger"] = true // present only for strangers
	}
	if u.Enterprise != "" {
		j["enterprise_user"] = map[string]any{"id": u.ID, "enterprise_id": u.Enterprise, "enterprise_name": "Fake Org",
			"is_admin": false, "is_owner": false, "teams": []string{team}}
	}
	return j
}

func fail(e string) map[string]any { return map[string]any{"ok": false, "error": e} }

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
