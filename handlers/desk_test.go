package handlers_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

// SailPoint's own approvals, decided in chat: a fake ISC tenant whose access profile
// Payroll Reader asks Carol's manager Bob, then the governance group Payroll Approvers
// (Alice, who uses Teams, and Erin, who uses Slack).
const (
	iscBob   = "2c9180857182305e0171993735622950"
	iscAlice = "2c9180857182305e0171993735622951"
	iscErin  = "2c9180857182305e0171993735622952"
	iscGroup = "2c9180857182305e01719937356229b9"
	iscOAuth = "0c4d6f52-4a1e-4bfb-9a8e-35c3b8a0a7d1"
)

var deskCatalog = "items:" + payrollItem("sailpoint", "ACCESS_PROFILE:"+iscPayroll, "approvals: backend")

// deskWorld is accessbot over a backend whose own approval policy decides, with the Slack
// and Teams people of every test, served on a real listener so that people connect their
// backend accounts in a browser.
type deskWorld struct {
	*world
	backend string // the backend people connect to
	isc     *iscfake.Server
}

func newDeskWorld(t *testing.T) *deskWorld {
	w := newPublicWorld(t, deskCatalog, true)
	isc := iscfake.New(iscfake.Options{Now: w.clock.Now})
	t.Cleanup(isc.Close)
	isc.SetConfig([]byte(`{"approvalsMustBeExternal": false}`))
	isc.AddIdentity(iscCarol, "carol@example.com", "Carol", iscBob)
	isc.AddIdentity(iscBob, "bob@example.com", "Bob", "")
	isc.AddIdentity(iscAlice, "alice@example.com", "Alice", "")
	isc.AddIdentity(iscErin, "erin@example.com", "Erin", "")
	isc.AddIdentity(iscDave, "dave@example.com", "Dave", "")
	for id, login := range map[string]string{iscBob: "bob", iscAlice: "alice", iscErin: "erin"} {
		isc.SetLogin(id, login, login+"-pw")
	}
	isc.AddItem("ACCESS_PROFILE", iscPayroll, "Payroll Reader", "Read payroll")
	isc.AddGroup(iscGroup, "Payroll Approvers", iscAlice, iscErin)
	isc.SetApprovalSchemes(iscPayroll, iscfake.Scheme{Approver: iscfake.SchemeManager},
		iscfake.Scheme{Approver: iscfake.SchemeGovernanceGroup, GroupID: iscGroup})
	isc.AddOAuthClient(iscfake.OAuthClient{ID: iscOAuth, Secret: "connect-secret", Name: "accessbot connect", Enabled: true,
		AccessType: "OFFLINE", RedirectURIs: []string{w.public + sailpoint.ConnectCallbackPath},
		GrantTypes: []string{iscfake.GrantAuthorizationCode, iscfake.GrantRefreshToken}})
	be, err := sailpoint.New(sailpoint.Options{BaseURL: isc.URL, ClientID: "pat-id", ClientSecret: "pat-secret", Clock: w.clock,
		Rate: 1000, Burst: 100, Logger: quiet(), Connect: sailpoint.ConnectClient{ClientID: iscOAuth, ClientSecret: "connect-secret"}})
	require.NoError(t, err)
	w.extra = []governance.Backend{be}
	w.connectors = map[string]governance.Connector{sailpoint.Name: be}
	w.start()
	w.install("29:alice")
	return &deskWorld{world: w, backend: sailpoint.Name, isc: isc}
}

// poll is the scheduler's approvals poll, one interval after the last, with what it sends
// delivered and the status checks it makes due carried out.
func (w *deskWorld) poll() {
	w.t.Helper()
	w.clock.Advance(30 * time.Second)
	require.NoError(w.t, w.svc.SyncApprovals(context.Background()))
	w.drain()
	governancetest.SweepAll(w.t, w.svc)
	w.drain()
}

// connectInBrowser signs login in at the backend's login form (its fake's) through the
// connect link in text, in Chromium, and waits for what accessbot does once they have
// connected.
func (w *deskWorld) connectInBrowser(text, login string) {
	w.t.Helper()
	link := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/connect/` + w.backend + `\?t=[^)\s"]+)`)
	m := link.FindStringSubmatch(text)
	require.NotNil(w.t, m, "no connect link in %q", text)
	p := openAndSignIn(w.t.(*testing.T), browser(w.t.(*testing.T)), m[1], login, login+"-pw", "#signin")
	require.Equal(w.t, "Connected", p.title, p.lead)
	require.NoError(w.t, w.bg.Wait(context.Background()))
	w.drain()
}

// activeWithCardsClosed checks the end of a two-level request decided in chat: AR-1 is
// active and Carol is told so; Erin's Slack card says who decided the last level
// (lastDecider) and asks nothing more; Alice's Teams card was redrawn with her decision.
func (w *deskWorld) activeWithCardsClosed(lastDecider string) {
	t := w.t
	t.Helper()
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
	assert.Contains(t, w.dmText("UCAROL"), "Your access to Payroll Reader `payroll` is active until")
	assert.Contains(t, w.card("UERIN"), "Approved by "+lastDecider, "the other member's card says who decided")
	assert.NotContains(t, w.card("UERIN"), "[ Approve ]")
	assert.Contains(t, w.lastRedrawn(), "Approved by Alice", "Alice's Teams card was redrawn in place")
}

func reviewers(isc *iscfake.Server) []string {
	var out []string
	for _, c := range isc.CompletedApprovals() {
		out = append(out, c.ReviewedBy.ID)
	}
	return out
}

