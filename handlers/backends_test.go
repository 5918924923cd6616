package handlers_test

// End to end through each governance backend against its fake: a slash command, the
// approval in chat, the backend's own states, and the way back.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/entra/graphfake"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/permissions"
	"github.com/accessbot/accessbot/governance/permissions/pmfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

const (
	iscCarol   = "2c9180857182305e0171993735622948"
	iscDave    = "2c9180857182305e017199373562294a"
	iscPayroll = "2c9180835d2e5168015d32f890ca1581"
)

// payrollItem is the catalog entry of Payroll Reader, the item ("payroll") the backend
// tests ask for: held by backend under ref, decided as decides says ("approvals: backend"
// or its approvers), for 8 hours unless asked otherwise.
func payrollItem(backend, ref, decides string) string {
	return fmt.Sprintf(`
  - id: payroll
    name: Payroll Reader
    backend: %s
    ref: %s
    %s
    defaultDuration: 8h`, backend, ref, decides)
}

// aliceApproves is an item's approvers where accessbot decides: Alice.
const aliceApproves = `approvers: ["Alice <alice@example.com>"]`

var sailpointCatalog = "items:" + payrollItem("sailpoint", "ACCESS_PROFILE:"+iscPayroll, aliceApproves) + `
  - id: sailpoint
    name: Anything in SailPoint
    backend: sailpoint
    search: true
    approvers: ["Alice <alice@example.com>"]
    defaultDuration: 1d
`

// newSailPointWorld is accessbot with the SailPoint backend against a fake ISC tenant in
// which Dave is Carol's manager.
func newSailPointWorld(t *testing.T) (*world, *iscfake.Server) {
	var clock *governance.ManualClock
	isc := iscfake.New(iscfake.Options{Now: func() time.Time { return clock.Now() }})
	t.Cleanup(isc.Close)
	isc.AddIdentity(iscCarol, "carol@example.com", "Carol", iscDave)
	isc.AddIdentity(iscDave, "dave@example.com", "Dave", "")
	isc.AddItem("ACCESS_PROFILE", iscPayroll, "Payroll Reader", "Read payroll")
	isc.AddItem("ROLE", "2c918086749d78830174a1a40e121518", "Expense Approvers", "Approve expenses")
	clock = governance.NewManualClock(t0)
	be, err := sailpoint.New(sailpoint.Options{BaseURL: isc.URL, ClientID: "pat-id", ClientSecret: "pat-secret", Clock: clock,
		Rate: 1000, Burst: 100, Logger: quiet()})
	require.NoError(t, err)
	w := startedWith(t, sailpointCatalog, clock, be)
	return w, isc
}

func grants(isc *iscfake.Server) []iscfake.AccessRequest {
	return isc.Submitted()
}

func TestSailPoint_FromSlashCommandToProvisionedAccessAndBack(t *testing.T) {
	w, isc := newSailPointWorld(t)

	w.approved("UCAROL", "request payroll for 4h because quarter close")

	subs := grants(isc)
	require.Len(t, subs, 1)
	assert.Equal(t, []string{iscCarol}, subs[0].RequestedFor)
	assert.Equal(t, "GRANT_ACCESS", subs[0].RequestType)
	require.Len(t, subs[0].RequestedItems, 1)
	item := subs[0].RequestedItems[0]
	assert.Equal(t, iscPayroll, item.ID)
	assert.Equal(t, "quarter close — approved in chat by alice@example.com (accessbot request AR-1)", item.Comment)
	assert.Equal(t, t0.Add(4*time.Hour).Format(time.RFC3339), item.RemoveDate)
	assert.Equal(t, map[string]string{"requestedBy": "accessbot", "accessbotRequestId": "AR-1", "accessbotItem": "ACCESS_PROFILE:" + iscPayroll,
		"approvedBy": "alice@example.com"}, subs[0].ClientMetadata)
	assert.Contains(t, w.dmText("UCAROL"), "was handed to SailPoint")

	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	isc.SetApproval(r.Submission.ExternalID, "PENDING", "Olivia Owner", "")
	w.sweepAfter(time.Minute)
	assert.Contains(t, w.dmText("UCAROL"), "Your request AR-1 for Payroll Reader")
	assert.Contains(t, w.dmText("UCAROL"), "is waiting for approval in SailPoint by Olivia Owner")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "waiting for approval in SailPoint by Olivia Owner")

	isc.SetApproval(r.Submission.ExternalID, "APPROVED", "Olivia Owner", "")
	isc.SetState(r.Submission.ExternalID, "REQUEST_COMPLETED")
	w.sweepAfter(2 * time.Minute)
	assert.Contains(t, w.dmText("UCAROL"), "Your access to Payroll Reader")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "active")

	// Dave, Carol's manager in SailPoint, ends it early.
	assert.Contains(t, ephemeral(t, w.command("UERIN", "revoke payroll from carol@example.com")), `carol@example.com has no active access to "payroll"`, "a stranger learns nothing")
	assert.Contains(t, ephemeral(t, w.command("UDAVE", "revoke payroll from carol@example.com")), "The access of Carol (carol@example.com) to Payroll Reader")
	w.drain()
	subs = grants(isc)
	require.Len(t, subs, 2)
	assert.Equal(t, "REVOKE_ACCESS", subs[1].RequestType)
	assert.Equal(t, []string{iscCarol}, subs[1].RequestedFor)
	assert.Equal(t, "Revoked in chat by dave@example.com (accessbot AR-1)", subs[1].RequestedItems[0].Comment)
	assert.Contains(t, w.dmText("UCAROL"), "Dave (dave@example.com) revoked your access to Payroll Reader")
}

