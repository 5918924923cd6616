package governance_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// Bob's card is on its way when Alice approves, and another replica delivers the
// decision's card updates before Bob's card is recorded: Bob's card is redrawn as soon as
// it is, rather than left with buttons for a decided request.
func TestDispatcher_ACardSentWhileTheRequestWasDecidedIsRedrawn(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	r, err := b.svc.Request(ctx, governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: "carol@example.com"}}, Item: "pair", Reason: "why"})
	require.NoError(t, err)
	other := governance.NewDispatcher(b.svc, "other-replica")
	var decided sync.Once
	b.rec.onCard = func(to governance.Person) {
		if to.Email != "bob@example.com" {
			return
		}
		decided.Do(func() {
			_, err := b.svc.Decide(ctx, governance.DecideInput{RequestID: r.ID, Approve: true,
				Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
			assert.NoError(t, err)
			assert.NoError(t, other.Drain(ctx)) // updates the cards recorded so far: not Bob's
		})
	}
	b.deliver()
	var alice, bob []string
	for _, e := range b.rec.take() {
		switch {
		case strings.HasPrefix(e, "update→alice@example.com:"):
			alice = append(alice, e)
		case strings.HasPrefix(e, "update→bob@example.com:"):
			bob = append(bob, e)
		}
	}
	// Alice's card went out alongside Bob's: the decision's update or her own redraw (or
	// both, when her reference was saved between the decision and that update) redraws it.
	assert.NotEmpty(t, alice, "Alice's card is updated")
	for _, e := range alice {
		assert.NotEqual(t, "update→alice@example.com:pending_approval", e)
	}
	require.Len(t, bob, 1, "Bob's card, recorded after the decision's updates, is redrawn once")
	assert.NotEqual(t, "update→bob@example.com:pending_approval", bob[0])
}
