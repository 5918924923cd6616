package entra_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/backendtest"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/entra/graphfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// Object ids of the test tenant.
const (
	carolID     = "46184453-e63b-4f20-86c2-c557ed5d5df9" // the seed's example target
	aliceID     = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	malloryID   = "6b5c4d3e-2f10-4b0a-9d8e-7f6a5b4c3d2e"
	payroll     = "a914b616-e04e-476b-aa37-91038f0b165b" // the seed's example package
	payrollPol  = "2264bf65-76ba-417b-a27d-54d291f0cbc8" // its direct-assignment policy (the seed's)
	payrollSelf = "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4" // its self-service policy
	wiki        = "d7be3253-b9c6-4fab-adef-30d30de8da2b"
	wikiPol     = "c5f7847f-83a8-4315-a754-d94a6f39b875"
	marketing   = "977c7ff4-ef8f-4910-9d31-49048ddf3120"
	marketPol   = "8fe745e7-80b2-490d-bd22-4e708c77288c"
	marketSelf  = "7aaa18c9-8e4f-440f-bd5a-3a7ce312cbe6"
	secret      = "5b98f958-0dea-4a5b-836e-109dccbd530c" // hidden
	secretPol   = "3f2e1d0c-9b8a-4776-8554-433221100fed"
)

const requests = graphfake.Root + "/assignmentRequests"

const catalog = `
items:
  - id: payroll
    name: Payroll Reader
    backend: entra
    ref: ` + payroll + `/` + payrollPol + `
    approvers: [alice@example.com]
    defaultDuration: 8h
  - id: wiki
    name: Wiki Editors
    backend: entra
    ref: ` + wiki + `/` + wikiPol + `
    approvers: [alice@example.com]
  - id: broken
    name: Broken Item
    backend: entra
    ref: ` + payroll + `
    approvers: [alice@example.com]
  - id: entra
    name: Anything in Entra
    backend: entra
    search: true
    approvers: [alice@example.com]
    defaultDuration: 1d
`

var carol, mallory = backendtest.Carol, backendtest.Mallory

// tenant is accessbot over Redis with the Entra backend against a fake Graph.
type tenant struct {
	*backendtest.Bed
	graph *graphfake.Server
	be    *entra.Backend
}

func newTenant(t testing.TB, fake graphfake.Options, opts ...func(*entra.Options)) *tenant {
	clock := governance.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	fake.Now = clock.Now
	g := graphfake.New(fake)
	t.Cleanup(g.Close)
	g.AddUser(graphfake.User{ID: carolID, Mail: "Carol@example.com", UserPrincipalName: "carol@contoso.onmicrosoft.com", DisplayName: "Carol", ManagerID: malloryID})
	g.AddUser(graphfake.User{ID: aliceID, Mail: "alice@example.com", UserPrincipalName: "alice@example.com", DisplayName: "Alice"})
	g.AddUser(graphfake.User{ID: malloryID, Mail: "", UserPrincipalName: "mallory@example.com", DisplayName: "Mallory Manager"})
	g.AddPackage(graphfake.Package{ID: payroll, DisplayName: "Payroll Reader", Description: "Read payroll",
		Policies: []graphfake.Policy{{ID: payrollSelf, DisplayName: "Employees may ask", AllowedTargetScope: "allMemberUsers"},
			{ID: payrollPol, DisplayName: "Direct assignment", AllowedTargetScope: "notSpecified"}}})
	g.AddPackage(graphfake.Package{ID: wiki, DisplayName: "Wiki Editors", Policies: []graphfake.Policy{{ID: wikiPol, AllowedTargetScope: "notSpecified"}}})
	g.AddPackage(graphfake.Package{ID: marketing, DisplayName: "Marketing Analytics", Description: "Dashboards",
		Policies: []graphfake.Policy{{ID: marketSelf, AllowedTargetScope: "allMemberUsers"}, {ID: marketPol, AllowedTargetScope: "allDirectoryUsers"}}})
	g.AddPackage(graphfake.Package{ID: secret, DisplayName: "Payroll Secrets", IsHidden: true, Policies: []graphfake.Policy{{ID: secretPol}}})

	be, err := g.Backend(clock, func(o *entra.Options) {
		o.Timeout = 2 * time.Second
		for _, f := range opts {
			f(o)
		}
	})
	require.NoError(t, err)
	return &tenant{graph: g, be: be, Bed: backendtest.NewBed(t, backendtest.BedConfig{Backend: be, Catalog: catalog, Clock: clock})}
}

