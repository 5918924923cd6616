package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
)

const channelCatalog = catalogYAML + `
  - id: payroll
    name: Payroll system
    backend: builtin
    approvers: ["Alice <alice@example.com>", "Bob <bob@example.com>"]
    approvalChannel: slack:CAPPROVE
    directMessages: false
  - id: wiki-admin
    name: Wiki admin
    backend: builtin
    approvers: ["Alice <alice@example.com>"]
    approvalChannel: slack:CAPPROVE
`

// channelClick is user pressing a button of the card in channel ch.
func (w *world) channelClick(user, action, id, ch, ts string) {
	p := w.clickPayload(user, action, id)
	p["container"] = map[string]any{"type": "message", "message_ts": ts, "channel_id": ch}
	p["channel"] = map[string]any{"id": ch}
	w.interaction(p)
	w.settle()
}

func TestApprovalChannel_OneCardAnyApproverDecidesTheThreadRecordsTheRest(t *testing.T) {
	w := newWorldWith(t, channelCatalog, nil)
	w.slack.AddChannel("CAPPROVE")
	w.ask("UCAROL", "request payroll because month end")

	cards := w.slack.Messages("CAPPROVE")
	require.Len(t, cards, 1, "the card went to the channel, once")
	card := slackbot.BlocksText(cards[0].Blocks)
	assert.Contains(t, card, "For the approvers of Payroll system `payroll`: Alice, Bob. Any one of them decides here")
	assert.Contains(t, card, "[ Approve ] [ Deny ]")
	assert.Empty(t, w.dms("UALICE"), "directMessages: false — no card in the approvers' DMs")
	assert.Empty(t, w.dms("UBOB"))
	w.drain()
	assert.Len(t, w.slack.Messages("CAPPROVE"), 1, "delivered again, the card is not posted twice")

	// Dave is an admin but not (yet) an approver: his click is refused, to him alone.
	w.channelClick("UDAVE", slackbot.ActionApprove, "AR-1", "CAPPROVE", cards[0].TS)
	assert.Contains(t, w.replies("UDAVE", 1)[0], "not an approver of AR-1")
	reply := w.slack.Calls("response_url")[0]
	assert.Contains(t, string(reply.Body), `"response_type":"ephemeral"`, "only Dave sees the refusal")
	assert.Contains(t, string(reply.Body), `"replace_original":false`, "and the card stays as it is")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"))

	// Reminders and escalations are recorded in the card's thread.
	w.sweepAfter(3 * governance.Day)
	w.sweepAfter(governance.Day)
	var thread []string
	for _, m := range w.slack.Messages("CAPPROVE") {
		if m.Thread == cards[0].TS {
			thread = append(thread, slackbot.BlocksText(m.Blocks))
		}
	}
	require.Len(t, thread, 2, "%v", thread)
	assert.Contains(t, thread[0], "Reminder 1: AR-1 has waited since 2026-11-23 09:00 UTC for a decision from Alice, Bob.")
	assert.Contains(t, thread[1], "Escalation 1: nobody has decided AR-1 yet, so erin@example.com may decide it too.")

	// Bob decides in the channel; the card says who.
	w.channelClick("UBOB", slackbot.ActionApprove, "AR-1", "CAPPROVE", cards[0].TS)
	w.drain()
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
	card = slackbot.BlocksText(w.slack.Messages("CAPPROVE")[0].Blocks)
	assert.Contains(t, card, "Approved by Bob (bob@example.com)")
	assert.NotContains(t, card, "[ Approve ]")
	assert.Contains(t, w.replies("UBOB", 1)[0], "You approved AR-1")
}

