package governance_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

const (
	carol = "carol@example.com"
	mgr   = "mgr@example.com" // Carol's manager
	alice = "alice@example.com"
	bob   = "bob@example.com"
	dave  = "dave@example.com" // in group db-owners, with Alice
)

func newStagedBed(t *testing.T, sched governance.Schedule) *bed {
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t), catalog: stagedItems}
	b.start(sched)
	return b
}

// askStaged files Carol's request for the staged item, with a ticket, and delivers it.
func (b *bed) askStaged(who string) *governance.Request {
	b.t.Helper()
	r, err := b.svc.Request(context.Background(), governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: who}}, Item: "staged", Reason: "INC-4711 the orders table"})
	require.NoError(b.t, err)
	b.deliver()
	return r
}

func (b *bed) decide(id, who string, approve bool) (*governance.Request, error) {
	b.t.Helper()
	r, err := b.svc.Decide(context.Background(), governance.DecideInput{RequestID: id, Approve: approve, Reason: "not now",
		Approver: governance.Actor{Person: governance.Person{Email: who}}})
	b.deliver()
	return r, err
}

func (b *bed) get(id string) *governance.Request {
	b.t.Helper()
	r, err := b.store.Get(context.Background(), id)
	require.NoError(b.t, err)
	return r
}

func TestStages_ManagerThenTwoOwnersEachStageInTurnAndTheGrantOnceAtTheEnd(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	r := b.askStaged(carol)
	assert.Equal(t, []string{"card→" + mgr}, b.rec.Take(), "only the first stage's approver has a card")
	assert.Equal(t, []governance.Person{{Email: mgr}}, r.Approvers)

	_, err := b.decide(r.ID, alice, true)
	require.ErrorIs(t, err, governance.ErrNotApprover)
	assert.Contains(t, err.Error(), "There is no request", "stage 2's approvers have no part in it before stage 1 is done")

	_, err = b.decide(r.ID, mgr, true)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"update→" + mgr + ":pending_approval", "stage→" + carol,
		"card→" + alice, "card→" + bob, "card→" + dave}, b.rec.Take(), "stage 2's approvers get their cards when stage 1 completes")
	got := b.get(r.ID)
	assert.Equal(t, 1, got.Stage)
	assert.Equal(t, governance.StatePendingApproval, got.State)

	_, err = b.decide(r.ID, mgr, true)
	require.ErrorIs(t, err, governance.ErrAlreadyDecided, "nobody decides twice")

	_, err = b.decide(r.ID, alice, true)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"update→" + mgr + ":pending_approval", "update→" + alice + ":pending_approval",
		"update→" + bob + ":pending_approval", "update→" + dave + ":pending_approval"}, b.rec.Take(),
		"every approver's card shows the approval; one of two is not enough")
	_, err = b.decide(r.ID, alice, true)
	require.ErrorIs(t, err, governance.ErrAlreadyDecided)
	_, err = b.decide(r.ID, carol, true)
	require.ErrorIs(t, err, governance.ErrSelfApproval)

	done, err := b.decide(r.ID, dave, true)
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, b.get(r.ID).State, "the second owner's approval completes the last stage: granted")
	assert.Equal(t, dave, done.Decision.By.Email)
	ev := b.rec.Take()
	assert.Contains(t, ev, "approved→"+carol)
	assert.Contains(t, ev, "active→"+carol)
	assert.Len(t, b.get(r.ID).Approvals, 3)
	require.NotNil(t, b.get(r.ID).Submission, "the built-in backend granted it")
	assert.Equal(t, "builtin:"+r.ID, b.get(r.ID).Submission.ExternalID)

	_, err = b.decide(r.ID, bob, true)
	require.ErrorIs(t, err, governance.ErrAlreadyDecided, "once decided, a late click is told")
}

func TestStages_ADenyInTheSecondStageEndsIt(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	r := b.askStaged(carol)
	_, err := b.decide(r.ID, mgr, true)
	require.NoError(t, err)
	_, err = b.decide(r.ID, bob, true)
	require.NoError(t, err)
	b.rec.Take()
	_, err = b.decide(r.ID, dave, false)
	require.NoError(t, err)
	got := b.get(r.ID)
	assert.Equal(t, governance.StateDenied, got.State)
	assert.Equal(t, dave, got.Decision.By.Email)
	ev := b.rec.Take()
	assert.Contains(t, ev, "denied→"+carol)
	assert.NotContains(t, ev, "approved→"+carol)
	_, ok := b.grant(r.ID)
	assert.False(t, ok, "nothing was granted")
}

