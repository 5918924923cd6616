package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	slackapi "github.com/slack-go/slack"
)

// Transcript is the API of development mode and the demo: it sends nothing and writes
// every message, update and modal to a writer as the people in it would read them:
//
//	── DM to alice@example.com (ALICE) ──
//	  Access request AR-1
//	  …
//	  [ Approve ] [ Deny ]
//
// People are the development directory's (NewDevDirectory with the same users). It gives
// out distinct channel ids and timestamps, like Slack, and is safe for concurrent use.
type Transcript struct {
	people *devPeople
	client *Client // posts and updates go through the real client; see serve

	mu   sync.Mutex
	w    io.Writer
	seq  int
	dms  map[string]string // D… channel → user id
	msgs map[string]string // ts → channel
}

var _ API = (*Transcript)(nil)

// NewTranscript returns a transcript writing to w. users is as for NewDevDirectory.
func NewTranscript(w io.Writer, users map[string]string) *Transcript {
	t := &Transcript{people: newDevPeople(users), w: w, dms: map[string]string{}, msgs: map[string]string{}}
	// Posts and updates go through the client accessbot uses with Slack, whose transport
	// answers in-process, so the demo sends what Slack would be sent.
	t.client = NewClient("xoxb-transcript", "http://transcript.invalid/api/", &http.Client{Transport: inProcess(t.serve)})
	return t
}

// PostJSONContext writes the message under a "DM to …" heading.
func (t *Transcript) PostJSONContext(ctx context.Context, m ChatMessage) (string, string, error) {
	return t.client.PostJSONContext(ctx, m)
}

// UpdateJSONContext writes the message as it reads after the update.
func (t *Transcript) UpdateJSONContext(ctx context.Context, m ChatMessage) (string, string, error) {
	return t.client.UpdateJSONContext(ctx, m)
}

// OpenConversationContext opens a DM: channel "D" + the user id.
func (t *Transcript) OpenConversationContext(_ context.Context, params *slackapi.OpenConversationParameters) (*slackapi.Channel, bool, bool, error) {
	if params == nil || len(params.Users) != 1 {
		return nil, false, false, slackapi.SlackErrorResponse{Err: "invalid_arguments"}
	}
	uid := strings.ToUpper(params.Users[0])
	ch := &slackapi.Channel{}
	ch.ID = "D" + uid
	t.mu.Lock()
	_, open := t.dms[ch.ID]
	t.dms[ch.ID] = uid
	t.mu.Unlock()
	return ch, false, open, nil
}

// GetUserInfoContext answers from the development directory.
func (t *Transcript) GetUserInfoContext(_ context.Context, user string, _ ...slackapi.GetUserInfoOption) (*slackapi.User, error) {
	return t.user(strings.ToUpper(user)), nil
}

// GetUserByEmailContext answers from the development directory.
func (t *Transcript) GetUserByEmailContext(_ context.Context, email string) (*slackapi.User, error) {
	return t.user(t.people.id(email)), nil
}

func (t *Transcript) user(id string) *slackapi.User {
	p := t.people.person(id)
	return &slackapi.User{ID: id, Name: strings.ToLower(id), RealName: p.Name, TZ: "UTC",
		Profile: slackapi.UserProfile{Email: p.Email, RealName: p.Name, DisplayName: p.Name}}
}

// AuthTestContext answers for the development workspace; a development Directory serves
// every workspace unless some are configured, and never asks.
func (t *Transcript) AuthTestContext(context.Context) (*slackapi.AuthTestResponse, error) {
	return &slackapi.AuthTestResponse{Team: "development", TeamID: "T0DEV", User: "accessbot", UserID: "UACCESSBOT"}, nil
}

// GetPermalinkContext makes up a link to a message; nothing in a transcript can follow it.
func (t *Transcript) GetPermalinkContext(_ context.Context, p *slackapi.PermalinkParameters) (string, error) {
	return "https://transcript.invalid/archives/" + p.Channel + "/p" + strings.ReplaceAll(p.Ts, ".", ""), nil
}

