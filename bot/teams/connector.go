package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/client"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/accessbot/accessbot/governance"
)

// Where the bot gets its tokens for the Bot Connector, and the hosts of the Bot Connector
// service it may send them to (public cloud, GCC, GCC High).
const DefaultTokenURL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"

// DefaultServiceHosts are the Bot Connector hosts accessbot calls by default.
var DefaultServiceHosts = []string{"smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com", "smba.infra.gov.teams.microsoft.us"}

// ConnectorOptions configure a Connector.
type ConnectorOptions struct {
	AppID, AppPassword string
	TokenURL           string // default DefaultTokenURL
	// ServiceHosts are the hosts (https only) a serviceUrl may name; default
	// DefaultServiceHosts. Entries of the form "http://host:port" allow plain HTTP to that
	// exact origin (tests).
	ServiceHosts []string
	Timeout      time.Duration // per call; default 15 s
	HTTPClient   *http.Client
	Logger       *slog.Logger // default slog.Default()
	// Observe, if set, hears of every Bot Connector call accessbot makes ("send",
	// "update", "member") and how it ended: the metrics count them.
	Observe func(call string, err error)
}

// Connector calls the Bot Connector REST API: it sends and updates activities and returns
// the ids of sent ones, and reads a conversation member. It gets tokens once and reuses
// them until they expire (one refresh however many callers), bounds every call with a
// timeout, and calls only serviceUrls on the allow-list. It also implements
// msbotbuilder-go's client.Client.
type Connector struct {
	o      ConnectorOptions
	tokens oauth2.TokenSource
}

var _ client.Client = (*Connector)(nil)

// NewConnector returns a connector for the bot o.AppID.
func NewConnector(o ConnectorOptions) *Connector {
	if o.TokenURL == "" {
		o.TokenURL = DefaultTokenURL
	}
	if o.ServiceHosts == nil {
		o.ServiceHosts = DefaultServiceHosts
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64 // one Bot Connector host, many outbox workers
		o.HTTPClient = &http.Client{Timeout: o.Timeout, Transport: t}
	}
	cc := clientcredentials.Config{ClientID: o.AppID, ClientSecret: o.AppPassword, TokenURL: o.TokenURL,
		Scopes: []string{"https://api.botframework.com/.default"}, AuthStyle: oauth2.AuthStyleInParams}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, o.HTTPClient)
	// ReuseTokenSource serialises refreshes: concurrent callers wait for one token request.
	return &Connector{o: o, tokens: oauth2.ReuseTokenSource(nil, cc.TokenSource(ctx))}
}

// ErrServiceURL refuses a serviceUrl that is not a Bot Connector host on the allow-list.
var ErrServiceURL = errors.New("teams: serviceUrl is not an allowed Bot Connector host")

// CheckServiceURL reports whether accessbot may send its token to serviceURL.
func (c *Connector) CheckServiceURL(serviceURL string) error {
	u, err := url.Parse(serviceURL)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: %q", ErrServiceURL, serviceURL)
	}
	for _, h := range c.o.ServiceHosts {
		if strings.Contains(h, "://") {
			if strings.EqualFold(u.Scheme+"://"+u.Host, h) {
				return nil
			}
			continue
		}
		if u.Scheme == "https" && strings.EqualFold(u.Hostname(), h) && (u.Port() == "" || u.Port() == "443") {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrServiceURL, serviceURL)
}

// Conversation is where a message goes: the Bot Connector endpoint and the conversation.
type Conversation struct {
	ServiceURL string `json:"serviceUrl"`
	ID         string `json:"id"`
	TenantID   string `json:"tenantId,omitempty"`
}

func (c *Connector) activitiesURL(conv Conversation, activityID string) (string, error) {
	if err := c.CheckServiceURL(conv.ServiceURL); err != nil {
		return "", err
	}
	if conv.ID == "" {
		return "", errors.New("teams: no conversation id")
	}
	u := strings.TrimRight(conv.ServiceURL, "/") + "/v3/conversations/" + url.PathEscape(conv.ID) + "/activities"
	if activityID != "" {
		u += "/" + url.PathEscape(activityID)
	}
	return u, nil
}

// Reply posts an activity in the thread of a channel post (root, the post's activity id):
// to the conversation "<channel id>;messageid=<root>", the ";messageid=" written as Teams
// writes it, not escaped. It returns the new activity's id.
func (c *Connector) Reply(ctx context.Context, conv Conversation, root string, act schema.Activity) (string, error) {
	u, err := c.activitiesURL(conv, "")
	if err != nil {
		return "", governance.Permanent(err)
	}
	if root == "" {
		return "", governance.Permanent(errors.New("teams: no thread to reply in"))
	}
	base := strings.TrimRight(conv.ServiceURL, "/") + "/v3/conversations/" + url.PathEscape(conv.ID)
	u = base + ";messageid=" + url.PathEscape(root) + strings.TrimPrefix(u, base)
	var out struct {
		ID string `json:"id"`
	}
	err = c.observe("send", c.do(ctx, http.MethodPost, u, act, &out))
	return out.ID, err
}

// Send posts an activity to a conversation and returns the new activity's id.
func (c *Connector) Send(ctx context.Context, conv Conversation, act schema.Activity) (string, error) {
	u, err := c.activitiesURL(conv, "")
	if err != nil {
		return "", governance.Permanent(err)
	}
	var resp struct {
		ID string `json:"id"`
	}
	if err := c.observe("send", c.do(ctx, http.MethodPost, u, act, &resp)); err != nil {
		return "", err
	}
	return resp.ID, nil
}