// active is an approved item that Entra delivered.
func (tn *tenant) active(item string) *governance.Request {
	tn.T.Helper()
	r := tn.Approved(item)
	require.Equal(tn.T, governance.StateSubmitted, r.State, r.Failure)
	tn.graph.SetState(r.Submission.ExternalID, "delivered")
	tn.Sync()
	r = tn.Get(r.ID)
	require.Equal(tn.T, governance.StateActive, r.State)
	return r
}

// approvedThen is a payroll request accessbot submitted to Entra, which Entra has since
// moved to state, before accessbot's next status check.
func (tn *tenant) approvedThen(state string) *governance.Request {
	tn.T.Helper()
	r := tn.Approved("payroll")
	tn.graph.SetState(r.Submission.ExternalID, state)
	return r
}

func (tn *tenant) assignmentOf(requestID string) string {
	r, ok := tn.graph.Request(requestID)
	require.True(tn.T, ok)
	require.NotEmpty(tn.T, r.AssignmentID)
	return r.AssignmentID
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// documentedAdminAdd is the v1.0 create page's example 1 (a direct assignment for a user
// already in the directory), as published.
const documentedAdminAdd = `{
  "requestType": "adminAdd",
  "assignment":{
     "targetId":"46184453-e63b-4f20-86c2-c557ed5d5df9",
     "assignmentPolicyId":"2264bf65-76ba-417b-a27d-54d291f0cbc8",
     "accessPackageId":"a914b616-e04e-476b-aa37-91038f0b165b"
  }
}`

func TestSubmit_TheAdminAddCarriesExactlyTheDocumentedBody(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	r := tn.Approved("payroll")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)

	var documented map[string]any
	require.NoError(t, json.Unmarshal([]byte(documentedAdminAdd), &documented))
	documented["justification"] = "quarter close — approved in chat by alice@example.com (accessbot request " + r.ID + ")"
	documented["schedule"] = map[string]any{
		"startDateTime": rfc3339(tn.Clock.Now()),
		"expiration":    map[string]any{"type": "afterDateTime", "endDateTime": rfc3339(tn.Clock.Now().Add(8 * time.Hour))},
	}
	assert.Equal(t, []map[string]any{documented}, tn.graph.Created(),
		"the seed's example, with the justification and schedule the v1.0 reference documents")

	got, ok := tn.graph.Request(r.Submission.ExternalID)
	require.True(t, ok, "the submission's external id is Entra's request id")
	assert.Equal(t, "submitted", got.State)
	assert.Equal(t, "Entra to process it", r.Submission.Waiting)
	assert.Equal(t, []string{"approved→carol@example.com", "submitted→carol@example.com"}, tn.Notes.Take())
	assert.Equal(t, 1, tn.graph.TokensIssued(), "one token serves every call while it lives")
}

func TestSubmit_AGrantWithoutEndHasNoExpiration(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	r := tn.Approved("wiki")
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	assert.Equal(t, map[string]any{"startDateTime": rfc3339(tn.Clock.Now()), "expiration": map[string]any{"type": "noExpiration"}},
		tn.graph.Created()[0]["schedule"])
}

