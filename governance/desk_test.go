package governance_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// desk is a backend whose own approval policy decides, like SailPoint with approvals in
// ISC: Submit creates its approvals (the manager, then a group of two), the test plays its
// web UI, and decisions through accessbot are recorded with the identity they came as.
type desk struct {
	script
	mu        sync.Mutex
	approvals []*governance.BackendApproval
	decidedAs []string // "approvalID:identity:approved|rejected"
	next      int
}

func (d *desk) Name() string { return "desk" }

// Reminders is the desk's own reminder plan: days 2 and 3 after an approval opened.
func (d *desk) Reminders(context.Context) (governance.Schedule, error) {
	return governance.Schedule{DaysUntilEscalation: 2, DaysBetweenReminders: 1, MaxReminders: 2}, nil
}

func (d *desk) Submit(_ context.Context, g governance.Grant) (governance.Submission, error) {
	if !g.BackendDecides {
		return governance.Submission{}, fmt.Errorf("accessbot approved %s although the desk decides", g.RequestID)
	}
	ext := "REQ-" + g.RequestID
	d.open(ext, g.RequestID, g.Requester, g.Item.Ref, 1, "manager", "Mallory Manager", "mallory@example.com")
	return governance.Submission{ExternalID: ext, State: governance.StateSubmitted, Start: g.Start, End: g.End}, nil
}

// open adds a pending approval, as the backend's policy (or its portal) would.
func (d *desk) open(ext, ours string, forWho governance.Person, ref string, step int, stepName, owner string, approvers ...string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	a := &governance.BackendApproval{ID: fmt.Sprintf("APR-%d", d.next), RequestID: ext, Ours: ours, Requester: forWho, For: forWho,
		Item: governance.ItemRef{Ref: ref, Name: "Payroll"}, Comment: "month end", Owner: owner, Step: step, Steps: 2, StepName: stepName,
		Status: governance.ApprovalPending, Link: "https://tenant.example/approvals", CommentRequired: true}
	for _, e := range approvers {
		a.Approvers = append(a.Approvers, governance.Person{Email: e})
	}
	d.approvals = append(d.approvals, a)
	return a.ID
}

// decide decides an approval as who, as the backend's own UI would.
func (d *desk) decide(id, who string, approve bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.approvals {
		if a.ID == id && a.Status == governance.ApprovalPending {
			a.Status, a.DecidedBy, a.At = governance.ApprovalRejected, governance.Person{Email: who}, t0
			if approve {
				a.Status = governance.ApprovalApproved
			}
		}
	}
}

