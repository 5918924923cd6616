package governance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// TestAuthorisationMatrix checks every action against every kind of actor, before and
// after the request escalated, against the table in docs/configuration.md ("Who may do what").
// Approve, deny and cancel act on a pending request; extend and revoke on active access.
func TestAuthorisationMatrix(t *testing.T) {
	const (
		requester = "carol@example.com"
		approver  = "alice@example.com"
		other     = "eve@example.com"
		admin     = "admin@example.com"
		fallback  = "fallback@example.com"
	)
	ok := error(nil)
	type outcome map[string]error   // actor → nil (allowed) or the refusal
	table := map[string][2]outcome{ // action → {not escalated, escalated}
		"approve": {
			{requester: governance.ErrSelfApproval, approver: ok, other: governance.ErrNotApprover, admin: governance.ErrNotApprover, fallback: governance.ErrNotApprover},
			{requester: governance.ErrSelfApproval, approver: ok, other: governance.ErrNotApprover, admin: ok, fallback: ok},
		},
		"deny": {
			{requester: governance.ErrSelfApproval, approver: ok, other: governance.ErrNotApprover, admin: governance.ErrNotApprover, fallback: governance.ErrNotApprover},
			{requester: governance.ErrSelfApproval, approver: ok, other: governance.ErrNotApprover, admin: ok, fallback: ok},
		},
		"cancel": {
			{requester: ok, approver: governance.ErrNotRequester, other: governance.ErrNotRequester, admin: governance.ErrNotRequester, fallback: governance.ErrNotRequester},
			{requester: ok, approver: governance.ErrNotRequester, other: governance.ErrNotRequester, admin: governance.ErrNotRequester, fallback: governance.ErrNotRequester},
		},
		"extend": {
			{requester: ok, approver: governance.ErrNotRequester, other: governance.ErrNotRequester, admin: governance.ErrNotRequester, fallback: governance.ErrNotRequester},
			{requester: ok, approver: governance.ErrNotRequester, other: governance.ErrNotRequester, admin: governance.ErrNotRequester, fallback: governance.ErrNotRequester},
		},
		"revoke": {
			{requester: ok, approver: governance.ErrNotAllowed, other: governance.ErrNotAllowed, admin: ok, fallback: governance.ErrNotAllowed},
			{requester: ok, approver: governance.ErrNotAllowed, other: governance.ErrNotAllowed, admin: ok, fallback: governance.ErrNotAllowed},
		},
	}
	ctx := context.Background()
	for action, byEscalation := range table {
		for escalated, outcomes := range byEscalation {
			for actor, want := range outcomes {
				t.Run(fmt.Sprintf("%s/escalated=%t/%s", action, escalated == 1, actor), func(t *testing.T) {
					b := newBed(t, governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, FallbackApprover: fallback, RequestExpiryDays: 10})
					id := b.request("db")
					if escalated == 1 {
						b.days(1)
						r, err := b.store.Get(ctx, id)
						require.NoError(t, err)
						require.Equal(t, 1, r.Escalations)
					}
					if action == "extend" || action == "revoke" {
						_, err := b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
							Approver: governance.Actor{Person: governance.Person{Email: approver}}})
						require.NoError(t, err)
						b.deliver()
						r, err := b.store.Get(ctx, id)
						require.NoError(t, err)
						require.Equal(t, governance.StateActive, r.State)
					}
					by := governance.Actor{Person: governance.Person{Email: actor}}
					before, err := b.store.Get(ctx, id)
					require.NoError(t, err)

					switch action {
					case "approve", "deny":
						_, err = b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approver: by, Approve: action == "approve", Reason: "no"})
					case "cancel":
						_, err = b.svc.Cancel(ctx, id, by)
					case "extend":
						_, err = b.svc.Extend(ctx, id, by)
					case "revoke":
						_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: by, Target: id})
					}

					after, gerr := b.store.Get(ctx, id)
					require.NoError(t, gerr)
					if want != nil {
						require.ErrorIs(t, err, want)
						var p *governance.Problem
						require.ErrorAs(t, err, &p, "a refusal is a sentence for the person")
						assert.NotEmpty(t, p.Message)
						assert.Equal(t, before.Version, after.Version, "a refusal changes nothing")
						if actor == other || (actor == fallback && escalated == 0) { // no part in it (yet)
							assert.Equal(t, "There is no request "+id+"; `status` lists yours and `pending` the ones waiting for you.", p.Message,
								"a stranger is told what a request that does not exist would tell")
						} else {
							assert.NotContains(t, p.Message, "There is no request", "someone with a part in it is told why")
						}
						return
					}
					require.NoError(t, err)
					wantState := map[string]governance.State{"approve": governance.StateApproved, "deny": governance.StateDenied,
						"cancel": governance.StateCancelled, "extend": governance.StateActive, "revoke": governance.StateRevoked}[action]
					if action == "approve" {
						b.deliver() // the built-in backend grants at once
						after, _ = b.store.Get(ctx, id)
						wantState = governance.StateActive
					}
					assert.Equal(t, wantState, after.State)
				})
			}
		}
	}
}

