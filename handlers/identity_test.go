package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Who is this person? Only the configured Slack workspaces (or Enterprise org) are
// served, Slack Connect users of other organisations are not anyone accessbot knows,
// deactivated users, bots and apps act for nobody, and guests may ask but never decide.

// commandFrom is user's /access text from workspace team in org enterprise.
func (w *world) commandFrom(team, enterprise, user, text string) *httptest.ResponseRecorder {
	return w.post("/slack/commands", url.Values{"command": {"/access"}, "text": {text}, "user_id": {user},
		"team_id": {team}, "enterprise_id": {enterprise}, "channel_id": {"C1"}, "trigger_id": {w.nextTrigger()},
		"response_url": {w.slack.ResponseURL(user)}})
}

// clickFrom is user (of userTeam) pressing a button of request id in workspace team of
// org enterprise ("" outside Enterprise Grid).
func (w *world) clickFrom(team, enterprise, userTeam, user, action, id string) *httptest.ResponseRecorder {
	var org any // Slack sends "enterprise": null outside an org
	if enterprise != "" {
		org = map[string]any{"id": enterprise, "name": "Org"}
	}
	return w.interaction(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "team_id": userTeam},
		"team": map[string]any{"id": team, "enterprise_id": enterprise}, "enterprise": org, "is_enterprise_install": false,
		"trigger_id": w.nextTrigger(), "response_url": w.slack.ResponseURL(user),
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1"},
		"actions":   []map[string]any{{"type": "button", "action_id": action, "block_id": "decide:" + id + ":1", "value": id}},
	})
}

// requests is everything stored as asked by email.
func (w *world) requests(email string) []*governance.Request {
	w.t.Helper()
	rs, err := w.store.ListByRequester(context.Background(), email, 10)
	require.NoError(w.t, err)
	return rs
}

func TestSlack_ARequestFromAnotherWorkspaceIsRefusedAndNobodyIsLookedUp(t *testing.T) {
	w := newWorld(t)
	assert.Contains(t, w.ask("UCAROL", "request vpn because travel"), "AR-1", "the configured workspace is served")
	lookups := len(w.slack.Calls("users.info"))

	for name, rec := range map[string]func() *httptest.ResponseRecorder{
		"command": func() *httptest.ResponseRecorder {
			return w.commandFrom("T0OTHER", "", "UCAROL", "request vpn because x")
		},
		"help":                func() *httptest.ResponseRecorder { return w.commandFrom("T0OTHER", "", "UCAROL", "help") },
		"another org":         func() *httptest.ResponseRecorder { return w.commandFrom("T0OTHER", "E0OTHER", "UCAROL", "status") },
		"no workspace at all": func() *httptest.ResponseRecorder { return w.commandFrom("", "", "UCAROL", "status") },
	} {
		t.Run(name, func(t *testing.T) {
			got := ephemeral(t, rec())
			assert.Equal(t, "⚠️ "+voice.SlackOtherWorkspace, got, "an ephemeral answer, HTTP 200, as Slack expects of a command")
		})
	}

	rec := w.clickFrom("T0OTHER", "", "T0OTHER", "UBOB", slackbot.ActionApprove, "AR-1")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, strings.TrimSpace(rec.Body.String()))
	assert.Contains(t, w.replies("UBOB", 1)[0], voice.SlackOtherWorkspace, "the clicker is told through response_url")

	rec = w.interaction(map[string]any{"type": "view_submission", "user": map[string]any{"id": "UALICE", "team_id": "T0OTHER"},
		"team": map[string]any{"id": "T0OTHER"}, "view": map[string]any{"id": "VX", "hash": "h1", "callback_id": slackbot.CallbackDenyReason,
			"type": "modal", "private_metadata": "AR-1", "state": map[string]any{"values": map[string]any{}}}})
	assert.Equal(t, voice.SlackOtherWorkspace, decodeView(t, rec).Errors[slackbot.BlockReason], "a form shows it on its field")

	assert.Len(t, w.slack.Calls("users.info"), lookups, "nobody was looked up")
	assert.Empty(t, w.slack.Calls("views.open"))
	assert.Len(t, w.requests("carol@example.com"), 1, "nothing was asked")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "nothing was decided")
	assert.Contains(t, w.logs.String(), `"team":"T0OTHER"`, "the refusal is logged with the workspace")
	assert.Contains(t, w.logs.String(), "slack request from a workspace accessbot does not serve")
}

