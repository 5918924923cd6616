package iscfake_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

// pendingApproval submits Carol's grant of Payroll Reader (approved by her manager, then
// by Alice as the owner) and returns the first approval's id.
func (f *fake) pendingApproval() string {
	f.t.Helper()
	f.isc.SetOwner(payroll, alice, "")
	f.isc.SetApprovalSchemes(payroll, iscfake.Scheme{Approver: iscfake.SchemeManager}, iscfake.Scheme{Approver: iscfake.SchemeOwner})
	resp, body := f.call(http.MethodPost, "/v3/access-requests", nil, map[string]any{
		"requestedFor": []string{carol}, "requestType": "GRANT_ACCESS",
		"requestedItems": []map[string]any{{"type": "ACCESS_PROFILE", "id": payroll, "comment": "need it"}}})
	require.Equal(f.t, http.StatusAccepted, resp.StatusCode, string(body))
	p := f.isc.PendingApprovals()
	require.Len(f.t, p, 1)
	return p[0].ID
}

func TestApprovals_TheFakeRefusesWhatISCRefuses(t *testing.T) {
	tests := []struct {
		name   string
		action string
		body   any
		status int
		says   string
	}{
		{"a reject without a comment", "reject", map[string]any{}, http.StatusBadRequest, "A comment is required to reject"},
		{"a reject with no body", "reject", nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json"},
		{"a forward without a new owner", "forward", map[string]any{"comment": "x"}, http.StatusBadRequest, "newOwnerId is required"},
		{"a forward without a comment", "forward", map[string]any{"newOwnerId": alice}, http.StatusBadRequest, "comment is required"},
		{"a forward with a comment over 255 characters", "forward", map[string]any{"newOwnerId": alice, "comment": strings.Repeat("x", 256)},
			http.StatusBadRequest, "at most 255"},
		{"a forward to nobody", "forward", map[string]any{"newOwnerId": "0000", "comment": "x"}, http.StatusBadRequest, "is not an identity"},
		{"a forward to the owner", "forward", map[string]any{"newOwnerId": mallory, "comment": "x"}, http.StatusBadRequest, "already owned"},
		{"a field CommentDto does not have", "approve", map[string]any{"comment": "ok", "newOwnerId": alice}, http.StatusBadRequest, "newOwnerId is not a field"},
		{"an unknown field", "approve", map[string]any{"comments": "ok"}, http.StatusBadRequest, "unknown field"},
		{"an approve with no body (CommentDto is optional)", "approve", nil, http.StatusAccepted, "{}"},
		{"a forward", "forward", map[string]any{"newOwnerId": alice, "comment": "Alice knows"}, http.StatusAccepted, "{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, iscfake.Options{})
			id := f.pendingApproval()
			resp, body := f.call(http.MethodPost, "/v3/access-request-approvals/"+id+"/"+tc.action, nil, tc.body)
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			assert.Contains(t, string(body), tc.says)
		})
	}
}

