package graphfake_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance/entra/graphfake"
	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

const (
	userID   = "46184453-e63b-4f20-86c2-c557ed5d5df9"
	pkgID    = "a914b616-e04e-476b-aa37-91038f0b165b"
	policyID = "2264bf65-76ba-417b-a27d-54d291f0cbc8"
)

var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newFake(t *testing.T) (*graphfake.Server, string) {
	f := graphfake.New(graphfake.Options{Now: func() time.Time { return now }})
	t.Cleanup(f.Close)
	f.AddUser(graphfake.User{ID: userID, Mail: "carol@example.com", UserPrincipalName: "carol@example.com"})
	f.AddPackage(graphfake.Package{ID: pkgID, DisplayName: "Payroll", Policies: []graphfake.Policy{{ID: policyID, AllowedTargetScope: "notSpecified"}}})
	resp, err := http.PostForm(f.URL+"/"+f.TenantID()+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {f.ClientID()}, "client_secret": {f.ClientSecret()}, "scope": {"https://graph.microsoft.com/.default"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.Equal(t, 3599, tok.ExpiresIn)
	return f, tok.AccessToken
}

// call sends one call to the fake's Graph root.
func call(t *testing.T, f *graphfake.Server, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	status, out, err := msgraphtest.Do(f.BaseURL(), token, method, path, body)
	require.NoError(t, err)
	return status, out
}

func TestCreate_OnlyTheDocumentedBodiesAreAccepted(t *testing.T) {
	assignment := `"assignment":{"targetId":"` + userID + `","assignmentPolicyId":"` + policyID + `","accessPackageId":"` + pkgID + `"}`
	sched := func(exp string) string {
		return `"schedule":{"startDateTime":"2026-11-23T09:00:00Z","expiration":` + exp + `}`
	}
	tests := []struct {
		name, body string
		status     int
		message    string
	}{
		{"the documented adminAdd", `{"requestType":"adminAdd",` + assignment + `}`, 201, ""},
		{"with justification and an end", `{"requestType":"adminAdd",` + assignment + `,"justification":"why",` +
			sched(`{"type":"afterDateTime","endDateTime":"2026-11-23T17:00:00Z"}`) + `}`, 201, ""},
		{"with the example's nulls", `{"@odata.type":"#microsoft.graph.accessPackageAssignmentRequest","requestType":"adminAdd",` + assignment + `,` +
			`"schedule":{"startDateTime":"2026-11-23T09:00:00Z","recurrence":null,"expiration":{"type":"noExpiration"}}}`, 201, ""},
		{"an unknown field", `{"requestType":"adminAdd",` + assignment + `,"comment":"x"}`, 400, `unknown field "comment"`},
		{"the beta navigation name", `{"requestType":"adminAdd","accessPackageAssignment":{"targetId":"` + userID + `"}}`, 400, "unknown field"},
		{"an unknown request type", `{"requestType":"AdminAdd",` + assignment + `}`, 400, "Cannot convert the literal 'AdminAdd'"},
		{"a user request type", `{"requestType":"userAdd",` + assignment + `}`, 400, "not supported for an application"},
		{"no assignment", `{"requestType":"adminAdd"}`, 400, "assignment property is required"},
		{"a missing assignment field", `{"requestType":"adminAdd","assignment":{"targetId":"` + userID + `","accessPackageId":"` + pkgID + `"}}`, 400,
			"needs assignment.targetId, assignment.assignmentPolicyId and assignment.accessPackageId"},
		{"another package's policy", `{"requestType":"adminAdd","assignment":{"targetId":"` + userID + `","assignmentPolicyId":"` + pkgID +
			`","accessPackageId":"` + pkgID + `"}}`, 400, "is not a policy of access package"},
		{"a bad date", `{"requestType":"adminAdd",` + assignment + `,` + sched(`{"type":"afterDateTime","endDateTime":"2026-11-23 17:00"}`) + `}`, 400,
			"Cannot convert the literal '2026-11-23 17:00'"},
		{"an end in the past", `{"requestType":"adminAdd",` + assignment + `,` + sched(`{"type":"afterDateTime","endDateTime":"2026-11-23T08:00:00Z"}`) + `}`, 400,
			"must be after the start date and in the future"},
		{"noExpiration with an end", `{"requestType":"adminAdd",` + assignment + `,` + sched(`{"type":"noExpiration","endDateTime":"2026-11-24T08:00:00Z"}`) + `}`, 400,
			"takes no endDateTime"},
		{"an unknown expiration type", `{"requestType":"adminAdd",` + assignment + `,` + sched(`{"type":"never"}`) + `}`, 400, "expirationPatternType"},
		{"adminRemove of no assignment", `{"requestType":"adminRemove","assignment":{"id":"0badc0de-0000-4000-8000-000000000000"}}`, 400, "was not found"},
		{"trailing data", `{"requestType":"adminAdd",` + assignment + `} {}`, 400, "data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, token := newFake(t)
			status, out := call(t, f, token, http.MethodPost, graphfake.Root+"/assignmentRequests", tt.body)
			require.Equal(t, tt.status, status, out)
			if tt.status == 201 {
				assert.Equal(t, "adminAdd", out["requestType"])
				assert.Equal(t, "submitted", out["state"])
				assert.Equal(t, "Accepted", out["status"])
				assert.NotEmpty(t, out["id"])
				assert.Equal(t, "2026-11-23T09:00:00Z", out["createdDateTime"])
				assert.Contains(t, out, "schedule")
				assert.Contains(t, out, "justification")
				assert.Len(t, f.Created(), 1)
				return
			}
			e := out["error"].(map[string]any)
			assert.Contains(t, e["message"], tt.message)
			assert.NotEmpty(t, e["innerError"].(map[string]any)["request-id"])
			assert.Empty(t, f.Created())
		})
	}
}

func TestCollections_ArePagedThroughNextLink(t *testing.T) {
	f, token := newFake(t)
	for range 5 {
		f.AddRequest(graphfake.Request{RequestType: "userAdd", State: "pendingApproval", TargetID: userID, PackageID: pkgID, PolicyID: policyID})
	}
	path := graphfake.Root + "/assignmentRequests?$expand=accessPackage&$filter=accessPackage/id%20eq%20%27" + pkgID + "%27"
	var ids []any
	for path != "" {
		status, out := call(t, f, token, http.MethodGet, path, "")
		require.Equal(t, 200, status, out)
		for _, v := range out["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"])
		}
		next, _ := out["@odata.nextLink"].(string)
		path = strings.TrimPrefix(next, f.BaseURL())
	}
	assert.Len(t, ids, 5)
}