func TestApprovalChannel_BesidesDirectMessages(t *testing.T) {
	w := newWorldWith(t, channelCatalog, nil)
	w.slack.AddChannel("CAPPROVE")
	w.ask("UCAROL", "request wiki-admin because editing the handbook")
	require.Len(t, w.slack.Messages("CAPPROVE"), 1)
	require.Len(t, w.dms("UALICE"), 1, "the approver gets her card as well")

	w.approve("UALICE", "AR-1") // from her DM
	assert.Contains(t, slackbot.BlocksText(w.slack.Messages("CAPPROVE")[0].Blocks), "Approved by Alice (alice@example.com)",
		"the channel's card shows the decision made elsewhere")
}

func TestApprovalChannel_ABotOutsideTheChannelIsToldToBeInvited(t *testing.T) {
	w := newWorldWith(t, channelCatalog, nil) // CAPPROVE not joined
	w.ask("UCAROL", "request payroll because month end")
	assert.Empty(t, w.slack.Messages("CAPPROVE"))
	assert.Contains(t, w.logs.String(), "invite it there (/invite @accessbot in the channel)")
}

const teamsChannelCatalog = catalogYAML + `
  - id: finance
    name: Finance reports
    backend: builtin
    approvers: ["Alice <alice@example.com>", "Bob <bob@example.com>"]
    approvalChannel: "teams:19:approvers@thread.tacv2"
    directMessages: false
`

// channelInvoke is user clicking verb on the card posted in a Teams channel thread.
func (w *world) channelInvoke(user, verb, id, conversation string) map[string]any {
	w.t.Helper()
	act := w.activity(user, "invoke", map[string]any{"name": "adaptiveCard/action", "replyToId": "1:1",
		"value": map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb,
			"data": map[string]any{"verb": verb, "request": id, "version": 1}}, "trigger": "manual"}})
	act["conversation"] = map[string]any{"conversationType": "channel", "tenantId": "tenant-1", "id": conversation, "isGroup": true}
	act["channelData"] = map[string]any{"tenant": map[string]any{"id": "tenant-1"}, "channel": map[string]any{"id": "19:approvers@thread.tacv2"},
		"team": map[string]any{"id": "19:team@thread.tacv2"}}
	rec := w.postTeams(act)
	require.Equal(w.t, 200, rec.Code, rec.Body.String())
	var resp map[string]any
	require.NoError(w.t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp
}

func TestApprovalChannel_InTeams(t *testing.T) {
	w := newTeamsWorldOf(t, teamsChannelCatalog, teamsPeople...)
	const channel = "19:approvers@thread.tacv2"
	assert.Contains(t, w.sayTeams("29:carol", "request finance because quarterly audit"), "AR-1")
	w.drain()
	posts := w.sentTo(channel)
	require.Len(t, posts, 1, "the card is a new post in the channel")
	assert.Contains(t, posts[0], "For the approvers of **Finance reports** `finance`: Alice, Bob. Any one of them decides here")
	assert.Empty(t, w.sentTo("a:alice"), "directMessages: false")
	var root string
	for _, c := range w.teams.Calls() {
		if c.Conversation == channel {
			root = c.ActivityID
		}
	}
	thread := channel + ";messageid=" + root

	refused := w.channelInvoke("29:carol", "approve", "AR-1", thread)
	assert.Equal(t, "application/vnd.microsoft.activity.message", refused["type"], "the answer to the invoke, which only Carol sees")
	assert.Contains(t, refused["value"], "You can't decide your own request AR-1")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"))

	w.sweepAfter(3 * governance.Day)
	replies := w.sentTo(thread)
	require.Len(t, replies, 1, "the reminder is a reply in the card's thread")
	assert.Contains(t, replies[0], "Reminder 1: **AR-1** has waited since")

	w.channelInvoke("29:alice", "approve", "AR-1", thread)
	w.drain()
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
	var updated string
	for _, c := range w.teams.Calls() {
		if c.Method == http.MethodPut && c.Conversation == channel && c.ActivityID == root {
			updated = teamsfake.CardText(teamsfake.CardOf(c.Activity))
		}
	}
	assert.Contains(t, updated, "Approved by Alice (alice@example.com)", "the channel's card says who decided")
}
