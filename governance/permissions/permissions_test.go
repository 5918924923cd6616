package permissions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/backendtest"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/permissions"
	"github.com/accessbot/accessbot/governance/permissions/pmfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// The seed's people and authorization systems.
const (
	alexID      = "1f0e2d3c-4b5a-4697-8877-665544332211"
	managerID   = "2a1b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	awsAccount  = "956987887735"
	awsPolicy   = "arn:aws:iam::956987887735:policy/AddUserToGroup"
	awsRole     = "arn:aws:iam::956987887735:role/saml-user"
	awsPowerRol = "arn:aws:iam::956987887735:role/ck-saml-power-user"
	azureSub    = "87eefd90-95a3-480a-ba42-56ff299a05ee"
	azureRole1  = "cdda3590-29a3-44f6-95f2-9f980659eb04"
	azureRole2  = "312a565d-c81f-4fd8-895a-4e21e48d571c"
	gcpProject  = "carbide-bonsai-205017"
	token       = "delegated-access-token"
)

const requests = pmfake.Root + "/scheduledPermissionsRequests"
const changes = pmfake.Root + "/permissionsRequestChanges"

const catalog = `
items:
  - id: aws-policy
    name: AWS add user to group
    backend: permissions
    ref: aws:` + awsAccount + `:policy:` + awsPolicy + `@` + awsRole + `
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
  - id: aws-actions
    name: AWS S3 uploads
    backend: permissions
    ref: aws:` + awsAccount + `:actions:s3:AbortMultipartUpload,s3:CreateBucket@` + awsPowerRol + `
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
  - id: azure-actions
    name: Azure role assignments
    backend: permissions
    ref: azure:` + azureSub + `:actions:Microsoft.Authorization/roleassignments/read,Microsoft.Authorization/roleassignments/write@/subscriptions/` + azureSub + `
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
  - id: azure-roles
    name: Azure roles
    backend: permissions
    ref: azure:` + azureSub + `:role:` + azureRole1 + `,` + azureRole2 + `@/subscriptions/` + azureSub + `
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
  - id: gcp-actions
    name: GCP data items
    backend: permissions
    ref: gcp:` + gcpProject + `:actions:aiplatform:dataitems@` + gcpProject + `
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
  - id: gcp-role
    name: GCP Dialogflow admin
    backend: permissions
    ref: gcp:` + gcpProject + `:role:roles/dialogflow.aamAdmin
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
  - id: long
    name: GCP Dialogflow admin for a day
    backend: permissions
    ref: gcp:` + gcpProject + `:role:roles/dialogflow.aamAdmin
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1d2h
  - id: forever
    name: AWS forever
    backend: permissions
    ref: aws:` + awsAccount + `:policy:` + awsPolicy + `@` + awsRole + `
    approvers: [alexmanager@contoso.com]
  - id: broken
    name: Broken Item
    backend: permissions
    ref: aws:` + awsAccount + `:policy:` + awsPolicy + `
    approvers: [alexmanager@contoso.com]
    defaultDuration: 1h
`

var (
	alex    = governance.Actor{Person: governance.Person{Email: "alex@contoso.com", Name: "Alex"}, Platform: "slack"}
	manager = governance.Actor{Person: governance.Person{Email: "alexmanager@contoso.com", Name: "Alex's manager"}, Platform: "slack"}
)

// tenant is accessbot over Redis with the permissions backend against a fake Graph beta.
type tenant struct {
	*backendtest.Bed
	pm   *pmfake.Server
	logs *governancetest.Logs
	be   *permissions.Backend
}

func newTenant(t testing.TB, fake pmfake.Options, opts ...func(*permissions.Options)) *tenant {
	clock := governance.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	fake.Now = clock.Now
	if fake.Token == "" {
		fake.Token = token
	}
	pm := pmfake.New(fake)
	t.Cleanup(pm.Close)
	pm.AddUser(pmfake.User{ID: alexID, Mail: "alex@contoso.com", UserPrincipalName: "alex@contoso.com", DisplayName: "Alex"})
	pm.AddUser(pmfake.User{ID: managerID, Mail: "alexmanager@contoso.com", UserPrincipalName: "alexmanager@contoso.com", DisplayName: "Alex's manager"})

	logs := &governancetest.Logs{}
	be, err := pm.Backend(clock, func(o *permissions.Options) {
		o.Timeout, o.Logger = 2*time.Second, slog.New(slog.NewTextHandler(logs, nil))
		for _, f := range opts {
			f(o)
		}
	})
	require.NoError(t, err)
	return &tenant{pm: pm, logs: logs, be: be, Bed: backendtest.NewBed(t, backendtest.BedConfig{Backend: be, Catalog: catalog, Clock: clock,
		Requester: alex, Approver: manager, Admin: "admin@contoso.com"})}
}

