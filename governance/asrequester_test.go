package governance_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// requesterDesk is a desk that makes the request as the requester (Entra's userAdd):
// Submit records whose account it was given.
type requesterDesk struct {
	*desk
	mu sync.Mutex
	as []string // the e-mail of Grant.As of each Submit
}

func (d *requesterDesk) SubmitsAsRequester() bool { return true }

func (d *requesterDesk) Submit(ctx context.Context, g governance.Grant) (governance.Submission, error) {
	d.mu.Lock()
	who := "<none>"
	if g.As != nil {
		who = g.As.Identity().Email
	}
	d.as = append(d.as, who)
	d.mu.Unlock()
	return d.desk.Submit(ctx, g)
}

func (d *requesterDesk) submittedAs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.as...)
}

func newRequesterDeskBed(t *testing.T) (*deskBed, *requesterDesk) {
	be := &requesterDesk{desk: &desk{script: script{status: governance.Submission{State: governance.StateSubmitted}}}}
	return newDeskBedOver(t, be, be.desk, "mallory@example.com"), be
}

func TestDesk_ABackendAskedAsTheRequesterWaitsUntilTheyConnect(t *testing.T) {
	b, be := newRequesterDeskBed(t)
	r := b.ask("payroll")
	b.deliver()
	assert.Contains(t, b.rec.Take(), "connect→carol@example.com", "the requester is told to connect")
	assert.Empty(t, be.submittedAs(), "nothing is asked of the backend as anyone else")
	got := b.get(r.ID)
	assert.Equal(t, governance.StateApproved, got.State, "the request waits, not failed")
	assert.True(t, got.Desk.AwaitsConnect)

	b.deliver()
	assert.Empty(t, b.rec.Take(), "told once")

	b.accts.connect("carol@example.com")
	require.NoError(t, b.svc.Connected(context.Background(), "desk",
		governance.Actor{Person: governance.Person{Email: "carol@example.com"}, Platform: "slack", ChatID: "U-carol"}))
	b.deliver()
	assert.Equal(t, []string{"carol@example.com"}, be.submittedAs(), "made as Carol, with her account")
	got = b.get(r.ID)
	assert.Equal(t, governance.StateSubmitted, got.State)
	assert.False(t, got.Desk.AwaitsConnect)
	assert.Equal(t, "REQ-"+r.ID, got.Desk.RequestID)

	require.NoError(t, b.svc.Connected(context.Background(), "desk",
		governance.Actor{Person: governance.Person{Email: "carol@example.com"}, Platform: "slack", ChatID: "U-carol"}))
	assert.Len(t, be.submittedAs(), 1, "a second connection asks nothing again")
}

func TestDesk_AConnectedRequesterIsAskedAsAtOnce(t *testing.T) {
	b, be := newRequesterDeskBed(t)
	b.accts.connect("carol@example.com")
	r := b.ask("payroll")
	b.deliver()
	assert.Equal(t, []string{"carol@example.com"}, be.submittedAs())
	assert.Equal(t, governance.StateSubmitted, b.get(r.ID).State)
}
