package iscfake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

const (
	carol   = "2c9180857182305e0171993735622948"
	alice   = "2c9180857182305e0171993735622949"
	mallory = "2c9180857182305e017199373562294a"
	payroll = "2c9180835d2e5168015d32f890ca1581" // access profile
	admins  = "2c918086749d78830174a1a40e121518" // role
	dbRead  = "2c91808568c529c60168cca6f90c1313" // entitlement
)

// clock is a settable server clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fake is a seeded fake tenant with a token, and helpers to call it.
type fake struct {
	t     *testing.T
	isc   *iscfake.Server
	token string
}

func newFake(t *testing.T, opts iscfake.Options) *fake {
	t.Helper()
	isc := iscfake.New(opts)
	t.Cleanup(isc.Close)
	isc.AddIdentity(carol, "carol@example.com", "Carol", mallory)
	isc.AddIdentity(alice, "Alice@Example.com", "Alice", "")
	isc.AddIdentity(mallory, "mallory@example.com", "Mallory Manager", "")
	isc.AddItem("ACCESS_PROFILE", payroll, "Payroll Reader", "Read payroll")
	isc.AddItem("ROLE", admins, "Payroll Admins", "Run payroll")
	isc.AddItem("ENTITLEMENT", dbRead, "db_read", "Database read-only")
	f := &fake{t: t, isc: isc}
	f.token = f.newToken(url.Values{"grant_type": {"client_credentials"}, "client_id": {"pat-id"}, "client_secret": {"pat-secret"}})
	return f
}

func (f *fake) newToken(form url.Values) string {
	f.t.Helper()
	resp, body := f.postForm(form, nil)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, string(body))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(f.t, json.Unmarshal(body, &tok))
	return tok.AccessToken
}

func (f *fake) postForm(form url.Values, basic []string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.isc.URL+"/oauth/token", strings.NewReader(form.Encode()))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return send(f.t, req)
}

// call makes a /v3 call with the fake's token; in (if not nil) is sent as JSON, or as is
// if it is a string.
func (f *fake) call(method, path string, q url.Values, in any) (*http.Response, []byte) {
	f.t.Helper()
	return f.callWith(context.Background(), f.token, method, path, q, in)
}

func (f *fake) callWith(ctx context.Context, token, method, path string, q url.Values, in any) (*http.Response, []byte) {
	f.t.Helper()
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	default:
		data, err := json.Marshal(v)
		require.NoError(f.t, err)
		body = bytes.NewReader(data)
	}
	u := f.isc.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	require.NoError(f.t, err)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(f.t, req)
}

func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	return resp, data
}

// submit posts an access request and decodes a 202.
func (f *fake) submit(req iscfake.AccessRequest) iscfake.AccessRequestResponse {
	f.t.Helper()
	resp, body := f.call(http.MethodPost, "/v3/access-requests", nil, req)
	require.Equal(f.t, http.StatusAccepted, resp.StatusCode, string(body))
	var out iscfake.AccessRequestResponse
	require.NoError(f.t, json.Unmarshal(body, &out))
	return out
}

// grant submits a one-item grant for who and returns the new access request id.
func (f *fake) grant(who, typ, id string) string {
	f.t.Helper()
	out := f.submit(iscfake.AccessRequest{RequestedFor: []string{who}, RequestType: "GRANT_ACCESS",
		RequestedItems: []iscfake.AccessRequestItem{{Type: typ, ID: id, Comment: "please"}}})
	require.Len(f.t, out.NewRequests, 1)
	require.Len(f.t, out.NewRequests[0].AccessRequestIDs, 1)
	return out.NewRequests[0].AccessRequestIDs[0]
}

func (f *fake) statuses(q url.Values) []iscfake.RequestedItemStatus {
	f.t.Helper()
	resp, body := f.call(http.MethodGet, "/v3/access-request-status", q, nil)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, string(body))
	var rows []iscfake.RequestedItemStatus
	require.NoError(f.t, json.Unmarshal(body, &rows))
	return rows
}

// requireProblem checks an ErrorResponseDto answer whose first message contains text.
func requireProblem(t *testing.T, resp *http.Response, body []byte, status int, text string) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, string(body))
	var e iscfake.ErrorResponse
	require.NoError(t, json.Unmarshal(body, &e))
	require.NotEmpty(t, e.DetailCode)
	require.Len(t, e.TrackingID, 32)
	require.NotNil(t, e.Causes)
	require.Len(t, e.Messages, 1)
	require.Equal(t, "en-US", e.Messages[0].Locale)
	require.Equal(t, "DEFAULT", e.Messages[0].LocaleOrigin)
	require.Contains(t, e.Messages[0].Text, text)
}

func ids(rows []iscfake.RequestedItemStatus) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.AccessRequestID)
	}
	return out
}