// active is an approved item whose permissions Permissions Management granted.
func (tn *tenant) active(item string) *governance.Request {
	tn.T.Helper()
	r := tn.Approved(item)
	require.Equal(tn.T, governance.StateSubmitted, r.State, r.Failure)
	tn.pm.SetStatus(r.Submission.ExternalID, "approved", "granted")
	tn.Sync()
	r = tn.Get(r.ID)
	require.Equal(tn.T, governance.StateActive, r.State, r.Failure)
	return r
}

// calls lists "METHOD path" of the calls the fake received.
func (tn *tenant) calls(method, path string) []pmfake.Call {
	var out []pmfake.Call
	for _, c := range tn.pm.Calls() {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// seed is a request example of the Permissions Management quick reference
// (seeds/entra-permissions-management-requests.md), as published, slips included, kept
// in testdata/seeds/<name>.json.
func seed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seeds", name+".json"))
	require.NoError(t, err)
	return string(b)
}

// corrected parses a seed example with the slips the reference lists fixed (§7 item 6):
// the stray quote after the Azure example's externalId (whose adatum.com user is the
// contoso.com one of the others), "aim" for "iam" in an ARN, the upper-case
// authorizationSystemType of an enum that is lower-case, and @odata.type values
// without their "#".
func corrected(t *testing.T, example string) map[string]any {
	t.Helper()
	fixed := strings.NewReplacer(`"alex@adatum.com""`, `"alex@contoso.com"`, "arn:aws:aim::", "arn:aws:iam::").Replace(example)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(fixed), &m))
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["@odata.type"].(string); ok && !strings.HasPrefix(s, "#") {
				v["@odata.type"] = "#" + s
			}
			if s, ok := v["authorizationSystemType"].(string); ok {
				v["authorizationSystemType"] = strings.ToLower(s)
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(m)
	return m
}

func obj(v any) map[string]any { return v.(map[string]any) }

func TestSubmit_EachCloudSendsTheDocumentedBody(t *testing.T) {
	for _, item := range []string{"aws-policy", "aws-actions", "azure-actions", "azure-roles", "gcp-actions", "gcp-role"} {
		t.Run(item, func(t *testing.T) {
			tn := newTenant(t, pmfake.Options{})
			r := tn.Approved(item)
			require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
			created := tn.pm.Created()
			require.Len(t, created, 1)

			want := corrected(t, seed(t, item))
			// accessbot's own words and ticket, where the examples have theirs; the
			// submitter and approver are the examples' own Alex and manager.
			want["justification"] = "quarter close (accessbot request " + r.ID + ")"
			want["notes"] = "Asked for in chat by alex@contoso.com and approved there by alexmanager@contoso.com (accessbot request " +
				r.ID + ", " + r.Item.Name + ")"
			ticket := obj(want["ticketInfo"])
			ticket["ticketNumber"], ticket["ticketSystem"] = r.ID, "accessbot"
			// The permissions start when granted: no startDateTime, and no recurrence,
			// which the reference says is not used.
			want["scheduleInfo"] = map[string]any{"expiration": map[string]any{"duration": "PT1H"}}
			def := obj(want["requestedPermissions"])
			if strings.HasPrefix(item, "aws") {
				// A SAML user in AWS is written "rsn:…" (identityInfo.externalId's reference);
				// the policy example leaves the prefix out, the actions example has it.
				obj(def["identityInfo"])["externalId"] = "rsn:alex@contoso.com"
			}
			if item == "aws-actions" {
				// One Allow statement for the item's actions, on every resource, with the
				// documented statement's properties but no condition.
				action := obj(def["actionInfo"])
				documented := obj(action["statements"].([]any)[0])
				delete(documented, "condition")
				ours := obj(obj(obj(created[0]["requestedPermissions"])["actionInfo"])["statements"].([]any)[0])
				assert.ElementsMatch(t, slices.Collect(maps.Keys(documented)), slices.Collect(maps.Keys(ours)))
				action["statements"] = []any{map[string]any{"statementId": "accessbot" + strings.ReplaceAll(r.ID, "-", ""),
					"actions": []any{"s3:AbortMultipartUpload", "s3:CreateBucket"}, "notActions": []any{}, "resources": []any{"*"},
					"notResources": []any{}, "effect": "allow"}}
			}
			assert.Equal(t, want, created[0])

			got, ok := tn.pm.Request(r.Submission.ExternalID)
			require.True(t, ok, "the submission's external id is Permissions Management's request id")
			assert.Equal(t, r.ID, got.TicketNumber)
			assert.Equal(t, "approval in Permissions Management", r.Submission.Waiting)
			assert.Equal(t, []string{"approved→alex@contoso.com", "submitted→alex@contoso.com"}, tn.Notes.Take())
		})
	}
}