func (d *desk) PendingApprovals(context.Context) ([]governance.BackendApproval, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []governance.BackendApproval
	for _, a := range d.approvals {
		if a.Status == governance.ApprovalPending {
			c := *a
			c.Approvers = slices.Clone(a.Approvers)
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *desk) ApprovalOutcome(_ context.Context, x governance.BackendApproval) (governance.BackendApproval, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.approvals {
		if a.ID == x.ID {
			return *a, nil
		}
	}
	x.Status = governance.ApprovalGone
	return x, nil
}

func (d *desk) DecideApproval(_ context.Context, as governance.Account, x governance.ApprovalDecision) (governance.BackendApproval, error) {
	if as == nil {
		return governance.BackendApproval{}, fmt.Errorf("no account")
	}
	d.mu.Lock()
	var got *governance.BackendApproval
	for _, a := range d.approvals {
		if a.ID == x.Approval.ID {
			got = a
		}
	}
	d.mu.Unlock()
	who := as.Identity().Email
	if got == nil || !got.MayDecide(governance.Person{Email: who}) {
		return governance.BackendApproval{}, &governance.Problem{Err: governance.ErrNotApprover, Message: "not yours in the desk"}
	}
	if got.Status != governance.ApprovalPending {
		return governance.BackendApproval{}, &governance.Problem{Err: governance.ErrAlreadyDecided, Message: "already decided in the desk"}
	}
	d.decide(x.Approval.ID, who, x.Approve)
	verdict := "rejected"
	if x.Approve {
		verdict = "approved"
		if got.Step == 1 { // the policy's second step: a group of two
			d.open(got.RequestID, got.Ours, got.For, got.Item.Ref, 2, "owners", "Payroll owners", "olga@example.com", "oscar@example.com")
		}
	}
	d.mu.Lock()
	d.decidedAs = append(d.decidedAs, x.Approval.ID+":"+who+":"+verdict)
	d.mu.Unlock()
	return d.ApprovalOutcome(context.Background(), x.Approval)
}

// accounts are connected accounts: connected people are who they say.
type accounts struct {
	mu        sync.Mutex
	connected map[string]bool
}

type account struct{ email string }

func (a account) Identity() governance.Identity {
	return governance.Identity{ID: "id-" + a.email, Email: a.email}
}
func (a account) Token(context.Context) (string, error) { return "token-" + a.email, nil }

func (a *accounts) Account(_ context.Context, backend, email string) (governance.Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.connected[email] {
		return nil, fmt.Errorf("%s at %s: %w", email, backend, governance.ErrNotConnected)
	}
	return account{email}, nil
}

func (a *accounts) connect(email string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.connected[email] = true
}

const deskItems = `
items:
  - id: payroll
    name: Payroll
    backend: desk
    ref: ACCESS_PROFILE:payroll
    approvals: backend
    defaultDuration: 8h
`

type deskBed struct {
	*bed
	be    *desk
	accts *accounts
}

func newDeskBed(t *testing.T) *deskBed {
	be := &desk{script: script{status: governance.Submission{State: governance.StateSubmitted}}}
	return newDeskBedOver(t, be, be, "mallory@example.com", "olga@example.com", "oscar@example.com")
}

// newDeskBedOver is a bed whose one backend is be, which plays the desk d, with the
// accounts of the people connected connected.
func newDeskBedOver(t *testing.T, be governance.Backend, d *desk, connected ...string) *deskBed {
	accts := &accounts{connected: map[string]bool{}}
	for _, email := range connected {
		accts.connected[email] = true
	}
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t), catalog: deskItems,
		backend: be, accounts: accts}
	b.start(governance.Schedule{})
	return &deskBed{bed: b, be: d, accts: accts}
}

// poll polls the desk, one poll interval after the last, and delivers what it sends.
func (b *deskBed) poll() []string {
	b.t.Helper()
	b.clock.Advance(30 * time.Second)
	require.NoError(b.t, b.svc.SyncApprovals(context.Background()))
	b.deliver()
	return b.rec.Take()
}

// askAndPoll asks for payroll as Carol, hands it to the desk and polls the desk once, so
// that the manager has the desk's approval as a card; what was sent is forgotten.
func (b *deskBed) askAndPoll() *governance.Request {
	b.t.Helper()
	r := b.ask("payroll")
	b.deliver()
	b.poll()
	b.rec.Take()
	return r
}

func (b *deskBed) click(id, who string, approve bool, reason string) (*governance.Request, error) {
	r, err := b.svc.Decide(context.Background(), governance.DecideInput{RequestID: id, Approve: approve, Reason: reason,
		Approver: governance.Actor{Person: governance.Person{Email: who}, Platform: "slack", ChatID: "U-" + who}})
	b.deliver()
	return r, err
}

func (b *deskBed) pendingFor(who string) []string {
	rs, err := b.svc.PendingFor(context.Background(), governance.Person{Email: who})
	require.NoError(b.t, err)
	return requestIDs(rs)
}