func TestSailPoint_CancelASubmittedRequestAndSearchTheCatalog(t *testing.T) {
	w, isc := newSailPointWorld(t)

	answer := ephemeral(t, w.command("UCAROL", "request expense approvers because covering for Bob"))
	assert.Contains(t, answer, "AR-1")
	assert.Contains(t, answer, "Expense Approvers")
	w.drain()
	w.approve("UALICE", "AR-1")
	require.Len(t, grants(isc), 1)
	assert.Equal(t, "ROLE", grants(isc)[0].RequestedItems[0].Type)

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel AR-1")), "AR-1")
	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateCancelled, r.State)
	require.Len(t, isc.Cancelled(), 1)
	assert.Equal(t, r.Submission.ExternalID, isc.Cancelled()[0].AccountActivityID)

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request nothing-like-this")), "There is no catalog item")
	isc.Fail("GET /v3/requestable-objects", http.StatusServiceUnavailable, "")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request something else")), "could not be searched just now; try again in a minute")
}

func TestSailPoint_AHangingCatalogSearchIsAnsweredInTimeAndItsFailureFollows(t *testing.T) {
	w, isc := newSailPointWorld(t)
	w.answerWithin = time.Millisecond // Slack's 3 s, shrunk: the search hangs until the tenant goes away
	w.start()
	isc.Hang("GET /v3/requestable-objects", time.Hour)
	assert.Equal(t, working, ephemeral(t, w.command("UCAROL", "request expense approvers because covering for Bob")))
	isc.Close()
	assert.Equal(t, []string{"⚠️ \"expense approvers\" is not in the catalog, and sailpoint could not be searched just now; " +
		"try again in a minute, or type `/access help` for the catalog."}, w.replies("UCAROL", 1))
}

const permissionsCatalog = `
items:
  - id: gcp-viewer
    name: GCP viewer on acme-prod
    backend: permissions
    ref: gcp:acme-prod:role:roles/viewer
    approvers: ["Alice <alice@example.com>"]
    defaultDuration: 1h
    maxDuration: 8h
`

func TestPermissions_FromSlashCommandToGrantedPermissionsAndCancelAll(t *testing.T) {
	clock := governance.NewManualClock(t0)
	pm := pmfake.New(pmfake.Options{Token: "delegated", Now: clock.Now})
	t.Cleanup(pm.Close)
	pm.AddUser(pmfake.User{ID: entraCarol, Mail: "carol@example.com", UserPrincipalName: "carol@example.com", DisplayName: "Carol"})
	be, err := permissions.New(permissions.Options{BaseURL: pm.BaseURL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "delegated"}),
		Clock: clock, Rate: 1000, Burst: 100, Logger: quiet()})
	require.NoError(t, err)
	w := startedWith(t, permissionsCatalog, clock, be)

	w.approved("UCAROL", "request gcp-viewer for 2h because incident 4711")

	created := pm.Created()
	require.Len(t, created, 1)
	assert.Equal(t, map[string]any{"duration": "PT2H"}, created[0]["scheduleInfo"].(map[string]any)["expiration"])
	ticket := created[0]["ticketInfo"].(map[string]any)
	assert.Equal(t, "AR-1", ticket["ticketNumber"])
	assert.Equal(t, "accessbot", ticket["ticketSystem"])
	assert.Contains(t, created[0]["justification"], "incident 4711")
	definition := created[0]["requestedPermissions"].(map[string]any)
	assert.Equal(t, "acme-prod", definition["authorizationSystemInfo"].(map[string]any)["authorizationSystemId"])

	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	pm.SetStatus(r.Submission.ExternalID, "approved", "granted")
	w.sweepAfter(time.Minute)
	r, err = w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, r.State, r.Failure)
	assert.Contains(t, w.dmText("UCAROL"), "Your access to GCP viewer on acme-prod `gcp-viewer` is active until")

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "revoke gcp-viewer")), "is revoked")
	w.drain()
	var cancels int
	for _, c := range pm.Calls() {
		if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/"+r.Submission.ExternalID+"/cancelAll") {
			cancels++
		}
	}
	assert.Equal(t, 1, cancels, "revoke is one cancelAll")
	got, _ := pm.Request(r.Submission.ExternalID)
	assert.Equal(t, "canceled", got.StatusDetail)
}