func TestSubmit_TheDurationIsAnISO8601Expiration(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	r := tn.Approved("long")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	assert.Equal(t, map[string]any{"expiration": map[string]any{"duration": "P1DT2H"}}, tn.pm.Created()[0]["scheduleInfo"])
	got, _ := tn.pm.Request(r.Submission.ExternalID)
	assert.Equal(t, 26*time.Hour, got.Duration)
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Hour, "PT1H"},
		{26 * time.Hour, "P1DT2H"},
		{90 * time.Minute, "PT1H30M"},
		{30 * time.Minute, "PT30M"},
		{45 * time.Second, "PT45S"},
		{7 * 24 * time.Hour, "P7D"},
		{24*time.Hour + time.Second, "P1DT1S"},
		{time.Hour + 1500*time.Millisecond, "PT1H2S"},
		{time.Millisecond, "PT1S"},
		{0, "PT0S"},
		{-time.Hour, "PT0S"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := permissions.FormatDuration(tt.in)
			assert.Equal(t, tt.want, got)
			back, err := pmfake.ParseDuration(got)
			require.NoError(t, err, "the fake, as strict as the service, reads it")
			if tt.in > 0 && tt.in%time.Second == 0 {
				assert.Equal(t, tt.in, back)
			}
		})
	}
}

func FuzzFormatDuration(f *testing.F) {
	f.Add(int64(time.Hour))
	f.Add(int64(26*time.Hour + 30*time.Minute + 5*time.Second))
	f.Fuzz(func(t *testing.T, n int64) {
		d := time.Duration(n)
		s := permissions.FormatDuration(d)
		back, err := pmfake.ParseDuration(s)
		if err != nil {
			t.Fatalf("FormatDuration(%v) = %q, which is no Edm.Duration: %v", d, s, err)
		}
		if d > 0 && (back < d || back-d >= time.Second) {
			t.Fatalf("FormatDuration(%v) = %q, which is %v", d, s, back)
		}
	})
}

func TestSubmit_AnItemWithoutDurationIsRefused(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	r := tn.Approved("forever")
	assert.Equal(t, governance.StateFailed, r.State)
	assert.Equal(t, "Permissions Management grants permissions for a limited time only, and the catalog gives AWS forever no duration; "+
		"ask your access admins to give it a defaultDuration", r.Failure)
	assert.Empty(t, tn.pm.Created())
}

func TestSubmit_NothingIsSubmittedTwiceWhenARetryFollowsATimeout(t *testing.T) {
	t.Run("still waiting for approval", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{PageSize: 1}, func(o *permissions.Options) { o.Timeout = 200 * time.Millisecond })
		for i := range 3 { // other requests' changes come first
			tn.pm.AddRequest(pmfake.Request{TicketNumber: "INC00" + string(rune('1'+i)), TicketSystem: "ServiceNow"})
		}
		tn.pm.Hang("POST "+requests, 5*time.Second)
		r := tn.Approved("azure-roles")
		assert.Equal(t, governance.StateApproved, r.State, "the answer was lost")
		require.Len(t, tn.pm.Created(), 1, "but Permissions Management made the request")

		tn.Retry(time.Minute)
		r = tn.Get(r.ID)
		assert.Equal(t, governance.StateSubmitted, r.State, r.Failure)
		assert.Len(t, tn.pm.Created(), 1, "the retry found it and asked nothing new")
		assert.Equal(t, tn.pm.Requests()[3].ID, r.Submission.ExternalID)
		assert.Equal(t, "approval in Permissions Management", r.Submission.Waiting)
	})
	t.Run("granted meanwhile", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{}, func(o *permissions.Options) { o.Timeout = 200 * time.Millisecond })
		tn.pm.Hang("POST "+requests, 5*time.Second)
		r := tn.Approved("gcp-role")
		made := tn.pm.Requests()
		require.Len(t, made, 1)
		tn.Clock.Advance(20 * time.Second)
		tn.pm.SetStatus(made[0].ID, "approved", "granted")
		grantedAt := tn.Clock.Now()

		tn.Retry(time.Minute)
		r = tn.Get(r.ID)
		assert.Equal(t, governance.StateActive, r.State, r.Failure)
		assert.Equal(t, made[0].ID, r.Submission.ExternalID)
		assert.Equal(t, grantedAt.Add(time.Hour), r.EndsAt(), "an hour from the grant")
		assert.Len(t, tn.pm.Created(), 1)
		assert.Equal(t, []string{"active→alex@contoso.com", "approved→alex@contoso.com"}, tn.Notes.Take())
	})
}

