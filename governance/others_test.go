package governance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// askFor files by's request for item for forWhom, with a ticket, and delivers it.
func (b *bed) askFor(by governance.Actor, forWhom, item string) (*governance.Request, error) {
	b.t.Helper()
	r, err := b.svc.Request(context.Background(), governance.RequestInput{Requester: by, Item: item, Reason: "INC-1 on call",
		For: governance.Person{Email: forWhom}})
	b.deliver()
	return r, err
}

func actor(email string) governance.Actor {
	return governance.Actor{Person: governance.Person{Email: email}}
}

// TestAuthorisationMatrix_RequestsForOthers: a manager may ask for a direct report, an
// admin for anyone, nobody else, and a guest never; neither the person it is for nor who
// asked may decide it; both may cancel it.
func TestAuthorisationMatrix_RequestsForOthers(t *testing.T) {
	const admin = "admin@example.com"
	tests := []struct {
		name     string
		by       governance.Actor
		forWhom  string
		item     string
		want     error
		approver string // who decides the first stage, when allowed
	}{
		{"a manager for a direct report", actor(mgr), carol, "db", nil, alice},
		{"an admin for anyone", actor(admin), dave, "db", nil, alice},
		{"a manager for someone not theirs", actor(mgr), dave, "db", governance.ErrNotAllowed, ""},
		{"a colleague", actor(bob), carol, "db", governance.ErrNotAllowed, ""},
		{"an admin who is a guest", governance.Actor{Person: governance.Person{Email: admin}, Guest: true}, carol, "db", governance.ErrNotAllowed, ""},
		{"a report for their manager", actor(carol), mgr, "db", governance.ErrNotAllowed, ""},
		// Bob is Alice's manager, so the staged item's manager stage is only Bob, who asked.
		{"a manager for a report, where the manager's approval is needed", actor(bob), alice, "staged", governance.ErrNoApprover, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newStagedBed(t, governance.Schedule{})
			r, err := b.askFor(tt.by, tt.forWhom, tt.item)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				var p *governance.Problem
				require.ErrorAs(t, err, &p)
				assert.NotEmpty(t, p.Message)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.forWhom, r.Requester.Email, "the access is for them")
			assert.Equal(t, tt.by.Email, r.RequestedBy.Email)
			ev := b.rec.Take()
			assert.Contains(t, ev, "asked_for_you→"+tt.forWhom, "the person it is for is told")
			for _, who := range []string{tt.forWhom, tt.by.Email} {
				_, err := b.decide(r.ID, who, true)
				require.ErrorIs(t, err, governance.ErrSelfApproval, "%s may not decide it", who)
			}
			_, err = b.svc.Cancel(context.Background(), r.ID, actor(bob))
			require.Error(t, err, "nobody else may cancel it")
			_, err = b.decide(r.ID, tt.approver, true)
			require.NoError(t, err)
			granted := b.get(r.ID)
			assert.Equal(t, governance.StateActive, granted.State)
			require.NotNil(t, granted.Submission)
			assert.Equal(t, "builtin:"+r.ID, granted.Submission.ExternalID)
			assert.Equal(t, tt.forWhom, granted.Requester.Email, "granted to the person it is for")
		})
	}
}

func TestRequestsForOthers_ThePersonItIsForOrWhoAskedMayCancel(t *testing.T) {
	for _, canceller := range []string{carol, mgr} {
		t.Run(canceller, func(t *testing.T) {
			b := newStagedBed(t, governance.Schedule{})
			r, err := b.askFor(actor(mgr), carol, "db")
			require.NoError(t, err)
			_, err = b.svc.Cancel(context.Background(), r.ID, actor(canceller))
			require.NoError(t, err)
			assert.Equal(t, governance.StateCancelled, b.get(r.ID).State)
		})
	}
}

func TestRequestsForOthers_TheAuditSaysWhoAskedForWhom(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	r, err := b.askFor(actor(mgr), carol, "db")
	require.NoError(t, err)
	var got []string
	require.NoError(t, b.store.Audit(context.Background(), t0.Add(-1), t0.Add(1), func(a governance.AuditRecord) error {
		got = append(got, fmt.Sprintf("%s %s %s %s", a.RequestID, a.Event, a.Actor, a.Detail))
		return nil
	}))
	assert.Equal(t, []string{r.ID + " request " + mgr + " for " + carol}, got)
	assert.True(t, strings.HasPrefix(r.ID, "AR-"))
}

// An item whose backend's own policy decides cannot be asked for someone else: accessbot
// hands such a request to the backend at once, as the person asking.
func TestRequestsForOthers_NotWhereTheBackendDecides(t *testing.T) {
	b := newDeskBed(t)
	_, err := b.svc.Request(context.Background(), governance.RequestInput{Requester: actor("mallory@example.com"), Item: "payroll",
		Reason: "for her", For: governance.Person{Email: carol}})
	require.ErrorIs(t, err, governance.ErrNotAllowed)
	assert.Contains(t, err.Error(), "where accessbot cannot ask for someone else; carol@example.com can ask for it themselves")
}
