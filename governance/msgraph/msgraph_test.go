package msgraph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// server is a Graph with a token endpoint: handler answers the calls under /v1.0.
type server struct {
	*httptest.Server
	tokens  atomic.Int32
	secret  string
	mu      sync.Mutex
	handler http.HandlerFunc
	auth    []string // Authorization headers seen by Graph
	queries []string // raw queries seen by Graph
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	s := &server{secret: "s3cret", handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+tenant+"/oauth2/v2.0/token" {
			require.NoError(t, r.ParseForm())
			if r.PostForm.Get("client_secret") != s.secret || r.PostForm.Get("grant_type") != "client_credentials" ||
				r.PostForm.Get("scope") != msgraph.DefaultScope || r.PostForm.Get("client_id") != "app" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
				return
			}
			n := s.tokens.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-%d"}`, n)
			return
		}
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.queries = append(s.queries, r.URL.RawQuery)
		h := s.handler
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) client(t *testing.T, opts ...func(*msgraph.Options)) *msgraph.Client {
	o := msgraph.Options{BaseURL: s.URL + "/v1.0", LoginURL: s.URL, TenantID: tenant, ClientID: "app", ClientSecret: "s3cret",
		Rate: 1000, Burst: 100, Timeout: 2 * time.Second, Name: "Entra",
		Credentials: "AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET",
		Logger:      slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	c, err := msgraph.New(o)
	require.NoError(t, err)
	return c
}

func odata(w http.ResponseWriter, status int, retryAfter, code, msg string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q,"innerError":{"date":"2026-11-22T10:00:00","request-id":"req-%d","client-request-id":"c-1"}}}`,
		code, msg, status)
}

type item struct {
	ID string `json:"id"`
}

func TestList_FollowsNextLinkUntilTheLastPage(t *testing.T) {
	var srv *server
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("$skiptoken")
		next := ""
		switch page {
		case "":
			next = srv.URL + "/v1.0/items?$filter=x&$skiptoken=2"
		case "2":
			next = srv.URL + "/v1.0/items?$filter=x&$skiptoken=3"
		}
		fmt.Fprintf(w, `{"@odata.context":"x","value":[{"id":"a%s"},{"id":"b%s"}]`, page, page)
		if next != "" {
			fmt.Fprintf(w, `,"@odata.nextLink":%q`, next)
		}
		fmt.Fprint(w, "}")
	})
	c := srv.client(t)
	all, err := msgraph.All[item](context.Background(), c, "/items", map[string][]string{"$filter": {"displayName eq 'x y'"}}, 0)
	require.NoError(t, err)
	assert.Equal(t, []item{{"a"}, {"b"}, {"a2"}, {"b2"}, {"a3"}, {"b3"}}, all)
	assert.Equal(t, "$filter=displayName%20eq%20%27x%20y%27", srv.queries[0], "OData options keep their $; spaces are %20")
	assert.Equal(t, "$filter=x&$skiptoken=2", srv.queries[1], "the next link is followed as given")

	srv.queries = nil
	some, err := msgraph.All[item](context.Background(), c, "/items", nil, 3)
	require.NoError(t, err)
	assert.Equal(t, []item{{"a"}, {"b"}, {"a2"}}, some)
	assert.Len(t, srv.queries, 2, "no page is read beyond the limit")
}

func TestList_RefusesANextLinkOffGraph(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"value":[],"@odata.nextLink":"https://elsewhere.example.com/v1.0/items?$skiptoken=2"}`)
	})
	_, err := msgraph.All[item](context.Background(), srv.client(t), "/items", nil, 0)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.Contains(t, err.Error(), "is not on 127.0.0.1")
}

func TestDo_SendsJSONAndDecodesTheAnswer(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/v1.0/things", r.URL.Path)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		body, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `{"name":"x"}`, string(body))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"new"}`)
	})
	var out item
	require.NoError(t, srv.client(t).Do(context.Background(), http.MethodPost, "/things", nil, map[string]string{"name": "x"}, &out))
	assert.Equal(t, item{"new"}, out)
	assert.Equal(t, []string{"Bearer tok-1"}, srv.auth)
}