func TestStatus_EveryStateIsMapped(t *testing.T) {
	ended := "Permissions Management has already ended the permissions (revoked there, or their time ran out) " +
		"before accessbot saw them granted; ask again if you still need them"
	tests := []struct {
		status, occurrence string
		want               governance.State
		failure, waiting   string
		notified           []string
	}{
		{"submitted", "", governance.StateSubmitted, "", "approval in Permissions Management", nil},
		{"approved", "", governance.StateSubmitted, "", "Permissions Management to grant it", []string{"waiting→alex@contoso.com"}},
		{"approved", "granting", governance.StateSubmitted, "", "Permissions Management to finish granting it", []string{"waiting→alex@contoso.com"}},
		{"approved", "granted", governance.StateActive, "", "", []string{"active→alex@contoso.com"}},
		{"approved", "grantingFailed", governance.StateFailed, "Permissions Management could not grant the permissions; " +
			"ask your access admins to check the authorization system in Permissions Management", "", []string{"failed→alex@contoso.com"}},
		{"rejected", "", governance.StateDenied, "rejected in Permissions Management", "", []string{"denied→alex@contoso.com"}},
		{"canceled", "", governance.StateCancelled, "cancelled in Permissions Management", "", []string{"cancelled→alex@contoso.com"}},
		{"approved", "revoking", governance.StateCancelled, ended, "", []string{"cancelled→alex@contoso.com"}},
		{"approved", "revoked", governance.StateCancelled, ended, "", []string{"cancelled→alex@contoso.com"}},
		{"completed", "", governance.StateCancelled, ended, "", []string{"cancelled→alex@contoso.com"}},
		{"approved", "revokingFailed", governance.StateActive, "", "", []string{"active→alex@contoso.com"}},
		{"unknownFutureValue", "", governance.StateSubmitted, "", "Permissions Management to finish it", []string{"waiting→alex@contoso.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.status+"/"+tt.occurrence, func(t *testing.T) {
			tn := newTenant(t, pmfake.Options{})
			r, got := tn.Moved("aws-policy", func(id string) { tn.pm.SetStatus(id, tt.status, tt.occurrence) })
			assert.Equal(t, backendtest.Status{State: tt.want, Failure: tt.failure, Waiting: tt.waiting, Notified: tt.notified}, got)
			if tt.want == governance.StateActive {
				assert.Equal(t, tn.Clock.Now().Add(-time.Minute).Add(time.Hour), r.EndsAt(), "an hour from the grant")
			}
			if tt.occurrence == "revokingFailed" {
				assert.Contains(t, tn.logs.String(), "level=ERROR msg=\"Permissions Management failed to revoke permissions; they are still granted\"")
			} else {
				assert.NotContains(t, tn.logs.String(), "level=ERROR")
			}
		})
	}
}

func TestStatus_ReadsTheChangeLogSinceItLastLooked(t *testing.T) {
	tn := newTenant(t, pmfake.Options{PageSize: 1, MisspeltOccurrence: true})
	r := tn.Approved("azure-actions")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	tn.Sync() // nothing changed
	assert.Equal(t, governance.StateSubmitted, tn.Get(r.ID).State)

	tn.Clock.Advance(10 * time.Minute)
	tn.pm.AddRequest(pmfake.Request{TicketNumber: "INC7", StatusDetail: "approved"})
	tn.pm.SetStatus(r.Submission.ExternalID, "approved", "granting")
	tn.pm.AddRequest(pmfake.Request{TicketNumber: "INC8"})
	tn.Sync()
	r = tn.Get(r.ID)
	assert.Equal(t, "Permissions Management to finish granting it", r.Submission.Waiting, "found on a later page, misspelt as documented")

	looks := tn.calls(http.MethodGet, changes)
	last := looks[len(looks)-1]
	assert.Equal(t, []string{"modificationDateTime gt 2026-11-23T08:45:59Z"}, last.Query["$filter"],
		"since the check before (09:01) less the 15 minutes of skew, as the documented gt")
	assert.Equal(t, "3", last.Query.Get("$skiptoken"), "every page")
}

func TestChanges_ReadsEveryPageSinceATimeOldestFirst(t *testing.T) {
	tn := newTenant(t, pmfake.Options{PageSize: 2})
	t0 := tn.Clock.Now()
	a := tn.pm.AddRequest(pmfake.Request{TicketNumber: "INC1", Created: t0.Add(-2 * time.Hour)})
	b := tn.pm.AddRequest(pmfake.Request{TicketNumber: "INC2", Created: t0.Add(-30 * time.Minute)})
	tn.pm.SetStatus(a, "approved", "granted")
	tn.Clock.Advance(time.Minute)
	tn.pm.SetStatus(b, "rejected", "")

	got, err := tn.be.Changes(context.Background(), t0.Add(-time.Hour))
	require.NoError(t, err)
	var seen []string
	for _, c := range got {
		seen = append(seen, c.TicketID+" "+c.StatusDetail+"/"+c.ActiveOccurrenceStatus+" "+c.Modified.Format("15:04"))
		assert.NotEmpty(t, c.ID)
	}
	assert.Equal(t, []string{"INC2 submitted/ 08:30", "INC1 approved/granted 09:00", "INC2 rejected/ 09:01"}, seen)

	// The documented filter is gt: a change at the very time asked for (or later in its
	// second) is still read.
	for _, since := range []time.Time{t0.Add(time.Minute), t0.Add(time.Minute + 500*time.Millisecond)} {
		got, err = tn.be.Changes(context.Background(), since)
		require.NoError(t, err)
		require.Len(t, got, 1, since)
		assert.Equal(t, "rejected", got[0].StatusDetail)
	}
}

