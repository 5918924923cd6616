// Package pagerduty asks PagerDuty's REST API v2 who is on call, for accessbot's on-call
// auto-approval rules (governance.OnCall). It only reads: a read-only API key is enough.
// It knows nothing of chat platforms, and nothing of what the answer is used for, except
// that a caller must treat any error as "not known to be on call".
package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// DefaultBaseURL is PagerDuty's API host.
const DefaultBaseURL = "https://api.pagerduty.com"

// accept pins the REST API version to v2 whatever the key's own version.
const accept = "application/vnd.pagerduty+json;version=2"

// DefaultTimeout bounds one on-call question, user lookup included: a request waits no
// longer than this before it goes to its approvers.
const DefaultTimeout = 2 * time.Second

// userTTL is how long an e-mail's PagerDuty user id is kept.
const userTTL = time.Hour

// Options configure a Client.
type Options struct {
	BaseURL string        // default DefaultBaseURL
	APIKey  string        // a REST API key; read-only is enough
	Timeout time.Duration // default DefaultTimeout
	HTTP    *http.Client  // default a client of its own
	Clock   governance.Clock
}

// Client asks PagerDuty who is on call.
type Client struct {
	base    string
	key     string
	timeout time.Duration
	http    *http.Client
	clock   governance.Clock

	mu    sync.Mutex
	users map[string]cachedUser // e-mail → PagerDuty user
}

type cachedUser struct {
	id string // "" when PagerDuty has nobody with that e-mail
	at time.Time
}

// New returns a client; it calls nothing.
func New(o Options) (*Client, error) {
	if o.APIKey == "" {
		return nil, errors.New("pagerduty: no API key (PAGERDUTY_API_KEY)")
	}
	c := &Client{base: strings.TrimRight(o.BaseURL, "/"), key: o.APIKey, timeout: o.Timeout, http: o.HTTP, clock: o.Clock,
		users: map[string]cachedUser{}}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.clock == nil {
		c.clock = governance.SystemClock{}
	}
	return c, nil
}

var _ governance.OnCall = (*Client)(nil)

// OnCallNow reports whether the PagerDuty user with e-mail email is on call now for one of
// t's schedules or escalation policies. A person PagerDuty does not know is not on call.
// Any failure, and no answer within the timeout, is an error.
func (c *Client) OnCallNow(ctx context.Context, email string, t governance.OnCallTarget) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	id, err := c.userID(ctx, email)
	if err != nil || id == "" {
		return false, err
	}
	// Different filters intersect, so schedules and escalation policies are asked apart.
	for _, f := range []struct {
		key string
		ids []string
	}{{"schedule_ids[]", t.Schedules}, {"escalation_policy_ids[]", t.EscalationPolicies}} {
		if len(f.ids) == 0 {
			continue
		}
		q := url.Values{"user_ids[]": {id}, f.key: f.ids, "limit": {"100"}}
		var page struct {
			OnCalls []struct {
				User struct {
					ID string `json:"id"`
				} `json:"user"`
			} `json:"oncalls"`
		}
		if err := c.get(ctx, "/oncalls", q, &page); err != nil {
			return false, err
		}
		for _, oc := range page.OnCalls {
			if oc.User.ID == id {
				return true, nil
			}
		}
	}
	return false, nil
}

// userID is the id of the PagerDuty user with e-mail email, "" when there is none. The
// answer is kept for an hour; `query` matches names and e-mails, so the e-mail is compared
// here, case-insensitively.
func (c *Client) userID(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(email)
	now := c.clock.Now()
	c.mu.Lock()
	u, ok := c.users[email]
	c.mu.Unlock()
	if ok && now.Sub(u.at) < userTTL {
		return u.id, nil
	}
	var page struct {
		Users []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"users"`
	}
	if err := c.get(ctx, "/users", url.Values{"query": {email}, "limit": {"100"}}, &page); err != nil {
		return "", err
	}
	id := ""
	for _, u := range page.Users {
		if strings.EqualFold(u.Email, email) {
			id = u.ID
		}
	}
	c.mu.Lock()
	c.users[email] = cachedUser{id: id, at: now}
	c.mu.Unlock()
	return id, nil
}

// get calls GET path?q and decodes the JSON answer into v.
func (c *Client) get(ctx context.Context, path string, q url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Token token="+c.key)
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("pagerduty GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("pagerduty GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("pagerduty GET %s: %s: %s (code %d)", path, resp.Status, e.Error.Message, e.Error.Code)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("pagerduty GET %s: %w", path, err)
	}
	return nil
}

// Probe checks that PagerDuty takes the key and answers /oncalls, for `accessbot doctor`.
func (c *Client) Probe(ctx context.Context) (string, error) {
	var page struct {
		OnCalls []json.RawMessage `json:"oncalls"`
	}
	if err := c.get(ctx, "/oncalls", url.Values{"limit": {"1"}}, &page); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s answers who is on call with this key", c.base), nil
}
