// Package msgraph is accessbot's Microsoft Graph client, shared by the Entra backends. It
// authenticates with the client-credentials grant of accessbot's app registration (or with
// a token source the caller brings, such as a delegated one), paces its calls, follows
// @odata.nextLink, and turns Graph's OData errors into errors the governance service
// knows how to treat: retry after Retry-After, back off, or tell the person what to do.
//
// It knows Graph's wire conventions and nothing of what is asked of Graph: access
// packages, requests and users belong to the backends that use it.
package msgraph

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
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/accessbot/accessbot/governance"
)

// Defaults for the public cloud.
const (
	DefaultBaseURL  = "https://graph.microsoft.com/v1.0"
	DefaultLoginURL = "https://login.microsoftonline.com"
	DefaultScope    = "https://graph.microsoft.com/.default"
)

// Options configure a Client.
type Options struct {
	// BaseURL is Graph's root with its version (default DefaultBaseURL); national clouds
	// have their own, and tests point it at a fake.
	BaseURL string
	// LoginURL is the Microsoft identity platform's host (default DefaultLoginURL); the
	// token comes from LoginURL/{TenantID}/oauth2/v2.0/token.
	LoginURL string
	// TenantID, ClientID and ClientSecret are accessbot's app registration, for the
	// client-credentials grant. They are not needed when TokenSource is set.
	TenantID, ClientID, ClientSecret string
	// Scopes default to DefaultScope: the application permissions consented for the app.
	Scopes []string
	// TokenSource, when set, gives the tokens instead of the client-credentials grant
	// (a delegated token, a managed identity). It should cache its tokens; if it is a
	// Forgetter, a 401 makes it forget the refused token and the call is tried once more.
	TokenSource oauth2.TokenSource
	// Rate is how many calls per second are made at most, and Burst how many at once
	// (defaults 10 and 20). Graph publishes no Entitlement Management limit; it answers
	// 429 with Retry-After, which is honoured on top.
	Rate  float64
	Burst int
	// Timeout bounds each call (default 20 s).
	Timeout    time.Duration
	HTTPClient *http.Client // default: one with Timeout
	Logger     *slog.Logger
	// Name is how people are told about the system behind Graph ("Entra"); default
	// "Microsoft Graph".
	Name string
	// Credentials names, for the admins, the settings that hold the app's credentials
	// ("AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"); it is quoted when the
	// sign-in endpoint refuses them.
	Credentials string
	// Permission names the Graph permission a call needs, for the message when Graph
	// refuses it (default: the Permission function).
	Permission func(method, path string) string
}

// Forgetter is a token source that can be told Graph refused a token it gave, so that
// its next Token is a fresh one (a delegated sign-in redeems its refresh token again).
// Graph may refuse a token before it expires: revoked sessions, continuous access
// evaluation.
type Forgetter interface {
	Forget(refused *oauth2.Token)
}

// Client calls Microsoft Graph. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	name       string
	http       *http.Client
	pace       *rate.Limiter
	timeout    time.Duration
	log        *slog.Logger
	creds      string
	permission func(method, path string) string
	// renew makes a fresh token source when Graph refuses a token; nil when the caller
	// brought the token source, which can then only be told to forget the token if it is
	// a Forgetter.
	renew func() oauth2.TokenSource

	mu     sync.Mutex
	tokens oauth2.TokenSource
}

var tenantID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)

