package handlers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/entra/graphfake"
)

// Entra Entitlement Management's own approvals, decided in chat: a fake tenant whose
// access package Payroll Reader, under its self-service policy, asks Carol's manager Bob
// (stage 1), then the group Payroll Approvers (Alice, who uses Teams, and Erin, who uses
// Slack).
const (
	emCarol   = "0f6a1c2e-1111-4a4a-8b8b-000000000001"
	emBob     = "0f6a1c2e-1111-4a4a-8b8b-000000000002"
	emAlice   = "0f6a1c2e-1111-4a4a-8b8b-000000000003"
	emErin    = "0f6a1c2e-1111-4a4a-8b8b-000000000004"
	emGroup   = "0f6a1c2e-1111-4a4a-8b8b-0000000000a0"
	emPayroll = "0f6a1c2e-1111-4a4a-8b8b-0000000000b0"
	emDirect  = "0f6a1c2e-1111-4a4a-8b8b-0000000000b1"
	emSelf    = "0f6a1c2e-1111-4a4a-8b8b-0000000000b2"
)

var entraDeskCatalog = "items:" + payrollItem("entra", emPayroll+"/"+emSelf, "approvals: backend")

type entraDeskWorld struct {
	*deskWorld
	graph *graphfake.Server
}

func newEntraDeskWorld(t *testing.T) *entraDeskWorld {
	w := newPublicWorld(t, entraDeskCatalog, true)
	g := graphfake.New(graphfake.Options{Now: w.clock.Now, RedirectURIs: []string{w.public + entra.ConnectCallbackPath}})
	t.Cleanup(g.Close)
	for _, u := range []graphfake.User{
		{ID: emCarol, Mail: "carol@example.com", UserPrincipalName: "carol@example.com", DisplayName: "Carol", ManagerID: emAlice},
		{ID: emBob, Mail: "bob@example.com", UserPrincipalName: "bob@example.com", DisplayName: "Bob"},
		{ID: emAlice, Mail: "alice@example.com", UserPrincipalName: "alice@example.com", DisplayName: "Alice"},
		{ID: emErin, Mail: "erin@example.com", UserPrincipalName: "erin@example.com", DisplayName: "Erin"},
	} {
		g.AddUser(u)
	}
	for id, login := range map[string]string{emCarol: "carol", emBob: "bob", emAlice: "alice", emErin: "erin"} {
		g.SetLogin(id, login, login+"-pw")
	}
	g.AddGroup(emGroup, emBob, emErin)
	g.AddPackage(graphfake.Package{ID: emPayroll, DisplayName: "Payroll Reader", Policies: []graphfake.Policy{
		{ID: emDirect, DisplayName: "Direct assignment", AllowedTargetScope: "notSpecified"},
		{ID: emSelf, DisplayName: "Employees may ask", AllowedTargetScope: "allMemberUsers", Stages: []graphfake.Stage{
			{Primary: []graphfake.Approver{{Kind: graphfake.ApproverManager}}},
			{Primary: []graphfake.Approver{{Kind: graphfake.ApproverGroup, GroupID: emGroup}}},
		}}}})
	be, err := g.Backend(w.clock, func(o *entra.Options) {
		o.Logger = quiet()
		o.Connect = entra.ConnectClient{ClientID: g.ConnectClientID(), ClientSecret: g.ConnectClientSecret()}
	})
	require.NoError(t, err)
	w.extra = []governance.Backend{be}
	w.connectors = map[string]governance.Connector{entra.Name: be}
	w.start()
	be.UseAccounts(w.accounts) // as the composition root does
	w.install("29:alice")
	return &entraDeskWorld{deskWorld: &deskWorld{world: w, backend: entra.Name}, graph: g}
}