func TestStages_WhoApprovedAStageDoesNotCountInTheNext(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	r := b.askStaged("erin@example.com") // Erin's manager is Alice, an owner too
	b.rec.Take()
	_, err := b.decide(r.ID, alice, true)
	require.NoError(t, err)
	ev := b.rec.Take()
	assert.NotContains(t, ev, "card→"+alice, "Alice has her card; it shows the progress")
	_, err = b.decide(r.ID, alice, true)
	require.ErrorIs(t, err, governance.ErrAlreadyDecided)
	_, err = b.decide(r.ID, bob, true)
	require.NoError(t, err)
	_, err = b.decide(r.ID, dave, true)
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, b.get(r.ID).State)
}

func TestStages_TheRequesterIsNeverAnApproverAndAStageWithoutEnoughOthersIsRefused(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	// Alice asks: her manager Bob decides stage 1; stage 2 without Alice is Bob and Dave.
	r := b.askStaged(alice)
	assert.Equal(t, 2, len(r.Stages[1].Approvers))
	assert.NotContains(t, r.Stages[1].Approvers, governance.Person{Email: alice})

	// Dave has no manager anyone knows.
	_, err := b.svc.Request(context.Background(), governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: dave}}, Item: "staged", Reason: "CHG-1 deploy"})
	require.ErrorIs(t, err, governance.ErrNoApprover)
	assert.Contains(t, err.Error(), "accessbot does not know your manager")
}

func TestStages_ATicketRuleRefusesAReasonWithoutOneAndExplainsThePattern(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	for _, reason := range []string{"", "the orders table", "see INC-", "inc-42 lower case"} {
		_, err := b.svc.Request(context.Background(), governance.RequestInput{
			Requester: governance.Actor{Person: governance.Person{Email: carol}}, Item: "staged", Reason: reason})
		require.ErrorIs(t, err, governance.ErrJustificationRequired, reason)
		var p *governance.Problem
		require.ErrorAs(t, err, &p)
		assert.Equal(t, "reason", p.Field)
		if reason != "" {
			assert.Contains(t, p.Message, "`^(INC|CHG)-[0-9]+`")
			assert.Contains(t, p.Message, "starting with INC- or CHG- and a number, e.g. INC-1234")
		}
	}
	_, err := b.svc.Request(context.Background(), governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: carol}}, Item: "staged", Reason: "CHG-17 schema change"})
	require.NoError(t, err)
}

// Reminders, escalation and the timeout run per stage: each stage's schedule counts from
// the moment it began.
func TestSweep_EachStageHasItsOwnRemindersEscalationAndTimeout(t *testing.T) {
	const fallback = "fallback@example.com"
	b := newStagedBed(t, governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, MaxReminders: 1,
		FallbackApprover: fallback, RequestExpiryDays: 4})
	r := b.askStaged(carol)
	b.rec.Take()
	assert.Equal(t, map[int][]string{
		1: {"reminder→" + mgr},
		2: {"alert→admins#1", "card→" + fallback, "escalated→" + carol},
	}, b.days(2), "stage 1: reminder on day 1, escalation on day 2")

	b.clock.Advance(12 * time.Hour) // day 2.5: the manager approves
	_, err := b.decide(r.ID, mgr, true)
	require.NoError(t, err)
	b.rec.Take()

	got := b.days(5)
	assert.Equal(t, []string{"reminder→" + alice, "reminder→" + bob, "reminder→" + dave}, sorted(got[1]),
		"stage 2's reminder comes a day after stage 2 began (day 3.5), to its approvers only")
	assert.ElementsMatch(t, []string{"alert→admins#1", "update→" + fallback + ":pending_approval", "escalated→" + carol}, got[2],
		"stage 2 escalates on its own day 2, to the fallback (who did not decide stage 1), whose card gets its buttons again")
	assert.Equal(t, []string{"reminder→" + alice, "reminder→" + bob, "reminder→" + dave, "reminder→" + fallback}, sorted(got[3]),
		"the chain has ended: everyone who may decide stage 2 is reminded")
	assert.Contains(t, got[4], "timed_out→"+carol, "the timeout counts from the stage's start: day 2.5 + 4")
	assert.Equal(t, governance.StateTimedOut, b.get(r.ID).State)
}