// New checks the options and returns a client. It makes no call yet.
func New(o Options) (*Client, error) {
	var errs []error
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.LoginURL == "" {
		o.LoginURL = DefaultLoginURL
	}
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		errs = append(errs, fmt.Errorf("graph: base URL %q is not a URL like https://graph.microsoft.com/v1.0 (or /beta)", o.BaseURL))
	}
	if login, err := url.Parse(o.LoginURL); err != nil || (login.Scheme != "https" && login.Scheme != "http") || login.Host == "" {
		errs = append(errs, fmt.Errorf("graph: login URL %q is not a URL like %s", o.LoginURL, DefaultLoginURL))
	}
	if o.TokenSource == nil {
		if !tenantID.MatchString(o.TenantID) {
			errs = append(errs, fmt.Errorf("graph: tenant id %q should be the directory (tenant) id or its primary domain", o.TenantID))
		}
		if o.ClientID == "" || o.ClientSecret == "" {
			errs = append(errs, errors.New("graph: the app registration's client id and client secret are needed (or a token source)"))
		}
	}
	if o.Rate < 0 || o.Burst < 0 {
		errs = append(errs, errors.New("graph: rate and burst must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Rate == 0 {
		o.Rate = 10
	}
	if o.Burst == 0 {
		o.Burst = 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Name == "" {
		o.Name = "Microsoft Graph"
	}
	if o.Credentials == "" {
		o.Credentials = "the tenant id, client id and client secret accessbot is configured with"
	}
	if o.Permission == nil {
		o.Permission = Permission
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{DefaultScope}
	}
	c := &Client{base: base, name: o.Name, http: o.HTTPClient, pace: rate.NewLimiter(rate.Limit(o.Rate), o.Burst),
		timeout: o.Timeout, log: o.Logger, creds: o.Credentials, permission: o.Permission, tokens: o.TokenSource}
	if c.tokens == nil {
		cc := clientcredentials.Config{
			ClientID: o.ClientID, ClientSecret: o.ClientSecret, Scopes: o.Scopes,
			TokenURL: strings.TrimRight(o.LoginURL, "/") + "/" + url.PathEscape(o.TenantID) + "/oauth2/v2.0/token",
			// The v2.0 endpoint reads client_id and client_secret from the form body.
			AuthStyle: oauth2.AuthStyleInParams,
		}
		c.renew = func() oauth2.TokenSource {
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, c.http)
			return oauth2.ReuseTokenSource(nil, cc.TokenSource(ctx))
		}
		c.tokens = c.renew()
	}
	return c, nil
}

// Name is how people are told about the system behind Graph.
func (c *Client) Name() string { return c.name }

// token is a token to call with, and where it came from (for forget).
type token struct {
	*oauth2.Token
	source oauth2.TokenSource
}

func (c *Client) token() (token, error) {
	c.mu.Lock()
	ts := c.tokens
	c.mu.Unlock()
	t, err := ts.Token()
	return token{t, ts}, err
}

// forget drops a token Graph refused, unless another caller already did. It reports
// whether a fresh one can be had.
func (c *Client) forget(refused token) bool {
	if c.renew == nil {
		f, ok := refused.source.(Forgetter)
		if ok && refused.Token != nil {
			f.Forget(refused.Token)
		}
		return ok
	}
	ts := refused.source
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == ts {
		c.tokens = c.renew()
	}
	return true
}

// Do makes one call: path is relative to the base URL ("/users/{id}"), query is added to
// it, in (if not nil) is sent as JSON, and a 2xx answer is decoded into out (if not nil).
// A 401 is tried once more with a fresh token, since a token may end before its expiry.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return governance.Permanent(fmt.Errorf("encode %s %s: %w", method, path, err))
		}
	}
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + encodeQuery(query)
	}
	return c.do(ctx, method, path, target, body, out)
}

// Stop, returned by a List callback, ends the listing early without an error.
var Stop = errors.New("stop listing")