func TestSubmit_TheDuplicateCheckPreventsASecondRequest(t *testing.T) {
	// accessbot's own request still under way: the shared error suite (Contract.Duplicate).
	t.Run("a request made in My Access, found on a later page", func(t *testing.T) {
		tn := newTenant(t, graphfake.Options{PageSize: 1})
		for _, who := range []string{aliceID, malloryID, aliceID} { // other people's requests come first
			tn.graph.AddRequest(graphfake.Request{RequestType: "userAdd", State: "pendingApproval", TargetID: who, PackageID: payroll, PolicyID: payrollSelf})
		}
		tn.graph.AddRequest(graphfake.Request{RequestType: "userAdd", State: "pendingApproval", TargetID: carolID, PackageID: payroll,
			PolicyID: payrollSelf, Created: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)})
		r := tn.Approved("payroll")
		assert.Equal(t, governance.StateFailed, r.State)
		assert.True(t, r.Duplicate)
		assert.Equal(t, "Entra already has a request for Payroll Reader for you (made 2026-11-20, waiting for approval in Entra), "+
			"so accessbot did not ask again; it goes on in Entra", r.Failure)
		assert.Empty(t, tn.graph.Created())
	})
	t.Run("access the user already has", func(t *testing.T) {
		tn := newTenant(t, graphfake.Options{})
		tn.graph.AddAssignment(carolID, wiki, wikiPol, "delivered", time.Time{})
		tn.graph.AddAssignment(carolID, payroll, payrollSelf, "delivered", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
		r := tn.Approved("wiki")
		assert.Equal(t, governance.StateFailed, r.State)
		assert.True(t, r.Duplicate)
		assert.Equal(t, "you already have Wiki Editors in Entra, so accessbot did not ask for it again", r.Failure)
		r = tn.Approved("payroll")
		assert.Equal(t, "you already have Payroll Reader in Entra (until 2026-12-31), so accessbot did not ask for it again", r.Failure)
		assert.Empty(t, tn.graph.Created())
	})
	t.Run("other people's requests and ended ones do not count", func(t *testing.T) {
		tn := newTenant(t, graphfake.Options{})
		tn.graph.AddRequest(graphfake.Request{RequestType: "userAdd", State: "pendingApproval", TargetID: aliceID, PackageID: payroll, PolicyID: payrollSelf})
		tn.graph.AddRequest(graphfake.Request{RequestType: "userAdd", State: "denied", TargetID: carolID, PackageID: payroll, PolicyID: payrollSelf})
		tn.graph.AddAssignment(carolID, payroll, payrollPol, "expired", time.Time{})
		r := tn.Approved("payroll")
		assert.Equal(t, governance.StateSubmitted, r.State, r.Failure)
		assert.Len(t, tn.graph.Created(), 1)
	})
}

// A retry that finds a request still under way is the shared suite's case (RunErrors);
// this one finds it already delivered.
func TestSubmit_ARetryAfterATimeoutFindsWhatEntraDeliveredMeanwhile(t *testing.T) {
	tn := newTenant(t, graphfake.Options{}, func(o *entra.Options) { o.Timeout = 200 * time.Millisecond })
	tn.graph.Hang("POST "+requests, 5*time.Second)
	r := tn.Approved("payroll")
	made := tn.graph.Requests()
	require.Len(t, made, 1)
	tn.graph.SetState(made[0].ID, "delivered")

	tn.Retry(time.Minute)
	r = tn.Get(r.ID)
	assert.Equal(t, governance.StateActive, r.State, r.Failure)
	assert.Equal(t, made[0].ID, r.Submission.ExternalID)
	assert.Len(t, tn.graph.Created(), 1)
	assert.Equal(t, []string{"active→carol@example.com", "approved→carol@example.com"}, tn.Notes.Take())
}

func TestStatus_EveryEntraStateIsMapped(t *testing.T) {
	tests := []struct {
		state    string
		want     governance.State
		failure  string
		waiting  string
		notified []string
	}{
		{"submitted", governance.StateSubmitted, "", "Entra to process it", nil},
		{"pendingApproval", governance.StateSubmitted, "", "approval in Entra", []string{"waiting→carol@example.com"}},
		{"scheduled", governance.StateSubmitted, "", "its start date in Entra", []string{"waiting→carol@example.com"}},
		{"delivering", governance.StateSubmitted, "", "delivery in Entra", []string{"waiting→carol@example.com"}},
		{"delivered", governance.StateActive, "", "", []string{"active→carol@example.com"}},
		{"partiallyDelivered", governance.StateFailed,
			"Entra only partly delivered it; ask your access admins to check the access package's resources in Entra", "", []string{"failed→carol@example.com"}},
		{"deliveryFailed", governance.StateFailed,
			"Entra could not deliver it; ask your access admins to check the access package in Entra", "", []string{"failed→carol@example.com"}},
		{"denied", governance.StateDenied, "denied in Entra's own approvals", "", []string{"denied→carol@example.com"}},
		{"canceled", governance.StateCancelled, "cancelled in Entra", "", []string{"cancelled→carol@example.com"}},
	}
	require.Len(t, tests, len(graphfake.States), "every v1.0 accessPackageRequestState")
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			tn := newTenant(t, graphfake.Options{})
			r, got := tn.Moved("payroll", func(id string) { tn.graph.SetState(id, tt.state) })
			assert.Equal(t, backendtest.Status{State: tt.want, Failure: tt.failure, Waiting: tt.waiting, Notified: tt.notified}, got)
			if tt.want == governance.StateActive {
				assert.Equal(t, r.Submission.Start.Add(8*time.Hour), r.EndsAt(), "the end Entra holds is the end asked for")
			}
		})
	}
}

