package backendtest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// DeskHarness is one backend whose own approvals decide (governance.ApprovalDesk) under
// the desk suite, which every such backend passes alike: SailPoint today, Entra
// Entitlement Management's stages next.
type DeskHarness interface {
	// StartDesk starts a fresh fake and the backend over it.
	StartDesk(t *testing.T) DeskSubject
}

// DeskSubject is a started backend with its fake's hooks.
type DeskSubject struct {
	Desk governance.ApprovalDesk
	// Request makes a request the backend's approvals wait for and returns the id of the
	// approval it waits for first.
	Request func() string
	// Owner may decide that approval (its owner, or a member of its owning group);
	// Stranger may not. Both with their connected accounts.
	Owner, Stranger DeskPerson
	// DecideElsewhere has the owner approve the approval in the backend's own UI.
	DecideElsewhere func(approvalID string)
	// Decisions is how many decisions the backend has recorded so far.
	Decisions func() int
}

// DeskPerson is a person as chat knows them, with their connected account.
type DeskPerson struct {
	Person  governance.Person
	Account governance.Account
}

// ManagerDesk is the desk subject of a test tenant where Carol's request waits for her
// manager Mallory, its owner, and Alice may not decide it; connect is a person's
// connected account, by their login name. The harness adds its fake's hooks.
func ManagerDesk(desk governance.ApprovalDesk, connect func(who string) governance.Account) DeskSubject {
	return DeskSubject{Desk: desk,
		Owner:    DeskPerson{Person: Mallory.Person, Account: connect("mallory")},
		Stranger: DeskPerson{Person: Alice.Person, Account: connect("alice")}}
}

// RunDesk runs the desk suite.
func RunDesk(t *testing.T, h DeskHarness) {
	ctx := context.Background()
	pending := func(t *testing.T, s DeskSubject, id string) governance.BackendApproval {
		list, err := s.Desk.PendingApprovals(ctx)
		require.NoError(t, err)
		i := slices.IndexFunc(list, func(a governance.BackendApproval) bool { return a.ID == id })
		require.GreaterOrEqual(t, i, 0, "the approval is pending")
		return list[i]
	}
	decide := func(t *testing.T, s DeskSubject, id string, approve bool, comment string, by DeskPerson, as governance.Account) (governance.BackendApproval, error) {
		return s.Desk.DecideApproval(ctx, as, governance.ApprovalDecision{Approval: pending(t, s, id), Approve: approve, Comment: comment, By: by.Person})
	}
	t.Run("the approval is listed with who may decide it", func(t *testing.T) {
		s := h.StartDesk(t)
		a := pending(t, s, s.Request())
		assert.True(t, a.MayDecide(s.Owner.Person), "the owner, or each member of the owning group, by e-mail")
		assert.False(t, a.MayDecide(s.Stranger.Person))
		assert.NotEmpty(t, a.RequestID, "the approval names its request")
		assert.Equal(t, governance.ApprovalPending, a.Status)
	})
	t.Run("the owner's decision is recorded as theirs, and read back", func(t *testing.T) {
		s := h.StartDesk(t)
		id := s.Request()
		done, err := decide(t, s, id, true, "fine", s.Owner, s.Owner.Account)
		require.NoError(t, err)
		assert.Equal(t, governance.ApprovalApproved, done.Status)
		assert.True(t, done.DecidedBy.Is(s.Owner.Person))
		out, err := s.Desk.ApprovalOutcome(ctx, done)
		require.NoError(t, err)
		assert.Equal(t, governance.ApprovalApproved, out.Status, "the backend shows it decided")
		assert.True(t, out.DecidedBy.Is(s.Owner.Person), "the backend records the person, not accessbot")
	})
	t.Run("a decision made elsewhere is read with who made it", func(t *testing.T) {
		s := h.StartDesk(t)
		a := pending(t, s, s.Request())
		s.DecideElsewhere(a.ID)
		out, err := s.Desk.ApprovalOutcome(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, governance.ApprovalApproved, out.Status)
		assert.True(t, out.DecidedBy.Is(s.Owner.Person))
	})
	refusals := []struct {
		name    string
		prepare func(s DeskSubject, id string)
		approve bool
		by, as  func(s DeskSubject) DeskPerson
		want    error
	}{
		{name: "someone who may not decide it", approve: true, want: governance.ErrNotApprover,
			by: func(s DeskSubject) DeskPerson { return s.Stranger }, as: func(s DeskSubject) DeskPerson { return s.Stranger }},
		{name: "someone holding another person's account", approve: true, want: governance.ErrNotAllowed,
			by: func(s DeskSubject) DeskPerson { return s.Stranger }, as: func(s DeskSubject) DeskPerson { return s.Owner }},
		{name: "a rejection without a reason", want: governance.ErrDenyReasonRequired,
			by: func(s DeskSubject) DeskPerson { return s.Owner }, as: func(s DeskSubject) DeskPerson { return s.Owner }},
		{name: "an approval decided elsewhere first", approve: true, want: governance.ErrAlreadyDecided,
			prepare: func(s DeskSubject, id string) { s.DecideElsewhere(id) },
			by:      func(s DeskSubject) DeskPerson { return s.Owner }, as: func(s DeskSubject) DeskPerson { return s.Owner }},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			s := h.StartDesk(t)
			id := s.Request()
			a := pending(t, s, id)
			if tc.prepare != nil {
				tc.prepare(s, id)
			}
			before := s.Decisions()
			_, err := s.Desk.DecideApproval(ctx, tc.as(s).Account, governance.ApprovalDecision{Approval: a, Approve: tc.approve, By: tc.by(s).Person})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var p *governance.Problem
			if assert.True(t, errors.As(err, &p), "a sentence for the person") {
				assert.NotEmpty(t, p.Message)
			}
			assert.Equal(t, before, s.Decisions(), "nothing more was decided")
		})
	}
}
