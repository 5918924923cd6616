package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

const (
	iscCarol   = "2c9180857182305e0171993735622948"
	iscDave    = "2c9180857182305e017199373562294a"
	iscPayroll = "2c9180835d2e5168015d32f890ca1581"
)

const sailpointCatalog = `
items:
  - id: payroll
    name: Payroll Reader
    backend: sailpoint
    ref: ACCESS_PROFILE:` + iscPayroll + `
    approvers: ["Alice <alice@example.com>"]
    defaultDuration: 8h
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
	be, err := isc.Backend(clock)
	require.NoError(t, err)
	w := newBackendWorld(t, sailpointCatalog, clock, be)
	return w, isc
}

func grants(isc *iscfake.Server) []iscfake.AccessRequest {
	return isc.Submitted()
}

func TestSailPoint_FromSlashCommandToProvisionedAccessAndBack(t *testing.T) {
	w, isc := newSailPointWorld(t)

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request payroll for 4h because quarter close")), "AR-1")
	w.aliceApproves("AR-1")

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
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "was handed to sailpoint")

	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	isc.SetApproval(r.Submission.ExternalID, "PENDING", "Olivia Owner", "")
	w.sweepAfter(time.Minute)
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "Your request AR-1 for Payroll Reader")
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "is waiting for approval in SailPoint by Olivia Owner")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "waiting for approval in SailPoint by Olivia Owner")

	isc.SetApproval(r.Submission.ExternalID, "APPROVED", "Olivia Owner", "")
	isc.SetState(r.Submission.ExternalID, "REQUEST_COMPLETED")
	w.sweepAfter(2 * time.Minute)
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "Your access to Payroll Reader")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "active")

	// Dave, Carol's manager in SailPoint, ends it early.
	assert.Contains(t, ephemeral(t, w.command("UERIN", "revoke payroll from carol@example.com")), `carol@example.com has no active access to "payroll"`, "a stranger learns nothing")
	assert.Contains(t, ephemeral(t, w.command("UDAVE", "revoke payroll from carol@example.com")), "Carol (carol@example.com)'s access to Payroll Reader")
	w.drain()
	subs = grants(isc)
	require.Len(t, subs, 2)
	assert.Equal(t, "REVOKE_ACCESS", subs[1].RequestType)
	assert.Equal(t, []string{iscCarol}, subs[1].RequestedFor)
	assert.Equal(t, "Revoked in chat by dave@example.com (accessbot AR-1)", subs[1].RequestedItems[0].Comment)
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "Dave (dave@example.com) revoked your access to Payroll Reader")
}

func TestSailPoint_CancelASubmittedRequestAndSearchTheCatalog(t *testing.T) {
	w, isc := newSailPointWorld(t)

	answer := ephemeral(t, w.command("UCAROL", "request expense approvers because covering for Bob"))
	assert.Contains(t, answer, "AR-1")
	assert.Contains(t, answer, "Expense Approvers")
	w.aliceApproves("AR-1")
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
		"try again in a minute, or type `help` for the catalog."}, w.replies("UCAROL", 1))
}