func TestExtend_IsAnAdminUpdateOfTheAssignmentsExpiration(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	orig := tn.active("payroll")
	aid := tn.assignmentOf(orig.Submission.ExternalID)

	ext, err := tn.Svc.Extend(context.Background(), orig.ID, carol)
	require.NoError(t, err)
	tn.Approve(ext.ID)
	tn.Drain()
	newEnd := orig.EndsAt().Add(8 * time.Hour)
	assert.Equal(t, newEnd, tn.Get(orig.ID).EndsAt())

	created := tn.graph.Created()
	require.Len(t, created, 2)
	assert.Equal(t, map[string]any{
		"requestType": "adminUpdate",
		"assignment":  map[string]any{"id": aid},
		"justification": "Extended until " + rfc3339(newEnd) + ": " + ext.Reason +
			" — approved in chat by alice@example.com (accessbot request " + orig.ID + ")",
		"schedule": map[string]any{
			"startDateTime": rfc3339(orig.Submission.Start),
			"expiration":    map[string]any{"type": "afterDateTime", "endDateTime": rfc3339(newEnd)},
		},
	}, created[1], "the documented adminUpdate (example 8), without its nulls")

	// Delivered again (a retry after a lost answer): the update is already asked for.
	g := governance.Grant{RequestID: orig.ID, Item: orig.Item, Requester: orig.Requester, Start: orig.Submission.Start}
	_, err = tn.be.Extend(context.Background(), g, newEnd)
	require.NoError(t, err)
	assert.Len(t, tn.graph.Created(), 2, "not asked twice")

	// Once Entra has applied it, the assignment itself says so.
	tn.graph.SetState(tn.graph.Requests()[1].ID, "delivered")
	a, _ := tn.graph.Assignment(aid)
	assert.Equal(t, newEnd, a.End)
	_, err = tn.be.Extend(context.Background(), g, newEnd)
	require.NoError(t, err)
	assert.Len(t, tn.graph.Created(), 2)
}

func TestRevoke_IsAnAdminRemoveOfTheAssignment(t *testing.T) {
	for _, who := range []governance.Actor{carol, mallory} {
		t.Run(who.Email, func(t *testing.T) {
			tn := newTenant(t, graphfake.Options{})
			r := tn.active("payroll")
			aid := tn.assignmentOf(r.Submission.ExternalID)

			tn.Revoke(who, "payroll") // Mallory is Carol's manager in Entra
			created := tn.graph.Created()
			require.Len(t, created, 2)
			assert.Equal(t, map[string]any{
				"requestType":   "adminRemove",
				"assignment":    map[string]any{"id": aid},
				"justification": "Revoked in chat by " + who.Email + " (accessbot " + r.ID + ")",
			}, created[1], "the documented adminRemove (example 2), with a justification")

			// Delivered again (a retry after a lost answer): Entra is already removing it.
			g := governance.Grant{RequestID: r.ID, Item: r.Item, Requester: r.Requester, Reason: "again"}
			require.NoError(t, tn.be.Revoke(context.Background(), g))
			assert.Len(t, tn.graph.Created(), 2, "not asked twice")

			// Removed: nothing left to remove.
			tn.graph.SetState(tn.graph.Requests()[1].ID, "delivered")
			require.NoError(t, tn.be.Revoke(context.Background(), g))
			assert.Len(t, tn.graph.Created(), 2)
		})
	}
}

