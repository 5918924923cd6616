package sailpoint

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
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/accessbot/accessbot/governance"
)

// client is ISC's v3 API as accessbot uses it: every call carries a bearer token of the
// service identity's personal access token, waits its turn under the pacing limit, and
// turns ISC's errors into errors the service knows how to treat.
type client struct {
	base    string // https://{tenant}.api.identitynow.com
	http    *http.Client
	cc      clientcredentials.Config
	pace    *rate.Limiter // this process's own pacing: alone, or while shared fails
	shared  Limiter
	key     string // the shared limit's: ISC counts calls per client_id and API version
	rate    float64
	burst   int
	timeout time.Duration
	clock   governance.Clock
	log     *slog.Logger

	mu       sync.Mutex
	tokens   oauth2.TokenSource // replaced when ISC says the token is no longer good
	sharedOK bool               // the shared limiter answered last time (logged on change)
}

func newClient(o Options) *client {
	c := &client{
		base: o.BaseURL, // New made it the bare host
		http: o.HTTPClient,
		cc: clientcredentials.Config{
			ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL,
			// ISC reads client_id and client_secret from the form body; the token's
			// lifetime comes from its expires_in, which the library reads.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		pace:    rate.NewLimiter(rate.Limit(o.Rate), o.Burst),
		shared:  o.Limiter,
		key:     "sailpoint:" + o.ClientID + ":v3",
		rate:    o.Rate,
		burst:   o.Burst,
		timeout: o.Timeout,
		clock:   o.Clock,
		log:     o.Logger,
	}
	c.tokens = c.newTokenSource()
	c.sharedOK = true
	return c
}

// sharedWait bounds the shared limiter's answer: a Redis that is slow to answer is as
// good as away, and the call goes on under the local limiter.
const sharedWait = 500 * time.Millisecond

// wait waits for a turn to call ISC: the shared limit's when there is one and it answers,
// else this process's own.
func (c *client) wait(ctx context.Context) error {
	if c.shared != nil {
		rctx, cancel := context.WithTimeout(ctx, sharedWait)
		d, err := c.shared.Reserve(rctx, c.key, c.rate, c.burst)
		cancel()
		c.noteShared(ctx, err)
		if err == nil {
			return sleep(ctx, d)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return c.pace.Wait(ctx)
}

// noteShared logs when the shared limiter stops or starts answering.
func (c *client) noteShared(ctx context.Context, err error) {
	c.mu.Lock()
	was := c.sharedOK
	c.sharedOK = err == nil
	c.mu.Unlock()
	switch {
	case was && err != nil:
		c.log.WarnContext(ctx, "the shared SailPoint rate limit (Redis) does not answer: this process paces itself alone until it does",
			"err", err)
	case !was && err == nil:
		c.log.InfoContext(ctx, "the shared SailPoint rate limit (Redis) answers again")
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *client) newTokenSource() oauth2.TokenSource {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, c.http)
	return oauth2.ReuseTokenSource(nil, c.cc.TokenSource(ctx))
}

func (c *client) token() (*oauth2.Token, oauth2.TokenSource, error) {
	c.mu.Lock()
	ts := c.tokens
	c.mu.Unlock()
	t, err := ts.Token()
	return t, ts, err
}

// forget drops a token ISC refused, unless another caller already did.
func (c *client) forget(ts oauth2.TokenSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == ts {
		c.tokens = c.newTokenSource()
	}
}

// call makes one API call: path is relative to the v3 base ("/access-requests"), in (if not
// nil) is sent as JSON, and a 2xx answer is decoded into out (if not nil). A 401 is tried
// once more with a fresh token, since ISC may end a token before its expires_in.
func (c *client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.callBefore(ctx, time.Time{}, method, path, query, in, out)
}

// errEndPassed is a submission whose removeDate passed before it could be sent: ISC
// accepts only a removeDate in the future, and accessbot never sends one in the past.
var errEndPassed = errors.New("sailpoint: the removeDate passed before the request could be sent")

// callBefore is call for a body that carries removeDate end (zero: none): once the call's
// turn comes, it is not made if end has passed by then (errEndPassed).
func (c *client) callBefore(ctx context.Context, end time.Time, method, path string, query url.Values, in, out any) error {
	return c.callAs(ctx, "", end, method, path, query, in, out)
}

// callAs is call with a person's access token (user; empty: the service's own). A 401 for
// a person's token is not retried: their connected account no longer works.
func (c *client) callAs(ctx context.Context, user string, end time.Time, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return governance.Permanent(fmt.Errorf("encode %s %s: %w", method, path, err))
		}
	}
	for attempt := 0; ; attempt++ {
		status, err := c.once(ctx, user, end, method, path, query, body, out)
		if status == http.StatusUnauthorized && attempt == 0 && user == "" {
			continue
		}
		return err
	}
}

func (c *client) once(ctx context.Context, user string, end time.Time, method, path string, query url.Values, body []byte, out any) (int, error) {
	// The token first: a turn is used the moment it comes, not after a token fetch that
	// would bunch the calls queued behind it.
	tok, ts := &oauth2.Token{AccessToken: user, TokenType: "Bearer"}, oauth2.TokenSource(nil)
	if user == "" {
		var err error
		if tok, ts, err = c.token(); err != nil {
			return 0, tokenError(err)
		}
	}
	if err := c.wait(ctx); err != nil {
		return 0, fmt.Errorf("wait for a turn to call SailPoint: %w", err)
	}
	if !end.IsZero() && !end.After(c.clock.Now()) {
		return 0, errEndPassed
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base + "/v3" + path
	if strings.HasPrefix(path, "/beta/") {
		u = c.base + path // the few calls v3 lacks (governance group members)
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, governance.Permanent(fmt.Errorf("build %s %s: %w", method, path, err))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tok.SetAuthHeader(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("SailPoint %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("SailPoint %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || len(data) == 0 {
			return resp.StatusCode, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("SailPoint %s %s: unreadable answer: %w", method, path, err)
		}
		return resp.StatusCode, nil
	}
	if resp.StatusCode == http.StatusUnauthorized && user == "" {
		c.forget(ts)
	}
	e := apiError(method, path, resp, data)
	c.log.WarnContext(ctx, "SailPoint refused a call", "method", method, "path", path, "status", resp.StatusCode,
		"tracking_id", e.TrackingID, "detail", e.Detail, "message", e.Message)
	if user != "" {
		return resp.StatusCode, e.classifyUser()
	}
	return resp.StatusCode, e.classify()
}

// Error is an ISC error answer: its status, its detailCode and trackingId (for ISC
// support), and its message. The message is logged where the answer arrives and kept
// out of Error, whose text may reach people: ISC's texts are not for display.
type Error struct {
	Method, Path string
	Status       int
	Detail       string // detailCode, or the 401 body's error
	TrackingID   string
	Message      string // the first message, in ISC's words
	RetryAfter   time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("SailPoint %s %s: %d", e.Method, e.Path, e.Status)
	if e.Detail != "" {
		s += " " + e.Detail
	}
	if e.TrackingID != "" {
		s += " (tracking id " + e.TrackingID + ")"
	}
	return s
}

// errorResponse is ErrorResponseDto, and the 401 body's {"error": …}.
type errorResponse struct {
	DetailCode string `json:"detailCode"`
	TrackingID string `json:"trackingId"`
	Messages   []struct {
		Text string `json:"text"`
	} `json:"messages"`
	Error   string `json:"error"`
	Message string `json:"message"` // the 429 body
}

func apiError(method, path string, resp *http.Response, data []byte) *Error {
	e := &Error{Method: method, Path: path, Status: resp.StatusCode}
	var body errorResponse
	if json.Unmarshal(data, &body) == nil {
		e.Detail, e.TrackingID = body.DetailCode, body.TrackingID
		if body.Error != "" {
			e.Detail = body.Error
		}
		if len(body.Messages) > 0 {
			e.Message = body.Messages[0].Text
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return e
}

// retryAfter reads Retry-After in seconds (ISC's form) or as an HTTP date; at least 1 s.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return time.Second
}

// classify says how the service should treat the error: 429 after Retry-After, 5xx
// with backoff, the rest not at all (a *Problem that says what to do).
func (e *Error) classify() error {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return governance.RetryAfter(e, e.RetryAfter)
	case e.Status >= 500:
		return e
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, e), Message: fmt.Sprintf(
			"SailPoint refused accessbot's own credentials (HTTP %d), so nothing was changed there. This is not about your access: "+
				"your access admins need to check accessbot's SailPoint personal access token (its owner must be an ORG_ADMIN identity; "+
				"API clients are refused) and then ask again", e.Status)})
	case e.Status == http.StatusNotFound:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrNotFound, e), Message: "SailPoint no longer has it (HTTP 404); " +
			"the item may have been deleted — ask your access admins to update accessbot's catalog"})
	}
	// ISC's own words (logged above) are not for display.
	msg := fmt.Sprintf("SailPoint refused the request (HTTP %d), so nothing was changed there. "+
		"Ask your access admins to check the item's set-up in SailPoint and in accessbot's catalog", e.Status)
	if e.TrackingID != "" {
		msg += ", quoting SailPoint tracking id " + e.TrackingID
	}
	return governance.Permanent(&governance.Problem{Err: e, Message: msg})
}

// classifyUser says how to treat the error of a call made with a person's token: a 401
// means their connected account no longer works; the rest as classify, except that a
// 403 is about the person, not accessbot's credentials (the caller says what it means).
func (e *Error) classifyUser() error {
	switch {
	case e.Status == http.StatusUnauthorized:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrConnectAgain, e), Message: "SailPoint no longer " +
			"accepts your connected account (HTTP 401); connect it again with `/access connect sailpoint`, then try once more"})
	case e.Status == http.StatusForbidden:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrNotAllowed, e), Message: "SailPoint refused " +
			"this with your own account (HTTP 403), so nothing was changed there"})
	}
	return e.classify()
}

// tokenError is a failure to get a token: refused credentials are for the admins to fix
// and retrying will not help; an unreachable token endpoint may come back.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode/100 == 4 {
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, err), Message: fmt.Sprintf(
			"SailPoint's token endpoint refused accessbot's credentials (HTTP %d), so nothing was changed there. "+
				"Your access admins need to check SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET (a personal access token of accessbot's service identity)",
			re.Response.StatusCode)})
	}
	return fmt.Errorf("get a SailPoint token: %w", err)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
