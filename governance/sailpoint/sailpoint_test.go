package sailpoint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/backendtest"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// ISC ids of the test tenant.
const (
	carolID   = "2c9180857182305e0171993735622948"
	aliceID   = "2c9180857182305e0171993735622949"
	malloryID = "2c9180857182305e017199373562294a"
	payroll   = "2c9180835d2e5168015d32f890ca1581" // an access profile
	admins    = "2c918086749d78830174a1a40e121518" // a role
	readOnly  = "2c91808568c529c60168cca6f90c1313" // an entitlement
)

const catalog = `
items:
  - id: payroll
    name: Payroll Reader
    backend: sailpoint
    ref: ACCESS_PROFILE:` + payroll + `
    approvers: [alice@example.com]
    defaultDuration: 8h
  - id: db-read
    name: Database read-only
    backend: sailpoint
    ref: ENTITLEMENT:` + readOnly + `
    approvers: [alice@example.com]
  - id: sailpoint
    name: Anything in SailPoint
    backend: sailpoint
    search: true
    approvers: [alice@example.com]
    defaultDuration: 1d
`

var carol = backendtest.Carol

// tenant is accessbot over Redis with the SailPoint backend against a fake ISC.
type tenant struct {
	*backendtest.Bed
	isc *iscfake.Server
	be  *sailpoint.Backend
}

func newTenant(t testing.TB, fake iscfake.Options, opts ...func(*sailpoint.Options)) *tenant {
	isc := iscfake.New(fake)
	t.Cleanup(isc.Close)
	isc.AddIdentity(carolID, "carol@example.com", "Carol", malloryID)
	isc.AddIdentity(aliceID, "alice@example.com", "Alice", "")
	isc.AddIdentity(malloryID, "mallory@example.com", "Mallory Manager", "")
	isc.AddItem("ACCESS_PROFILE", payroll, "Payroll Reader", "Read payroll")
	isc.AddItem("ROLE", admins, "Payroll Admins", "Run payroll")
	isc.AddItem("ENTITLEMENT", readOnly, "db_read", "Database read-only")

	// The fake checks that dates are in the future by the real clock, so the manual
	// clock starts now.
	clock := governance.NewManualClock(time.Now().UTC().Truncate(time.Second))
	be, err := isc.Backend(clock, func(o *sailpoint.Options) {
		o.Timeout = 2 * time.Second
		for _, f := range opts {
			f(o)
		}
	})
	require.NoError(t, err)
	return &tenant{isc: isc, be: be, Bed: backendtest.NewBed(t, backendtest.BedConfig{Backend: be, Catalog: catalog, Clock: clock})}
}

// submissions are the bodies ISC accepted, as raw JSON objects.
func (tn *tenant) submissions() []map[string]any {
	var out []map[string]any
	for _, c := range tn.isc.Calls() {
		if c.Method == http.MethodPost && c.Path == "/v3/access-requests" && c.Status == http.StatusAccepted {
			var m map[string]any
			require.NoError(tn.T, json.Unmarshal(c.Body, &m))
			out = append(out, m)
		}
	}
	return out
}

func TestSubmit_TheGrantCarriesExactlyTheDocumentedBody(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	r := tn.Approved("payroll")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)

	end := tn.Clock.Now().Add(8 * time.Hour).UTC().Format(time.RFC3339)
	meta := map[string]any{"requestedBy": "accessbot", "accessbotRequestId": r.ID, "accessbotItem": "ACCESS_PROFILE:" + payroll,
		"approvedBy": "alice@example.com"}
	assert.Equal(t, []map[string]any{{
		"requestedFor": []any{carolID},
		"requestType":  "GRANT_ACCESS",
		"requestedItems": []any{map[string]any{
			"type": "ACCESS_PROFILE", "id": payroll,
			"comment":        "quarter close — approved in chat by alice@example.com (accessbot request " + r.ID + ")",
			"clientMetadata": meta, "removeDate": end,
		}},
		"clientMetadata": meta,
	}}, tn.submissions())
	st, ok := tn.isc.Status(r.Submission.ExternalID)
	require.True(t, ok, "the submission's external id is ISC's access request id")
	assert.Equal(t, "EXECUTING", st.State)
	assert.Equal(t, []string{"approved→carol@example.com", "submitted→carol@example.com"}, tn.Notes.Take())
	assert.Equal(t, 1, tn.isc.TokensIssued(), "one token serves every call while it lives")
}