func TestApprovals_LevelsFollowEachOtherAndTheStatusRowFollows(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	first := f.pendingApproval()
	resp, _ := f.call(http.MethodPost, "/v3/access-request-approvals/"+first+"/approve", nil, map[string]string{"comment": "ok"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	resp, body := f.call(http.MethodPost, "/v3/access-request-approvals/"+first+"/approve", nil, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a decided approval is decided")
	assert.Contains(t, string(body), "already completed")
	resp, _ = f.call(http.MethodPost, "/v3/access-request-approvals/0badc0de/approve", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	p := f.isc.PendingApprovals()
	require.Len(t, p, 1)
	assert.Equal(t, alice, p[0].Owner.ID, "level 2: the access profile's owner")
	require.Len(t, p[0].PreviousReviewersComments, 1)
	row := f.isc.Requests()[0]
	assert.Equal(t, []string{first, p[0].ID}, row.ApprovalIDs)
	assert.Equal(t, iscfake.StateExecuting, row.State)

	resp, _ = f.call(http.MethodPost, "/v3/access-request-approvals/"+p[0].ID+"/reject", nil, map[string]string{"comment": "no"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "REJECTED", f.isc.Requests()[0].State)
	completed := f.isc.CompletedApprovals()
	require.Len(t, completed, 2)
	assert.Equal(t, "REJECTED", completed[1].State)

	// Completed approvals carry no accessRequestId, and cannot be filtered by it.
	resp, body = f.call(http.MethodGet, "/v3/access-request-approvals/completed", url.Values{"filters": {`accessRequestId eq "x"`}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
	resp, body = f.call(http.MethodGet, "/v3/access-request-approvals/completed", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var raw []map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.NotContains(t, raw[0], "accessRequestId")
}

func TestApprovals_AGroupMemberMayDecideAndTheUIToo(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.AddGroup("g1", "Payroll Approvers", alice)
	f.isc.SetApprovalSchemes(payroll, iscfake.Scheme{Approver: iscfake.SchemeGovernanceGroup, GroupID: "g1"})
	arID := f.isc.RequestInUI(carol, carol, payroll, "asked in Request Center")
	p := f.isc.PendingApprovals()
	require.Len(t, p, 1)
	assert.Equal(t, iscfake.Ref{Type: "GOVERNANCE_GROUP", ID: "g1", Name: "Payroll Approvers"}, p[0].Owner)
	assert.Equal(t, arID, p[0].AccessRequestID)
	assert.Equal(t, carol, p[0].Requester.ID)

	assert.Equal(t, http.StatusForbidden, f.isc.DecideInUI(p[0].ID, mallory, "approve", "", ""), "not a member")
	assert.Zero(t, f.isc.DecideInUI(p[0].ID, alice, "approve", "", ""))
	assert.Equal(t, iscfake.StateCompleted, f.isc.Requests()[0].State, "the last level approved: provisioned")
	_, held := f.isc.Access(carol, payroll)
	assert.True(t, held)

	resp, body := f.call(http.MethodGet, "/beta/workgroups/g1/members", url.Values{"limit": {"51"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
	resp, body = f.call(http.MethodGet, "/beta/workgroups/g1/members", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `[{"type":"IDENTITY","id":"`+alice+`","name":"Alice","email":"Alice@Example.com"}]`, string(body))
}

func TestApprovals_WithExternalApprovalsAGrantIsProvisionedAtOnce(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.SetConfig(json.RawMessage(`{"approvalsMustBeExternal": true}`))
	f.isc.SetApprovalSchemes(payroll, iscfake.Scheme{Approver: iscfake.SchemeManager})
	resp, _ := f.call(http.MethodPost, "/v3/access-requests", nil, map[string]any{
		"requestedFor": []string{carol}, "requestedItems": []map[string]any{{"type": "ACCESS_PROFILE", "id": payroll}}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Empty(t, f.isc.PendingApprovals())
	assert.Equal(t, iscfake.StateCompleted, f.isc.Requests()[0].State)
}

func TestOAuthInfo_NamesTheAuthorizeAndTokenEndpoints(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	resp, body := f.callWith(t.Context(), "", http.MethodGet, "/oauth/info", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"tenant":"fake-tenant","authorizeEndpoint":"`+f.isc.URL+`/oauth/authorize","tokenEndpoint":"`+f.isc.URL+`/oauth/token"}`, string(body))
}

func TestOAuthClients_OnlyAnOrgAdminMayReadThem(t *testing.T) {
	f := newFake(t, iscfake.Options{UserLevel: "USER"})
	f.isc.AddOAuthClient(iscfake.OAuthClient{ID: "c1", Enabled: true})
	resp, _ := f.call(http.MethodGet, "/v3/oauth-clients/c1", nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	admin := newFake(t, iscfake.Options{})
	admin.isc.AddOAuthClient(iscfake.OAuthClient{ID: "c1", Enabled: true})
	resp, body := admin.call(http.MethodGet, "/v3/oauth-clients/c1", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, string(body), "secret")
	resp, _ = admin.call(http.MethodGet, "/v3/oauth-clients/nope", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestApprovals_NobodyApprovesTheirOwnAccess(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	f.isc.SetOwner(payroll, carol, "")
	f.isc.SetApprovalSchemes(payroll, iscfake.Scheme{Approver: iscfake.SchemeOwner})
	f.isc.RequestInUI(carol, carol, payroll, "")
	p := f.isc.PendingApprovals()
	require.Len(t, p, 1)
	assert.Equal(t, mallory, p[0].Owner.ID, "the owner asked for it: their manager decides")
	require.Len(t, p[0].ForwardHistory, 1)
	assert.Equal(t, "SELF_REVIEW_DELEGATION", p[0].ForwardHistory[0].ReassignmentType)
}

// userToken signs identityID in through the login form (a PUBLIC client, PKCE) and returns
// their access token.
func (f *fake) userToken(identityID string) string {
	f.t.Helper()
	const redirect = "https://bot.example.com/oauth/sailpoint/callback"
	f.isc.AddOAuthClient(iscfake.OAuthClient{ID: "public", Enabled: true, RedirectURIs: []string{redirect},
		GrantTypes: []string{iscfake.GrantAuthorizationCode}})
	f.isc.SetLogin(identityID, identityID, "pw")
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(f.isc.AuthorizeURL(), url.Values{"client_id": {"public"}, "response_type": {"code"},
		"redirect_uri": {redirect}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"username": {identityID}, "password": {"pw"}})
	require.NoError(f.t, err)
	resp.Body.Close()
	require.Equal(f.t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(f.t, err)
	return f.newToken(url.Values{"grant_type": {"authorization_code"}, "client_id": {"public"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}})
}

func TestUserTokens_AreBoundedByTheirIdentitysUserLevel(t *testing.T) {
	f := newFake(t, iscfake.Options{})
	resp, body := f.call(http.MethodPost, "/v3/access-requests", nil, map[string]any{
		"requestedFor": []string{carol}, "requestedItems": []map[string]any{{"type": "ACCESS_PROFILE", "id": payroll}}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	arID := f.isc.Requests()[0].AccessRequestID
	tok := f.userToken(alice)
	ctx := t.Context()
	tests := []struct {
		name, method, path string
		q                  url.Values
		body               any
		status             int
	}{
		{"requesting for someone else", http.MethodPost, "/v3/access-requests", nil, map[string]any{
			"requestedFor": []string{carol}, "requestedItems": []map[string]any{{"type": "ROLE", "id": admins}}}, http.StatusForbidden},
		{"requesting for oneself", http.MethodPost, "/v3/access-requests", nil, map[string]any{
			"requestedFor": []string{alice}, "requestedItems": []map[string]any{{"type": "ROLE", "id": admins}}}, http.StatusAccepted},
		{"cancelling someone else's request", http.MethodPost, "/v3/access-requests/cancel", nil,
			map[string]string{"accountActivityId": arID, "comment": "mine now"}, http.StatusForbidden},
		{"listing another identity's requests", http.MethodGet, "/v3/access-request-status", url.Values{"requested-for": {carol}}, nil, http.StatusForbidden},
		{"listing one's own requests", http.MethodGet, "/v3/access-request-status", url.Values{"requested-for": {"me"}}, nil, http.StatusOK},
		{"what another identity may request", http.MethodGet, "/v3/requestable-objects", url.Values{"identity-id": {carol}}, nil, http.StatusForbidden},
		{"what one may request oneself", http.MethodGet, "/v3/requestable-objects", url.Values{"identity-id": {"me"}}, nil, http.StatusOK},
		{"another identity's approvals", http.MethodGet, "/v3/access-request-approvals/pending", url.Values{"owner-id": {mallory}}, nil, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.callWith(ctx, tok, tc.method, tc.path, tc.q, tc.body)
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
		})
	}
}