func TestRevoke_TheEndOfATimeBoundGrantRemovesIt(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	r := tn.active("payroll")
	tn.Clock.Set(r.EndsAt())
	tn.Sweep()
	assert.Equal(t, governance.StateExpired, tn.Get(r.ID).State)
	created := tn.graph.Created()
	require.Len(t, created, 2)
	assert.Equal(t, "adminRemove", created[1]["requestType"])
	assert.Equal(t, "Time-bound access ended at "+rfc3339(r.EndsAt())+" (accessbot "+r.ID+")", created[1]["justification"])
}

func TestCancel_EntraKeepsWhatItIsWorkingOn(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	r := tn.approvedThen("pendingApproval")
	_, err := tn.Cancel(r.ID)
	require.Error(t, err)
	assert.ErrorIs(t, err, governance.ErrNotPending)
	assert.Equal(t, "Entra does not let accessbot withdraw a request while Entra is still working on it; "+
		"once the access is delivered, `revoke` ends it", err.Error())
	assert.Equal(t, governance.StateSubmitted, tn.Get(r.ID).State)
	for _, c := range tn.graph.Calls() {
		assert.False(t, strings.HasSuffix(c.Path, "/cancel"), "the delegated-only cancel action is never called")
	}
}

// cancelled is a payroll request Entra moved to state, cancelled by its requester.
func (tn *tenant) cancelled(state string) *governance.Request {
	tn.T.Helper()
	r := tn.approvedThen(state)
	got, err := tn.Cancel(r.ID)
	require.NoError(tn.T, err)
	assert.Equal(tn.T, governance.StateCancelled, got.State)
	return got
}

func TestCancel_WhatEntraDeliveredIsRemoved(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	r := tn.cancelled("delivered")
	created := tn.graph.Created()
	require.Len(t, created, 2)
	assert.Equal(t, map[string]any{"requestType": "adminRemove", "assignment": map[string]any{"id": tn.assignmentOf(r.Submission.ExternalID)},
		"justification": "Cancelled by the requester in chat (accessbot)"}, created[1])
}

func TestCancel_WhatEntraEndedNeedsNothing(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	tn.cancelled("denied")
	assert.Len(t, tn.graph.Created(), 1)
}

func TestErrors_EntraFollowsTheSharedErrorSuite(t *testing.T) { backendtest.RunErrors(t, harness{}) }

// harness runs the shared error-handling suite against the fake Graph.
type harness struct{}

func (harness) Start(t *testing.T, o backendtest.Options) backendtest.Subject {
	tn := newTenant(t, graphfake.Options{}, func(eo *entra.Options) {
		o.Set(&eo.Timeout, &eo.Logger)
		if o.WrongCredentials {
			eo.ClientSecret = "wrong"
		}
	})
	return backendtest.Subject{Bed: tn.Bed, Fake: tn.graph, Accepted: func() int { return len(tn.graph.Created()) },
		TokensIssued: tn.graph.TokensIssued, Made: func() []string {
			return backendtest.IDs(tn.graph.Requests(), func(r graphfake.Request) string { return r.ID })
		}}
}

func (harness) Contract() backendtest.Contract {
	c := backendtest.GraphContract("Entra", "POST "+requests, "GET "+requests, "nobody@example.com")
	c.Item = "payroll"
	c.Permanent = append(c.Permanent,
		backendtest.Refusal{Call: c.Submit, Status: http.StatusForbidden, Failure: "Entra refused accessbot (HTTP 403), so nothing was changed there. " +
			"This is not about your access: accessbot's app registration needs the Microsoft Graph application permission " +
			"EntitlementManagement.ReadWrite.All, with admin consent"},
		backendtest.Refusal{Call: "GET /users", Status: http.StatusForbidden, Failure: "application permission User.Read.All"})
	c.FreshTokenOn401 = true
	c.Duplicate = regexp.MustCompile("^" + regexp.QuoteMeta("Entra already has a request for Payroll Reader for you (made 2026-11-23, "+
		"waiting for Entra to process it), so accessbot did not ask again; it goes on in Entra") + "$")
	c.WrongCredentials = []string{"Entra's sign-in endpoint refused accessbot's credentials (HTTP 401), so nothing was changed there. " +
		"This is not about your access: your access admins need to check AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"}
	return c
}

