package pmfake_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
	"github.com/accessbot/accessbot/governance/permissions/pmfake"
)

var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newFake(t *testing.T, o pmfake.Options) *pmfake.Server {
	o.Now = func() time.Time { return now }
	f := pmfake.New(o)
	t.Cleanup(f.Close)
	return f
}

// call sends one call to the fake's Graph root.
func call(t *testing.T, f *pmfake.Server, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	status, out, err := msgraphtest.Do(f.BaseURL(), token, method, path, body)
	require.NoError(t, err)
	return status, out
}

const requests = pmfake.Root + "/scheduledPermissionsRequests"

// body is a create body for a permissions definition.
func body(definition string, rest ...string) string {
	return `{"requestedPermissions":` + definition + strings.Join(rest, "") + `}`
}

const (
	awsSystem   = `"authorizationSystemInfo":{"authorizationSystemId":"956987887735","authorizationSystemType":"aws"}`
	azureSystem = `"authorizationSystemInfo":{"authorizationSystemId":"87eefd90-95a3-480a-ba42-56ff299a05ee","authorizationSystemType":"azure"}`
	gcpSystem   = `"authorizationSystemInfo":{"authorizationSystemId":"carbide-bonsai-205017","authorizationSystemType":"gcp"}`
	samlUser    = `"identityInfo":{"externalId":"rsn:alex@contoso.com","source":{"@odata.type":"#microsoft.graph.samlIdentitySource"},"identityType":"user"}`
	edUser      = `"identityInfo":{"externalId":"alex@contoso.com","source":{"@odata.type":"microsoft.graph.edIdentitySource"},"identityType":"user"}`
	awsPolicy   = `"actionInfo":{"@odata.type":"#microsoft.graph.awsPolicyPermissionsDefinitionAction","policies":[{"id":"arn:aws:iam::956987887735:policy/AddUserToGroup"}],"assignToRoleId":"arn:aws:iam::956987887735:role/saml-user"}`
	awsDef      = `{"@odata.type":"#microsoft.graph.awsPermissionsDefinition",` + awsSystem + `,` + awsPolicy + `,` + samlUser + `}`
	oneHour     = `,"scheduleInfo":{"expiration":{"duration":"PT1H"}}`
	ticket      = `,"ticketInfo":{"ticketNumber":"AR-1","ticketSystem":"accessbot","ticketSubmitterIdentityId":"alex@contoso.com","ticketApproverIdentityId":"alexmanager@contoso.com"}`
)

