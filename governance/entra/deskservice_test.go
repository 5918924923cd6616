package entra_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/backendtest"
)

const deskCatalog = `
items:
  - id: payroll
    name: Payroll Reader
    backend: entra
    ref: ` + payroll + `/` + payrollSelf + `
    approvals: backend
    defaultDuration: 8h
`

// deskBed is accessbot over Redis with Entra's own approvals deciding Payroll Reader.
func newDeskBed(t *testing.T) (*desk, *backendtest.Bed) {
	d := newDesk(t)
	return d, backendtest.NewBed(t, backendtest.BedConfig{Backend: d.be, Catalog: deskCatalog, Clock: d.clock, Accounts: d.accts})
}

// poll is one poll of Entra's approvals, an interval after the last, and what follows.
func poll(t *testing.T, b *backendtest.Bed) {
	t.Helper()
	b.Clock.Advance(30 * time.Second)
	require.NoError(t, b.Svc.SyncApprovals(context.Background()))
	b.Drain()
}

func TestDesk_AChatRequestIsDecidedInEntraByTheManagerThenAGroupMember(t *testing.T) {
	d, b := newDeskBed(t)
	ctx := context.Background()
	r, err := b.Svc.Request(ctx, governance.RequestInput{Requester: carol, Item: "payroll", Reason: "quarter close"})
	require.NoError(t, err)
	b.Drain()
	assert.Contains(t, b.Notes.Take(), "connect→carol@example.com", "Carol is asked to connect first")
	assert.Empty(t, d.graph.Requests(), "nothing asked of Entra as anyone else")

	d.connect("carol")
	require.NoError(t, b.Svc.Connected(ctx, "entra", carol))
	b.Drain()
	got := b.Get(r.ID)
	require.Equal(t, governance.StateSubmitted, got.State, got.Failure)
	made := d.graph.Requests()
	require.Len(t, made, 1)
	assert.Equal(t, "userAdd", made[0].RequestType)
	assert.Equal(t, carolID, made[0].RequestorID)

	poll(t, b)
	assert.Equal(t, []string{r.ID}, b.PendingFor("mallory@example.com"), "stage 1: Carol's manager")
	assert.Empty(t, b.PendingFor("gus@example.com"))

	d.connect("mallory")
	_, err = b.Svc.Decide(ctx, governance.DecideInput{RequestID: r.ID, Approve: true, Reason: "fine", Approver: mallory})
	require.NoError(t, err)
	b.Drain()
	e, _ := d.graph.Request(made[0].ID)
	assert.Equal(t, malloryID, e.Stages[0].ReviewedBy, "Entra records Mallory")

	poll(t, b)
	assert.Empty(t, b.PendingFor("mallory@example.com"))
	assert.Equal(t, []string{r.ID}, b.PendingFor("gus@example.com"), "stage 2: each member of the group")
	assert.Equal(t, []string{r.ID}, b.PendingFor("grace@example.com"))

	d.connect("gus")
	gus := governance.Actor{Person: governance.Person{Email: "gus@example.com", Name: "Gus"}, Platform: "teams"}
	_, err = b.Svc.Decide(ctx, governance.DecideInput{RequestID: r.ID, Approve: true, Approver: gus})
	require.NoError(t, err)
	b.Drain()
	e, _ = d.graph.Request(made[0].ID)
	assert.Equal(t, "delivered", e.State)
	assert.Equal(t, gusID, e.Stages[1].ReviewedBy)

	b.Sync()
	got = b.Get(r.ID)
	assert.Equal(t, governance.StateActive, got.State)
	for _, a := range got.Desk.Approvals {
		assert.Equal(t, governance.ApprovalApproved, a.Status, a.ID)
	}
	assert.Contains(t, b.Notes.Take(), "active→carol@example.com")
}

func TestDesk_ARequestMadeInMyAccessReachesItsApproverAndADenialThereEndsIt(t *testing.T) {
	d, b := newDeskBed(t)
	d.connect("mallory")
	id := d.myAccess()
	poll(t, b)
	inbox := b.PendingFor("mallory@example.com")
	require.Len(t, inbox, 1, "within one polling interval")
	require.NoError(t, d.graph.DecideInMyAccess(id, malloryID, false, "not this quarter"))
	poll(t, b)
	assert.Empty(t, b.PendingFor("mallory@example.com"))
	got := b.Get(inbox[0])
	require.Len(t, got.Desk.Approvals, 1)
	assert.Equal(t, governance.ApprovalRejected, got.Desk.Approvals[0].Status)
	assert.Equal(t, "mallory@example.com", got.Desk.Approvals[0].DecidedBy.Email)
	assert.Contains(t, b.Notes.Take(), "step→carol@example.com", "Carol is told")
}
