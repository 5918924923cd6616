package backendtest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

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

// RunDesk runs the desk suite.
func RunDesk(t *testing.T, h DeskHarness) {
	ctx := context.Background()
	decide := func(s DeskSubject, id string, action governance.ApprovalAction, comment string, by DeskPerson, as governance.Account) (governance.CompletedApproval, error) {
		return s.Desk.Decide(ctx, governance.ApprovalDecision{ApprovalID: id, Action: action, Comment: comment, By: by.Person, As: as})
	}
	t.Run("the approval is listed with who may decide it", func(t *testing.T) {
		s := h.StartDesk(t)
		id := s.Request()
		pending, err := s.Desk.Pending(ctx, time.Time{})
		require.NoError(t, err)
		i := slices.IndexFunc(pending, func(a governance.BackendApproval) bool { return a.ID == id })
		require.GreaterOrEqual(t, i, 0, "the approval is pending")
		owner := pending[i].Owner
		who := s.Owner.Account.Identity()
		mayDecide := owner.Identity.ID == who.ID || slices.ContainsFunc(owner.Members, func(m governance.Identity) bool { return m.ID == who.ID })
		assert.True(t, mayDecide, "the owner is named, or is a member of the owning group")
		assert.NotEmpty(t, pending[i].RequestID, "the approval names its request")
	})
	t.Run("the owner's decision is recorded as theirs, and read back", func(t *testing.T) {
		s := h.StartDesk(t)
		id := s.Request()
		done, err := decide(s, id, governance.ActionApprove, "fine", s.Owner, s.Owner.Account)
		require.NoError(t, err)
		assert.Equal(t, governance.ApprovalApproved, done.State)
		assert.Equal(t, s.Owner.Account.Identity().ID, done.ReviewedBy.ID, "the backend records the person, not accessbot")
		completed, err := s.Desk.Completed(ctx, time.Time{})
		require.NoError(t, err)
		assert.True(t, slices.ContainsFunc(completed, func(c governance.CompletedApproval) bool { return c.ID == id }))
	})
	refusals := []struct {
		name    string
		prepare func(s DeskSubject, id string)
		action  governance.ApprovalAction
		comment string
		by, as  func(s DeskSubject) DeskPerson
		want    error
	}{
		{name: "someone who may not decide it", action: governance.ActionApprove, want: governance.ErrNotApprover,
			by: func(s DeskSubject) DeskPerson { return s.Stranger }, as: func(s DeskSubject) DeskPerson { return s.Stranger }},
		{name: "someone holding another person's account", action: governance.ActionApprove, want: governance.ErrNotAllowed,
			by: func(s DeskSubject) DeskPerson { return s.Stranger }, as: func(s DeskSubject) DeskPerson { return s.Owner }},
		{name: "a rejection without a reason", action: governance.ActionReject, want: governance.ErrDenyReasonRequired,
			by: func(s DeskSubject) DeskPerson { return s.Owner }, as: func(s DeskSubject) DeskPerson { return s.Owner }},
		{name: "an approval decided elsewhere first", action: governance.ActionApprove, want: governance.ErrAlreadyDecided,
			prepare: func(s DeskSubject, id string) { s.DecideElsewhere(id) },
			by:      func(s DeskSubject) DeskPerson { return s.Owner }, as: func(s DeskSubject) DeskPerson { return s.Owner }},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			s := h.StartDesk(t)
			id := s.Request()
			if tc.prepare != nil {
				tc.prepare(s, id)
			}
			before := s.Decisions()
			_, err := decide(s, id, tc.action, tc.comment, tc.by(s), tc.as(s).Account)
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
