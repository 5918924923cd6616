package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// stagedCatalog is an item of two stages: Carol's manager, then two of the owners.
const stagedCatalog = `
items:
  - id: prod-db-write
    name: Production database writes
    backend: builtin
    defaultDuration: 4h
    approval:
      stages:
        - name: manager
          approvers: [manager]
        - name: owners
          approvers: ["Alice <alice@example.com>", "Bob <bob@example.com>", group:db-owners]
          required: 2
`

// newStagedWorld is a world of stagedCatalog where Carol and Alice use Teams, and Dave
// (Carol's manager), Bob and Erin (the db-owners group) use Slack.
func newStagedWorld(t *testing.T) *world {
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), slack: slackfake.Start(t, people...),
		logs: &governancetest.Logs{}, catalog: stagedCatalog, teams: teamsfake.Start(t, teamsApp, teamsPeople...),
		groups:   governance.Groups{"db-owners": {{Email: "erin@example.com", Name: "Erin"}}},
		managers: map[string]governance.Person{"carol@example.com": {Email: "dave@example.com", Name: "Dave"}}}
	w.slack.AddChannel("CADMINS")
	w.start()
	w.install("29:carol", "29:alice")
	return w
}

// teamsUpdates lists the cards redrawn in a Teams conversation, as text, oldest first.
func (w *world) teamsUpdates(conversation string) []string {
	return w.teamsCards(http.MethodPut, conversation)
}

// events counts the audit records of request id by event.
func (w *world) events(id string) map[governance.Event]int {
	w.t.Helper()
	n := map[governance.Event]int{}
	require.NoError(w.t, w.store.Audit(context.Background(), t0.Add(-time.Hour), w.clock.Now().Add(time.Hour), func(a governance.AuditRecord) error {
		if a.RequestID == id {
			n[a.Event]++
		}
		return nil
	}))
	return n
}

func TestStages_TwoStagesQuorumTwoDecidedAcrossSlackAndTeams(t *testing.T) {
	w := newStagedWorld(t)
	reply := w.sayTeams("29:carol", "request prod-db-write for 2h because deploy CHG-9")
	assert.Contains(t, reply, "Request **AR-1** for **Production database writes** `prod-db-write`, 2h, is waiting for Dave")
	w.drain()

	dave := w.card("UDAVE")
	assert.Contains(t, dave, "0 of 1 required · stage 1 of 2: manager")
	assert.Contains(t, dave, "Approve")
	assert.Len(t, w.sentTo("a:alice"), 1, "stage 2's approvers have no card yet: Alice has only the welcome")
	assert.Empty(t, w.dms("UBOB"))

	// Stage 1: Dave, on Slack.
	w.approve("UDAVE", "AR-1")
	dave = w.card("UDAVE")
	assert.Contains(t, dave, "0 of 2 required · stage 2 of 2: owners", "Dave's card shows the stage deciding now")
	assert.Contains(t, dave, "Approved so far: manager: Dave (dave@example.com)")
	assert.Contains(t, dave, "You approved it; it is waiting for Alice, Bob, Erin.")
	assert.NotContains(t, dave, "Approve\n", "Dave decided; his card has no buttons")
	assert.Contains(t, w.replies("UDAVE", 1)[0], "You approved AR-1")
	aliceCards := w.sentTo("a:alice")
	require.Len(t, aliceCards, 2, "stage 2 began: Alice's card, in Teams")
	assert.Contains(t, aliceCards[1], "0 of 2 required · stage 2 of 2: owners")
	assert.Contains(t, aliceCards[1], "[Approve]")
	for _, u := range []string{"UBOB", "UERIN"} {
		assert.Contains(t, w.card(u), "0 of 2 required · stage 2 of 2: owners", u)
	}
	assert.Contains(t, strings.Join(w.sentTo("a:carol"), "\n"), "passed stage 1 of 2; stage 2, owners, is with Alice, Bob, Erin (2 of them must approve)")

	// Stage 2, first approval: Alice, in Teams.
	resp := w.execute("29:alice", "approve", "AR-1", nil)
	own := teamsfake.CardText(resp["value"])
	assert.Contains(t, own, "1 of 2 required · stage 2 of 2: owners")
	assert.Contains(t, own, "You approved it; it is waiting for Bob, Erin.")
	assert.NotContains(t, own, "[Approve]")
	w.drain()
	for _, u := range []string{"UBOB", "UERIN", "UDAVE"} {
		card := w.card(u)
		assert.Contains(t, card, "1 of 2 required · stage 2 of 2: owners", u)
		assert.Contains(t, card, "Approved so far: manager: Dave (dave@example.com) · owners: Alice (alice@example.com)", u)
	}
	assert.Contains(t, w.card("UBOB"), "Approve", "Bob may still decide")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "one of two owners is not enough")
	assert.Contains(t, w.execute("29:alice", "approve", "AR-1", nil)["value"], "You already approved AR-1")

	// Stage 2, second approval: Bob, on Slack. The last required approval grants.
	w.approve("UBOB", "AR-1")
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
	for _, u := range []string{"UBOB", "UERIN", "UDAVE"} {
		assert.Contains(t, w.card(u), "Approved by Bob (bob@example.com)", u)
	}
	updates := w.teamsUpdates("a:alice")
	require.NotEmpty(t, updates)
	assert.Contains(t, updates[len(updates)-1], "Approved by Bob (bob@example.com)", "Alice's Teams card is redrawn too")
	assert.NotContains(t, updates[len(updates)-1], "[Approve]")
	assert.Equal(t, 1, w.events("AR-1")[governance.EventSubmit], "the grant was submitted once")
	assert.Equal(t, 3, w.events("AR-1")[governance.EventApprove], "three approvals recorded")
	assert.Contains(t, strings.Join(w.sentTo("a:carol"), "\n"), "Your access to **Production database writes** `prod-db-write` is active until")

	late := w.execute("29:alice", "deny", "AR-1", map[string]any{"reason": "too late"})
	assert.Contains(t, late["value"], "AR-1 was already approved by Bob")
}

func TestStages_ADenyInStageTwoEndsTheRequestForEveryone(t *testing.T) {
	w := newStagedWorld(t)
	w.sayTeams("29:carol", "request prod-db-write because deploy CHG-9")
	w.drain()
	w.approve("UDAVE", "AR-1")
	w.execute("29:alice", "approve", "AR-1", nil)
	w.drain()

	w.click("UERIN", slackbot.ActionDeny, "AR-1")
	w.submit("UERIN", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "not during the freeze"})
	w.drain()
	assert.Equal(t, governance.StateDenied, w.state("AR-1"))
	for _, u := range []string{"UBOB", "UERIN", "UDAVE"} {
		card := w.card(u)
		assert.Contains(t, card, "Denied by Erin", u)
		assert.NotContains(t, card, "Approve\n", u)
	}
	updates := w.teamsUpdates("a:alice")
	assert.Contains(t, updates[len(updates)-1], "Denied by Erin")
	assert.Contains(t, strings.Join(w.sentTo("a:carol"), "\n"), "denied your request **AR-1**")
	assert.Nil(t, w.request("AR-1").Submission)
	assert.Zero(t, w.events("AR-1")[governance.EventSubmit], "nothing was submitted")
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	assert.Contains(t, w.replies("UBOB", 1)[0], "AR-1 was already denied by Erin")
}