func TestQueries_UnsupportedOnesAreRefused(t *testing.T) {
	f, token := newFake(t)
	for _, path := range []string{
		graphfake.Root + "/assignmentRequests?$filter=accessPackage/id%20eq%20%27x%27", // without $expand=accessPackage
		graphfake.Root + "/assignmentRequests?$filter=target/objectId%20eq%20%27x%27",  // not filterable
		graphfake.Root + "/assignmentRequests?$expand=assignment($expand=target)",      // not modelled
		graphfake.Root + "/accessPackages?$filter=startswith(displayName,%27x%27)",     // not modelled
		"/users?$filter=otherMails/any(m:m%20eq%20%27x%27)",                            // needs ConsistencyLevel
		"/users?$count=true", // unknown option here
	} {
		status, out := call(t, f, token, http.MethodGet, path, "")
		assert.Equal(t, http.StatusBadRequest, status, path, out)
	}
	status, _ := call(t, f, "forged", http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestFaults_AreUsedOnce(t *testing.T) {
	f, token := newFake(t)
	f.Fail("GET /users", http.StatusTooManyRequests, "2.128")
	status, out := call(t, f, token, http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "activityLimitReached", out["error"].(map[string]any)["code"])
	status, _ = call(t, f, token, http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusOK, status)
}