func TestToken(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := newFake(t, iscfake.Options{TokenTTL: time.Minute, Now: clk.Now})

	t.Run("issued with ISC's fields", func(t *testing.T) {
		resp, body := f.postForm(url.Values{"grant_type": {"client_credentials"}, "client_id": {"pat-id"}, "client_secret": {"pat-secret"}}, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var tok map[string]any
		require.NoError(t, json.Unmarshal(body, &tok))
		require.NotEmpty(t, tok["access_token"])
		require.Equal(t, "bearer", tok["token_type"])
		require.EqualValues(t, 60, tok["expires_in"])
		require.Equal(t, iscfake.ServiceIdentityID, tok["identity_id"])
		for _, k := range []string{"scope", "tenant_id", "pod", "org", "user_id"} {
			require.NotEmpty(t, tok[k], k)
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		resp, _ := f.postForm(url.Values{"grant_type": {"client_credentials"}}, []string{"pat-id", "pat-secret"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("wrong credentials", func(t *testing.T) {
		resp, body := f.postForm(url.Values{"grant_type": {"client_credentials"}, "client_id": {"pat-id"}, "client_secret": {"nope"}}, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, string(body), `"error":"invalid_client"`)
	})
	t.Run("wrong grant type", func(t *testing.T) {
		resp, _ := f.postForm(url.Values{"grant_type": {"password"}, "client_id": {"pat-id"}, "client_secret": {"pat-secret"}}, nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	require.Equal(t, 3, f.isc.TokensIssued())

	for name, token := range map[string]string{"no token": "", "unknown token": "abc"} {
		t.Run(name, func(t *testing.T) {
			resp, body := f.callWith(context.Background(), token, http.MethodGet, "/v3/access-request-config", nil, nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.JSONEq(t, `{"error":"JWT validation failed: JWT is expired"}`, string(body))
		})
	}
	t.Run("expired token", func(t *testing.T) {
		resp, _ := f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		clk.Advance(time.Minute)
		resp, _ = f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})

	calls := f.isc.Calls()
	require.Equal(t, "/oauth/token", calls[0].Path)
	require.Equal(t, http.StatusOK, calls[0].Status)
	require.Equal(t, f.token, calls[0].Token, "a token call records the token issued")
	last := calls[len(calls)-1]
	require.Equal(t, "/v3/access-request-config", last.Path)
	require.Equal(t, http.StatusUnauthorized, last.Status)
	require.Equal(t, f.token, last.Token)
}

func TestSubmit_DecodesStrictly(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	tests := map[string]string{
		"unknown field": `{"requestedFor":["` + carol + `"],"requestedItems":[{"type":"ROLE","id":"` + admins + `","colour":"red"}]}`,
		"trailing data": `{"requestedFor":["` + carol + `"],"requestedItems":[{"type":"ROLE","id":"` + admins + `"}]} {}`,
		"wrong type":    `{"requestedFor":"` + carol + `","requestedItems":[{"type":"ROLE","id":"` + admins + `"}]}`,
		"empty":         ``,
	}
	want := map[string]string{"unknown field": "colour", "trailing data": "after", "wrong type": "requestedFor", "empty": "missing"}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			resp, data := f.call(http.MethodPost, "/v3/access-requests", nil, body)
			requireProblem(t, resp, data, http.StatusBadRequest, want[name])
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, f.isc.URL+"/v3/access-requests", strings.NewReader("{}"))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+f.token)
		req.Header.Set("Content-Type", "text/plain")
		resp, data := send(t, req)
		requireProblem(t, resp, data, http.StatusUnsupportedMediaType, "application/json")
	})
	require.Empty(t, f.isc.Submitted())
}

func TestSubmit_EnforcesISCsRules(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	var ents []iscfake.AccessRequestItem
	for i := range 26 {
		id := fmt.Sprintf("2c91808568c529c60168cca6f90c%04d", i)
		f.isc.AddItem("ENTITLEMENT", id, fmt.Sprintf("ent%d", i), "")
		ents = append(ents, iscfake.AccessRequestItem{Type: "ENTITLEMENT", ID: id})
	}
	var eleven []string
	for i := range 11 {
		id := fmt.Sprintf("2c9180857182305e01719937356%05d", i)
		f.isc.AddIdentity(id, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Person %d", i), "")
		eleven = append(eleven, id)
	}
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	ap := iscfake.AccessRequestItem{Type: "ACCESS_PROFILE", ID: payroll, Comment: "why"}
	ent := iscfake.AccessRequestItem{Type: "ENTITLEMENT", ID: dbRead, Comment: "why"}
	tests := []struct {
		name string
		req  iscfake.AccessRequest
		want string
	}{
		{"26 entitlements", iscfake.AccessRequest{RequestedFor: []string{carol}, RequestedItems: ents}, "at most 25 entitlements"},
		{"11 recipients of an entitlement", iscfake.AccessRequest{RequestedFor: eleven, RequestedItems: []iscfake.AccessRequestItem{ent}}, "at most 10 recipients"},
		{"revoke for two identities", iscfake.AccessRequest{RequestedFor: []string{carol, alice}, RequestType: "REVOKE_ACCESS",
			RequestedItems: []iscfake.AccessRequestItem{ap}}, "exactly one identity"},
		{"revoke without comment", iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "REVOKE_ACCESS",
			RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll}}}, "comment is required"},
		{"revoke of two entitlements", iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "REVOKE_ACCESS",
			RequestedItems: []iscfake.AccessRequestItem{ent, {Type: "ENTITLEMENT", ID: ents[0].ID, Comment: "x"}}}, "at most 1 entitlement"},
		{"revoke with a start date", iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "REVOKE_ACCESS",
			RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll, Comment: "x", StartDate: future}}}, "startDate is not allowed"},
		{"remove date in the past", iscfake.AccessRequest{RequestedFor: []string{carol},
			RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll, RemoveDate: past}}}, "must be in the future"},
		{"remove date not RFC 3339", iscfake.AccessRequest{RequestedFor: []string{carol},
			RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll, RemoveDate: "tomorrow"}}}, "RFC 3339"},
		{"no recipients", iscfake.AccessRequest{RequestedItems: []iscfake.AccessRequestItem{ap}}, "requestedFor is required"},
		{"no items", iscfake.AccessRequest{RequestedFor: []string{carol}}, "at least 1 item"},
		{"unknown identity", iscfake.AccessRequest{RequestedFor: []string{"nobody"}, RequestedItems: []iscfake.AccessRequestItem{ap}}, `identity "nobody" not found`},
		{"unknown item", iscfake.AccessRequest{RequestedFor: []string{carol},
			RequestedItems: []iscfake.AccessRequestItem{{Type: "ROLE", ID: payroll}}}, "not found"},
		{"unknown item type", iscfake.AccessRequest{RequestedFor: []string{carol},
			RequestedItems: []iscfake.AccessRequestItem{{Type: "GROUP", ID: payroll}}}, "GROUP"},
		{"unknown request type", iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "GRANT",
			RequestedItems: []iscfake.AccessRequestItem{ap}}, "requestType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.call(http.MethodPost, "/v3/access-requests", nil, tt.req)
			requireProblem(t, resp, body, http.StatusBadRequest, tt.want)
		})
	}
	require.Empty(t, f.isc.Submitted())

	// The limits are exactly ISC's: 25 entitlements, 10 recipients, and no recipient
	// limit without entitlements.
	f.submit(iscfake.AccessRequest{RequestedFor: []string{carol}, RequestedItems: ents[:25]})
	f.submit(iscfake.AccessRequest{RequestedFor: eleven[:10], RequestedItems: []iscfake.AccessRequestItem{ent}})
	f.submit(iscfake.AccessRequest{RequestedFor: eleven, RequestedItems: []iscfake.AccessRequestItem{{Type: "ROLE", ID: admins, RemoveDate: future}}})
	require.Len(t, f.isc.Submitted(), 3)
}