// requestIDs are the ids of rs, in their order.
func requestIDs(rs []*governance.Request) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// A request made in chat goes to the backend at once; the backend's approvals come back
// as cards for the people it names, each decided in the backend as the person who
// clicked; every card and the requester follow each step.
func TestDesk_TheBackendsPolicyDecidesAndEachClickIsTheClickers(t *testing.T) {
	b := newDeskBed(t)
	r := b.ask("payroll")
	assert.Equal(t, governance.StateApproved, r.State, "handed to the backend, nobody of accessbot's asked")
	b.deliver()
	assert.Equal(t, []string{"submitted→carol@example.com"}, b.rec.Take(), "no card from accessbot's own policy")
	assert.Equal(t, "REQ-"+r.ID, b.get(r.ID).Desk.RequestID)

	assert.Equal(t, []string{"card→mallory@example.com"}, b.poll(), "the backend's step 1 asks the manager")
	assert.Equal(t, []string{r.ID}, b.pendingFor("mallory@example.com"), "one inbox: the backend's approval is in pending")
	assert.Empty(t, b.poll(), "a second poll sends nothing new")

	_, err := b.click(r.ID, "carol@example.com", true, "")
	assert.ErrorIs(t, err, governance.ErrSelfApproval)
	_, err = b.click(r.ID, "olga@example.com", true, "")
	assert.ErrorIs(t, err, governance.ErrNotApprover, "step 2's group has nothing to decide yet")

	got, err := b.click(r.ID, "mallory@example.com", true, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"APR-1:mallory@example.com:approved"}, b.be.decidedAs, "decided in the backend as the manager")
	assert.True(t, got.Desk.Approvals[0].InChat)
	assert.ElementsMatch(t, []string{"update→mallory@example.com:submitted", "step→carol@example.com"}, b.rec.Take())
	assert.Empty(t, b.pendingFor("mallory@example.com"))

	assert.ElementsMatch(t, []string{"card→olga@example.com", "card→oscar@example.com"}, b.poll(), "step 2: each member of the group")
	assert.Empty(t, b.poll(), "the manager's approval, decided in chat, is not reported again")
	_, err = b.click(r.ID, "oscar@example.com", false, "")
	assert.ErrorIs(t, err, governance.ErrDenyReasonRequired, "the backend requires a comment to reject")
	_, err = b.click(r.ID, "oscar@example.com", false, "not this month")
	require.NoError(t, err)
	assert.Contains(t, b.be.decidedAs, "APR-2:oscar@example.com:rejected")
	assert.ElementsMatch(t, []string{"update→mallory@example.com:submitted", "update→olga@example.com:submitted",
		"update→oscar@example.com:submitted", "step→carol@example.com"}, b.rec.Take())
	_, err = b.click(r.ID, "olga@example.com", true, "")
	assert.ErrorIs(t, err, governance.ErrAlreadyDecided, "the other member is told who decided")
	assert.Empty(t, b.pendingFor("olga@example.com"))
}

// A request made in the backend's own portal reaches its approver as a card within one
// poll, and a decision made there updates the card at the next.
func TestDesk_RequestsMadeInTheBackendAndDecisionsMadeThereReachChat(t *testing.T) {
	b := newDeskBed(t)
	carol := governance.Person{Email: "carol@example.com", Name: "Carol"}
	apr := b.be.open("REQ-portal", "", carol, "ACCESS_PROFILE:payroll", 1, "manager", "Mallory", "mallory@example.com")
	assert.Equal(t, []string{"card→mallory@example.com"}, b.poll())
	ids := b.pendingFor("mallory@example.com")
	require.Len(t, ids, 1)
	r := b.get(ids[0])
	assert.True(t, r.Desk.Portal)
	assert.Equal(t, "payroll", r.Item.ID, "the catalog item with the same ref")
	assert.Equal(t, governance.StateSubmitted, r.State)
	assert.Equal(t, []string{r.ID}, listIDs(t, b.svc, "carol@example.com"), "the person it is for sees it in status")

	b.be.decide(apr, "mallory@example.com", true)
	assert.ElementsMatch(t, []string{"update→mallory@example.com:submitted", "step→carol@example.com"}, b.poll())
	got := b.get(r.ID)
	assert.Equal(t, governance.ApprovalApproved, got.Desk.Approvals[0].Status)
	assert.False(t, got.Desk.Approvals[0].InChat)
	assert.Equal(t, "mallory@example.com", got.Desk.Approvals[0].DecidedBy.Email)
	_, err := b.click(r.ID, "mallory@example.com", true, "")
	assert.ErrorIs(t, err, governance.ErrAlreadyDecided)
}

func listIDs(t *testing.T, svc *governance.Service, who string) []string {
	rs, err := svc.Mine(context.Background(), governance.Person{Email: who})
	require.NoError(t, err)
	return requestIDs(rs)
}