func TestSubmit_AGrantWithoutEndHasNoRemoveDate(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	r := tn.Approved("db-read")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	items := tn.submissions()[0]["requestedItems"].([]any)
	assert.NotContains(t, items[0], "removeDate")
	assert.Equal(t, "ENTITLEMENT", items[0].(map[string]any)["type"])
}

func TestSubmit_TheDuplicateCheckPreventsASecondSubmission(t *testing.T) {
	// A request ISC is still working on: the shared error suite (Contract.Duplicate).
	t.Run("access the identity already holds", func(t *testing.T) {
		tn := newTenant(t, iscfake.Options{})
		tn.isc.AddAccess(carolID, "ACCESS_PROFILE", payroll)
		r := tn.Approved("payroll")
		assert.Equal(t, governance.StateFailed, r.State)
		assert.True(t, r.Duplicate)
		assert.Equal(t, "you already have Payroll Reader in SailPoint, so accessbot did not ask for it again", r.Failure)
		assert.Empty(t, tn.submissions())
	})
}

func TestSubmit_ARetryAfterALostAnswerFindsTheFirstSubmission(t *testing.T) {
	for _, item := range []string{"payroll", "db-read"} {
		t.Run("ISC completed it before the retry/"+item, func(t *testing.T) {
			tn := newTenant(t, iscfake.Options{})
			tn.isc.Lose("POST /v3/access-requests")
			r := tn.Approved(item)
			require.Equal(t, governance.StateApproved, r.State, "the answer was lost, so not submitted yet")
			made := tn.isc.Requests()
			require.Len(t, made, 1, "but ISC made the request")
			tn.isc.SetState(made[0].AccessRequestID, iscfake.StateCompleted)

			tn.Retry(time.Minute)
			got := tn.Get(r.ID)
			require.Equal(t, governance.StateSubmitted, got.State, got.Failure)
			assert.False(t, got.Duplicate)
			assert.Equal(t, made[0].AccessRequestID, got.Submission.ExternalID)
			tn.Sync()
			assert.Equal(t, governance.StateActive, tn.Get(r.ID).State)
			assert.Len(t, tn.isc.Requests(), 1, "ISC was not asked twice")
		})
	}
	t.Run("ISC has queued it but not listed it yet", func(t *testing.T) {
		tn := newTenant(t, iscfake.Options{})
		tn.isc.DelayListing(true)
		tn.isc.Lose("POST /v3/access-requests")
		r := tn.Approved("db-read")
		first := tn.isc.Requests()[0].AccessRequestID

		// The retry's POST is answered with existingRequests naming a request ISC does not
		// list yet: it cannot be told apart from someone else's, so it is tried again.
		tn.Retry(time.Minute)
		got := tn.Get(r.ID)
		require.Equal(t, governance.StateApproved, got.State, got.Failure)

		tn.isc.Process(first)
		tn.Retry(time.Minute)
		got = tn.Get(r.ID)
		require.Equal(t, governance.StateSubmitted, got.State, got.Failure)
		assert.Equal(t, first, got.Submission.ExternalID)
		assert.Len(t, tn.isc.Requests(), 1, "ISC was not asked twice")
	})
	t.Run("ISC names it in existingRequests", func(t *testing.T) {
		// ISC processes the queued first request just as it answers the retry's POST.
		var tn *tenant
		var processOnAnswer string
		tn = newTenant(t, iscfake.Options{}, func(o *sailpoint.Options) {
			o.HTTPClient = &http.Client{Transport: roundTrip(func(req *http.Request) (*http.Response, error) {
				resp, err := http.DefaultTransport.RoundTrip(req)
				if req.Method == http.MethodPost && req.URL.Path == "/v3/access-requests" && processOnAnswer != "" {
					tn.isc.Process(processOnAnswer)
				}
				return resp, err
			})}
		})
		tn.isc.DelayListing(true)
		tn.isc.Lose("POST /v3/access-requests")
		r := tn.Approved("db-read")
		processOnAnswer = tn.isc.Requests()[0].AccessRequestID

		tn.Retry(time.Minute)
		got := tn.Get(r.ID)
		require.Equal(t, governance.StateSubmitted, got.State, got.Failure)
		assert.Equal(t, processOnAnswer, got.Submission.ExternalID)
		assert.Len(t, tn.submissions(), 1, "the retry's POST was accepted")
		assert.Len(t, tn.isc.Requests(), 1, "and made nothing new")
	})
	t.Run("someone else's queued request stays a duplicate", func(t *testing.T) {
		tn := newTenant(t, iscfake.Options{})
		tn.isc.DelayListing(true)
		other, err := tn.be.Submit(context.Background(), governance.Grant{RequestID: "OTHER-1", Identity: governance.Identity{ID: carolID},
			Item: governance.ItemRef{Name: "db_read", Ref: "ENTITLEMENT:" + readOnly}, Start: tn.Clock.Now()})
		require.NoError(t, err)

		r := tn.Approved("db-read")
		require.Equal(t, governance.StateApproved, r.State, "not failed while ISC cannot tell whose it is")
		tn.isc.Process(other.ExternalID)
		tn.Retry(time.Minute)
		got := tn.Get(r.ID)
		assert.Equal(t, governance.StateFailed, got.State)
		assert.True(t, got.Duplicate)
		assert.Contains(t, got.Failure, "SailPoint already has a request for Database read-only for you")
		assert.Len(t, tn.isc.Requests(), 1)
	})
}