func TestSchedule_ShowsTheStageDecidingNowAndItsOwnPlan(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, MaxReminders: 1, RequestExpiryDays: 4})
	r := b.askStaged(carol)
	b.clock.Advance(36 * time.Hour)
	_, err := b.decide(r.ID, mgr, true)
	require.NoError(t, err)
	got, steps, err := b.svc.Schedule(context.Background(), r.ID, governance.Person{Email: bob})
	require.NoError(t, err)
	assert.Equal(t, 1, got.Stage)
	require.NotEmpty(t, steps)
	assert.Equal(t, t0.Add(36*time.Hour+governance.Day), steps[0].At, "stage 2's first reminder, a day after it began")
	assert.Equal(t, t0.Add(36*time.Hour+4*governance.Day), steps[len(steps)-1].At, "its timeout, four days after it began")
}

// A request stored before stages existed reads as one stage of its approvers, decided by
// any one of them.
func TestStages_ARequestStoredWithoutStagesIsOneStage(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	old := `{"id":"AR-900","version":1,"state":"pending_approval","requester":{"email":"carol@example.com"},
		"item":{"id":"db","name":"Database","backend":"builtin","ref":"db"},"duration":3600000000000,
		"approvers":[{"email":"alice@example.com"},{"email":"bob@example.com"}],"schedule":{"daysUntilEscalation":0,"daysBetweenReminders":0,"maxReminders":0,"requestExpiryDays":0},
		"createdAt":"2026-11-02T09:00:00Z","updatedAt":"2026-11-02T09:00:00Z"}`
	var r governance.Request
	require.NoError(t, json.Unmarshal([]byte(old), &r))
	created, err := b.store.Create(context.Background(), &r, governance.Effects{})
	require.NoError(t, err)
	require.True(t, created)
	assert.False(t, r.Staged())
	assert.True(t, r.CanDecide(governance.Person{Email: bob}))
	pending, err := b.svc.PendingFor(context.Background(), governance.Person{Email: bob})
	require.NoError(t, err)
	require.Len(t, pending, 1)
	_, err = b.decide("AR-900", bob, true)
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, b.get("AR-900").State, "one approval decides it")
}

func TestPendingFor_ListsOnlyWhatWaitsForThePersonNow(t *testing.T) {
	b := newStagedBed(t, governance.Schedule{})
	r := b.askStaged(carol)
	ctx := context.Background()
	mine := func(who string) int {
		rs, err := b.svc.PendingFor(ctx, governance.Person{Email: who})
		require.NoError(t, err)
		return len(rs)
	}
	assert.Equal(t, 1, mine(mgr))
	assert.Equal(t, 0, mine(alice))
	_, err := b.decide(r.ID, mgr, true)
	require.NoError(t, err)
	assert.Equal(t, 0, mine(mgr), "the manager decided their stage")
	assert.Equal(t, 1, mine(alice))
	_, err = b.decide(r.ID, alice, true)
	require.NoError(t, err)
	assert.Equal(t, 0, mine(alice), "Alice approved; it waits for the others")
	assert.Equal(t, 1, mine(bob))
}