func TestCancel_IsCancelAllOnTheIdentityGovernancePath(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	r := tn.Approved("aws-policy")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	got, err := tn.Cancel(r.ID)
	require.NoError(t, err)
	assert.Equal(t, governance.StateCancelled, got.State)

	cancels := tn.calls(http.MethodPost, requests+"/"+r.Submission.ExternalID+"/cancelAll")
	require.Len(t, cancels, 1)
	assert.Empty(t, cancels[0].Body, "cancelAll takes no body")
	assert.Equal(t, http.StatusNoContent, cancels[0].Status)
	pm, _ := tn.pm.Request(r.Submission.ExternalID)
	assert.Equal(t, "canceled", pm.StatusDetail)
	for _, c := range tn.pm.Calls() {
		assert.False(t, strings.HasPrefix(c.Path, "/permissionsManagement"), "never the older page's path without /identityGovernance")
	}
}

func TestCancel_ARequestPermissionsManagementEndedNeedsNothing(t *testing.T) {
	for _, status := range []string{"rejected", "completed"} {
		t.Run(status, func(t *testing.T) {
			tn := newTenant(t, pmfake.Options{})
			r := tn.Approved("gcp-actions")
			tn.pm.SetStatus(r.Submission.ExternalID, status, "") // before accessbot's next status check
			got, err := tn.Cancel(r.ID)
			require.NoError(t, err)
			assert.Equal(t, governance.StateCancelled, got.State)
			cancels := tn.calls(http.MethodPost, requests+"/"+r.Submission.ExternalID+"/cancelAll")
			require.Len(t, cancels, 1)
			assert.Equal(t, http.StatusBadRequest, cancels[0].Status, "refused as already ended, which the change log confirms")
		})
	}
	t.Run("a 404 for one the change log says was cancelled", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{})
		r := tn.Approved("gcp-actions")
		tn.pm.SetStatus(r.Submission.ExternalID, "canceled", "")
		tn.pm.Fail("POST "+requests+"/"+r.Submission.ExternalID+"/cancelAll", http.StatusNotFound, "")
		got, err := tn.Cancel(r.ID)
		require.NoError(t, err)
		assert.Equal(t, governance.StateCancelled, got.State)
	})
}

func TestCancel_A404IsNeverCountedAsDoneUnlessTheChangeLogSaysItEnded(t *testing.T) {
	t.Run("still waiting for approval", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{})
		r := tn.Approved("aws-policy")
		require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
		tn.pm.Fail("POST "+requests+"/"+r.Submission.ExternalID+"/cancelAll", http.StatusNotFound, "")
		_, err := tn.Cancel(r.ID)
		require.Error(t, err)
		assert.ErrorIs(t, err, governance.ErrNotFound)
		assert.Equal(t, "Permissions Management answered that it has no request "+r.Submission.ExternalID+" to cancel, "+
			"yet its change log does not say that request ended, so accessbot changed nothing; "+
			"ask your access admins to check that request in Permissions Management", err.Error())
		assert.Equal(t, governance.StateSubmitted, tn.Get(r.ID).State, "not cancelled: Permissions Management may still grant it")
		assert.Contains(t, tn.logs.String(), "level=ERROR")
	})
	t.Run("one it never had", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{})
		err := tn.be.Cancel(context.Background(), governance.Submission{ExternalID: "0badc0de-0000-4000-8000-000000000000"})
		require.Error(t, err)
		assert.ErrorIs(t, err, governance.ErrNotFound)
	})
}

func TestRevoke_A404WhileTheChangeLogSaysGrantedFailsForTheAdmins(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	r := tn.active("azure-roles")
	g := governance.Grant{RequestID: r.ID, Item: r.Item, Requester: r.Requester, Start: r.Submission.Start, End: r.Submission.End}

	tn.pm.Fail("POST "+requests+"/"+r.Submission.ExternalID+"/cancelAll", http.StatusNotFound, "")
	err := tn.be.Revoke(context.Background(), g)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.ErrorIs(t, err, governance.ErrNotFound)
	assert.Equal(t, "Permissions Management answered that it has no request "+r.Submission.ExternalID+" (ticket number "+r.ID+") to end, "+
		"yet its change log does not say it ended, so Azure roles may still be granted; "+
		"ask your access admins to end the permissions in Permissions Management", err.Error())
	assert.Contains(t, tn.logs.String(), "the permissions may still be granted")
}