// ISC's spec makes a status row's id the access request's id (absent on older requests)
// and names the item only by name and type: a retry recognises its first submission by
// accessbot's client metadata, the request type, the item's type and the identity.
func TestSubmit_ARetryRecognisesItsFirstSubmissionByWhatTheSpecGuarantees(t *testing.T) {
	for _, rowsWithoutID := range []bool{false, true} {
		for _, item := range []string{"payroll", "db-read"} {
			t.Run(fmt.Sprintf("rows without id %t/%s", rowsWithoutID, item), func(t *testing.T) {
				tn := newTenant(t, iscfake.Options{RowsWithoutID: rowsWithoutID})
				tn.isc.Lose("POST /v3/access-requests")
				r := tn.Approved(item)
				made := tn.isc.Requests()
				require.Len(t, made, 1)
				assert.NotEqual(t, made[0].ItemID(), made[0].ID)

				tn.Retry(time.Minute) // ISC still works on the first: its row is executing
				got := tn.Get(r.ID)
				require.Equal(t, governance.StateSubmitted, got.State, got.Failure)
				assert.False(t, got.Duplicate)
				assert.Equal(t, made[0].AccessRequestID, got.Submission.ExternalID)
				assert.Len(t, tn.isc.Requests(), 1, "ISC was not asked twice")
			})
		}
	}
	t.Run("another identity's row with the same metadata is not ours", func(t *testing.T) {
		tn := newTenant(t, iscfake.Options{})
		g := governance.Grant{RequestID: "AR-1", Identity: governance.Identity{ID: aliceID},
			Item: governance.ItemRef{Name: "Payroll Reader", Ref: "ACCESS_PROFILE:" + payroll}, Start: tn.Clock.Now()}
		first, err := tn.be.Submit(context.Background(), g)
		require.NoError(t, err)
		g.Identity.ID = carolID
		second, err := tn.be.Submit(context.Background(), g)
		require.NoError(t, err)
		assert.NotEqual(t, first.ExternalID, second.ExternalID)
		assert.Len(t, tn.isc.Requests(), 2)
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestStatus_EveryISCStateIsMapped(t *testing.T) {
	tests := []struct {
		name     string
		drive    func(isc *iscfake.Server, id string)
		state    governance.State
		failure  string
		waiting  string
		notified string
	}{
		{"REQUEST_COMPLETED", func(isc *iscfake.Server, id string) { isc.SetState(id, "REQUEST_COMPLETED") },
			governance.StateActive, "", "", "active→carol@example.com"},
		{"REJECTED", func(isc *iscfake.Server, id string) {
			isc.SetApproval(id, "REJECTED", "Olivia Owner", "not without a ticket")
			isc.SetState(id, "REJECTED")
		}, governance.StateDenied, "rejected in SailPoint by Olivia Owner: not without a ticket", "", "denied→carol@example.com"},
		{"CANCELLED", func(isc *iscfake.Server, id string) { isc.SetState(id, "CANCELLED") },
			governance.StateCancelled, "cancelled in SailPoint", "", "cancelled→carol@example.com"},
		{"TERMINATED", func(isc *iscfake.Server, id string) { isc.SetState(id, "TERMINATED") },
			governance.StateCancelled, "SailPoint closed it before it completed", "", "cancelled→carol@example.com"},
		{"PROVISIONING_FAILED", func(isc *iscfake.Server, id string) {
			isc.SetErrors(id, "connector timed out")
			isc.SetState(id, "PROVISIONING_FAILED")
		}, governance.StateFailed, "SailPoint could not provision it: connector timed out", "", "failed→carol@example.com"},
		{"ERROR", func(isc *iscfake.Server, id string) { isc.SetState(id, "ERROR") },
			governance.StateFailed, "SailPoint could not provision it", "", "failed→carol@example.com"},
		{"NOT_ALL_ITEMS_PROVISIONED", func(isc *iscfake.Server, id string) { isc.SetState(id, "NOT_ALL_ITEMS_PROVISIONED") },
			governance.StateFailed, "SailPoint provisioned only part of it", "", "failed→carol@example.com"},
		{"approval EXPIRED", func(isc *iscfake.Server, id string) { isc.SetApproval(id, "EXPIRED", "Olivia Owner", "") },
			governance.StateTimedOut, "nobody decided it in SailPoint's own approvals in time", "", "timed_out→carol@example.com"},
		{"EXECUTING, approval PENDING", func(isc *iscfake.Server, id string) { isc.SetApproval(id, "PENDING", "Olivia Owner", "") },
			governance.StateSubmitted, "", "approval in SailPoint by Olivia Owner", "waiting→carol@example.com"},
		{"EXECUTING, approved, provisioning", func(isc *iscfake.Server, id string) { isc.SetApproval(id, "APPROVED", "Olivia Owner", "") },
			governance.StateSubmitted, "", "provisioning in SailPoint", "waiting→carol@example.com"},
		{"PROVISIONING_VERIFICATION_PENDING", func(isc *iscfake.Server, id string) { isc.SetState(id, "PROVISIONING_VERIFICATION_PENDING") },
			governance.StateSubmitted, "", "SailPoint to confirm the provisioning", "waiting→carol@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t, iscfake.Options{})
			r, got := tn.Moved("payroll", func(id string) { tt.drive(tn.isc, id) })
			assert.Equal(t, backendtest.Status{State: tt.state, Failure: tt.failure, Waiting: tt.waiting, Notified: []string{tt.notified}}, got)
			if tt.state == governance.StateActive {
				assert.Equal(t, tn.Clock.Now().Add(8*time.Hour-time.Minute), r.EndsAt(), "the end asked for stays")
			}
		})
	}
}

func TestRevoke_BecomesAOneItemRevokeRequest(t *testing.T) {
	for _, who := range []governance.Actor{carol, {Person: governance.Person{Email: "mallory@example.com"}}} {
		t.Run(who.Email, func(t *testing.T) {
			tn := newTenant(t, iscfake.Options{})
			r := tn.Approved("payroll")
			tn.isc.SetState(r.Submission.ExternalID, "REQUEST_COMPLETED")
			tn.Sync()
			require.Equal(t, governance.StateActive, tn.Get(r.ID).State)

			tn.Revoke(who, "payroll") // Mallory is Carol's manager in ISC
			subs := tn.submissions()
			require.Len(t, subs, 2)
			meta := map[string]any{"requestedBy": "accessbot", "accessbotRequestId": r.ID, "accessbotItem": "ACCESS_PROFILE:" + payroll}
			assert.Equal(t, map[string]any{
				"requestedFor": []any{carolID},
				"requestType":  "REVOKE_ACCESS",
				"requestedItems": []any{map[string]any{"type": "ACCESS_PROFILE", "id": payroll,
					"comment": "Revoked in chat by " + who.Email + " (accessbot " + r.ID + ")", "clientMetadata": meta}},
				"clientMetadata": meta,
			}, subs[1])
		})
	}
}

func TestRevoke_TheEndOfATimeBoundGrantRevokesIt(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	r := tn.Approved("payroll")
	tn.isc.SetState(r.Submission.ExternalID, "REQUEST_COMPLETED")
	tn.Sync()
	tn.Clock.Advance(8 * time.Hour)
	tn.Sweep()
	assert.Equal(t, governance.StateExpired, tn.Get(r.ID).State)
	subs := tn.submissions()
	require.Len(t, subs, 2)
	assert.Equal(t, "REVOKE_ACCESS", subs[1]["requestType"])

	// Delivered again (a retry after a lost answer): ISC is already revoking it.
	require.NoError(t, tn.be.Revoke(context.Background(), governance.Grant{RequestID: r.ID, Item: r.Item,
		Identity: governance.Identity{ID: carolID}, Reason: "again"}))
	assert.Len(t, tn.submissions(), 2, "not asked twice")
}

func TestCancel_WithdrawsTheSubmissionInISC(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	r := tn.Approved("payroll")
	got, err := tn.Cancel(r.ID)
	require.NoError(t, err)
	assert.Equal(t, governance.StateCancelled, got.State)
	assert.Equal(t, []iscfake.CancelAccessRequest{{AccountActivityID: r.Submission.ExternalID,
		Comment: "Cancelled by the requester in chat (accessbot)"}}, tn.isc.Cancelled())

	// Once ISC's own approvals are done it cannot cancel, and the requester is told what to do.
	r = tn.Approved("db-read")
	tn.isc.SetApproval(r.Submission.ExternalID, "APPROVED", "Olivia Owner", "")
	_, err = tn.Cancel(r.ID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SailPoint can no longer cancel it, probably because its approvals are done; once the access is active, `revoke` ends it")
	assert.Equal(t, governance.StateSubmitted, tn.Get(r.ID).State)
}

func TestErrors_SailPointFollowsTheSharedErrorSuite(t *testing.T) {
	backendtest.RunErrors(t, harness{})
}

// harness runs the shared error-handling suite against the fake ISC.
type harness struct{}

func (harness) Start(t *testing.T, o backendtest.Options) backendtest.Subject {
	tn := newTenant(t, iscfake.Options{}, func(so *sailpoint.Options) {
		o.Set(&so.Timeout, &so.Logger)
		if o.WrongCredentials {
			so.ClientSecret = "wrong"
		}
	})
	return backendtest.Subject{Bed: tn.Bed, Fake: tn.isc, Accepted: func() int { return len(tn.submissions()) },
		TokensIssued: tn.isc.TokensIssued, Made: func() []string {
			return backendtest.IDs(tn.isc.Requests(), func(r iscfake.RequestedItemStatus) string { return r.AccessRequestID })
		}}
}

func (harness) Contract() backendtest.Contract {
	const submit = "POST /v3/access-requests"
	return backendtest.Contract{
		Item: "payroll", Submit: submit,
		Transient: []backendtest.Fault{{Call: submit, Status: http.StatusInternalServerError},
			{Call: submit, Status: http.StatusBadGateway},
			{Call: "GET /v3/public-identities", Status: http.StatusServiceUnavailable, RetryAfter: "2"}},
		GiveUp:     "SailPoint POST /access-requests: 500",
		Hidden:     "An error occurred",
		Logged:     `message="An error occurred: Bad Request."`,
		TrackingID: regexp.MustCompile(`[0-9a-f]{32}$`), TrackingKey: "tracking_id",
		Permanent: []backendtest.Refusal{
			{Call: submit, Status: http.StatusBadRequest, Failure: "SailPoint refused the request (HTTP 400), so nothing was changed there. " +
				"Ask your access admins to check the item's set-up in SailPoint and in accessbot's catalog, quoting SailPoint tracking id "},
			{Call: submit, Status: http.StatusForbidden, Failure: "SailPoint refused accessbot's own credentials (HTTP 403)"},
			{Call: submit, Status: http.StatusNotFound, Failure: "SailPoint no longer has it (HTTP 404)"},
		},
		FreshTokenOn401: true,
		WrongCredentials: []string{"SailPoint's token endpoint refused accessbot's credentials (HTTP 401)",
			"SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET"},
		Stranger: "nobody@example.com",
		NoIdentity: "SailPoint has no identity with the e-mail nobody@example.com; " +
			"ask your access admins to check that your chat e-mail matches your SailPoint identity",
		Duplicate: regexp.MustCompile("^" + regexp.QuoteMeta("SailPoint already has a request for Payroll Reader for you")),
	}
}

func TestLookupIdentity_AnUncorrelatedIdentityWithTheSameEmailIsIgnored(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	const stale = "2c9180857182305e01719937356229ff"
	tn.isc.AddIdentity(stale, "carol@example.com", "Carol (old account)", "")
	tn.isc.MarkUncorrelated(stale)

	id, err := tn.be.LookupIdentity(context.Background(), governance.Person{Email: "carol@example.com"})
	require.NoError(t, err)
	assert.Equal(t, carolID, id.ID)
	calls := tn.isc.Calls()
	assert.Contains(t, calls[len(calls)-1].RawQuery, "add-core-filters=true")
}

func TestToken_ItsLifetimeComesFromExpiresIn(t *testing.T) {
	// A token that lives less than the library's 10 s safety margin is fetched anew for
	// every call; one that lives 749 s (ISC's documented example) serves them all.
	short := newTenant(t, iscfake.Options{TokenTTL: 5 * time.Second})
	short.Approved("payroll")
	calls := 0
	for _, c := range short.isc.Calls() {
		if strings.HasPrefix(c.Path, "/v3/") {
			calls++
		}
	}
	assert.Equal(t, calls, short.isc.TokensIssued())

	long := newTenant(t, iscfake.Options{TokenTTL: 749 * time.Second})
	long.Approved("payroll")
	assert.Equal(t, 1, long.isc.TokensIssued())
}

func TestSearch_RequestsCanNameAnythingRequestable(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	r, err := tn.Svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: "payroll admins", Reason: "month end"})
	require.NoError(t, err)
	assert.Equal(t, governance.ItemRef{ID: admins, Name: "Payroll Admins", Backend: "sailpoint", Ref: "ROLE:" + admins}, r.Item)

	_, err = tn.Svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: "payr", Reason: "x"})
	require.ErrorIs(t, err, governance.ErrUnknownItem)
	assert.Contains(t, err.Error(), "Several things match \"payr\"")
	assert.Contains(t, err.Error(), "`Payroll Reader`")
	assert.Contains(t, err.Error(), "`Payroll Admins`")

	tn.Approve(r.ID)
	tn.Drain()
	assert.Equal(t, governance.StateSubmitted, tn.Get(r.ID).State)
	items := tn.submissions()[0]["requestedItems"].([]any)
	assert.Equal(t, "ROLE", items[0].(map[string]any)["type"])
}