const (
	entraCarol   = "3f2c1b0a-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
	entraPackage = "0b3c4d5e-1111-2222-3333-444455556666"
	entraPolicy  = "0b3c4d5e-1111-2222-3333-444455556667"
)

var entraCatalog = "items:" + payrollItem("entra", entraPackage+"/"+entraPolicy, aliceApproves)

// newEntraTenant is a fake Graph that knows Carol and the payroll package, and the Entra
// backend over it.
func newEntraTenant(t *testing.T, clock *governance.ManualClock) (*graphfake.Server, *entra.Backend) {
	g := graphfake.New(graphfake.Options{Now: clock.Now})
	t.Cleanup(g.Close)
	g.AddUser(graphfake.User{ID: entraCarol, Mail: "carol@example.com", UserPrincipalName: "carol@example.com", DisplayName: "Carol"})
	g.AddPackage(graphfake.Package{ID: entraPackage, DisplayName: "Payroll Reader",
		Policies: []graphfake.Policy{{ID: entraPolicy, DisplayName: "Direct assignment", AllowedTargetScope: "notSpecified"}}})
	be, err := entra.New(entra.Options{BaseURL: g.BaseURL(), LoginURL: g.LoginURL(), TenantID: g.TenantID(), ClientID: g.ClientID(),
		ClientSecret: g.ClientSecret(), Clock: clock, Rate: 1000, Burst: 100, Logger: quiet()})
	require.NoError(t, err)
	return g, be
}

func TestEntra_FromSlashCommandToDeliveredAccessAndRemoved(t *testing.T) {
	clock := governance.NewManualClock(t0)
	g, be := newEntraTenant(t, clock)
	w := startedWith(t, entraCatalog, clock, be)

	w.approved("UCAROL", "request payroll for 2h because month end")

	created := g.Created()
	require.Len(t, created, 1)
	assert.Equal(t, "adminAdd", created[0]["requestType"])
	assert.Equal(t, map[string]any{"targetId": entraCarol, "assignmentPolicyId": entraPolicy, "accessPackageId": entraPackage}, created[0]["assignment"])
	assert.Equal(t, "month end — approved in chat by alice@example.com (accessbot request AR-1)", created[0]["justification"])
	assert.Contains(t, w.dmText("UCAROL"), "was handed to Microsoft Entra")

	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	g.SetState(r.Submission.ExternalID, "delivered")
	w.sweepAfter(time.Minute)
	assert.Contains(t, w.dmText("UCAROL"), "Your access to Payroll Reader `payroll` is active until 2026-11-23 11:00 UTC")

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "revoke payroll")), "is revoked")
	w.drain()
	created = g.Created()
	require.Len(t, created, 2)
	assert.Equal(t, "adminRemove", created[1]["requestType"])
}

func TestEntra_ATeamsRequesterIsTheObjectIdTeamsVouchesFor(t *testing.T) {
	clock := governance.NewManualClock(t0)
	g, be := newEntraTenant(t, clock)
	w := &world{t: t, prefix: redistest.Prefix(t), clock: clock, slack: slackfake.Start(t, people...), logs: &governancetest.Logs{},
		catalog: entraCatalog, extra: []governance.Backend{be}, teams: teamsfake.Start(t, teamsApp, teamsPeople...)}
	w.slack.AddChannel("CADMINS")
	w.start()
	w.install("29:carol")

	ask := w.activity("29:carol", "message", map[string]any{"text": "request payroll for 2h because month end"})
	ask["from"].(map[string]any)["aadObjectId"] = entraCarol
	before := len(w.teams.Calls())
	require.Equal(t, http.StatusOK, w.postTeams(ask).Code)
	w.teams.Wait(t, before+1, 5*time.Second)
	w.drain()
	w.approve("UALICE", "AR-1")

	created := g.Created()
	require.Len(t, created, 1)
	assert.Equal(t, entraCarol, created[0]["assignment"].(map[string]any)["targetId"])
	for _, c := range g.Calls() {
		assert.NotEqual(t, "/users", c.Path, "Carol is not looked up by e-mail: Teams told her object id")
	}
}