// List reads the collection at path page by page: fn is given each page's "value" array,
// and @odata.nextLink is followed, as Graph gives it, until there is none or fn returns
// Stop (or another error, which List returns).
func (c *Client) List(ctx context.Context, path string, query url.Values, fn func(values json.RawMessage) error) error {
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + encodeQuery(query)
	}
	for target != "" {
		var page struct {
			Value    json.RawMessage `json:"value"`
			NextLink string          `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, http.MethodGet, path, target, nil, &page); err != nil {
			return err
		}
		if err := fn(page.Value); err != nil {
			if errors.Is(err, Stop) {
				return nil
			}
			return err
		}
		next, err := c.sameOrigin(page.NextLink)
		if err != nil {
			return governance.Permanent(fmt.Errorf("%s GET %s: %w", c.name, path, err))
		}
		target = next
	}
	return nil
}

// sameOrigin checks that a next link stays on Graph, where the token may go.
func (c *Client) sameOrigin(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	u, err := url.Parse(link)
	if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("next page link %q is not on %s", link, c.base.Host)
	}
	return link, nil
}

// All reads the collection at path into a slice, at most limit items (0: all of them).
func All[T any](ctx context.Context, c *Client, path string, query url.Values, limit int) ([]T, error) {
	var all []T
	err := c.List(ctx, path, query, func(values json.RawMessage) error {
		var page []T
		if len(values) > 0 {
			if err := json.Unmarshal(values, &page); err != nil {
				return fmt.Errorf("%s GET %s: unreadable page: %w", c.name, path, err)
			}
		}
		for _, v := range page {
			if limit > 0 && len(all) == limit {
				return Stop
			}
			all = append(all, v)
		}
		return nil
	})
	return all, err
}

func (c *Client) do(ctx context.Context, method, path, target string, body []byte, out any) error {
	for attempt := 0; ; attempt++ {
		status, used, err := c.once(ctx, method, path, target, body, out)
		if status == http.StatusUnauthorized && attempt == 0 && c.forget(used) {
			continue
		}
		return err
	}
}

func (c *Client) once(ctx context.Context, method, path, target string, body []byte, out any) (int, token, error) {
	if err := c.pace.Wait(ctx); err != nil {
		return 0, token{}, fmt.Errorf("wait for a turn to call %s: %w", c.name, err)
	}
	tok, err := c.token()
	if err != nil {
		return 0, tok, c.tokenError(err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, tok, governance.Permanent(fmt.Errorf("build %s %s: %w", method, path, err))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tok.SetAuthHeader(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, tok, fmt.Errorf("%s %s %s: %w", c.name, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, tok, fmt.Errorf("%s %s %s: read answer: %w", c.name, method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return resp.StatusCode, tok, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, tok, fmt.Errorf("%s %s %s: unreadable answer: %w", c.name, method, path, err)
		}
		return resp.StatusCode, tok, nil
	}
	e := parseError(c.name, method, path, resp, data)
	c.log.WarnContext(ctx, "Graph refused a call", "service", c.name, "method", method, "path", path,
		"status", e.Status, "code", e.Code, "request_id", e.RequestID, "message", e.Message)
	return resp.StatusCode, tok, c.classify(e)
}

// encodeQuery writes OData query options as Graph's documentation does: "$filter", not
// "%24filter", and spaces as %20.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		ek := url.QueryEscape(strings.TrimPrefix(k, "$"))
		if strings.HasPrefix(k, "$") {
			ek = "$" + ek
		}
		for _, v := range q[k] {
			if sb.Len() > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(ek)
			sb.WriteByte('=')
			sb.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return sb.String()
}

// Quote writes s as an OData string literal: in single quotes, each quote doubled.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// User is a Microsoft Graph user, as the backends select it.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// UserSelect is the $select that reads a User.
const UserSelect = "id,displayName,mail,userPrincipalName"

// UserByEmail finds the one user whose mail or user principal name is email (compared
// lower-cased). No such user, or more than one, is a permanent ErrNotFound problem that
// tells the person what to ask their admins; Graph's own errors come back as they are.
func (c *Client) UserByEmail(ctx context.Context, email string) (User, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	q := url.Values{
		"$filter": {fmt.Sprintf("mail eq %s or userPrincipalName eq %s", Quote(key), Quote(key))},
		"$select": {UserSelect},
		"$top":    {"2"},
	}
	found, err := All[User](ctx, c, "/users", q, 2)
	switch {
	case err != nil:
		return User{}, err
	case len(found) == 0:
		return User{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
			"Entra has no user whose e-mail or sign-in name is %s, so %s cannot grant you anything; "+
				"ask your access admins to check that your chat e-mail matches your Entra account", key, c.name)})
	case len(found) > 1:
		return User{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
			"Entra has more than one user with the e-mail %s, so accessbot cannot tell which is you; ask your access admins to fix the duplicate", key)})
	}
	return found[0], nil
}

// As is a client that calls Graph with the tokens of ts (a person's delegated sign-in)
// instead of accessbot's own, sharing this client's pace, HTTP client and settings. A 401
// makes ts forget the refused token when it is a Forgetter; nothing else is renewed.
func (c *Client) As(ts oauth2.TokenSource) *Client {
	return &Client{base: c.base, name: c.name, http: c.http, pace: c.pace, timeout: c.timeout, log: c.log,
		creds: c.creds, permission: c.permission, tokens: ts}
}