// A group rule approves its members at once, up to its maxDuration; the approvers and the
// admins are told, the audit trail names the rule.
func TestAutoApproval_AGroupRuleApprovesItsMembersUpToItsMaxDuration(t *testing.T) {
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t), catalog: items + `
  - id: shell
    name: Shell
    backend: builtin
    defaultDuration: 1h
    approvers: [alice@example.com]
    autoApprove:
      - group: db-owners
        maxDuration: 2h
`}
	b.start(governance.Schedule{})
	ctx := context.Background()
	r, err := b.svc.Request(ctx, governance.RequestInput{Requester: actor(dave), Item: "shell", Reason: "deploy"})
	require.NoError(t, err)
	b.deliver()
	assert.Equal(t, "a member of group db-owners", r.AutoApproved)
	assert.Equal(t, governance.StateActive, b.get(r.ID).State)
	ev := b.rec.Take()
	assert.Contains(t, ev, "auto_approved→"+alice)
	assert.Contains(t, ev, "auto_approved_admin→admin@example.com")
	assert.Contains(t, ev, "approved→"+dave)
	assert.NotContains(t, ev, "card→"+alice)

	r, err = b.svc.Request(ctx, governance.RequestInput{Requester: actor(dave), Item: "shell", Reason: "longer", Duration: 3 * time.Hour,
		IdempotencyKey: "k2"})
	require.ErrorIs(t, err, governance.ErrAlreadyRequested, "Dave holds it already")
	_ = r
	r, err = b.svc.Request(ctx, governance.RequestInput{Requester: actor(bob), Item: "shell", Reason: "not in the group"})
	require.NoError(t, err)
	b.deliver()
	assert.Equal(t, governance.StatePendingApproval, b.get(r.ID).State)
	assert.Contains(t, b.rec.Take(), "card→"+alice)

	// Revoking auto-approved access: the admins (from the FYI) and the holder; not the approver.
	_, err = b.svc.Revoke(ctx, governance.RevokeInput{By: actor(alice), Target: "AR-1"})
	require.ErrorIs(t, err, governance.ErrNotAllowed)
	got, err := b.svc.Revoke(ctx, governance.RevokeInput{By: actor("admin@example.com"), Target: "AR-1"})
	require.NoError(t, err)
	assert.Equal(t, governance.StateRevoked, got.State)

	// Never for a request made on someone's behalf: the admin asks for Dave, a member.
	r, err = b.svc.Request(ctx, governance.RequestInput{Requester: actor("admin@example.com"), Item: "shell", Reason: "for him",
		For: governance.Person{Email: dave}})
	require.NoError(t, err)
	assert.Empty(t, r.AutoApproved)
	assert.Equal(t, governance.StatePendingApproval, r.State, "his approver decides")
}

// groupScript is the script backend with groups of its own, as SailPoint has governance
// groups.
type groupScript struct {
	script
	groups map[string][]governance.Person
}

func (g *groupScript) MembersOf(_ context.Context, name string) ([]governance.Person, bool, error) {
	ms, ok := g.groups[name]
	return ms, ok, nil
}

// A group:<name> approver the configuration does not define is the backend's own group,
// read when a request is made; config check accepts it only for a backend that has groups.
func TestStages_AGroupTheConfigurationDoesNotDefineIsTheBackends(t *testing.T) {
	catalog, err := governance.ParseCatalog([]byte(`
items:
  - id: payroll
    name: Payroll
    backend: script
    approval:
      stages:
        - name: approvers
          approvers: [group:Payroll Approvers]
          required: 2
  - id: nope
    name: Nope
    backend: script
    approval:
      stages:
        - approvers: [group:No Such Group]
`))
	require.NoError(t, err)
	assert.Empty(t, governance.CheckPolicies(catalog, governance.PolicyOptions{GroupBackends: []string{"script"}}))
	assert.NotEmpty(t, governance.CheckPolicies(catalog, governance.PolicyOptions{}), "without groups of its own, an undefined group is refused")

	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t)}
	b.store = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: b.prefix})
	be := &groupScript{script: script{status: governance.Submission{State: governance.StateSubmitted}},
		groups: map[string][]governance.Person{"Payroll Approvers": {{Email: alice}, {Email: bob}, {Email: carol}}}}
	b.svc, err = governance.NewService(governance.Config{Catalog: catalog, Store: b.store, Backends: []governance.Backend{be},
		Notifier: b.rec, Clock: b.clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.disp = governance.NewDispatcher(b.svc, "bed")
	b.ask("payroll")
	b.deliver()
	assert.ElementsMatch(t, []string{"card→" + alice, "card→" + bob}, b.rec.Take(), "the group's members, never the requester")
	_, err = b.svc.Request(context.Background(), governance.RequestInput{Requester: governance.Actor{Person: governance.Person{Email: carol}},
		Item: "nope", Reason: "why"})
	require.ErrorIs(t, err, governance.ErrNoApprover)
	assert.Contains(t, err.Error(), "script has no group called No Such Group")
}