// OpenViewContext writes the modal with its fields.
func (t *Transcript) OpenViewContext(_ context.Context, triggerID string, view slackapi.ModalViewRequest) (*slackapi.ViewResponse, error) {
	if triggerID == "" {
		return nil, slackapi.SlackErrorResponse{Err: "invalid_arguments"}
	}
	blocks, err := json.Marshal(view.Blocks.BlockSet)
	if err != nil {
		return nil, err
	}
	title := ""
	if view.Title != nil {
		title = view.Title.Text
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	t.write(fmt.Sprintf("modal %q opened", title), BlocksText(blocks))
	resp := &slackapi.ViewResponse{}
	resp.View.ID = fmt.Sprintf("V%06d", t.seq)
	resp.View.CallbackID = view.CallbackID
	return resp, nil
}

// PublishViewContext writes the Home tab drawn for a person.
func (t *Transcript) PublishViewContext(_ context.Context, req slackapi.PublishViewContextRequest) (*slackapi.ViewResponse, error) {
	if req.UserID == "" || req.View.Type != slackapi.VTHomeTab {
		return nil, slackapi.SlackErrorResponse{Err: "invalid_arguments"}
	}
	blocks, err := json.Marshal(req.View.Blocks.BlockSet)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	t.write("home tab of "+req.UserID, BlocksText(blocks))
	resp := &slackapi.ViewResponse{}
	resp.View.ID = fmt.Sprintf("V%06d", t.seq)
	return resp, nil
}

// Respond writes a reply to a response_url: what only the person who acted sees. It has
// the signature handlers expect of a responder.
func (t *Transcript) Respond(_ context.Context, _ string, m Message) error {
	blocks, err := json.Marshal(m.Blocks)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.write("reply only the person who acted sees", MessageText(m.Text, blocks))
	return nil
}

// serve answers chat.postMessage and chat.update (JSON bodies) as Slack would, for the
// in-process client, and writes the message.
func (t *Transcript) serve(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Channel string          `json:"channel"`
		TS      string          `json:"ts"`
		Text    string          `json:"text"`
		Blocks  json.RawMessage `json:"blocks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_json"})
		return
	}
	ch, text, blocks := m.Channel, m.Text, []byte(m.Blocks)
	t.mu.Lock()
	defer t.mu.Unlock()
	var resp map[string]any
	switch strings.TrimPrefix(r.URL.Path, "/api/") {
	case "chat.postMessage":
		if _, ok := t.dms[ch]; !ok && strings.HasPrefix(ch, "U") { // a user id opens the DM, as in Slack
			t.dms["D"+ch] = ch
			ch = "D" + ch
		}
		t.seq++
		ts := fmt.Sprintf("1700000000.%06d", t.seq)
		t.msgs[ts] = ch
		t.write("DM to "+t.who(ch), MessageText(text, blocks))
		resp = map[string]any{"ok": true, "channel": ch, "ts": ts}
	case "chat.update":
		ts := m.TS
		if t.msgs[ts] != ch {
			resp = map[string]any{"ok": false, "error": "message_not_found"}
			break
		}
		t.write(fmt.Sprintf("update of message %s (DM to %s)", ts, t.who(ch)), MessageText(text, blocks))
		resp = map[string]any{"ok": true, "channel": ch, "ts": ts, "text": text}
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// who names the person at the other end of a DM: "alice@example.com (ALICE)".
func (t *Transcript) who(ch string) string {
	uid, ok := t.dms[ch]
	if !ok {
		return ch
	}
	return t.people.person(uid).Email + " (" + uid + ")"
}

// write prints one entry; the caller holds t.mu, so entries never interleave.
func (t *Transcript) write(heading, body string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "── %s ──\n", heading)
	for line := range strings.SplitSeq(strings.TrimRight(body, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("\n")
	_, _ = t.w.Write(b.Bytes())
}