func TestErrors_EntraSaysWhatIsWrong(t *testing.T) {
	t.Run("a catalog entry with a bad ref", func(t *testing.T) {
		tn := newTenant(t, graphfake.Options{})
		r := tn.Approved("broken")
		assert.Equal(t, governance.StateFailed, r.State)
		assert.Equal(t, `the catalog's entry for Broken Item is wrong (entra ref "`+payroll+`" should be <accessPackageId>/<assignmentPolicyId>: `+
			`the access package's object id and the id of its direct-assignment policy, both GUIDs, from Entra (Identity Governance › Access packages)); `+
			`ask your access admins to fix it`, r.Failure)
		assert.Empty(t, tn.graph.Created())
	})
	t.Run("Entra forgot the request", func(t *testing.T) {
		tn := newTenant(t, graphfake.Options{})
		_, err := tn.be.Status(context.Background(), governance.Submission{ExternalID: "0badc0de-0000-4000-8000-000000000000"})
		require.Error(t, err)
		assert.True(t, governance.IsPermanent(err))
		assert.ErrorIs(t, err, governance.ErrNotFound)
		assert.Contains(t, err.Error(), "Entra no longer has accessbot's request 0badc0de-0000-4000-8000-000000000000")
	})
}

func TestLookupIdentity_ByMailOrSignInNameAndRemembered(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	tn.graph.AddUser(graphfake.User{ID: "7c6d5e4f-3021-4c1b-8e9f-8a7b6c5d4e3f", Mail: "o'brien@example.com", UserPrincipalName: "obrien@contoso.com", DisplayName: "Pat O'Brien"})
	ctx := context.Background()

	id, err := tn.be.LookupIdentity(ctx, governance.Person{Email: "O'Brien@example.com"})
	require.NoError(t, err)
	assert.Equal(t, governance.Identity{ID: "7c6d5e4f-3021-4c1b-8e9f-8a7b6c5d4e3f", Email: "o'brien@example.com", Name: "Pat O'Brien"}, id)
	id, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "mallory@example.com"}) // no mail, found by user principal name
	require.NoError(t, err)
	assert.Equal(t, malloryID, id.ID)

	lookups := func() (n int) {
		for _, c := range tn.graph.Calls() {
			if c.Path == "/users" {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 2, lookups())
	assert.Equal(t, []string{"mail eq 'o''brien@example.com' or userPrincipalName eq 'o''brien@example.com'"}, tn.graph.Calls()[1].Query["$filter"],
		"single quotes are doubled")
	_, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "o'brien@example.com"})
	require.NoError(t, err)
	assert.Equal(t, 2, lookups(), "remembered")
	tn.Clock.Advance(11 * time.Minute)
	_, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "o'brien@example.com"})
	require.NoError(t, err)
	assert.Equal(t, 3, lookups(), "looked up again after its TTL")

	// Teams vouches for the object id: no lookup, even of someone Entra has twice by e-mail.
	before := lookups()
	id, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "twin@example.com", Name: "Twin", EntraID: "8D7E6F50-4132-4D2C-9FA0-9B8C7D6E5F40"})
	require.NoError(t, err)
	assert.Equal(t, governance.Identity{ID: "8d7e6f50-4132-4d2c-9fa0-9b8c7d6e5f40", Email: "twin@example.com", Name: "Twin"}, id)
	assert.Equal(t, before, lookups())
	_, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "o'brien@example.com", EntraID: "aad-obrien"})
	require.NoError(t, err, "an id that is not an object id is ignored: the e-mail decides")

	tn.graph.AddUser(graphfake.User{ID: "8d7e6f50-4132-4d2c-9fa0-9b8c7d6e5f40", Mail: "twin@example.com", UserPrincipalName: "twin1@contoso.com"})
	tn.graph.AddUser(graphfake.User{ID: "9e8f7061-5243-4e3d-a0b1-ac9d8e7f6051", Mail: "twin2@example.com", UserPrincipalName: "twin@example.com"})
	_, err = tn.be.LookupIdentity(ctx, governance.Person{Email: "twin@example.com"})
	require.Error(t, err)
	assert.Equal(t, "Entra has more than one user with the e-mail twin@example.com, so accessbot cannot tell which is you; "+
		"ask your access admins to fix the duplicate", err.Error())
}

