package msgraph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
)

// Error is a Graph error answer: the HTTP status, Graph's error code and message, and the
// request id and date Microsoft support asks for. The message is logged where the answer
// arrives and kept out of Error, whose text may reach people: Graph's messages are not
// for display and may change.
type Error struct {
	Service      string // Options.Name
	Method, Path string
	Status       int
	Code         string // error.code, e.g. "accessDenied", "itemNotFound"
	Message      string // error.message, in Graph's words; not meant for display
	RequestID    string // innerError's request-id (or requestId), else the request-id header
	Date         string
	// RetryAfter is the delay Retry-After asked for; zero when the answer had none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s %s: %d", e.Service, e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// odataError is Graph's error body. innerError may nest further innerErrors; the request
// id is in the first that has one. The documentation spells it request-id in some
// examples and requestId in others, so both are read.
type odataError struct {
	Error struct {
		Code       string      `json:"code"`
		Message    string      `json:"message"`
		InnerError *innerError `json:"innerError"`
	} `json:"error"`
}

type innerError struct {
	RequestID    string      `json:"request-id"`
	RequestIDAlt string      `json:"requestId"`
	Date         string      `json:"date"`
	InnerError   *innerError `json:"innerError"`
}

func parseError(service, method, path string, resp *http.Response, data []byte) *Error {
	e := &Error{Service: service, Method: method, Path: path, Status: resp.StatusCode,
		RequestID: resp.Header.Get("request-id")}
	var body odataError
	if json.Unmarshal(data, &body) == nil {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		for in := body.Error.InnerError; in != nil; in = in.InnerError {
			if id := firstOf(in.RequestID, in.RequestIDAlt); id != "" {
				e.RequestID, e.Date = id, in.Date
				break
			}
		}
	}
	e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// maxRetryAfter bounds a believable Retry-After; a longer one is treated as absent.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header: seconds, which Graph may give with a
// fraction ("2.128"), or an HTTP date. It is zero when the header is absent, unreadable or
// beyond a day.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0 && secs <= maxRetryAfter.Seconds()) { // NaN too
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 && d <= maxRetryAfter {
			return d
		}
	}
	return 0
}

// classify says how the service should treat an error answer: throttling after its
// Retry-After (or with backoff when none was given), other server trouble with backoff,
// and the rest not at all, with a *Problem that says what to do.
func (c *Client) classify(e *Error) error {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout:
		if e.RetryAfter > 0 {
			return governance.RetryAfter(e, e.RetryAfter)
		}
		return e
	case e.Status >= 500 || e.Status == http.StatusRequestTimeout:
		return e
	case e.Status == http.StatusUnauthorized:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, e), Message: fmt.Sprintf(
			"%s did not accept accessbot's own token (HTTP 401), so nothing was changed there. This is not about your access: "+
				"your access admins need to check accessbot's app registration (%s) and its %s, then ask again",
			c.name, c.creds, c.needs(e))})
	case e.Status == http.StatusForbidden:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, e), Message: fmt.Sprintf(
			"%s refused accessbot (HTTP 403), so nothing was changed there. This is not about your access: "+
				"accessbot's app registration needs the %s, with admin consent; ask your access admins to grant it, then ask again",
			c.name, c.needs(e))})
	case e.Status == http.StatusNotFound:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrNotFound, e), Message: fmt.Sprintf(
			"%s no longer has it (HTTP 404); it may have been deleted — ask your access admins to update accessbot's catalog", c.name)})
	}
	// Graph's message (logged by the caller) is not for display.
	msg := fmt.Sprintf("%s refused the request (HTTP %d), so nothing was changed there. "+
		"Ask your access admins to check the item's set-up in %s and in accessbot's catalog", c.name, e.Status, c.name)
	if e.RequestID != "" {
		msg += ", quoting Microsoft request id " + e.RequestID
	}
	return governance.Permanent(&governance.Problem{Err: e, Message: msg})
}

// needs names the permission the refused call needs, in words.
func (c *Client) needs(e *Error) string {
	if p := c.permission(e.Method, e.Path); p != "" {
		return "Microsoft Graph application permission " + p
	}
	return "Microsoft Graph application permission this call needs"
}

// Permission is the least Microsoft Graph application permission for the calls the
// Entra backends make; "" when it is not one of them.
func Permission(method, path string) string {
	switch {
	case strings.HasPrefix(path, "/users"):
		return "User.Read.All"
	case strings.HasPrefix(path, "/groups"): // a group found by name, and its members
		return "GroupMember.Read.All"
	case strings.HasPrefix(path, "/identityGovernance/entitlementManagement/"):
		if method == http.MethodGet {
			return "EntitlementManagement.Read.All"
		}
		return "EntitlementManagement.ReadWrite.All"
	}
	return ""
}

// tokenError is a failure to get a token: refused credentials are for the admins to fix
// and retrying will not help; an unreachable sign-in endpoint may come back.
func (c *Client) tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode/100 == 4 {
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, err), Message: fmt.Sprintf(
			"%s's sign-in endpoint refused accessbot's credentials (HTTP %d), so nothing was changed there. "+
				"This is not about your access: your access admins need to check %s",
			c.name, re.Response.StatusCode, c.creds)})
	}
	return fmt.Errorf("get a %s token: %w", c.name, err)
}