func TestRevoke_IsCancelAllOfTheGrantedRequest(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	r := tn.active("azure-roles")
	tn.Revoke(alex, "azure-roles")
	assert.Equal(t, governance.StateRevoked, tn.Get(r.ID).State)
	require.Len(t, tn.calls(http.MethodPost, requests+"/"+r.Submission.ExternalID+"/cancelAll"), 1)
	pm, _ := tn.pm.Request(r.Submission.ExternalID)
	assert.Equal(t, "canceled", pm.StatusDetail)
	assert.Equal(t, "revoking", pm.ActiveOccurrenceStatus)

	// Delivered again (a retry after a lost answer): Permissions Management is revoking it.
	g := governance.Grant{RequestID: r.ID, Item: r.Item, Requester: r.Requester, Start: r.Submission.Start, End: r.Submission.End}
	require.NoError(t, tn.be.Revoke(context.Background(), g))
	assert.Len(t, tn.calls(http.MethodPost, requests+"/"+r.Submission.ExternalID+"/cancelAll"), 1, "not asked twice")

	// A grant Permissions Management has no request for is the admins' to end.
	g.RequestID = "AR-999"
	err := tn.be.Revoke(context.Background(), g)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.Equal(t, "Permissions Management has no request with ticket number AR-999, so accessbot could not end Azure roles there; "+
		"ask your access admins to end the permissions in Permissions Management", err.Error())
}

func TestRevoke_TheEndOfATimeBoundGrant(t *testing.T) {
	t.Run("still granted", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{})
		r := tn.active("aws-actions")
		tn.Clock.Set(r.EndsAt())
		tn.Sweep()
		assert.Equal(t, governance.StateExpired, tn.Get(r.ID).State)
		assert.Len(t, tn.calls(http.MethodPost, requests+"/"+r.Submission.ExternalID+"/cancelAll"), 1)
	})
	t.Run("already revoked by Permissions Management", func(t *testing.T) {
		tn := newTenant(t, pmfake.Options{})
		r := tn.active("aws-actions")
		tn.Clock.Set(r.EndsAt())
		tn.pm.SetStatus(r.Submission.ExternalID, "approved", "revoked")
		tn.Sweep()
		assert.Equal(t, governance.StateExpired, tn.Get(r.ID).State)
		assert.Empty(t, tn.calls(http.MethodPost, requests+"/"+r.Submission.ExternalID+"/cancelAll"))
	})
}

func TestExtend_IsRefusedWithAskAgain(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	orig := tn.active("gcp-role")
	ext, err := tn.Svc.Extend(context.Background(), orig.ID, alex)
	require.NoError(t, err)
	tn.Approve(ext.ID)
	tn.Drain()
	got := tn.Get(ext.ID)
	assert.Equal(t, governance.StateFailed, got.State)
	assert.Equal(t, "Permissions Management cannot extend permissions it has granted, so nothing was changed; "+
		"ask for GCP Dialogflow admin again when your access ends", got.Failure)
	assert.Equal(t, orig.EndsAt(), tn.Get(orig.ID).EndsAt())
	assert.Len(t, tn.pm.Created(), 1)
}

func TestErrors_PermissionsManagementFollowsTheSharedErrorSuite(t *testing.T) {
	backendtest.RunErrors(t, harness{})
}

// harness runs the shared error-handling suite against the fake Graph beta.
type harness struct{}

func (harness) Start(t *testing.T, o backendtest.Options) backendtest.Subject {
	tn := newTenant(t, pmfake.Options{}, func(po *permissions.Options) {
		o.Set(&po.Timeout, &po.Logger)
		if o.WrongCredentials {
			po.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "someone-else"})
			po.Credentials = "PERMISSIONS_REFRESH_TOKEN"
		}
	})
	return backendtest.Subject{Bed: tn.Bed, Fake: tn.pm, Accepted: func() int { return len(tn.pm.Created()) },
		Made: func() []string {
			return backendtest.IDs(tn.pm.Requests(), func(r pmfake.Request) string { return r.ID })
		}}
}

// Contract: Permissions Management accepts only a delegated token, which accessbot is
// handed and cannot fetch anew, so a 401 is permanent; the fake has no token endpoint (the
// refresh-token source is tested on its own below).
func (harness) Contract() backendtest.Contract {
	c := backendtest.GraphContract("Permissions Management", "POST "+requests, "GET "+changes, "nobody@contoso.com")
	c.Item = "aws-policy"
	c.Permanent = append(c.Permanent,
		backendtest.Refusal{Call: c.Submit, Status: http.StatusForbidden, Failure: "Permissions Management refused accessbot (HTTP 403), " +
			"so nothing was changed there. This is not about your access: the account accessbot signs in as needs the delegated " +
			"Microsoft Graph permission ScheduledPermissions.ReadWrite.All, consented for accessbot's app registration, and the right " +
			"to request permissions in Permissions Management; ask your access admins to grant it, then ask again"},
		backendtest.Refusal{Call: c.Submit, Status: http.StatusUnauthorized, Failure: "Permissions Management did not accept the delegated " +
			"token accessbot signs in with (HTTP 401), so nothing was changed there. This is not about your access: the account accessbot " +
			"acts as has to sign in again; your access admins need to renew AZURE_TENANT_ID, PERMISSIONS_CLIENT_ID, " +
			"PERMISSIONS_CLIENT_SECRET and PERMISSIONS_REFRESH_TOKEN"},
		backendtest.Refusal{Call: "GET /users", Status: http.StatusForbidden, Failure: "needs the delegated Microsoft Graph permission " +
			"User.ReadBasic.All, consented for accessbot's app registration; ask"},
		backendtest.Refusal{Call: "GET " + changes, Status: http.StatusForbidden,
			Failure: "needs the delegated Microsoft Graph permission ScheduledPermissions.ReadWrite.All"})
	c.WrongCredentials = []string{"(HTTP 401)", "your access admins need to renew PERMISSIONS_REFRESH_TOKEN"}
	return c
}