func TestConfig_TheTenantsReminderSettingsAreShown(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	c, err := tn.be.AccessRequestConfig(context.Background())
	require.NoError(t, err)
	lines := strings.Join(sailpoint.DescribeConfig(c, governance.Schedule{DaysUntilEscalation: 3, MaxReminders: 2}), "\n")
	assert.Contains(t, lines, "SailPoint reminders: daysUntilEscalation 3, daysBetweenReminders 1, maxReminders 2")
	assert.Contains(t, lines, "accessbot reminders:  daysUntilEscalation 3, daysBetweenReminders 0, maxReminders 2")
}

func TestParseRef(t *testing.T) {
	for _, ok := range []string{"ACCESS_PROFILE:" + payroll, "role:" + admins, "access-profile:x", "ENTITLEMENT:" + readOnly} {
		_, _, err := sailpoint.ParseRef(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", payroll, "GROUP:" + payroll, "ROLE:", "ROLE:a b", `ROLE:a"b`} {
		_, _, err := sailpoint.ParseRef(bad)
		assert.Error(t, err, bad)
	}
}

func TestNew_BadOptionsSayWhatToSet(t *testing.T) {
	_, err := sailpoint.New(sailpoint.Options{BaseURL: "tenant.api.identitynow.com"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set SAILPOINT_BASE_URL to https://<tenant>.api.identitynow.com")
	assert.Contains(t, err.Error(), "set SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET")

	for _, bad := range []string{"https://acme.api.identitynow.com/beta", "https://acme.api.identitynow.com/v3/access-requests",
		"https://acme.api.identitynow.com/v2025", "https://acme.api.identitynow.com/?tenant=acme"} {
		_, err := sailpoint.New(sailpoint.Options{BaseURL: bad, ClientID: "pat-id", ClientSecret: "pat-secret"})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "should be the tenant's API host with no other path; "+
			"set SAILPOINT_BASE_URL to https://<tenant>.api.identitynow.com (a trailing /v3 is allowed)", bad)
	}
}

func TestNew_TheDocumentedBaseURLWithV3Works(t *testing.T) {
	for _, suffix := range []string{"/v3", "/v3/", "/"} {
		t.Run(suffix, func(t *testing.T) {
			isc := iscfake.New(iscfake.Options{})
			t.Cleanup(isc.Close)
			isc.AddIdentity(carolID, "carol@example.com", "Carol", "")
			be, err := isc.Backend(governance.SystemClock{}, func(o *sailpoint.Options) { o.BaseURL = isc.URL + suffix })
			require.NoError(t, err)
			id, err := be.LookupIdentity(context.Background(), governance.Person{Email: "carol@example.com"})
			require.NoError(t, err)
			assert.Equal(t, carolID, id.ID)
			var paths []string
			for _, c := range isc.Calls() {
				paths = append(paths, c.Path)
			}
			assert.Equal(t, []string{"/oauth/token", "/v3/public-identities"}, paths)
		})
	}
}

// active is an approved item whose grant ISC completed.
func (tn *tenant) active(item string) *governance.Request {
	tn.T.Helper()
	r := tn.Approved(item)
	require.Equal(tn.T, governance.StateSubmitted, r.State, r.Failure)
	tn.isc.SetState(r.Submission.ExternalID, iscfake.StateCompleted)
	tn.Sync()
	r = tn.Get(r.ID)
	require.Equal(tn.T, governance.StateActive, r.State, r.Failure)
	tn.Notes.Take()
	return r
}

// extend has the requester ask for more time on r, and the approver approve it, and
// delivers what follows.
func (tn *tenant) extend(r *governance.Request) *governance.Request {
	tn.T.Helper()
	ext, err := tn.Svc.Extend(context.Background(), r.ID, carol)
	require.NoError(tn.T, err)
	tn.Approve(ext.ID)
	tn.Drain()
	return tn.Get(ext.ID)
}

func TestExtend_IsAGrantWithTheNewRemoveDateTrackedLikeAGrant(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	orig := tn.active("payroll")
	end := orig.EndsAt()
	ext := tn.extend(orig)

	require.Equal(t, governance.StateSubmitted, ext.State, ext.Failure)
	subs := tn.submissions()
	require.Len(t, subs, 2)
	newEnd := ext.ExtendTo.UTC().Format(time.RFC3339)
	assert.Equal(t, "GRANT_ACCESS", subs[1]["requestType"], "a person's end date changes with GRANT_ACCESS, never MODIFY_ACCESS")
	item := subs[1]["requestedItems"].([]any)[0].(map[string]any)
	assert.Equal(t, newEnd, item["removeDate"])
	assert.Equal(t, ext.ID, item["clientMetadata"].(map[string]any)["accessbotExtension"])
	assert.Equal(t, orig.ID, item["clientMetadata"].(map[string]any)["accessbotRequestId"])
	assert.NotEqual(t, orig.Submission.ExternalID, ext.Submission.ExternalID, "the extension's own access request")
	st, ok := tn.isc.Status(ext.Submission.ExternalID)
	require.True(t, ok)
	assert.Equal(t, "GRANT_ACCESS", st.RequestType)

	// Until ISC has the new end, nobody says it.
	assert.Equal(t, end, tn.Get(orig.ID).EndsAt())
	notes := tn.Notes.Take()
	assert.NotContains(t, notes, "active→carol@example.com")
	tn.Sync()
	assert.Equal(t, governance.StateSubmitted, tn.Get(ext.ID).State)
	assert.Equal(t, end, tn.Get(orig.ID).EndsAt())
	assert.NotContains(t, tn.Notes.Take(), "active→carol@example.com")

	// ISC's approvers decide, and ISC completes it: now the end moves and the requester is told.
	tn.isc.SetApproval(ext.Submission.ExternalID, "APPROVED", "Olivia Owner", "ok")
	tn.isc.SetState(ext.Submission.ExternalID, iscfake.StateCompleted)
	tn.Sync()
	got := tn.Get(ext.ID)
	require.Equal(t, governance.StateActive, got.State, got.Failure)
	assert.Equal(t, ext.ExtendTo, got.EndsAt())
	assert.Equal(t, ext.ExtendTo, tn.Get(orig.ID).EndsAt())
	assert.Contains(t, tn.Notes.Take(), "active→carol@example.com")
	held, _ := tn.isc.Access(carolID, payroll)
	assert.Equal(t, ext.ExtendTo.UTC().Format("2006-01-02T15:04:05.000Z"), held)
}

func TestExtend_ISCRejectingItLeavesTheEndAsItWas(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	orig := tn.active("payroll")
	ext := tn.extend(orig)
	require.Equal(t, governance.StateSubmitted, ext.State, ext.Failure)
	tn.isc.SetApproval(ext.Submission.ExternalID, "REJECTED", "Olivia Owner", "not this quarter")
	tn.isc.SetState(ext.Submission.ExternalID, "REJECTED")
	tn.Sync()
	got := tn.Get(ext.ID)
	assert.Equal(t, governance.StateDenied, got.State)
	assert.Contains(t, got.Failure, "rejected in SailPoint by Olivia Owner")
	assert.Equal(t, orig.EndsAt(), tn.Get(orig.ID).EndsAt())
	assert.Equal(t, governance.StateActive, tn.Get(orig.ID).State)
}

func TestExtend_ARetryAfterALostAnswerFindsTheFirstExtension(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	orig := tn.active("payroll")
	tn.isc.Lose("POST /v3/access-requests")
	ext := tn.extend(orig)
	require.Equal(t, governance.StateApproved, ext.State, "the answer was lost")
	require.Len(t, tn.isc.Requests(), 2, "but ISC made the extension")

	tn.Retry(time.Minute)
	got := tn.Get(ext.ID)
	require.Equal(t, governance.StateSubmitted, got.State, got.Failure)
	assert.Equal(t, tn.isc.Requests()[1].AccessRequestID, got.Submission.ExternalID)
	assert.Len(t, tn.isc.Requests(), 2, "ISC was not asked twice")
}

func TestExtend_AnEndThatPassedBeforeARetryReachesISCFailsClearly(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	orig := tn.active("payroll")
	tn.isc.Fail("POST /v3/access-requests", http.StatusTooManyRequests, "1200")
	ext := tn.extend(orig)
	require.Equal(t, governance.StateApproved, ext.State, "ISC asked to wait")

	// Held back for longer than the extension would last (ISC's penalties reach 20 minutes;
	// here the clock passes the new end).
	tn.Clock.Set(ext.ExtendTo.Add(time.Minute))
	tn.Drain()
	got := tn.Get(ext.ID)
	require.Equal(t, governance.StateFailed, got.State)
	assert.Equal(t, "the new end of your access to Payroll Reader, "+ext.ExtendTo.UTC().Format(time.RFC3339)+", passed before SailPoint "+
		"could be asked, so the extension was not requested (SailPoint takes only an end in the future); your access ends as before", got.Failure)
	assert.Len(t, tn.submissions(), 1, "only the original grant: no removeDate in the past was ever sent")
	for _, c := range tn.isc.Calls() {
		if c.Method == http.MethodPost && c.Path == "/v3/access-requests" {
			var req iscfake.AccessRequest
			require.NoError(t, json.Unmarshal(c.Body, &req))
			for _, it := range req.RequestedItems {
				when, err := time.Parse(time.RFC3339, it.RemoveDate)
				require.NoError(t, err)
				assert.True(t, when.After(c.At) || c.Status == http.StatusTooManyRequests)
			}
		}
	}
}

func TestSubmit_AGrantWhoseEndPassedBeforeItsTurnIsNeverSent(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	g := governance.Grant{RequestID: "AR-9", Identity: governance.Identity{ID: carolID},
		Item:  governance.ItemRef{Name: "Payroll Reader", Ref: "ACCESS_PROFILE:" + payroll},
		Start: tn.Clock.Now().Add(-2 * time.Hour), End: tn.Clock.Now().Add(-time.Minute)}
	_, err := tn.be.Submit(context.Background(), g)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.Contains(t, err.Error(), "passed before SailPoint could be asked, so nothing was requested")
	assert.Empty(t, tn.submissions())
}

func TestExtend_CompletedAfterTheGrantEndedIsAGrantOfItsOwn(t *testing.T) {
	tn := newTenant(t, iscfake.Options{})
	orig := tn.active("payroll")
	ext := tn.extend(orig)
	require.Equal(t, governance.StateSubmitted, ext.State, ext.Failure)
	tn.Clock.Set(orig.EndsAt())
	tn.Sweep()
	require.Equal(t, governance.StateExpired, tn.Get(orig.ID).State)

	tn.isc.SetState(ext.Submission.ExternalID, iscfake.StateCompleted)
	tn.Sync()
	got := tn.Get(ext.ID)
	require.Equal(t, governance.StateActive, got.State, got.Failure)
	assert.Empty(t, got.Extends, "warned about and revoked at its end like any grant")
	assert.Equal(t, ext.ExtendTo, got.EndsAt())
	assert.Equal(t, governance.StateExpired, tn.Get(orig.ID).State)
}
