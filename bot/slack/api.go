// Package slack is accessbot on Slack: it renders requests as Block Kit messages and
// modals, sends and updates them through Slack's Web API, and maps Slack users to people
// by e-mail. It implements governance.Notifier.
//
// It knows the governance types it renders and nothing of other chat platforms, of HTTP
// routing, or of the store behind its caches.
package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// API is the part of Slack's Web API accessbot uses; *slackapi.Client satisfies it, and
// so does a Transcript.
type API interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slackapi.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slackapi.MsgOption) (string, string, string, error)
	OpenConversationContext(ctx context.Context, params *slackapi.OpenConversationParameters) (*slackapi.Channel, bool, bool, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slackapi.GetUserInfoOption) (*slackapi.User, error)
	GetUserByEmailContext(ctx context.Context, email string) (*slackapi.User, error)
	OpenViewContext(ctx context.Context, triggerID string, view slackapi.ModalViewRequest) (*slackapi.ViewResponse, error)
}

var _ API = (*slackapi.Client)(nil)

// NewClient returns a Web API client with a request timeout (slack-go has none by
// default) and no retries of its own: the outbox retries, honouring Retry-After, without
// holding a worker. apiURL may point at a fake Slack in tests; empty means Slack.
func NewClient(token, apiURL string, hc *http.Client) *slackapi.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	opts := []slackapi.Option{slackapi.OptionHTTPClient(hc)}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(strings.TrimRight(apiURL, "/")+"/"))
	}
	return slackapi.New(token, opts...)
}

// permanentErrors are Slack API errors that no retry can fix.
var permanentErrors = map[string]bool{
	"users_not_found": true, "user_not_found": true, "channel_not_found": true, "not_in_channel": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"messages_tab_disabled": true, "invalid_blocks": true, "msg_too_long": true, "no_text": true,
	"cant_update_message": true, "message_not_found": true, "missing_scope": true, "user_disabled": true,
	"is_archived": true, "cannot_dm_bot": true, "invalid_arguments": true,
}

// classify turns a Web API error into what the outbox needs to know: retry after a delay
// (rate limited), give up (a refusal no retry can fix), or retry with backoff.
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
