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

// Platform is the name accessbot uses for Slack in message references, caches and the
// audit trail.
const Platform = "slack"

// API is the part of Slack's Web API accessbot uses; *slackapi.Client satisfies it, and
// so does a Transcript.
type API interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slackapi.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slackapi.MsgOption) (string, string, string, error)
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

var _ API = (*slackapi.Client)(nil)

// DefaultTimeout bounds one Web API call when the caller gives no HTTP client of its own.
const DefaultTimeout = 10 * time.Second

// NewClient returns a Web API client that always has a request timeout (slack.New has
// none) and never retries by itself: the outbox retries, honouring Retry-After, without
// holding a worker. apiURL may point at a fake Slack; empty means Slack itself. A given
// httpClient without a timeout is copied and given DefaultTimeout.
func NewClient(token, apiURL string, httpClient *http.Client) *slackapi.Client {
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
	opts := []slackapi.Option{slackapi.OptionHTTPClient(hc)}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(strings.TrimRight(apiURL, "/")+"/"))
	}
	return slackapi.New(token, opts...)
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