func TestCreate_OnlyDocumentedBodiesAreAccepted(t *testing.T) {
	azureRoles := `"actionInfo":{"@odata.type":"microsoft.graph.azureRolePermissionsDefinitionAction","roles":[{"id":"cdda3590-29a3-44f6-95f2-9f980659eb04"}]}`
	gcpActions := `"actionInfo":{"@odata.type":"#microsoft.graph.gcpActionPermissionsDefinitionAction","actions":["aiplatform:dataitems"]}`
	awsActions := `"actionInfo":{"@odata.type":"#microsoft.graph.awsActionsPermissionsDefinitionAction","statements":[{"statementId":"s1","actions":["s3:GetObject"],` +
		`"notActions":[],"resources":["*"],"notResources":[],"effect":"allow","condition":{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"3600"}}}],"assignToRoleId":"arn:aws:iam::956987887735:role/x"}`
	tests := []struct {
		name, body string
		status     int
		message    string
	}{
		{"an AWS policy, canonical", body(awsDef, `,"justification":"why","notes":"n"`, oneHour, ticket), 201, ""},
		{"an AWS action statement with a condition", body(`{"@odata.type":"microsoft.graph.awsPermissionsDefinition",` + awsSystem + `,` + awsActions + `,` + samlUser + `}`), 201, ""},
		{"Azure roles, @odata.type without #", body(`{"@odata.type":"microsoft.graph.singleResourceAzurePermissionsDefinition",` + azureSystem + `,` + azureRoles + `,` + edUser +
			`,"resourceId":"/subscriptions/87eefd90-95a3-480a-ba42-56ff299a05ee"}`), 201, ""},
		{"GCP actions with the examples' nulls", body(`{"@odata.type":"#microsoft.graph.singleResourceGcpPermissionsDefinition",`+gcpSystem+`,`+gcpActions+`,`+edUser+
			`,"resourceId":"carbide-bonsai-205017"}`, `,"scheduleInfo":{"startDateTime":null,"expiration":{"duration":"P1DT2H"},"recurrence":null}`), 201, ""},
		{"an unknown field", body(awsDef, `,"comment":"x"`), 400, `unknown field "comment"`},
		{"an unknown field deep down", strings.Replace(body(awsDef), `"identityType":"user"`, `"identityType":"user","upn":"x"`, 1), 400, `unknown field "upn"`},
		{"no requestedPermissions", `{"justification":"why"}`, 400, "The requestedPermissions property is required."},
		{"no @odata.type", body(strings.Replace(awsDef, `"@odata.type":"#microsoft.graph.awsPermissionsDefinition",`, "", 1)), 400, "needs an @odata.type"},
		{"an undocumented @odata.type", body(strings.Replace(awsDef, "awsPermissionsDefinition", "awsPolicyPermissionsDefinition", 1)), 400,
			`Invalid @odata.type "#microsoft.graph.awsPolicyPermissionsDefinition" for requestedPermissions.`},
		{"the examples' upper-case authorizationSystemType", body(strings.Replace(awsDef, `"aws"`, `"AWS"`, 1)), 400,
			"Cannot convert the literal 'AWS' to the expected type 'microsoft.graph.authorizationSystemType'."},
		{"another cloud's system type", body(strings.Replace(awsDef, `"aws"`, `"gcp"`, 1)), 400, "does not match"},
		{"no authorizationSystemId", body(strings.Replace(awsDef, `"authorizationSystemId":"956987887735",`, "", 1)), 400, "needs authorizationSystemId"},
		{"another cloud's action", body(`{"@odata.type":"#microsoft.graph.awsPermissionsDefinition",` + awsSystem + `,` + azureRoles + `,` + samlUser + `}`), 400,
			"Invalid @odata.type \"microsoft.graph.azureRolePermissionsDefinitionAction\" for the actionInfo of a aws permissions definition."},
		{"no actionInfo", body(`{"@odata.type":"#microsoft.graph.awsPermissionsDefinition",` + awsSystem + `,` + samlUser + `}`), 400, "actionInfo needs an @odata.type"},
		{"another action type's property", body(strings.Replace(awsDef, `"policies"`, `"roles"`, 1)), 400,
			"The property 'roles' does not exist on type 'microsoft.graph.awsPolicyPermissionsDefinitionAction'."},
		{"no policies", body(strings.Replace(awsDef, `"policies":[{"id":"arn:aws:iam::956987887735:policy/AddUserToGroup"}],`, "", 1)), 400,
			"actionInfo.policies needs at least one item."},
		{"a statement with an unknown effect", body(`{"@odata.type":"microsoft.graph.awsPermissionsDefinition",` + awsSystem + `,` +
			strings.Replace(awsActions, `"allow"`, `"Allow"`, 1) + `,` + samlUser + `}`), 400, "microsoft.graph.awsStatementEffect"},
		{"a resourceId for AWS", body(strings.TrimSuffix(awsDef, "}") + `,"resourceId":"x"}`), 400, "'resourceId' does not exist"},
		{"no resourceId for Azure", body(`{"@odata.type":"microsoft.graph.singleResourceAzurePermissionsDefinition",` + azureSystem + `,` + azureRoles + `,` + edUser + `}`), 400,
			"resourceId is required"},
		{"no identityInfo", body(`{"@odata.type":"#microsoft.graph.awsPermissionsDefinition",` + awsSystem + `,` + awsPolicy + `}`), 400, "identityInfo is required"},
		{"an unknown identity source", body(strings.Replace(awsDef, "samlIdentitySource", "googleIdentitySource", 1)), 400, "identityInfo.source needs"},
		{"an unknown identity type", body(strings.Replace(awsDef, `"identityType":"user"`, `"identityType":"User"`, 1)), 400, "permissionsDefinitionIdentityType"},
		{"an hour written as Go writes it", body(awsDef, `,"scheduleInfo":{"expiration":{"duration":"1h0m0s"}}`), 400,
			"Cannot convert the literal '1h0m0s' to the expected type 'Edm.Duration'."},
		{"a duration in months", body(awsDef, `,"scheduleInfo":{"expiration":{"duration":"P1M"}}`), 400, "'Edm.Duration'"},
		{"a bare T", body(awsDef, `,"scheduleInfo":{"expiration":{"duration":"P1DT"}}`), 400, "'Edm.Duration'"},
		{"the examples' malformed date", body(awsDef, `,"scheduleInfo":{"startDateTime":"2023-02-010T12:15:00Z"}`), 400, "'Edm.DateTimeOffset'"},
		{"an unknown expiration type", body(awsDef, `,"scheduleInfo":{"expiration":{"type":"afterHours"}}`), 400, "expirationPatternType"},
		{"trailing data", body(awsDef) + `{}`, 400, "data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, pmfake.Options{})
			status, out := call(t, f, "any-token", http.MethodPost, requests, tt.body)
			require.Equal(t, tt.status, status, out)
			if tt.status != 201 {
				assert.Contains(t, out["error"].(map[string]any)["message"], tt.message)
				assert.Empty(t, f.Created())
				return
			}
			assert.Equal(t, "submitted", out["statusDetail"])
			assert.Equal(t, "2026-11-23T09:00:00Z", out["createdDateTime"])
			require.Len(t, f.Created(), 1)
			r, ok := f.Request(out["id"].(string))
			require.True(t, ok)
			assert.Equal(t, "submitted", r.StatusDetail)
		})
	}
}