// Someone with no part in a request learns nothing from it: every command naming it
// answers as if it did not exist, and revoking someone's access by item answers as if they
// had none.
func TestStrangers_LearnNothingAboutARequest(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	id := b.request("db")
	eve := governance.Actor{Person: governance.Person{Email: "eve@example.com"}}
	missing := "AR-999"
	answer := func(err error) string {
		var p *governance.Problem
		require.ErrorAs(t, err, &p)
		return strings.ReplaceAll(p.Message, missing, id)
	}
	_, _, err := b.svc.Schedule(ctx, id, eve.Person)
	_, _, none := b.svc.Schedule(ctx, missing, eve.Person)
	assert.Equal(t, answer(none), answer(err), "schedule")
	_, err = b.svc.Cancel(ctx, id, eve)
	_, none = b.svc.Cancel(ctx, missing, eve)
	assert.Equal(t, answer(none), answer(err), "cancel")

	_, err = b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
	require.NoError(t, err)
	b.deliver()
	_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: eve, Target: id})
	_, none = b.svc.Revoke(ctx, governance.RevokeInput{By: eve, Target: missing})
	assert.Equal(t, answer(none), answer(err), "revoke by id")
	_, err = b.svc.Extend(ctx, id, eve)
	_, none = b.svc.Extend(ctx, missing, eve)
	assert.Equal(t, answer(none), answer(err), "extend")
	_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: eve, Target: "db", Holder: "Carol@Example.com"})
	_, none = b.svc.Revoke(ctx, governance.RevokeInput{By: eve, Target: "db", Holder: "dave@example.com"})
	assert.Equal(t, strings.ReplaceAll(answer(none), "dave@", "carol@"), answer(err), "revoke by item from someone")
}

// Cancelling a request whose access is active points at what the requester can do
// themselves: revoke it.
func TestCancel_ActiveAccessPointsAtRevoke(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	id := b.request("db")
	b.approve(id, "alice@example.com")
	_, err := b.svc.Cancel(ctx, id, governance.Actor{Person: governance.Person{Email: "carol@example.com"}})
	var p *governance.Problem
	require.ErrorAs(t, err, &p)
	assert.Equal(t, id+" is active, so there is nothing left to cancel; to give the access up, revoke it: `revoke "+id+"`.", p.Message)
	assert.NotContains(t, p.Message, "admin")
}

// Small answers that said the wrong thing: revoking an item that does not exist says so
// (not "no active access"), an empty request id asks for one, and a warning before the
// end says how long before.
func TestAnswers_SayWhatIsWrong(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{ExpiryNotices: []time.Duration{24 * time.Hour, time.Hour}})
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	_, err := b.svc.Revoke(ctx, governance.RevokeInput{By: carol, Target: "nonexistent"})
	assert.ErrorIs(t, err, governance.ErrUnknownItem)
	assert.ErrorContains(t, err, `There is no item "nonexistent"`)
	_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: carol, Target: "db"})
	assert.ErrorIs(t, err, governance.ErrNotActive, "a catalog item Carol does not hold")

	_, err = governance.ParseCommand("cancel")
	assert.ErrorContains(t, err, "Say which request: ids look like AR-7")
	assert.NotContains(t, err.Error(), `""`)

	id := b.request("db")
	_, err = b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
	require.NoError(t, err)
	b.deliver()
	r, err := b.store.Get(ctx, id)
	require.NoError(t, err)
	var labels []string
	for _, st := range governance.Steps(r) {
		labels = append(labels, st.Label())
	}
	assert.Equal(t, []string{"warning 1h before the end", "access ends"}, labels, "an 8h grant fits only the 1h warning")
}

// A guest acts with their own rights only: an admin or a manager the platform lists as a
// guest cannot revoke someone else's access, and may still give up their own.
func TestGuests_NeverActWithAnAdminsRights(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	id := b.request("db")
	b.approve(id, "alice@example.com")

	admin := governance.Actor{Person: governance.Person{Email: "admin@example.com"}, Guest: true}
	_, err := b.svc.Revoke(ctx, governance.RevokeInput{By: admin, Target: id})
	var p *governance.Problem
	require.ErrorAs(t, err, &p)
	assert.ErrorIs(t, err, governance.ErrNotAllowed)
	assert.Equal(t, "You are a guest here, so you can give up only your own access, not revoke "+id+" (Database).", p.Message)
	r, err := b.store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, r.State, "nothing changed")

	stranger := governance.Actor{Person: governance.Person{Email: "eve@example.com"}, Guest: true}
	_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: stranger, Target: id})
	assert.ErrorContains(t, err, "There is no request "+id, "a guest with no part in it learns nothing")

	holder := governance.Actor{Person: governance.Person{Email: "carol@example.com"}, Guest: true}
	r, err = b.svc.Revoke(ctx, governance.RevokeInput{By: holder, Target: id})
	require.NoError(t, err, "a guest gives up their own access")
	assert.Equal(t, governance.StateRevoked, r.State)
}