func TestErrors_ABadPermissionsRefInTheCatalogIsForTheAdminsToFix(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	r := tn.Approved("broken")
	assert.Equal(t, governance.StateFailed, r.State)
	assert.Contains(t, r.Failure, "the catalog's entry for Broken Item is wrong (permissions ref \"aws:956987887735:policy:"+awsPolicy+
		"\": an AWS ref ends with @<roleArn>, the role the permissions are attached to (assignToRoleId); write it as one of aws:")
	assert.True(t, strings.HasSuffix(r.Failure, "; ask your access admins to fix it"), r.Failure)
	assert.Empty(t, tn.pm.Created())
}

func TestLookupIdentity_ByMailAndRemembered(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	tn.pm.AddUser(pmfake.User{ID: "7c6d5e4f-3021-4c1b-8e9f-8a7b6c5d4e3f", Mail: "o'brien@contoso.com", UserPrincipalName: "pob@contoso.com", DisplayName: "Pat O'Brien"})
	ctx := context.Background()
	id, err := tn.be.LookupIdentity(ctx, governance.Person{Email: "O'Brien@contoso.com"})
	require.NoError(t, err)
	assert.Equal(t, governance.Identity{ID: "7c6d5e4f-3021-4c1b-8e9f-8a7b6c5d4e3f", Email: "o'brien@contoso.com", Name: "Pat O'Brien"}, id)
	lookups := tn.calls(http.MethodGet, "/users")
	require.Len(t, lookups, 1)
	assert.Equal(t, []string{"mail eq 'o''brien@contoso.com' or userPrincipalName eq 'o''brien@contoso.com'"}, lookups[0].Query["$filter"],
		"single quotes are doubled")

	_, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "o'brien@contoso.com"})
	require.NoError(t, err)
	assert.Len(t, tn.calls(http.MethodGet, "/users"), 1, "remembered")
	tn.Clock.Advance(11 * time.Minute)
	_, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "o'brien@contoso.com"})
	require.NoError(t, err)
	assert.Len(t, tn.calls(http.MethodGet, "/users"), 2, "looked up again after its TTL")
}

func TestSubmit_AsksForTheUserPrincipalName(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	tn.pm.AddUser(pmfake.User{ID: "8d7e6f50-4132-4d2c-9fa0-9b8c7d6e5f40", Mail: "sam@contoso.com", UserPrincipalName: "sam.jones@contoso.onmicrosoft.com"})
	g := governance.Grant{RequestID: "AR-77", Item: governance.ItemRef{ID: "aws-policy", Name: "AWS", Backend: "permissions",
		Ref: "aws:" + awsAccount + ":policy:" + awsPolicy + "@" + awsRole}, Requester: governance.Person{Email: "sam@contoso.com"},
		Start: tn.Clock.Now(), End: tn.Clock.Now().Add(time.Hour)}
	_, err := tn.be.Submit(context.Background(), g)
	require.NoError(t, err)
	got := tn.pm.Requests()[0]
	assert.Equal(t, "rsn:sam.jones@contoso.onmicrosoft.com", got.ExternalID, "the role session name Entra's AWS app sends")
	assert.Equal(t, "microsoft.graph.samlIdentitySource", got.IdentitySrc)
	ticket := obj(tn.pm.Created()[0]["ticketInfo"])
	assert.Equal(t, map[string]any{"ticketNumber": "AR-77", "ticketSystem": "accessbot", "ticketSubmitterIdentityId": "sam@contoso.com"}, ticket,
		"no approver when nobody approved")
}

func TestSearchCatalog_PermissionsManagementHasNoCatalog(t *testing.T) {
	tn := newTenant(t, pmfake.Options{})
	refs, err := tn.be.SearchCatalog(context.Background(), "s3")
	require.NoError(t, err)
	assert.Nil(t, refs)
	assert.Empty(t, tn.pm.Calls())
	assert.Equal(t, "permissions", tn.be.Name())
}

func TestNew_ADelegatedTokenSourceIsRequired(t *testing.T) {
	_, err := permissions.New(permissions.Options{Rate: -1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a delegated token source is required (Permissions Management accepts no application token); "+
		"set AZURE_TENANT_ID, PERMISSIONS_CLIENT_ID, PERMISSIONS_CLIENT_SECRET and PERMISSIONS_REFRESH_TOKEN")
	assert.Contains(t, err.Error(), "rate and burst must not be negative")

	_, err = permissions.New(permissions.Options{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}), BaseURL: "graph"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `base URL "graph"`)
}