func TestErrors_EachClassIsTreatedAsItShouldBe(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		message    string
		permanent  bool
		after      time.Duration // RetryAfterError's delay; 0: none
		is         error
		text       string // in the error's message
	}{
		{"429 with fractional Retry-After", 429, "2.128", "Too many requests", false, 2128 * time.Millisecond, nil, "Entra GET /things: 429 activityLimitReached"},
		{"429 without Retry-After backs off", 429, "", "Too many requests", false, 0, nil, "Entra GET /things: 429"},
		{"503 with Retry-After", 503, "3", "Service unavailable", false, 3 * time.Second, nil, "Entra GET /things: 503"},
		{"504 without Retry-After", 504, "", "Gateway timeout", false, 0, nil, "Entra GET /things: 504"},
		{"500", 500, "", "Oops", false, 0, nil, "Entra GET /things: 500 generalException (request id req-500)"},
		{"401", 401, "", "Access token has expired", true, 0, governance.ErrBackendCredentials,
			"Entra did not accept accessbot's own token (HTTP 401), so nothing was changed there"},
		{"403", 403, "", "Insufficient privileges", true, 0, governance.ErrBackendCredentials,
			"Entra refused accessbot (HTTP 403), so nothing was changed there. This is not about your access: accessbot's app registration needs the Microsoft Graph application permission User.Read.All, with admin consent"},
		{"404", 404, "", "Resource not found", true, 0, governance.ErrNotFound, "Entra no longer has it (HTTP 404)"},
		{"400", 400, "", "The policy does not allow " + strings.Repeat("x", 400), true, 0, nil,
			"Entra refused the request (HTTP 400), so nothing was changed there. Ask your access admins to check the item's set-up " +
				"in Entra and in accessbot's catalog, quoting Microsoft request id req-400"},
		{"409", 409, "", "Conflict", true, 0, nil, "Entra refused the request (HTTP 409), so nothing was changed there. " +
			"Ask your access admins to check the item's set-up in Entra and in accessbot's catalog, quoting Microsoft request id req-409"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes := map[int]string{429: "activityLimitReached", 500: "generalException", 401: "InvalidAuthenticationToken",
				403: "Authorization_RequestDenied", 404: "itemNotFound", 400: "invalidRequest"}
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				odata(w, tt.status, tt.retryAfter, codes[tt.status], tt.message)
			})
			var log strings.Builder
			c := srv.client(t, func(o *msgraph.Options) { o.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
			path := "/things"
			if tt.status == http.StatusForbidden {
				path = "/users/x" // a call whose permission is known
			}
			err := c.Do(context.Background(), http.MethodGet, path, nil, nil, nil)
			require.Error(t, err)
			assert.Equal(t, tt.permanent, governance.IsPermanent(err))
			var ra *governance.RetryAfterError
			if tt.after > 0 {
				require.ErrorAs(t, err, &ra)
				assert.Equal(t, tt.after, ra.After)
			} else {
				assert.False(t, errors.As(err, &ra), "no Retry-After, so the dispatcher's backoff applies")
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var p *governance.Problem
			if tt.permanent {
				require.ErrorAs(t, err, &p, "a permanent error speaks to people")
			}
			assert.Contains(t, err.Error(), tt.text)
			var ge *msgraph.Error
			require.ErrorAs(t, err, &ge, "callers can still read Graph's answer")
			assert.Equal(t, tt.status, ge.Status)
			assert.Equal(t, fmt.Sprintf("req-%d", tt.status), ge.RequestID)
			assert.NotContains(t, err.Error(), tt.message, "Graph's message is not for display")
			assert.Contains(t, log.String(), tt.message, "but it is logged")
			assert.Contains(t, log.String(), fmt.Sprintf("request_id=req-%d", tt.status), "with the request id")
		})
	}
}