// An approver who has not connected their account is told how, and their click is
// carried out once they have: never as someone else.
func TestDesk_AClickBeforeConnectingIsCarriedOutOnceConnected(t *testing.T) {
	b := newDeskBed(t)
	delete(b.accts.connected, "mallory@example.com")
	r := b.askAndPoll()
	_, err := b.click(r.ID, "mallory@example.com", true, "")
	require.ErrorIs(t, err, governance.ErrNotConnected)
	assert.Contains(t, err.Error(), "`connect desk`")
	assert.Empty(t, b.be.decidedAs, "nothing decided as anyone else")
	assert.Len(t, b.get(r.ID).Desk.Intents, 1)

	b.accts.connect("mallory@example.com")
	require.NoError(t, b.svc.Connected(context.Background(), "desk",
		governance.Actor{Person: governance.Person{Email: "mallory@example.com"}, Platform: "teams", ChatID: "29:m"}))
	b.deliver()
	assert.Equal(t, []string{"APR-1:mallory@example.com:approved"}, b.be.decidedAs)
	assert.Empty(t, b.get(r.ID).Desk.Intents)
}

// Metadata anyone may write in the backend does not attach their request to someone
// else's: an approval naming AR-1 whose backend request is another is a request of its own.
func TestDesk_ForgedMetadataDoesNotAttachToAnotherRequest(t *testing.T) {
	b := newDeskBed(t)
	r := b.askAndPoll()
	mallet := governance.Person{Email: "mallet@example.com"}
	b.be.open("REQ-forged", r.ID, mallet, "ACCESS_PROFILE:payroll", 1, "manager", "Mallory", "mallory@example.com")
	b.poll()
	ids := b.pendingFor("mallory@example.com")
	require.Len(t, ids, 2)
	assert.Len(t, b.get(r.ID).Desk.Approvals, 1, "Carol's request keeps only its own approval")
	for _, id := range ids {
		if id != r.ID {
			assert.Equal(t, "mallet@example.com", b.get(id).Requester.Email)
		}
	}
}

// When the backend moves an approval to someone else (a forward, its own escalation), the
// new owner gets a card and the old card says where it went.
func TestDesk_AnApprovalMovedInTheBackendMovesInChat(t *testing.T) {
	b := newDeskBed(t)
	r := b.askAndPoll()
	b.be.mu.Lock()
	b.be.approvals[0].Owner, b.be.approvals[0].Approvers = "Nina", []governance.Person{{Email: "nina@example.com"}}
	b.be.mu.Unlock()
	b.accts.connect("nina@example.com")
	got := b.poll()
	assert.Contains(t, got, "card→nina@example.com")
	assert.Contains(t, got, "update→mallory@example.com:submitted", "the old card says where it went")
	_, err := b.click(r.ID, "mallory@example.com", true, "")
	require.ErrorIs(t, err, governance.ErrNotApprover)
	assert.True(t, strings.Contains(err.Error(), "moved this approval"), err.Error())
	_, err = b.click(r.ID, "nina@example.com", true, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"APR-1:nina@example.com:approved"}, b.be.decidedAs)
}

func (b *deskBed) get(id string) *governance.Request {
	r, err := b.store.Get(context.Background(), id)
	require.NoError(b.t, err)
	return r
}

// The backend's approvals are reminded in chat on the backend's own plan, to the people
// each approval waits for, and never escalated by accessbot: the backend escalates.
func TestDesk_RemindersFollowTheBackendsPlan(t *testing.T) {
	b := newDeskBed(t)
	r := b.askAndPoll()
	days := map[int][]string{}
	for day := 1; day <= 5; day++ {
		b.clock.Advance(governance.Day)
		b.sweep()
		days[day] = b.rec.Take()
	}
	assert.Equal(t, map[int][]string{1: nil, 2: {"reminder→mallory@example.com"}, 3: {"reminder→mallory@example.com"}, 4: nil, 5: nil}, days)
	_, err := b.click(r.ID, "mallory@example.com", true, "")
	require.NoError(t, err)
	b.poll()
	b.rec.Take()
	b.clock.Advance(2 * governance.Day)
	b.sweep()
	assert.Equal(t, []string{"reminder→olga@example.com", "reminder→oscar@example.com"}, sorted(b.rec.Take()), "step 2's plan starts when it opens")
}

func sorted(s []string) []string { slices.Sort(s); return s }