func TestCreate_RecordsWhatWasAskedAndLogsAChange(t *testing.T) {
	f := newFake(t, pmfake.Options{})
	status, out := call(t, f, "t", http.MethodPost, requests, body(awsDef, oneHour, ticket))
	require.Equal(t, 201, status, out)
	r, _ := f.Request(out["id"].(string))
	assert.Equal(t, pmfake.Request{ID: r.ID, TicketNumber: "AR-1", TicketSystem: "accessbot", StatusDetail: "submitted", Cloud: "aws",
		SystemID: "956987887735", ExternalID: "rsn:alex@contoso.com", IdentitySrc: "microsoft.graph.samlIdentitySource",
		Duration: time.Hour, Created: now}, r)
	assert.Equal(t, []pmfake.Change{{ID: f.Changes()[0].ID, RequestID: r.ID, TicketID: "AR-1", StatusDetail: "submitted", Modified: now}}, f.Changes())
}

func TestAuth_ABearerTokenIsRequired(t *testing.T) {
	f := newFake(t, pmfake.Options{Token: "delegated"})
	status, out := call(t, f, "", http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "InvalidAuthenticationToken", out["error"].(map[string]any)["code"])
	status, _ = call(t, f, "other", http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = call(t, f, "delegated", http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusOK, status)
}

func TestChanges_AreFilteredByModificationTimeAndPaged(t *testing.T) {
	f := newFake(t, pmfake.Options{PageSize: 2, MisspeltOccurrence: true})
	a := f.AddRequest(pmfake.Request{TicketNumber: "INC1", Created: now.Add(-time.Hour)})
	f.AddRequest(pmfake.Request{TicketNumber: "INC2"})
	f.SetStatus(a, "approved", "granting")

	status, out := call(t, f, "t", http.MethodGet, pmfake.Root+"/permissionsRequestChanges?$filter=modificationDateTime%20gt%202026-11-23T08:30:00Z", "")
	require.Equal(t, 200, status, out)
	page := out["value"].([]any)
	require.Len(t, page, 2)
	assert.Equal(t, "INC2", page[0].(map[string]any)["ticketId"])
	assert.Equal(t, "granting", page[1].(map[string]any)["activeOccurenceStatus"], "misspelt as the documentation's example")
	assert.NotContains(t, out, "@odata.nextLink")

	status, out = call(t, f, "t", http.MethodGet, pmfake.Root+"/permissionsRequestChanges", "")
	require.Equal(t, 200, status)
	assert.Len(t, out["value"], 2)
	next := out["@odata.nextLink"].(string)
	assert.Contains(t, next, "%24skiptoken=2")

	status, out = call(t, f, "t", http.MethodGet, pmfake.Root+"/permissionsRequestChanges?$filter=modificationDateTime%20gt%20"+now.Format(time.RFC3339), "")
	require.Equal(t, 200, status, out)
	assert.Empty(t, out["value"], "gt: a change at the time given is not after it")

	status, out = call(t, f, "t", http.MethodGet, pmfake.Root+"/permissionsRequestChanges?$filter=modificationDateTime%20ge%202026-11-23T08:30:00Z", "")
	assert.Equal(t, 400, status, "only the documented operator, gt")
	assert.Contains(t, out["error"].(map[string]any)["message"], "Invalid filter clause")
	status, out = call(t, f, "t", http.MethodGet, pmfake.Root+"/permissionsRequestChanges?$filter=modificationDateTime%20gt%20'2026-11-23'", "")
	assert.Equal(t, 400, status)
	assert.Contains(t, out["error"].(map[string]any)["message"], "Edm.DateTimeOffset")
	status, _ = call(t, f, "t", http.MethodGet, pmfake.Root+"/permissionsRequestChanges?$filter=ticketId%20eq%20'INC1'", "")
	assert.Equal(t, 400, status, "only the documented filter")
}

func TestCancelAll_CancelsWhatHasNotEnded(t *testing.T) {
	f := newFake(t, pmfake.Options{})
	granted := f.AddRequest(pmfake.Request{TicketNumber: "AR-1"})
	f.SetStatus(granted, "approved", "granted")
	status, _ := call(t, f, "t", http.MethodPost, requests+"/"+granted+"/cancelAll", "")
	assert.Equal(t, http.StatusNoContent, status)
	r, _ := f.Request(granted)
	assert.Equal(t, "canceled", r.StatusDetail)
	assert.Equal(t, "revoking", r.ActiveOccurrenceStatus)

	status, out := call(t, f, "t", http.MethodPost, requests+"/"+granted+"/cancelAll", "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, out["error"].(map[string]any)["message"], "can no longer be cancelled")
	status, _ = call(t, f, "t", http.MethodPost, requests+"/nope/cancelAll", "")
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = call(t, f, "t", http.MethodPost, "/permissionsManagement/scheduledPermissionsRequests/"+granted+"/cancelAll", "")
	assert.Equal(t, http.StatusBadRequest, status, "the older page's path is not served")
	status, _ = call(t, f, "t", http.MethodPost, requests+"/"+granted+"/cancelAll", `{"reason":"x"}`)
	assert.Equal(t, http.StatusBadRequest, status, "no body")
}

func TestFaults_FailOnceAndHangUntilTheCallerGivesUp(t *testing.T) {
	f := newFake(t, pmfake.Options{})
	f.Fail("GET /users", http.StatusTooManyRequests, "2.5")
	req, _ := http.NewRequest(http.MethodGet, f.BaseURL()+"/users", nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "2.5", resp.Header.Get("Retry-After"))
	status, _ := call(t, f, "t", http.MethodGet, "/users", "")
	assert.Equal(t, http.StatusOK, status, "used once")

	f.Hang("POST "+requests, time.Minute)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ = http.NewRequest(http.MethodPost, f.BaseURL()+requests, strings.NewReader(body(awsDef)))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	_, err = client.Do(req)
	require.Error(t, err)
	assert.Len(t, f.Created(), 1, "the request was made although its answer was lost")
	assert.Equal(t, []string{"GET /users", "GET /users", "POST " + requests}, func() (out []string) {
		for _, c := range f.Calls() {
			out = append(out, c.Method+" "+c.Path)
		}
		return out
	}())
}

func TestParseDuration_ReadsEdmDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT1H": time.Hour, "P1DT2H": 26 * time.Hour, "PT1H30M": 90 * time.Minute,
		"P7D": 7 * 24 * time.Hour, "PT0.5S": 500 * time.Millisecond, "PT0S": 0} {
		got, err := pmfake.ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "P", "PT", "P1DT", "1H", "PT1h", "P1M", "P1Y", "P1W", "PT1.5H", "-PT1H", "P1D2H"} {
		_, err := pmfake.ParseDuration(bad)
		assert.Error(t, err, bad)
	}
}