// A decision keeps who made it as the chat platform names them, beside their e-mail.
func TestDecide_RecordsTheApproversChatID(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	id := b.request("db")
	_, err := b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}, Platform: "slack", ChatID: "UALICE"}})
	require.NoError(t, err)
	r, err := b.store.Get(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, r.Decision)
	assert.Equal(t, "slack", r.Decision.Platform)
	assert.Equal(t, "UALICE", r.Decision.ChatID)
	assert.Equal(t, "alice@example.com", r.Decision.By.Email)
}

// TestAuthorisationMatrix_Stages checks approve and deny by every kind of actor at each
// point of a two-stage item (the manager's, then two of the owners'): only an approver of
// the stage deciding now who has not approved yet may decide, never the requester, and a
// person who approved does not decide again.
func TestAuthorisationMatrix_Stages(t *testing.T) {
	const (
		admin = "admin@example.com"
		eve   = "eve@example.com"
	)
	ok := error(nil)
	// The points of the request: before anyone decided, once the manager approved, once
	// the manager and Alice approved.
	points := []struct {
		name     string
		approved []string
		want     map[string]error
	}{
		{"stage 1", nil, map[string]error{carol: governance.ErrSelfApproval, mgr: ok, alice: governance.ErrNotApprover,
			bob: governance.ErrNotApprover, admin: governance.ErrNotApprover, eve: governance.ErrNotApprover}},
		{"stage 2, none of two", []string{mgr}, map[string]error{carol: governance.ErrSelfApproval, mgr: governance.ErrAlreadyDecided,
			alice: ok, bob: ok, dave: ok, admin: governance.ErrNotApprover, eve: governance.ErrNotApprover}},
		{"stage 2, one of two", []string{mgr, alice}, map[string]error{carol: governance.ErrSelfApproval, mgr: governance.ErrAlreadyDecided,
			alice: governance.ErrAlreadyDecided, bob: ok, dave: ok, admin: governance.ErrNotApprover, eve: governance.ErrNotApprover}},
	}
	strangers := map[string]bool{eve: true}
	ctx := context.Background()
	for _, pt := range points {
		for actor, want := range pt.want {
			for _, approve := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/approve=%t", pt.name, actor, approve), func(t *testing.T) {
					b := newStagedBed(t, governance.Schedule{})
					id := b.askStaged(carol).ID
					for _, who := range pt.approved {
						_, err := b.decide(id, who, true)
						require.NoError(t, err)
					}
					before := b.get(id)
					_, err := b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: approve, Reason: "no",
						Approver: governance.Actor{Person: governance.Person{Email: actor}}})
					b.deliver()
					after := b.get(id)
					if want != nil {
						require.ErrorIs(t, err, want)
						var p *governance.Problem
						require.ErrorAs(t, err, &p)
						assert.Equal(t, before.Version, after.Version, "a refusal changes nothing")
						stranger := strangers[actor] || (pt.name == "stage 1" && (actor == alice || actor == bob))
						assert.Equal(t, stranger, strings.HasPrefix(p.Message, "There is no request"),
							"someone with no part in it yet learns nothing; anyone else is told why: %s", p.Message)
						return
					}
					require.NoError(t, err)
					switch {
					case !approve:
						assert.Equal(t, governance.StateDenied, after.State, "one Deny ends it, at any stage")
					case pt.name == "stage 2, one of two":
						assert.Equal(t, governance.StateActive, after.State, "the last required approval grants")
					default:
						assert.Equal(t, governance.StatePendingApproval, after.State)
						assert.Len(t, after.Approvals, len(pt.approved)+1)
					}
				})
			}
		}
	}
}

// TestAuthorisationMatrix_AutoApproved: access a rule approved is nobody's to decide, and
// is revoked as any other: by its holder or an admin (from the FYI's Revoke), not by the
// approvers who were told, and a stranger learns nothing.
func TestAuthorisationMatrix_AutoApproved(t *testing.T) {
	const admin = "admin@example.com"
	catalog := items + `
  - id: shell
    name: Shell
    backend: builtin
    defaultDuration: 1h
    approvers: [alice@example.com]
    autoApprove:
      - group: db-owners
`
	for who, want := range map[string]error{dave: nil, admin: nil, alice: governance.ErrNotAllowed, "eve@example.com": governance.ErrNotAllowed} {
		t.Run(who, func(t *testing.T) {
			b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t), catalog: catalog}
			b.start(governance.Schedule{})
			ctx := context.Background()
			r, err := b.svc.Request(ctx, governance.RequestInput{Requester: actor(dave), Item: "shell", Reason: "deploy"})
			require.NoError(t, err)
			b.deliver()
			require.Equal(t, governance.StateActive, b.get(r.ID).State)
			_, err = b.decide(r.ID, alice, false)
			require.ErrorIs(t, err, governance.ErrAlreadyDecided, "nothing is left to decide")
			_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: actor(who), Target: r.ID})
			if want != nil {
				require.ErrorIs(t, err, want)
				assert.Equal(t, governance.StateActive, b.get(r.ID).State)
				if who == "eve@example.com" {
					assert.Contains(t, err.Error(), "There is no", "a stranger learns nothing")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, governance.StateRevoked, b.get(r.ID).State)
		})
	}
}