func TestSubmit_CreatesRequestsAndIgnoresDuplicates(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	meta := map[string]string{"requestedBy": "test", "id": "r1"}
	req := iscfake.AccessRequest{RequestedFor: []string{carol, alice}, RequestType: "GRANT_ACCESS", ClientMetadata: meta,
		RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll, Comment: "quarter close",
			ClientMetadata: map[string]string{"id": "item"}, RemoveDate: time.Now().Add(time.Hour).Format(time.RFC3339)}}}
	out := f.submit(req)
	require.Len(t, out.NewRequests, 2)
	require.Empty(t, out.ExistingRequests)
	require.NotNil(t, out.ExistingRequests, "an empty list, not null")
	require.Equal(t, carol, out.NewRequests[0].RequestedFor)
	require.Equal(t, []iscfake.ItemDetails{{Type: "ACCESS_PROFILE", ID: payroll}}, out.NewRequests[0].RequestedItemsDetails)
	first := out.NewRequests[0].AccessRequestIDs[0]
	require.Regexp(t, `^[0-9a-f]{32}$`, first)

	st, ok := f.isc.Status(first)
	require.True(t, ok)
	require.Equal(t, "EXECUTING", st.State)
	require.Equal(t, payroll, st.ItemID())
	require.Regexp(t, `^[0-9a-f]{32}$`, st.ID, "the access request's own id")
	require.NotEqual(t, payroll, st.ID, "never the requested object's id")
	require.NotEqual(t, first, st.ID, "accessRequestId is the account activity id; id is another")
	require.Equal(t, first, st.AccessRequestID)
	require.Equal(t, "Payroll Reader", st.Name)
	require.Equal(t, "ACCESS_PROFILE", st.Type)
	require.Equal(t, "GRANT_ACCESS", st.RequestType)
	require.Equal(t, first, st.AccessRequestID)
	require.Equal(t, &iscfake.Ref{Type: "IDENTITY", ID: carol, Name: "Carol"}, st.RequestedFor)
	require.Equal(t, "quarter close", st.RequesterComment.Comment)
	require.Equal(t, map[string]string{"requestedBy": "test", "id": "item"}, st.ClientMetadata)
	require.NotNil(t, st.RemoveDate)
	require.True(t, st.Cancelable)
	require.NotEmpty(t, st.Created)

	// The same again: ISC already has it, so nothing new.
	again := f.submit(iscfake.AccessRequest{RequestedFor: []string{carol}, RequestedItems: req.RequestedItems})
	require.Empty(t, again.NewRequests)
	require.Len(t, again.ExistingRequests, 1)
	require.Equal(t, []string{first}, again.ExistingRequests[0].AccessRequestIDs)

	// Access already held is ignored and never listed.
	f.isc.AddAccess(carol, "ROLE", admins)
	held := f.submit(iscfake.AccessRequest{RequestedFor: []string{carol}, RequestedItems: []iscfake.AccessRequestItem{{Type: "ROLE", ID: admins}}})
	require.Empty(t, held.NewRequests)
	require.Len(t, held.ExistingRequests, 1)
	require.Empty(t, held.ExistingRequests[0].AccessRequestIDs)
	require.NotNil(t, held.ExistingRequests[0].AccessRequestIDs)
	require.Len(t, f.statuses(url.Values{"requested-for": {carol}}), 1)
	require.Len(t, f.isc.Submitted(), 3, "every accepted body is recorded")
}