// A request made in chat for a two-stage access package waits for Carol to connect her
// Microsoft account in the browser, is then made in Entra as her, approved by her manager
// in Teams and by a group member in Slack, each with their own connected account; Entra
// records those reviewers and delivers the assignment, and every card ends showing the
// outcome.
func TestDesk_EntrasTwoStagesDecidedInTeamsAndSlackAsThePeopleTheyAre(t *testing.T) {
	w := newEntraDeskWorld(t)
	w.ask("UCAROL", "request payroll for 4h because quarter close")
	w.drain()
	assert.Contains(t, w.dmText("UCAROL"), "connect your account once with `/access connect entra`")
	assert.Empty(t, w.graph.Requests(), "nothing asked of Entra as anyone else")

	w.connectInBrowser(w.ask("UCAROL", "connect entra"), "carol")
	made := w.graph.Requests()
	require.Len(t, made, 1, "made in Entra once Carol connected")
	assert.Equal(t, "userAdd", made[0].RequestType)
	assert.Equal(t, emCarol, made[0].RequestorID)

	// Stage 1: Carol's manager, Alice, in Teams.
	w.poll()
	assert.Contains(t, w.lastSentTo("a:alice"), "[Approve]")
	assert.Contains(t, teamsfake.CardText(w.teamsReply("29:alice", "pending")), "AR-1", "one inbox: Entra's approval is in Alice's pending list")
	resp := w.execute("29:alice", "approve", "AR-1", nil)
	assert.Contains(t, resp["value"], "connect entra", "not connected yet: the click is kept, the link sent to the personal chat")
	w.connectInBrowser(w.lastSentTo("a:alice"), "alice")
	r, _ := w.graph.Request(made[0].ID)
	require.Len(t, r.Stages, 2, "stage 1 decided, stage 2 started")
	assert.Equal(t, emAlice, r.Stages[0].ReviewedBy, "Entra records Alice")

	// Stage 2: the group, Bob and Erin, in Slack.
	w.poll()
	assert.Contains(t, w.card("UBOB"), "[ Approve ]")
	assert.Contains(t, w.card("UERIN"), "[ Approve ]")
	w.connectInBrowser(w.ask("UBOB", "connect entra"), "bob")
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	w.drain()
	r, _ = w.graph.Request(made[0].ID)
	assert.Equal(t, emBob, r.Stages[1].ReviewedBy, "Entra records Bob")
	assert.Equal(t, "delivered", r.State)

	w.clock.Advance(2 * time.Minute)
	w.poll()
	w.activeWithCardsClosed("Bob")
	assert.Contains(t, w.card("UBOB"), "Approved by Bob")
}

// A request made in My Access reaches its approver as a card within one poll; a denial
// made there updates the card and tells the requester.
func TestDesk_ARequestMadeInMyAccessAndDeniedThereShowsInChat(t *testing.T) {
	w := newEntraDeskWorld(t)
	id := w.graph.AddRequest(graphfake.Request{RequestType: "userAdd", State: "pendingApproval", TargetID: emCarol, RequestorID: emCarol,
		PackageID: emPayroll, PolicyID: emSelf, Justification: "month end",
		Answers: []graphfake.Answer{{Question: "Which cost centre?", Value: "CC-4711"}}})
	w.poll()
	card := w.lastSentTo("a:alice")
	assert.Contains(t, card, "Carol")
	assert.Contains(t, card, "month end")
	assert.Contains(t, card, "Which cost centre?", "the policy's question, as Carol answered it in My Access")
	assert.Contains(t, card, "CC-4711")
	assert.Contains(t, card, "[Approve]")

	// Alice has connected (for another click, say), so accessbot may read who decided.
	w.connectInBrowser(w.sayTeams("29:alice", "connect entra"), "alice")
	require.NoError(t, w.graph.DecideInMyAccess(id, emAlice, false, "not this quarter"))
	w.poll()
	card = w.lastRedrawn()
	assert.Contains(t, card, "Rejected by Alice (alice@example.com) in Microsoft Entra")
	assert.Contains(t, card, "not this quarter")
	assert.Contains(t, card, "Step: 1 of 2")
	assert.NotContains(t, card, "[Approve]")
	assert.Contains(t, w.dmText("UCAROL"), "Alice (alice@example.com)")
}