// A Slack Connect user clicking in a channel shared with the served workspace: the
// payload's team is ours, the user's is not.
func TestSlack_SlackConnectUsersAreRefused(t *testing.T) {
	w := newWorld(t)
	w.slack.AddUser(slackfake.User{ID: "UEXT", Email: "bob@example.com", Name: "Bob Lookalike", Team: "T0ELSE", Stranger: true})
	w.slack.AddUser(slackfake.User{ID: "UEXT2", Email: "alice@example.com", Name: "Alice Lookalike", Team: "T0ELSE"})
	assert.Contains(t, w.ask("UCAROL", "request vpn because travel"), "AR-1")
	lookups := len(w.slack.Calls("users.info"))

	w.clickFrom(slackfake.TeamID, "", "T0ELSE", "UEXT", slackbot.ActionApprove, "AR-1")
	assert.Contains(t, w.replies("UEXT", 1)[0], voice.SlackExternalUser, "user.team_id names another workspace")
	assert.Len(t, w.slack.Calls("users.info"), lookups, "refused before any lookup")

	// Without user.team_id (a slash command, or a payload that leaves it out), users.info
	// tells: is_stranger, or a team_id that is not served. Their e-mail addresses are not
	// this organisation's to vouch for.
	for _, id := range []string{"UEXT", "UEXT2"} {
		assert.Equal(t, "⚠️ "+voice.SlackExternalUser, ephemeral(t, w.command(id, "pending")), id)
		w.click(id, slackbot.ActionApprove, "AR-1")
		replies := w.replies(id, 1)
		assert.Contains(t, replies[len(replies)-1], voice.SlackExternalUser, id)
	}
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "a lookalike e-mail decides nothing")
	assert.Contains(t, w.logs.String(), "slack user from another workspace or org (Slack Connect)")
}

func TestSlack_DeactivatedUsersBotsAndAppsActForNobody(t *testing.T) {
	w := newWorld(t)
	w.slack.AddUser(slackfake.User{ID: "UGONE", Email: "gone@example.com", Name: "Gone", Deleted: true})
	w.slack.AddUser(slackfake.User{ID: "UBOTMAIL", Email: "botmail@example.com", Name: "A bot with an address", IsBot: true})
	w.slack.AddUser(slackfake.User{ID: "UAPP", Email: "app@example.com", Name: "An app user", IsAppUser: true})
	assert.Contains(t, w.ask("UCAROL", "request vpn because travel"), "AR-1")

	for id, want := range map[string]string{"UGONE": voice.SlackDeactivated, "UBOTMAIL": voice.SlackBotUser,
		"UAPP": voice.SlackBotUser, "UBOT": voice.SlackBotUser} {
		t.Run(id, func(t *testing.T) {
			assert.Equal(t, "⚠️ "+want, ephemeral(t, w.command(id, "request vpn because x")))
			w.click(id, slackbot.ActionApprove, "AR-1")
			assert.Contains(t, w.replies(id, 1)[0], want)
		})
	}
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "nothing was decided")
	assert.Empty(t, w.requests("gone@example.com"))
	assert.Empty(t, w.requests("botmail@example.com"))
	assert.Empty(t, w.requests("app@example.com"))
	// Refused people are not remembered: the next command asks Slack again.
	before := len(w.slack.Calls("users.info"))
	w.command("UGONE", "status")
	assert.Len(t, w.slack.Calls("users.info"), before+1)
}

const guestCatalog = `
items:
  - id: vpn
    name: Office VPN
    backend: builtin
    approvers: ["Gina <gina@example.com>", "Bob <bob@example.com>"]
    defaultDuration: 8h
`

func TestSlack_GuestsMayRequestButNeverDecide(t *testing.T) {
	w := newWorldWith(t, guestCatalog, nil)
	w.slack.AddUser(slackfake.User{ID: "UGINA", Email: "gina@example.com", Name: "Gina", Restricted: true})
	w.slack.AddUser(slackfake.User{ID: "UGREG", Email: "greg@example.com", Name: "Greg", UltraRestricted: true})

	assert.Contains(t, w.ask("UCAROL", "request vpn because travel"), "AR-1")
	assert.Empty(t, w.dms("UGINA"), "the catalog names Gina, a guest: no card whose buttons would only refuse her")

	w.click("UGINA", slackbot.ActionApprove, "AR-1")
	assert.Contains(t, w.replies("UGINA", 1)[0], voice.SlackGuestCannotDecide)
	w.click("UGINA", slackbot.ActionDeny, "AR-1")
	assert.Contains(t, w.replies("UGINA", 2)[1], voice.SlackGuestCannotDecide)
	assert.Empty(t, w.slack.Calls("views.open"), "no deny form for a guest")
	rec := w.submit("UGINA", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "no"})
	assert.Equal(t, voice.SlackGuestCannotDecide, decodeView(t, rec).Errors[slackbot.BlockReason])
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "a guest's click decides nothing")

	// Guests may ask, see and withdraw their own requests, single-channel guests too.
	assert.Contains(t, w.ask("UGREG", "request vpn because onsite"), "AR-2")
	assert.Contains(t, ephemeral(t, w.command("UGREG", "cancel AR-2")), "AR-2")
	assert.Equal(t, governance.StateCancelled, w.state("AR-2"))

	w.approve("UBOB", "AR-1")
	assert.Equal(t, governance.StateActive, w.state("AR-1"), "a member approver decides")
}