func TestDelayListing_ANewRequestIsListedOnlyOnceProcessed(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.DelayListing(true)
	id := f.grant(carol, "ACCESS_PROFILE", payroll)
	require.Empty(t, f.statuses(url.Values{"requested-for": {carol}}), "queued, not listed")
	require.Empty(t, f.statuses(url.Values{"filters": {`accessRequestId in ("` + id + `")`}}))
	resp, body := f.call(http.MethodGet, "/v3/requestable-objects", url.Values{"identity-id": {carol}, "filters": {`id eq "` + payroll + `"`}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `"requestStatus":"AVAILABLE"`)

	again := f.submit(iscfake.AccessRequest{RequestedFor: []string{carol},
		RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll}}})
	require.Empty(t, again.NewRequests, "ISC knows the queued request")
	require.Len(t, again.ExistingRequests, 1)
	require.Equal(t, []string{id}, again.ExistingRequests[0].AccessRequestIDs)
	require.Len(t, f.isc.Requests(), 1)

	f.isc.Process(id)
	require.Equal(t, []string{id}, ids(f.statuses(url.Values{"requested-for": {carol}})))

	f.isc.DelayListing(true)
	done := f.grant(carol, "ENTITLEMENT", dbRead)
	require.Len(t, f.statuses(url.Values{"requested-for": {carol}}), 1)
	f.isc.SetState(done, "REQUEST_COMPLETED")
	require.Equal(t, []string{id, done}, ids(f.statuses(url.Values{"requested-for": {carol}})), "completing processes it")
}

func TestLose_TheCallTakesEffectButItsAnswerIsLost(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.Lose("POST /v3/access-requests")
	req := iscfake.AccessRequest{RequestedFor: []string{carol}, RequestedItems: []iscfake.AccessRequestItem{{Type: "ROLE", ID: admins}}}
	resp, body := f.call(http.MethodPost, "/v3/access-requests", nil, req)
	requireProblem(t, resp, body, http.StatusGatewayTimeout, "")
	rows := f.isc.Requests()
	require.Len(t, rows, 1, "ISC made the request")
	require.Equal(t, admins, rows[0].ItemID())
	require.Len(t, f.isc.Submitted(), 1)

	again := f.submit(req)
	require.Empty(t, again.NewRequests)
	require.Equal(t, []string{rows[0].AccessRequestID}, again.ExistingRequests[0].AccessRequestIDs)
}

func TestSetState_CompletingAppliesTheRequest(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	holds := func() bool {
		resp, body := f.call(http.MethodPost, "/v3/search", nil, map[string]any{"indices": []string{"identities"},
			"query": map[string]string{"query": `id:"` + carol + `" AND access.id:"` + dbRead + `"`}})
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var docs []map[string]any
		require.NoError(t, json.Unmarshal(body, &docs))
		return len(docs) == 1
	}
	require.False(t, holds())
	id := f.grant(carol, "ENTITLEMENT", dbRead)
	f.isc.SetState(id, "REQUEST_COMPLETED")
	require.True(t, holds())
	st, _ := f.isc.Status(id)
	require.False(t, st.Cancelable)

	out := f.submit(iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "REVOKE_ACCESS",
		RequestedItems: []iscfake.AccessRequestItem{{Type: "ENTITLEMENT", ID: dbRead, Comment: "done"}}})
	require.Len(t, out.NewRequests, 1)
	f.isc.SetState(out.NewRequests[0].AccessRequestIDs[0], "REQUEST_COMPLETED")
	require.False(t, holds())
}

func TestSetApprovalAndErrors(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	id := f.grant(carol, "ROLE", admins)
	f.isc.SetApproval(id, "PENDING", "Mallory Manager", "")
	st, _ := f.isc.Status(id)
	require.Len(t, st.ApprovalDetails, 1)
	require.Equal(t, "PENDING", st.ApprovalDetails[0].Status)
	require.Equal(t, &iscfake.Ref{Type: "IDENTITY", ID: mallory, Name: "Mallory Manager"}, st.ApprovalDetails[0].CurrentOwner)
	require.Equal(t, "APPROVAL_PHASE", st.AccessRequestPhases[0].Name)
	require.Equal(t, "EXECUTING", st.AccessRequestPhases[0].State)
	require.True(t, st.Cancelable)

	f.isc.SetApproval(id, "REJECTED", "Olivia Owner", "no")
	f.isc.SetErrors(id, "first", "second")
	rows := f.statuses(url.Values{"filters": {`accessRequestId eq "` + id + `"`}})
	require.Len(t, rows, 1)
	require.Equal(t, "REJECTED", rows[0].ApprovalDetails[0].Status)
	require.Equal(t, "Olivia Owner", rows[0].ApprovalDetails[0].CurrentOwner.Name)
	require.Equal(t, "no", rows[0].ApprovalDetails[0].Comment)
	require.Equal(t, "COMPLETED", rows[0].AccessRequestPhases[0].State)
	require.Equal(t, [][]iscfake.ErrorMessage{{{Locale: "en-US", LocaleOrigin: "DEFAULT", Text: "first"},
		{Locale: "en-US", LocaleOrigin: "DEFAULT", Text: "second"}}}, rows[0].ErrorMessages)

	// Unknown ids change nothing and do not panic.
	f.isc.SetState("nope", "REQUEST_COMPLETED")
	f.isc.SetApproval("nope", "APPROVED", "x", "")
	f.isc.SetErrors("nope", "x")
	_, ok := f.isc.Status("nope")
	require.False(t, ok)
}