// A request made in chat for a two-level item is decided by the manager in Slack and by
// a group member in Teams, each with their own connected account: ISC records those two
// people as its approvers, every card on both platforms ends showing the outcome, and the
// requester hears that the access is active.
func TestDesk_SailPointsTwoLevelsDecidedInSlackAndTeamsAsThePeopleTheyAre(t *testing.T) {
	w := newDeskWorld(t)
	answer := w.ask("UCAROL", "request payroll for 4h because quarter close")
	assert.Contains(t, answer, "goes to SailPoint, whose approval policy names the approvers")
	require.Len(t, w.isc.Submitted(), 1, "handed to ISC at once")
	assert.Empty(t, w.dms("UBOB"), "accessbot's own policy asks nobody")

	w.poll()
	card := w.card("UBOB")
	assert.Contains(t, card, "Step")
	assert.Contains(t, card, "1: manager")
	assert.Contains(t, card, "[ Approve ]")
	assert.Contains(t, w.ask("UBOB", "pending"), "AR-1", "one inbox: ISC's approval is in Bob's pending list")

	// Bob has not connected: the click answers with his link, and is kept.
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	reply := w.replies("UBOB", 1)[0]
	assert.Contains(t, reply, "connect your account once with `/access connect sailpoint`")
	assert.Contains(t, reply, "Your approval of AR-1 is kept")
	assert.Empty(t, w.isc.CompletedApprovals(), "nothing decided as anyone else meanwhile")
	w.connectInBrowser(reply, "bob")
	assert.Equal(t, []string{iscBob}, reviewers(w.isc), "ISC records Bob, once he connected")

	// Step 2: every member of the group, each where they are.
	w.poll()
	assert.Contains(t, w.lastSentTo("a:alice"), "2: governance group")
	assert.Contains(t, w.card("UERIN"), "[ Approve ]")
	assert.Contains(t, w.card("UBOB"), "Approved by Bob")

	w.connectInBrowser(w.sayTeams("29:alice", "connect sailpoint"), "alice")
	resp := w.execute("29:alice", "approve", "AR-1", nil)
	assert.Contains(t, teamsfake.CardText(resp["value"]), "Approved by Alice", "Alice's card shows her decision")
	w.drain()
	assert.Equal(t, []string{iscBob, iscAlice}, reviewers(w.isc), "ISC records the two people who decided")

	w.poll()
	w.activeWithCardsClosed("Alice")
	assert.Contains(t, w.dmText("UCAROL"), "Bob (bob@example.com) approved your request AR-1")
}

// A request made in ISC's own Request Center reaches its approver as a card within one
// poll, and a decision made in ISC's UI updates that card at the next.
func TestDesk_ARequestMadeInSailPointAndDecidedThereShowsInChat(t *testing.T) {
	w := newDeskWorld(t)
	w.isc.RequestInUI(iscCarol, iscCarol, iscPayroll, "month end")
	w.poll()
	card := w.card("UBOB")
	assert.Contains(t, card, "Carol")
	assert.Contains(t, card, "month end")
	assert.Contains(t, card, "Duration: no end", "ISC's request asked for no end")
	assert.Contains(t, card, "[ Approve ]")

	approvals := w.isc.PendingApprovals()
	require.Len(t, approvals, 1)
	require.Zero(t, w.isc.DecideInUI(approvals[0].ID, iscBob, "approve", "from my phone", ""))
	w.poll()
	card = w.card("UBOB")
	assert.Contains(t, card, "Approved by Bob")
	assert.Contains(t, card, "in SailPoint")
	assert.NotContains(t, card, "[ Approve ]")
	assert.True(t, strings.Contains(w.dmText("UCAROL"), "Bob (bob@example.com) approved your request"), w.dmText("UCAROL"))
}

// Forward hands ISC's approval to someone else, in ISC, as the person who forwarded it:
// from Slack's form and from a Teams card; the new owner gets a card at the next poll and
// the old card says where it went.
func TestDesk_ForwardInSlackAndTeams(t *testing.T) {
	w := newDeskWorld(t)
	w.ask("UCAROL", "request payroll for 4h because quarter close")
	w.poll()
	w.connectInBrowser(w.ask("UBOB", "connect sailpoint"), "bob")

	w.click("UBOB", slackbot.ActionForward, "AR-1")
	require.Len(t, w.slack.Calls("views.open"), 1, "the forward form")
	rec := w.submit("UBOB", slackbot.CallbackForward, "AR-1", map[string]string{"forward_to": "carol@example.com", "reason": "x"})
	assert.Contains(t, rec.Body.String(), "asked for it and cannot decide it", "never to the requester")
	rec = w.submit("UBOB", slackbot.CallbackForward, "AR-1", map[string]string{"forward_to": "alice@example.com", "reason": "Alice covers payroll"})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.String(), "the form closes")
	w.drain()
	approvals := w.isc.PendingApprovals()
	require.Len(t, approvals, 1)
	assert.Equal(t, iscAlice, approvals[0].Owner.ID, "forwarded in ISC")
	assert.Contains(t, w.card("UBOB"), "Forwarded by Bob (bob@example.com) to Alice")
	assert.NotContains(t, w.card("UBOB"), "[ Approve ]")

	w.poll()
	assert.Contains(t, w.lastSentTo("a:alice"), "[Forward]", "the new owner's card")
	w.connectInBrowser(w.sayTeams("29:alice", "connect sailpoint"), "alice")
	resp := w.execute("29:alice", "forward", "AR-1", map[string]any{"forward_to": "dave@example.com", "reason": "Dave decides payroll"})
	assert.Contains(t, teamsfake.CardText(resp["value"]), "Forwarded by Alice (alice@example.com) to Dave")
	approvals = w.isc.PendingApprovals()
	require.Len(t, approvals, 1)
	assert.Equal(t, iscDave, approvals[0].Owner.ID)
	w.poll()
	assert.Contains(t, w.card("UDAVE"), "[ Approve ]", "Dave, who never used accessbot, is asked")
}