func TestManager_IsTheManagerEntraRecords(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	m, ok, err := tn.be.Manager(context.Background(), "carol@example.com")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, governance.Person{Email: "mallory@example.com", Name: "Mallory Manager"}, m, "by user principal name when the manager has no mail")

	_, ok, err = tn.be.Manager(context.Background(), "alice@example.com")
	require.NoError(t, err)
	assert.False(t, ok, "Entra answers 404 for a user without a manager")
}

func TestSearch_RequestsCanNameAnyAccessPackage(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	r, err := tn.Svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: "marketing analytics", Reason: "campaign"})
	require.NoError(t, err)
	assert.Equal(t, governance.ItemRef{ID: marketing, Name: "Marketing Analytics", Backend: "entra", Ref: marketing + "/" + marketSelf}, r.Item,
		"without a direct-assignment policy, the first")

	refs, err := tn.be.SearchCatalog(context.Background(), "PAYROLL")
	require.NoError(t, err)
	assert.Equal(t, []governance.ItemRef{{ID: payroll, Name: "Payroll Reader", Backend: "entra", Ref: payroll + "/" + payrollPol}}, refs,
		"the direct-assignment policy; hidden packages are left out")
	refs, err = tn.be.SearchCatalog(context.Background(), wiki)
	require.NoError(t, err)
	assert.Equal(t, []governance.ItemRef{{ID: wiki, Name: "Wiki Editors", Backend: "entra", Ref: wiki + "/" + wikiPol}}, refs, "by id")
	refs, err = tn.be.SearchCatalog(context.Background(), "0badc0de-0000-4000-8000-000000000000")
	require.NoError(t, err)
	assert.Empty(t, refs)

	tn.Approve(r.ID)
	tn.Drain()
	assert.Equal(t, governance.StateSubmitted, tn.Get(r.ID).State)
	assert.Equal(t, map[string]any{"targetId": carolID, "assignmentPolicyId": marketSelf, "accessPackageId": marketing},
		tn.graph.Created()[0]["assignment"])
}

func TestSearch_SeveralMatchesAreListed(t *testing.T) {
	tn := newTenant(t, graphfake.Options{})
	_, err := tn.Svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: "r", Reason: "x"})
	require.ErrorIs(t, err, governance.ErrUnknownItem)
	assert.Contains(t, err.Error(), "Several things match \"r\"")
	assert.Contains(t, err.Error(), "`Payroll Reader`")
	assert.Contains(t, err.Error(), "`Wiki Editors`")
	assert.NotContains(t, err.Error(), "Payroll Secrets")
}

func TestParseRef(t *testing.T) {
	pkg, pol, err := entra.ParseRef(" " + strings.ToUpper(payroll) + "/" + payrollPol + " ")
	require.NoError(t, err)
	assert.Equal(t, payroll, pkg)
	assert.Equal(t, payrollPol, pol)
	for _, bad := range []string{"", payroll, payroll + "/", "/" + payrollPol, payroll + "/" + payrollPol + "/x",
		"payroll/direct", payroll + ":" + payrollPol, "'" + payroll + "'/" + payrollPol} {
		_, _, err := entra.ParseRef(bad)
		assert.Error(t, err, bad)
	}
}

func FuzzParseRef(f *testing.F) {
	f.Add(payroll + "/" + payrollPol)
	f.Add("x/y")
	f.Add("' or 1 eq 1/" + payrollPol)
	f.Fuzz(func(t *testing.T, ref string) {
		pkg, pol, err := entra.ParseRef(ref)
		if err != nil {
			return
		}
		// What reaches an OData filter or a URL path is a plain GUID.
		for _, id := range []string{pkg, pol} {
			if len(id) != 36 || strings.Trim(id, "0123456789abcdef-") != "" {
				t.Fatalf("ParseRef(%q) gave %q", ref, id)
			}
		}
	})
}

func TestNew_BadOptionsSayWhatToSet(t *testing.T) {
	_, err := entra.New(entra.Options{Rate: -1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET")
	assert.Contains(t, err.Error(), "rate and burst must not be negative")

	_, err = entra.New(entra.Options{TenantID: "a/b", ClientID: "c", ClientSecret: "d"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tenant id "a/b"`)
}