func TestErrors_TheRequestIDIsReadInEitherSpellingAndWhenNested(t *testing.T) {
	bodies := map[string]string{
		"requestId": `{"error":{"code":"badRequest","message":"m","innerError":{"date":"d","requestId":"r-1"}}}`,
		"nested":    `{"error":{"code":"badRequest","message":"m","innerError":{"code":"x","innerError":{"request-id":"r-1","date":"d"}}}}`,
		"header":    `{"error":{"code":"badRequest","message":"m"}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("request-id", "r-1")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, body)
			})
			err := srv.client(t).Do(context.Background(), http.MethodGet, "/things", nil, nil, nil)
			var ge *msgraph.Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "r-1", ge.RequestID)
			assert.Equal(t, "badRequest", ge.Code)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"2.128":                         2128 * time.Millisecond,
		"7":                             7 * time.Second,
		" 0.5 ":                         500 * time.Millisecond,
		"":                              0,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"Sun, 22 Nov 2026 10:00:30 GMT": 30 * time.Second,
		"Sun, 22 Nov 2026 09:59:00 GMT": 0,
	}
	for in, want := range tests {
		assert.Equal(t, want, msgraph.ParseRetryAfter(in, now), in)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"2.128", "7", "", "NaN", "Inf", "1e400", "Sun, 22 Nov 2026 10:00:30 GMT"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := msgraph.ParseRetryAfter(s, now); d < 0 || d > 24*time.Hour+time.Second {
			t.Fatalf("ParseRetryAfter(%q) = %v", s, d)
		}
	})
}

func TestToken_OneServesEveryCallUntilGraphRefusesIt(t *testing.T) {
	var refuse atomic.Bool
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if refuse.CompareAndSwap(true, false) {
			odata(w, http.StatusUnauthorized, "", "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
			return
		}
		fmt.Fprint(w, `{"id":"x"}`)
	})
	c := srv.client(t)
	for range 5 {
		require.NoError(t, c.Do(context.Background(), http.MethodGet, "/things", nil, nil, nil))
	}
	assert.EqualValues(t, 1, srv.tokens.Load(), "the token is reused while it lives")

	refuse.Store(true)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/things", nil, nil, nil), "a 401 is tried once more")
	assert.EqualValues(t, 2, srv.tokens.Load())
	assert.Equal(t, "Bearer tok-2", srv.auth[len(srv.auth)-1])
}

func TestToken_RefusedCredentialsSayWhatToCheck(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("Graph called without a token") })
	err := srv.client(t, func(o *msgraph.Options) { o.ClientSecret = "wrong" }).Do(context.Background(), http.MethodGet, "/things", nil, nil, nil)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.ErrorIs(t, err, governance.ErrBackendCredentials)
	assert.Equal(t, "Entra's sign-in endpoint refused accessbot's credentials (HTTP 401), so nothing was changed there. "+
		"This is not about your access: your access admins need to check AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET", err.Error())
}

func TestToken_ACallersTokenSourceIsUsedAsIs(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		odata(w, http.StatusUnauthorized, "", "InvalidAuthenticationToken", "expired")
	})
	c := srv.client(t, func(o *msgraph.Options) {
		o.TenantID, o.ClientID, o.ClientSecret = "", "", ""
		o.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "delegated", TokenType: "Bearer"})
	})
	err := c.Do(context.Background(), http.MethodGet, "/things", nil, nil, nil)
	assert.ErrorIs(t, err, governance.ErrBackendCredentials)
	assert.Equal(t, []string{"Bearer delegated"}, srv.auth, "a token accessbot cannot renew is not retried")
	assert.Zero(t, srv.tokens.Load())
}

func TestDo_ATimeoutIsTransient(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	err := srv.client(t, func(o *msgraph.Options) { o.Timeout = 50 * time.Millisecond }).
		Do(context.Background(), http.MethodGet, "/things", nil, nil, nil)
	require.Error(t, err)
	assert.False(t, governance.IsPermanent(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestNew_BadOptionsSayWhatIsWrong(t *testing.T) {
	_, err := msgraph.New(msgraph.Options{BaseURL: "graph.microsoft.com", TenantID: "a/b"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `base URL "graph.microsoft.com" is not a URL`)
	assert.Contains(t, err.Error(), `tenant id "a/b"`)
	assert.Contains(t, err.Error(), "client id and client secret are needed")

	c, err := msgraph.New(msgraph.Options{TenantID: "contoso.onmicrosoft.com", ClientID: "a", ClientSecret: "b"})
	require.NoError(t, err)
	assert.Equal(t, "Microsoft Graph", c.Name())
}

func TestQuote_DoublesSingleQuotes(t *testing.T) {
	assert.Equal(t, `'o''brien@example.com'`, msgraph.Quote("o'brien@example.com"))
}

func TestPermission(t *testing.T) {
	assert.Equal(t, "User.Read.All", msgraph.Permission(http.MethodGet, "/users/x/manager"))
	assert.Equal(t, "EntitlementManagement.Read.All", msgraph.Permission(http.MethodGet, "/identityGovernance/entitlementManagement/assignments"))
	assert.Equal(t, "EntitlementManagement.ReadWrite.All", msgraph.Permission(http.MethodPost, "/identityGovernance/entitlementManagement/assignmentRequests"))
	assert.Equal(t, "GroupMember.Read.All", msgraph.Permission(http.MethodGet, "/groups/g-1/members"))
	assert.Empty(t, msgraph.Permission(http.MethodGet, "/me"))
}

func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"t"}`)
			return
		}
		fmt.Fprint(w, `{"value":[{"id":"a"},{"id":"b"}]}`)
	}))
	defer srv.Close()
	c, err := msgraph.New(msgraph.Options{BaseURL: srv.URL + "/v1.0", LoginURL: srv.URL, TenantID: tenant, ClientID: "a", ClientSecret: "b",
		Rate: 1e9, Burst: 1000, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		var out json.RawMessage
		if err := c.Do(context.Background(), http.MethodGet, "/things", nil, nil, &out); err != nil {
			b.Fatal(err)
		}
	}
}