func TestStatus_FiltersAndPages(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := newFake(t, iscfake.Options{Now: clk.Now})
	a := f.grant(carol, "ACCESS_PROFILE", payroll)
	clk.Advance(time.Second)
	b := f.grant(carol, "ROLE", admins)
	clk.Advance(time.Second)
	c := f.grant(alice, "ENTITLEMENT", dbRead)
	f.isc.SetState(b, "REQUEST_COMPLETED")

	require.Equal(t, []string{a, b, c}, ids(f.statuses(nil)), "sorted by created")
	require.Equal(t, []string{c, b, a}, ids(f.statuses(url.Values{"sorters": {"-created"}})))
	require.Equal(t, []string{a, c}, ids(f.statuses(url.Values{"filters": {`accessRequestId in ("` + a + `", "` + c + `")`}})))
	require.Equal(t, []string{c}, ids(f.statuses(url.Values{"filters": {`accessRequestId eq "` + c + `"`}})))
	require.Equal(t, []string{b}, ids(f.statuses(url.Values{"filters": {`accountActivityItemId eq "` + b + `"`}})))
	require.Equal(t, []string{a, b}, ids(f.statuses(url.Values{"requested-for": {carol}})))
	require.Equal(t, []string{a}, ids(f.statuses(url.Values{"requested-for": {carol}, "request-state": {"EXECUTING"}})))
	require.Equal(t, []string{c}, ids(f.statuses(url.Values{"regarding-identity": {alice}})))
	require.Equal(t, []string{a, b, c}, ids(f.statuses(url.Values{"requested-by": {"me"}})))

	resp, body := f.call(http.MethodGet, "/v3/access-request-status", url.Values{"limit": {"2"}, "offset": {"1"}, "count": {"true"}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "3", resp.Header.Get("X-Total-Count"))
	var page []iscfake.RequestedItemStatus
	require.NoError(t, json.Unmarshal(body, &page))
	require.Equal(t, []string{b, c}, ids(page))
	require.Equal(t, "[]", strings.TrimSpace(string(func() []byte {
		_, body := f.call(http.MethodGet, "/v3/access-request-status", url.Values{"offset": {"9"}}, nil)
		return body
	}())), "an empty page is an empty array")

	bad := map[string]url.Values{
		"unsupported field":    {"filters": {`name eq "x"`}},
		"unsupported operator": {"filters": {`accessRequestId sw "x"`}},
		"upper-case operator":  {"filters": {`accessRequestId EQ "x"`}},
		"or":                   {"filters": {`accessRequestId eq "x" or accessRequestId eq "y"`}},
		"unterminated":         {"filters": {`accessRequestId eq "x`}},
		"limit too high":       {"limit": {"251"}},
		"limit zero":           {"limit": {"0"}},
		"negative offset":      {"offset": {"-1"}},
		"bad count":            {"count": {"maybe"}},
		"request-state":        {"request-state": {"REQUEST_COMPLETED"}},
		"regarding and for":    {"regarding-identity": {carol}, "requested-for": {carol}},
		"unknown parameter":    {"requestedFor": {carol}},
		"unsupported sorter":   {"sorters": {"state"}},
	}
	for name, q := range bad {
		t.Run(name, func(t *testing.T) {
			resp, body := f.call(http.MethodGet, "/v3/access-request-status", q, nil)
			requireProblem(t, resp, body, http.StatusBadRequest, "")
		})
	}
}

func TestStatus_BelowOrgAdminOnlyTheTokensOwnRequestsMayBeListed(t *testing.T) {
	f := newFake(t, iscfake.Options{UserLevel: "USER"})
	for _, q := range []url.Values{{"requested-for": {carol}}, {"regarding-identity": {carol}}, {"requested-by": {alice}}} {
		resp, body := f.call(http.MethodGet, "/v3/access-request-status", q, nil)
		requireProblem(t, resp, body, http.StatusForbidden, "requires ORG_ADMIN")
	}
	for _, q := range []url.Values{nil, {"requested-by": {"me"}}, {"requested-for": {iscfake.ServiceIdentityID}}} {
		resp, body := f.call(http.MethodGet, "/v3/access-request-status", q, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	}
}

func TestCancel(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	id := f.grant(carol, "ACCESS_PROFILE", payroll)
	cancel := func(body any) (*http.Response, []byte) {
		return f.call(http.MethodPost, "/v3/access-requests/cancel", nil, body)
	}

	resp, body := cancel(map[string]string{"accountActivityId": id})
	requireProblem(t, resp, body, http.StatusBadRequest, "comment is required")
	resp, body = cancel(map[string]string{"comment": "oops"})
	requireProblem(t, resp, body, http.StatusBadRequest, "accountActivityId is required")
	resp, body = cancel(map[string]string{"accountActivityId": id, "comment": "oops", "reason": "x"})
	requireProblem(t, resp, body, http.StatusBadRequest, "reason")
	resp, body = cancel(iscfake.CancelAccessRequest{AccountActivityID: "2c9180835d2e5168015d32f890ca0000", Comment: "oops"})
	requireProblem(t, resp, body, http.StatusNotFound, "not found")

	resp, body = cancel(iscfake.CancelAccessRequest{AccountActivityID: id, Comment: "by mistake"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.JSONEq(t, `{}`, string(body))
	require.Equal(t, []iscfake.CancelAccessRequest{{AccountActivityID: id, Comment: "by mistake"}}, f.isc.Cancelled())
	st, _ := f.isc.Status(id)
	require.Equal(t, "CANCELLED", st.State)
	require.False(t, st.Cancelable)
	require.Equal(t, "by mistake", st.CancelledRequestDetails.Comment)
	require.Equal(t, iscfake.ServiceIdentityID, st.CancelledRequestDetails.Owner.ID)

	resp, body = cancel(iscfake.CancelAccessRequest{AccountActivityID: id, Comment: "again"})
	requireProblem(t, resp, body, http.StatusBadRequest, "can no longer be cancelled")

	pending := f.grant(carol, "ENTITLEMENT", dbRead)
	f.isc.SetApproval(pending, "PENDING", "Olivia Owner", "")
	resp, _ = cancel(iscfake.CancelAccessRequest{AccountActivityID: pending, Comment: "not needed"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	st, _ = f.isc.Status(pending)
	require.Equal(t, "CANCELLED", st.ApprovalDetails[0].Status)
	require.Equal(t, "CANCELLED", st.AccessRequestPhases[0].State)

	approved := f.grant(carol, "ROLE", admins)
	f.isc.SetApproval(approved, "APPROVED", "Olivia Owner", "")
	resp, body = cancel(iscfake.CancelAccessRequest{AccountActivityID: approved, Comment: "too late"})
	requireProblem(t, resp, body, http.StatusBadRequest, "can no longer be cancelled")
	require.Len(t, f.isc.Cancelled(), 2)
}

func TestFail_AnswersOnceWithISCsErrorBodies(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.Fail("GET /v3/access-request-config", http.StatusTooManyRequests, "7")
	f.isc.Fail("POST /v3/access-requests", http.StatusInternalServerError, "")
	f.isc.Fail("", http.StatusUnauthorized, "")

	resp, body := f.call(http.MethodGet, "/v3/public-identities", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "\"\" matches any /v3 call")
	require.JSONEq(t, `{"error":"JWT validation failed: JWT is expired"}`, string(body))

	resp, body = f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "7", resp.Header.Get("Retry-After"))
	require.JSONEq(t, `{"message":" Rate Limit Exceeded "}`, string(body))
	resp, _ = f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "a fault is consumed once")

	req := iscfake.AccessRequest{RequestedFor: []string{carol}, RequestedItems: []iscfake.AccessRequestItem{{Type: "ROLE", ID: admins}}}
	resp, body = f.call(http.MethodPost, "/v3/access-requests", nil, req)
	requireProblem(t, resp, body, http.StatusInternalServerError, "")
	require.Empty(t, f.isc.Submitted(), "a failed call changes nothing")
	f.submit(req)
	require.Equal(t, 0, f.isc.RateLimited(), "Fail's 429s are not rate limiting")
}

func TestHang_HoldsOneCallUntilTheClientGivesUp(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.Hang("GET /v3/access-request-config", time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.isc.URL+"/v3/access-request-config", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.token)
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)

	resp, _ := f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "only the next call hangs")

	f.isc.Hang("/v3/search", 10*time.Millisecond)
	resp, body := f.call(http.MethodPost, "/v3/search", nil, map[string]any{})
	requireProblem(t, resp, body, http.StatusInternalServerError, "")
}

func TestRateLimit_Answers429WithRetryAfter(t *testing.T) {
	f := newFake(t, iscfake.Options{RateLimit: 0.5, Burst: 2, RetryAfter: 3})
	var statuses []int
	for range 3 {
		resp, _ := f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			require.Equal(t, "3", resp.Header.Get("Retry-After"))
		}
	}
	require.Equal(t, []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests}, statuses)
	require.Equal(t, 1, f.isc.RateLimited())
	resp, _ := f.postForm(url.Values{"grant_type": {"client_credentials"}, "client_id": {"pat-id"}, "client_secret": {"pat-secret"}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the token endpoint is not rate limited")
}

func TestRequestableObjects(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	list := func(q url.Values) []map[string]any {
		t.Helper()
		resp, body := f.call(http.MethodGet, "/v3/requestable-objects", q, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var out []map[string]any
		require.NoError(t, json.Unmarshal(body, &out))
		return out
	}
	names := func(objs []map[string]any) []any {
		var out []any
		for _, o := range objs {
			out = append(out, o["name"])
		}
		return out
	}
	require.Equal(t, []any{"Payroll Reader", "Payroll Admins"}, names(list(nil)), "no entitlements")
	require.Equal(t, []any{"Payroll Admins"}, names(list(url.Values{"types": {"ROLE"}})))
	require.Equal(t, []any{"Payroll Admins"}, names(list(url.Values{"term": {"RUN"}})), "term searches descriptions too")
	require.Equal(t, []any{"Payroll Admins", "Payroll Reader"}, names(list(url.Values{"filters": {`name sw "payroll"`}, "sorters": {"name"}})))
	require.Equal(t, []any{"Payroll Reader"}, names(list(url.Values{"filters": {`id eq "` + payroll + `"`}})))

	f.isc.AddAccess(carol, "ROLE", admins)
	pending := f.grant(carol, "ACCESS_PROFILE", payroll)
	objs := list(url.Values{"identity-id": {carol}})
	require.Equal(t, "PENDING", objs[0]["requestStatus"])
	require.Equal(t, pending, objs[0]["identityRequestId"])
	require.Equal(t, "ASSIGNED", objs[1]["requestStatus"])
	require.Equal(t, false, objs[1]["requestCommentsRequired"])
	require.Equal(t, []any{"Payroll Admins"}, names(list(url.Values{"identity-id": {carol}, "statuses": {"ASSIGNED"}})))
	require.Equal(t, []any{"Payroll Reader"}, names(list(url.Values{"identity-id": {carol}, "statuses": {"PENDING,PENDING,AVAILABLE"}})))
	require.Equal(t, "AVAILABLE", list(url.Values{"identity-id": {alice}})[0]["requestStatus"])

	for name, q := range map[string]url.Values{
		"entitlements":              {"types": {"ENTITLEMENT"}},
		"statuses without identity": {"statuses": {"AVAILABLE"}},
		"unknown status":            {"identity-id": {carol}, "statuses": {"GONE"}},
		"unsupported filter":        {"filters": {`description eq "x"`}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := f.call(http.MethodGet, "/v3/requestable-objects", q, nil)
			requireProblem(t, resp, body, http.StatusBadRequest, "")
		})
	}
}

func TestPublicIdentitiesAndSearch(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	resp, body := f.call(http.MethodGet, "/v3/public-identities", url.Values{"filters": {`email eq "CAROL@example.com"`}, "limit": {"2"}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.JSONEq(t, `[{"id":"`+carol+`","name":"Carol","alias":"carol","email":"carol@example.com","status":"ACTIVE",
		"identityState":"ACTIVE","manager":{"type":"IDENTITY","id":"`+mallory+`","name":"Mallory Manager"},"attributes":{}}]`, string(body))

	resp, body = f.call(http.MethodGet, "/v3/public-identities", url.Values{"filters": {`id eq "` + mallory + `"`}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `"manager":null`)

	resp, body = f.call(http.MethodGet, "/v3/public-identities", url.Values{"filters": {`name eq "Carol"`}}, nil)
	requireProblem(t, resp, body, http.StatusBadRequest, "not supported")

	search := func(query string) (*http.Response, []byte) {
		return f.call(http.MethodPost, "/v3/search", url.Values{"limit": {"1"}},
			map[string]any{"indices": []string{"identities"}, "query": map[string]string{"query": query}, "sort": []string{"name"}})
	}
	resp, body = search(`email:"alice@example.com"`)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var docs []struct {
		ID     string `json:"id"`
		Email  string `json:"email"`
		Access []struct {
			ID, Type, Name string
		} `json:"access"`
	}
	require.NoError(t, json.Unmarshal(body, &docs))
	require.Len(t, docs, 1)
	require.Equal(t, alice, docs[0].ID)
	require.NotNil(t, docs[0].Access)

	f.isc.AddAccess(alice, "ROLE", admins)
	resp, body = search(`id:"` + alice + `" AND access.id:"` + admins + `"`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &docs))
	require.Len(t, docs, 1)
	require.Equal(t, admins, docs[0].Access[0].ID)
	require.Equal(t, "ROLE", docs[0].Access[0].Type)
	require.Equal(t, "Payroll Admins", docs[0].Access[0].Name)

	resp, body = search(`id:"` + carol + `" AND access.id:"` + admins + `"`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "[]", string(body))

	resp, body = search(`attributes.city:London`)
	requireProblem(t, resp, body, http.StatusBadRequest, "not supported")
}

func TestPublicIdentities_AddCoreFiltersDropsUncorrelatedIdentities(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	const stale = "2c9180857182305e01719937356229ff"
	f.isc.AddIdentity(stale, "carol@example.com", "Carol (old account)", "")
	f.isc.MarkUncorrelated(stale)
	list := func(q url.Values) []string {
		t.Helper()
		resp, body := f.call(http.MethodGet, "/v3/public-identities", q, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var out []struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal(body, &out))
		var got []string
		for _, p := range out {
			got = append(got, p.ID)
		}
		return got
	}
	byEmail := `email eq "carol@example.com"`
	require.Equal(t, []string{carol, stale}, list(url.Values{"filters": {byEmail}}))
	require.Equal(t, []string{carol, stale}, list(url.Values{"filters": {byEmail}, "add-core-filters": {"false"}}))
	require.Equal(t, []string{carol}, list(url.Values{"filters": {byEmail}, "add-core-filters": {"true"}}))

	resp, body := f.call(http.MethodGet, "/v3/public-identities", url.Values{"add-core-filters": {"yes please"}}, nil)
	requireProblem(t, resp, body, http.StatusBadRequest, "add-core-filters")
}

func TestConfig(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	resp, body := f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cfg struct {
		ApprovalsMustBeExternal *bool `json:"approvalsMustBeExternal"`
		Reminders               struct {
			DaysUntilEscalation, DaysBetweenReminders, MaxReminders int
			FallbackApproverRef                                     map[string]string
		} `json:"approvalReminderAndEscalationConfig"`
	}
	require.NoError(t, json.Unmarshal(body, &cfg))
	require.False(t, *cfg.ApprovalsMustBeExternal)
	require.Equal(t, 3, cfg.Reminders.DaysUntilEscalation)
	require.Equal(t, 1, cfg.Reminders.DaysBetweenReminders)
	require.Equal(t, 2, cfg.Reminders.MaxReminders)
	require.Equal(t, "IDENTITY", cfg.Reminders.FallbackApproverRef["type"])
	require.NotEmpty(t, cfg.Reminders.FallbackApproverRef["email"])

	f.isc.SetConfig(json.RawMessage(`{"approvalsMustBeExternal":true}`))
	_, body = f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	require.JSONEq(t, `{"approvalsMustBeExternal":true}`, string(body))

	resp, body = f.call(http.MethodPut, "/v3/access-request-config", nil, `{"autoApprovalEnabled":true}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"autoApprovalEnabled":true}`, string(body))
	_, body = f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	require.JSONEq(t, `{"autoApprovalEnabled":true}`, string(body))
	resp, body = f.call(http.MethodPut, "/v3/access-request-config", nil, `[1]`)
	requireProblem(t, resp, body, http.StatusBadRequest, "AccessRequestConfig")

	f.isc.SetConfig(json.RawMessage(`{not json`))
	resp, body = f.call(http.MethodGet, "/v3/access-request-config", nil, nil)
	requireProblem(t, resp, body, http.StatusInternalServerError, "encoded")
}

func TestRouting(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	resp, body := f.call(http.MethodGet, "/v3/nothing-here", nil, nil)
	requireProblem(t, resp, body, http.StatusNotFound, "/v3/nothing-here")
	resp, body = f.call(http.MethodDelete, "/v3/access-requests", nil, nil)
	requireProblem(t, resp, body, http.StatusMethodNotAllowed, "POST")
	require.Equal(t, "POST", resp.Header.Get("Allow"))
	resp, _ = f.callWith(context.Background(), "", http.MethodGet, "/oauth/token", nil, nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	calls := f.isc.Calls()
	require.Len(t, calls, 4, "the token call and three more")
	require.Equal(t, http.MethodDelete, calls[2].Method)
	require.Equal(t, http.StatusMethodNotAllowed, calls[2].Status)
}

func TestStatus_ARowNamesItsItemOnlyByNameAndTypeAsTheSpecSays(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   iscfake.Options
		withID bool
	}{
		{"a request made since ISC lists its id", iscfake.Options{}, true},
		{"an older request without one", iscfake.Options{RowsWithoutID: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.opts)
			id := f.grant(carol, "ENTITLEMENT", dbRead)
			resp, body := f.call(http.MethodGet, "/v3/access-request-status", url.Values{"requested-for": {carol}}, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var rows []map[string]any
			require.NoError(t, json.Unmarshal(body, &rows))
			require.Len(t, rows, 1)
			row := rows[0]
			assert.Equal(t, id, row["accessRequestId"], "the account activity id")
			assert.Equal(t, "db_read", row["name"])
			assert.Equal(t, "ENTITLEMENT", row["type"])
			for k, v := range row {
				assert.NotEqual(t, dbRead, v, "no field carries the requested object's id (%s)", k)
			}
			if tc.withID {
				assert.Regexp(t, `^[0-9a-f]{32}$`, row["id"])
				assert.NotEqual(t, id, row["id"])
			} else {
				assert.NotContains(t, row, "id")
			}
		})
	}
}

func TestSubmit_AGrantWithANewRemoveDateChangesTheEndOfHeldAccess(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	now := time.Now().UTC().Truncate(time.Second)
	f.isc.AddAccessUntil(carol, "ACCESS_PROFILE", payroll, now.Add(time.Hour))
	grant := func(end time.Time) iscfake.AccessRequestResponse {
		return f.submit(iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "GRANT_ACCESS",
			RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll, RemoveDate: end.Format(time.RFC3339)}}})
	}

	same := grant(now.Add(time.Hour))
	assert.Empty(t, same.NewRequests, "the same end date: ignored as a duplicate")
	assert.Empty(t, f.isc.Requests())

	later := grant(now.Add(3 * time.Hour))
	require.Len(t, later.NewRequests, 1, "a new end date is a request of its own")
	id := later.NewRequests[0].AccessRequestIDs[0]
	end, ok := f.isc.Access(carol, payroll)
	require.True(t, ok)
	assert.Equal(t, now.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"), end, "unchanged until ISC completes it")
	f.isc.SetState(id, iscfake.StateCompleted)
	end, _ = f.isc.Access(carol, payroll)
	assert.Equal(t, now.Add(3*time.Hour).Format("2006-01-02T15:04:05.000Z"), end)

	resp, body := f.call(http.MethodPost, "/v3/access-requests", nil, iscfake.AccessRequest{RequestedFor: []string{carol}, RequestType: "MODIFY_ACCESS",
		RequestedItems: []iscfake.AccessRequestItem{{Type: "ACCESS_PROFILE", ID: payroll, RemoveDate: now.Add(5 * time.Hour).Format(time.RFC3339)}}})
	requireProblem(t, resp, body, http.StatusBadRequest, "MODIFY_ACCESS is not supported")
}