func TestRefreshTokenSource_RedeemsTheRefreshTokenForDelegatedTokens(t *testing.T) {
	var mu sync.Mutex
	var forms []url.Values
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/contoso.onmicrosoft.com/oauth2/v2.0/token" || r.PostForm.Get("refresh_token") == "revoked" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity."}`)
			return
		}
		_, _ = io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"`+token+`","refresh_token":"rotated"}`)
	}))
	t.Cleanup(login.Close)
	d := permissions.Delegated{TenantID: "contoso.onmicrosoft.com", ClientID: "accessbot-app", ClientSecret: "s3cret",
		RefreshToken: "first", LoginURL: login.URL}

	ts, err := permissions.RefreshTokenSource(d)
	require.NoError(t, err)
	tn := newTenant(t, pmfake.Options{}, func(o *permissions.Options) { o.TokenSource = ts })
	_, err = tn.be.LookupIdentity(context.Background(), governance.Person{Email: "alex@contoso.com"})
	require.NoError(t, err, "the fake took the redeemed token")
	_, err = tn.be.LookupIdentity(context.Background(), governance.Person{Email: "alexmanager@contoso.com"})
	require.NoError(t, err)
	require.Len(t, forms, 1, "one token serves every call while it lives")
	assert.Equal(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"first"}, "client_id": {"accessbot-app"},
		"client_secret": {"s3cret"}, "scope": {"https://graph.microsoft.com/ScheduledPermissions.ReadWrite.All " +
			"https://graph.microsoft.com/User.ReadBasic.All offline_access"}}, forms[0])

	d.RefreshToken = "revoked"
	ts, err = permissions.RefreshTokenSource(d)
	require.NoError(t, err)
	tn = newTenant(t, pmfake.Options{}, func(o *permissions.Options) { o.TokenSource = ts })
	r := tn.Approved("aws-policy")
	assert.Equal(t, governance.StateFailed, r.State)
	assert.Equal(t, "Permissions Management's sign-in endpoint refused accessbot's credentials (HTTP 400), so nothing was changed there. "+
		"This is not about your access: your access admins need to check AZURE_TENANT_ID, PERMISSIONS_CLIENT_ID, PERMISSIONS_CLIENT_SECRET "+
		"and PERMISSIONS_REFRESH_TOKEN", r.Failure)

	_, err = permissions.RefreshTokenSource(permissions.Delegated{TenantID: "a/b"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tenant id "a/b"`)
	assert.Contains(t, err.Error(), "client id is needed")
	assert.Contains(t, err.Error(), "refresh token of the account accessbot acts as is needed")
}

func TestRefreshTokenSource_AnAccessTokenGraphRefusesIsRefreshedOnceAndTheCallRetried(t *testing.T) {
	// Entra may revoke an access token before it expires (a password reset, continuous
	// access evaluation): the fake issues t1, then t2, and Graph takes only t2.
	var mu sync.Mutex
	var refreshes []string
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		mu.Lock()
		refreshes = append(refreshes, r.PostForm.Get("refresh_token"))
		n := len(refreshes)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"t%d","refresh_token":"rt%d"}`, n, n)
	}))
	t.Cleanup(login.Close)
	issued := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(refreshes)
	}
	source := func() oauth2.TokenSource {
		ts, err := permissions.RefreshTokenSource(permissions.Delegated{TenantID: "contoso.onmicrosoft.com", ClientID: "accessbot-app",
			RefreshToken: "rt0", LoginURL: login.URL})
		require.NoError(t, err)
		return ts
	}

	tn := newTenant(t, pmfake.Options{Token: "t2"}, func(o *permissions.Options) { o.TokenSource = source() })
	_, err := tn.be.LookupIdentity(context.Background(), governance.Person{Email: "alex@contoso.com"})
	require.NoError(t, err, "the 401 was retried with a fresh token")
	assert.Equal(t, []string{"rt0", "rt1"}, issued(), "one refresh, with the refresh token kept (as rotated)")
	_, err = tn.be.LookupIdentity(context.Background(), governance.Person{Email: "alexmanager@contoso.com"})
	require.NoError(t, err)
	assert.Len(t, issued(), 2, "the fresh token serves the calls that follow")

	// A token refused again is not refreshed in a loop: one refresh, one retry, then the
	// admins are told.
	mu.Lock()
	refreshes = nil
	mu.Unlock()
	tn = newTenant(t, pmfake.Options{Token: "t9"}, func(o *permissions.Options) { o.TokenSource = source() })
	_, err = tn.be.LookupIdentity(context.Background(), governance.Person{Email: "alex@contoso.com"})
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.ErrorIs(t, err, governance.ErrBackendCredentials)
	assert.Len(t, issued(), 2)
}