// observe tells Observe how a call ended, and returns err.
func (c *Connector) observe(call string, err error) error {
	if c.o.Observe != nil {
		c.o.Observe(call, err)
	}
	return err
}

// Update replaces an activity the bot sent earlier.
func (c *Connector) Update(ctx context.Context, conv Conversation, activityID string, act schema.Activity) error {
	u, err := c.activitiesURL(conv, activityID)
	if err != nil {
		return governance.Permanent(err)
	}
	act.ID = activityID
	return c.observe("update", c.do(ctx, http.MethodPut, u, act, nil))
}

// Member is a conversation member as the Bot Connector describes them.
type Member struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	ObjectID          string `json:"objectId"`
	Email             string `json:"email"`
	UserPrincipalName string `json:"userPrincipalName"`
	TenantID          string `json:"tenantId"`
	UserRole          string `json:"userRole"`
}

// Member reads one member of a conversation, with their e-mail address.
func (c *Connector) Member(ctx context.Context, conv Conversation, userID string) (Member, error) {
	if err := c.CheckServiceURL(conv.ServiceURL); err != nil {
		return Member{}, governance.Permanent(err)
	}
	u := strings.TrimRight(conv.ServiceURL, "/") + "/v3/conversations/" + url.PathEscape(conv.ID) + "/members/" + url.PathEscape(userID)
	var m Member
	err := c.observe("member", c.do(ctx, http.MethodGet, u, nil, &m))
	return m, err
}

// Post, Put and Delete are msbotbuilder-go's client.Client, for its adapter's helpers.
func (c *Connector) Post(u url.URL, act schema.Activity) error { return c.raw(http.MethodPost, u, act) }
func (c *Connector) Put(u url.URL, act schema.Activity) error  { return c.raw(http.MethodPut, u, act) }
func (c *Connector) Delete(u url.URL, act schema.Activity) error {
	return c.raw(http.MethodDelete, u, act)
}

func (c *Connector) raw(method string, u url.URL, act schema.Activity) error {
	if err := c.CheckServiceURL(u.Scheme + "://" + u.Host); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	var body any = act
	if method == http.MethodDelete {
		body = nil
	}
	return c.do(ctx, method, u.String(), body, nil)
}

// ErrTooLarge is Teams refusing an activity as larger than it takes (413,
// MessageSizeTooBig); the error also holds the Bot Connector's *Error.
var ErrTooLarge = errors.New("teams: the activity is larger than Teams takes")

// Error is a refusal by the Bot Connector.
type Error struct {
	Method, URL string
	Status      int
	Code        string // error.code, e.g. "MessageSizeTooBig", "ConversationBlockedByUser"
	Message     string
	RetryAfter  time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("Bot Connector %s %s: %d %s %s", e.Method, e.URL, e.Status, e.Code, e.Message)
}

func (c *Connector) do(ctx context.Context, method, u string, in, out any) error {
	tok, err := c.tokens.Token()
	if err != nil {
		return fmt.Errorf("teams: get a Bot Connector token: %w", err)
	}
	var body io.Reader
	size := 0 // as Teams measures it
	if in != nil {
		b, err := Marshal(in)
		if err != nil {
			return governance.Permanent(err)
		}
		body, size = bytes.NewReader(b), utf16Bytes(b)
		if size > MaxActivityBytes && method != http.MethodGet {
			// The renderers keep every card within the budget: this is a bug, and Teams may
			// still take it, so it is sent, and said.
			c.o.Logger.WarnContext(ctx, "teams activity over accessbot's size budget", "method", method, "url", u,
				"size_utf16", size, "budget", MaxActivityBytes)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return governance.Permanent(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tok.SetAuthHeader(req)
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("teams: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("teams: %s %s: unreadable answer: %w", method, u, err)
			}
		}
		return nil
	}
	e := &Error{Method: method, URL: u, Status: resp.StatusCode}
	var body2 struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(data, &body2) == nil {
		e.Code, e.Message = body2.Error.Code, body2.Error.Message
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		e.RetryAfter = max(time.Duration(secs)*time.Second, time.Second)
		return governance.RetryAfter(e, e.RetryAfter)
	case resp.StatusCode >= 500:
		return e
	}
	if resp.StatusCode == http.StatusRequestEntityTooLarge || e.Code == "MessageSizeTooBig" {
		// Sending it again will not help, but a message somebody waits for is lost: say so.
		c.o.Logger.ErrorContext(ctx, "teams refused an activity as too large; it is not sent again", "method", method, "url", u,
			"status", e.Status, "code", e.Code, "message", e.Message, "size_utf16", size, "budget", MaxActivityBytes)
		return governance.Permanent(fmt.Errorf("%w (%d bytes of UTF-16; accessbot's budget is %d): %w", ErrTooLarge, size, MaxActivityBytes, e))
	}
	// 4xx: blocked by the user (403 MessageWritesBlocked), gone (404): sending the same
	// thing again will not help.
	return governance.Permanent(e)
}

// CheckCredentials gets a Bot Connector token, to show that the app id and password work.
func (c *Connector) CheckCredentials() error {
	_, err := c.tokens.Token()
	return err
}
