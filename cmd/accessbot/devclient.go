package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/handlers"
)

// slackClient sends what Slack sends — signed slash commands, button clicks and modal
// submissions — to an accessbot, for development and for the demo.
type slackClient struct {
	base   string
	secret string
	do     func(*http.Request) (*http.Response, error)
	now    func() time.Time
}

func newID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (c *slackClient) post(ctx context.Context, path string, form url.Values) ([]byte, error) {
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := c.now().Unix()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", handlers.SlackSignature(c.secret, ts, body))
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("is accessbot running at %s? %w", c.base, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("accessbot answered %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// command sends "/access text" as user.
func (c *slackClient) command(ctx context.Context, user, text string) ([]byte, error) {
	return c.post(ctx, "/slack/commands", url.Values{
		"token": {"dev"}, "team_id": {"T0DEV"}, "team_domain": {"dev"}, "channel_id": {"D0" + user},
		"channel_name": {"directmessage"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/access"}, "text": {text}, "api_app_id": {"A0DEV"},
		"response_url": {"https://hooks.slack.invalid/commands/T0DEV/1/dev"}, "trigger_id": {newID("trigger.")},
	})
}

func (c *slackClient) interaction(ctx context.Context, payload map[string]any) ([]byte, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return c.post(ctx, "/slack/interactions", url.Values{"payload": {string(p)}})
}

func slackUser(id string) map[string]any {
	return map[string]any{"id": id, "username": strings.ToLower(id), "name": strings.ToLower(id), "team_id": "T0DEV"}
}

// click presses a button (approve or deny) of the card for request id, as user.
func (c *slackClient) click(ctx context.Context, user, action, id, responseURL string) ([]byte, error) {
	return c.interaction(ctx, map[string]any{
		"type": "block_actions", "user": slackUser(user), "api_app_id": "A0DEV", "team": map[string]any{"id": "T0DEV"},
		"trigger_id": newID("trigger."), "response_url": responseURL,
		"container": map[string]any{"type": "message", "message_ts": "1.000001", "channel_id": "D0" + user, "is_ephemeral": false},
		"channel":   map[string]any{"id": "D0" + user},
		"actions": []map[string]any{{"type": "button", "action_id": action, "block_id": "decide", "value": id,
			"action_ts": strconv.FormatInt(c.now().Unix(), 10) + ".000000"}},
	})
}

// submitDenyReason submits the deny-reason modal for request id.
func (c *slackClient) submitDenyReason(ctx context.Context, user, id, reason string) ([]byte, error) {
	return c.submitView(ctx, user, slackbot.CallbackDenyReason, id, map[string]string{slackbot.BlockReason: reason})
}

// submitView submits a modal: values maps block ids to the typed or chosen value.
func (c *slackClient) submitView(ctx context.Context, user, callbackID, metadata string, values map[string]string) ([]byte, error) {
	state := map[string]any{}
	for block, v := range values {
		el := map[string]any{"type": "plain_text_input", "value": v}
		if block == slackbot.BlockItem {
			el = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}}
		}
		state[block] = map[string]any{slackbot.InputActionID(block): el}
	}
	viewID := newID("V")
	return c.interaction(ctx, map[string]any{
		"type": "view_submission", "user": slackUser(user), "api_app_id": "A0DEV", "team": map[string]any{"id": "T0DEV"},
		"trigger_id": newID("trigger."),
		"view": map[string]any{"id": viewID, "type": "modal", "callback_id": callbackID, "private_metadata": metadata,
			"hash": newID("h"), "state": map[string]any{"values": state}},
	})
}

// devFlags are the flags say and click share.
func devFlags(name string, getenv func(string) string, stdout io.Writer) (*flag.FlagSet, *string, *string, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	as := fs.String("as", "CAROL", "Slack user id to act as (in development mode ALICE is alice@example.com)")
	base := fs.String("url", "http://"+defaultDevAddr(getenv), "the bot's base URL")
	secret := fs.String("secret", firstNonEmpty(getenv("SLACK_SIGNING_SECRET"), DevSigningSecret), "signing secret")
	return fs, as, base, secret
}

func defaultDevAddr(getenv func(string) string) string {
	if v := getenv("ACCESSBOT_LISTEN"); v != "" {
		if h, p, err := net.SplitHostPort(v); err == nil {
			if h == "" || h == "0.0.0.0" || h == "::" {
				h = "127.0.0.1"
			}
			return net.JoinHostPort(h, p)
		}
	}
	return "127.0.0.1:8080"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func say(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, as, base, secret := devFlags("say", getenv, stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := &slackClient{base: strings.TrimRight(*base, "/"), secret: *secret, do: http.DefaultClient.Do, now: time.Now}
	body, err := c.command(ctx, strings.ToUpper(*as), strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		fmt.Fprintln(stdout, "(accessbot opened a form; in development mode it is printed in the bot's output)")
		return nil
	}
	fmt.Fprintln(stdout, slackbot.ResponseText(body))
	return nil
}

func click(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, as, base, secret := devFlags("click", getenv, stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) < 2 || (rest[0] != "approve" && rest[0] != "deny") {
		return fmt.Errorf("usage: accessbot click [-as USER] approve|deny AR-7 [reason]")
	}
	user := strings.ToUpper(*as)
	c := &slackClient{base: strings.TrimRight(*base, "/"), secret: *secret, do: http.DefaultClient.Do, now: time.Now}

	// In development mode the bot answers the click (response_url) in its own output.
	const responseURL = "https://hooks.slack.invalid/actions/dev"
	if _, err := c.click(ctx, user, rest[0], rest[1], responseURL); err != nil {
		return err
	}
	if rest[0] == "deny" {
		reason := strings.Join(rest[2:], " ")
		body, err := c.submitDenyReason(ctx, user, rest[1], reason)
		if err != nil {
			return err
		}
		if msg := slackbot.ViewErrors(body); msg != "" {
			fmt.Fprintln(stdout, msg)
			return nil
		}
	}
	fmt.Fprintln(stdout, "sent; the bot's output shows the answer, the updated cards and the notices")
	return nil
}
