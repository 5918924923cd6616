// Package slack is accessbot on Slack: it renders requests as Block Kit messages and
// modals, sends and updates them through Slack's Web API, and maps Slack users to people
// by e-mail. It implements governance.Notifier.
//
// It knows the governance types it renders and nothing of other chat platforms, of HTTP
// routing, or of the store behind its caches.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// Platform is the name accessbot uses for Slack in message references, caches and the
// audit trail.
const Platform = "slack"

// API is the part of Slack's Web API accessbot uses; the *Client of NewClient satisfies
// it, and so does a Transcript.
type API interface {
	// PostJSONContext is chat.postMessage, sent as a JSON body; it returns the channel
	// and ts the message landed at.
	PostJSONContext(ctx context.Context, m ChatMessage) (channel, ts string, err error)
	// UpdateJSONContext is chat.update of the message m.TS in m.Channel, sent as a JSON body.
	UpdateJSONContext(ctx context.Context, m ChatMessage) (channel, ts string, err error)
	OpenConversationContext(ctx context.Context, params *slackapi.OpenConversationParameters) (*slackapi.Channel, bool, bool, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slackapi.GetUserInfoOption) (*slackapi.User, error)
	GetUserByEmailContext(ctx context.Context, email string) (*slackapi.User, error)
	OpenViewContext(ctx context.Context, triggerID string, view slackapi.ModalViewRequest) (*slackapi.ViewResponse, error)
	GetPermalinkContext(ctx context.Context, params *slackapi.PermalinkParameters) (string, error)
	// PublishViewContext is views.publish: a person's Home tab.
	PublishViewContext(ctx context.Context, req slackapi.PublishViewContextRequest) (*slackapi.ViewResponse, error)
	// AuthTestContext says whose the bot token is: the workspace served when none is configured.
	AuthTestContext(ctx context.Context) (*slackapi.AuthTestResponse, error)
}

var _ API = (*Client)(nil)

// ChatMessage is a message as chat.postMessage and chat.update take it in a JSON body.
type ChatMessage struct {
	Channel  string           `json:"channel"`
	TS       string           `json:"ts,omitempty"`        // chat.update: the message replaced
	ThreadTS string           `json:"thread_ts,omitempty"` // chat.postMessage: the thread replied in
	Text     string           `json:"text"`                // the notification, and what clients without blocks show
	Blocks   []slackapi.Block `json:"blocks,omitempty"`
}

// Client is slack-go's Web API client, with chat.postMessage and chat.update sent as JSON
// bodies with the bearer token, as Slack recommends for methods that take blocks:
// slack-go sends them as a form, the blocks' JSON URL-encoded again (a card's body 1.6
// times as large, and 4% of the bot's CPU under load spent on the encoding).
type Client struct {
	*slackapi.Client
	token    string
	endpoint string // ends in "/": endpoint + "chat.postMessage"
	hc       *http.Client
}

// DefaultTimeout bounds one Web API call when the caller gives no HTTP client of its own.
const DefaultTimeout = 10 * time.Second

// NewClient returns a Web API client that always has a request timeout (slack.New has
// none) and never retries by itself: the outbox retries, honouring Retry-After, without
// holding a worker. apiURL may point at a fake Slack; empty means Slack itself. A given
// httpClient without a timeout is copied and given DefaultTimeout.
func NewClient(token, apiURL string, httpClient *http.Client) *Client {
	// Go's default transport keeps 2 idle connections per host; cards and updates go to
	// one host from many workers, so without more every burst would open (TLS) anew.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	hc := &http.Client{Timeout: DefaultTimeout, Transport: t}
	if httpClient != nil {
		c := *httpClient
		if c.Timeout <= 0 {
			c.Timeout = DefaultTimeout
		}
		hc = &c
	}
	endpoint := slackapi.APIURL
	if apiURL != "" {
		endpoint = strings.TrimRight(apiURL, "/") + "/"
	}
	return &Client{Client: slackapi.New(token, slackapi.OptionHTTPClient(hc), slackapi.OptionAPIURL(endpoint)),
		token: token, endpoint: endpoint, hc: hc}
}

// PostJSONContext is chat.postMessage with a JSON body.
func (c *Client) PostJSONContext(ctx context.Context, m ChatMessage) (string, string, error) {
	return c.postJSON(ctx, "chat.postMessage", m)
}

// UpdateJSONContext is chat.update with a JSON body.
func (c *Client) UpdateJSONContext(ctx context.Context, m ChatMessage) (string, string, error) {
	return c.postJSON(ctx, "chat.update", m)
}

// postJSON calls method with m as its JSON body and fails as slack-go would, so that
// classify reads both alike: HTTP 429 with Retry-After is a *slackapi.RateLimitedError,
// any other status but 200 a slackapi.StatusCodeError, {"ok":false} a
// slackapi.SlackErrorResponse.
func (c *Client) postJSON(ctx context.Context, method string, m ChatMessage) (channel, ts string, err error) {
	body, err := m.AppendJSON(make([]byte, 0, 2048))
	if err != nil {
		return "", "", fmt.Errorf("encode %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+method, bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8") // without a charset Slack answers with a warning
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && resp.StatusCode == http.StatusTooManyRequests {
			return "", "", &slackapi.RateLimitedError{RetryAfter: time.Duration(s) * time.Second}
		}
		return "", "", slackapi.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	var answer struct {
		slackapi.SlackResponse
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return "", "", fmt.Errorf("read the answer to %s: %w", method, err)
	}
	return answer.Channel, answer.TS, answer.Err()
}

// permanentErrors are Slack API errors that no retry can fix.
var permanentErrors = map[string]bool{
	"users_not_found": true, "user_not_found": true, "channel_not_found": true, "not_in_channel": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true, "token_expired": true,
	"messages_tab_disabled": true, "invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
	"no_text": true, "cant_update_message": true, "edit_window_closed": true, "message_not_found": true,
	"missing_scope": true, "user_disabled": true, "is_archived": true, "cannot_dm_bot": true,
	"invalid_arguments": true, "restricted_action": true, "team_access_not_granted": true,
}

// classify turns a Web API error into what the outbox needs to know: retry after the
// delay Slack asked for (rate limited), give up (a refusal no retry can fix), or retry
// with backoff (5xx, network).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return governance.RetryAfter(err, rl.RetryAfter)
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && permanentErrors[se.Err] {
		return governance.Permanent(err)
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) && sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusTooManyRequests && sc.Code != http.StatusRequestTimeout {
		return governance.Permanent(err)
	}
	return err
}

// slackError is the Web API error code in err ("users_not_found"), or "".
func slackError(err error) string {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