func TestSlack_GuestsCanBeRefusedAltogether(t *testing.T) {
	w := newWorldWith(t, guestCatalog, nil)
	w.guests = slackbot.GuestsRefuse
	w.start()
	w.slack.AddUser(slackfake.User{ID: "UGINA", Email: "gina@example.com", Name: "Gina", Restricted: true})
	assert.Equal(t, "⚠️ "+voice.SlackGuestRefused, ephemeral(t, w.command("UGINA", "request vpn because travel")))
	assert.Empty(t, w.requests("gina@example.com"))
}

func TestSlack_AnEnterpriseOrgServesEveryWorkspaceInIt(t *testing.T) {
	w := newWorld(t)
	w.workspaces = slackbot.Workspaces{Enterprise: "E0ORG"}
	w.start()
	w.slack.AddUser(slackfake.User{ID: "WGRID", Email: "grid@example.com", Name: "Grid", Team: "T0WS2", Enterprise: "E0ORG"})

	assert.Contains(t, ephemeral(t, w.commandFrom("T0WS2", "E0ORG", "WGRID", "status")), "You have no requests")
	// In an org, a payload's user.team_id is the org's id.
	w.clickFrom("T0WS2", "E0ORG", "E0ORG", "WGRID", slackbot.ActionApprove, "AR-9")
	assert.NotContains(t, w.replies("WGRID", 1)[0], voice.SlackOtherWorkspace)

	assert.Equal(t, "⚠️ "+voice.SlackOtherWorkspace, ephemeral(t, w.commandFrom("T0WS3", "E0ELSE", "WGRID", "status")))
	assert.Equal(t, "⚠️ "+voice.SlackExternalUser, ephemeral(t, w.commandFrom("T0WS2", "E0ORG", "UCAROL", "status")),
		"a member of a workspace outside the org, per users.info")
}

// With no workspace configured, accessbot serves the bot token's: auth.test, asked once it
// answers. Until it does, every request is refused rather than served.
func TestSlack_WithNoWorkspaceConfiguredTheBotTokensIsServed(t *testing.T) {
	w := newWorld(t)
	w.workspaces = slackbot.Workspaces{}
	w.start()
	w.slack.Fail("auth.test", 1, slackfake.Failure{Status: http.StatusServiceUnavailable})

	got := ephemeral(t, w.command("UCAROL", "status"))
	assert.Contains(t, got, "Something went wrong on our side", "not known yet: refused, never served by default")
	assert.Empty(t, w.slack.Calls("users.info"))

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "You have no requests")
	assert.Equal(t, "⚠️ "+voice.SlackOtherWorkspace, ephemeral(t, w.commandFrom("T0OTHER", "", "UCAROL", "status")))
	assert.Len(t, w.slack.Calls("auth.test"), 2, "asked until it answered, then remembered")
	assert.Contains(t, w.logs.String(), `"workspaces":"workspace T0FAKE"`)
}

// Approvers are named by e-mail, and each decision, cancel, revoke and extension is
// recorded with the Slack user id of who did it.
func TestSlack_EveryActionIsRecordedWithTheSlackUserID(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.approved("UCAROL", "request prod-db for 2h because incident")
	assert.Contains(t, w.ask("UCAROL", "request vpn because travel"), "AR-2")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel AR-2")), "AR-2")
	w.click("UCAROL", slackbot.ActionExtend, "AR-1")
	w.drain()
	assert.Contains(t, ephemeral(t, w.command("UDAVE", "revoke AR-1")), "AR-1")

	r, err := w.store.Get(ctx, "AR-1")
	require.NoError(t, err)
	require.NotNil(t, r.Decision)
	assert.Equal(t, governance.Decision{By: governance.Person{Email: "alice@example.com", Name: "Alice"}, Platform: "slack",
		ChatID: "UALICE", Approved: true, At: r.Decision.At}, *r.Decision)

	got := map[string]string{}
	require.NoError(t, w.store.Audit(ctx, t0.Add(-time.Hour), t0.Add(time.Hour), func(a governance.AuditRecord) error {
		if a.Actor != governance.SystemActor {
			assert.Equal(t, slackbot.Platform, a.Platform, a)
			got[a.RequestID+" "+string(a.Event)] = a.ChatID
		}
		return nil
	}))
	assert.Equal(t, map[string]string{"AR-1 request": "UCAROL", "AR-1 approve": "UALICE", "AR-2 request": "UCAROL",
		"AR-2 cancel": "UCAROL", "AR-3 request": "UCAROL", "AR-1 revoke": "UDAVE"}, got)
}
