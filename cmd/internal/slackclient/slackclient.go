// Package slackclient sends what Slack sends — signed slash commands, button clicks and
// modal submissions — to an accessbot: for the development command (say, click, demo,
// loadtest) and for tests of the server. The server itself never imports it.
package slackclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/handlers"
)

// Client sends what Slack sends to the accessbot at Base, signed with Secret.
type Client struct {
	Base   string                                      // the bot's base URL, such as http://127.0.0.1:8080
	Secret string                                      // the Slack signing secret the bot checks
	Do     func(*http.Request) (*http.Response, error) // http.DefaultClient.Do, or a handler in-process
	Now    func() time.Time                            // the time the requests are signed at
	// Team is the workspace the requests come from (team_id, and the user's team_id);
	// default DevTeam. A bot with a token serves only its own workspaces.
	Team string
}

// DevTeam is the workspace a Client's requests come from unless it says otherwise.
const DevTeam = "T0DEV"

func (c *Client) team() string {
	if c.Team == "" {
		return DevTeam
	}
	return c.Team
}

// NewID is prefix followed by 12 random hex digits, for trigger ids, view ids and prefixes.
func NewID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (c *Client) post(ctx context.Context, path string, form url.Values) ([]byte, error) {
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := c.Now().Unix()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", handlers.SlackSignature(c.Secret, ts, body))
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("is accessbot running at %s? %w", c.Base, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("accessbot answered %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Command sends "/access text" as user and returns the bot's answer.
func (c *Client) Command(ctx context.Context, user, text string) ([]byte, error) {
	return c.post(ctx, "/slack/commands", url.Values{
		"token": {"dev"}, "team_id": {c.team()}, "team_domain": {"dev"}, "channel_id": {"D0" + user},
		"channel_name": {"directmessage"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/access"}, "text": {text}, "api_app_id": {"A0DEV"},
		"response_url": {"https://hooks.slack.invalid/commands/" + c.team() + "/1/dev"}, "trigger_id": {NewID("trigger.")},
	})
}

func (c *Client) interaction(ctx context.Context, payload map[string]any) ([]byte, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return c.post(ctx, "/slack/interactions", url.Values{"payload": {string(p)}})
}

func (c *Client) slackUser(id string) map[string]any {
	return map[string]any{"id": id, "username": strings.ToLower(id), "name": strings.ToLower(id), "team_id": c.team()}
}

// Click presses a button (approve or deny) of the card for request id, as user; the bot
// answers the click at responseURL.
func (c *Client) Click(ctx context.Context, user, action, id, responseURL string) ([]byte, error) {
	return c.interaction(ctx, map[string]any{
		"type": "block_actions", "user": c.slackUser(user), "api_app_id": "A0DEV", "team": map[string]any{"id": c.team()},
		"trigger_id": NewID("trigger."), "response_url": responseURL,
		"container": map[string]any{"type": "message", "message_ts": "1.000001", "channel_id": "D0" + user, "is_ephemeral": false},
		"channel":   map[string]any{"id": "D0" + user},
		"actions": []map[string]any{{"type": "button", "action_id": action, "block_id": "decide", "value": id,
			"action_ts": strconv.FormatInt(c.Now().Unix(), 10) + ".000000"}},
	})
}

// SubmitDenyReason submits the deny-reason modal for request id.
func (c *Client) SubmitDenyReason(ctx context.Context, user, id, reason string) ([]byte, error) {
	return c.SubmitView(ctx, user, slackbot.CallbackDenyReason, id, map[string]string{slackbot.BlockReason: reason})
}

// SubmitView submits a modal: values maps block ids to the typed or chosen value.
func (c *Client) SubmitView(ctx context.Context, user, callbackID, metadata string, values map[string]string) ([]byte, error) {
	state := map[string]any{}
	for block, v := range values {
		el := map[string]any{"type": "plain_text_input", "value": v}
		if block == slackbot.BlockItem {
			el = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}}
		}
		state[block] = map[string]any{slackbot.InputActionID(block): el}
	}
	viewID := NewID("V")
	return c.interaction(ctx, map[string]any{
		"type": "view_submission", "user": c.slackUser(user), "api_app_id": "A0DEV", "team": map[string]any{"id": c.team()},
		"trigger_id": NewID("trigger."),
		"view": map[string]any{"id": viewID, "type": "modal", "callback_id": callbackID, "private_metadata": metadata,
			"hash": NewID("h"), "state": map[string]any{"values": state}},
	})
}
