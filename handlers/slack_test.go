package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/handlers"
)

func TestRequestApproveGrant_CardsToEveryApproverThenGrantThenEveryoneTold(t *testing.T) {
	w := newWorld(t)
	ack := ephemeral(t, w.command("UCAROL", "request prod-db for 8h because investigating INC-4711"))
	assert.Contains(t, ack, "Request AR-1 for Production database `prod-db`, 8h, is waiting for Alice, Bob.")
	assert.Empty(t, w.slack.Calls("chat.postMessage"), "the ack comes before any card is sent")

	w.drain()
	for _, approver := range []string{"UALICE", "UBOB"} {
		cards := w.dms(approver)
		require.Len(t, cards, 1, approver)
		for _, want := range []string{"Access request AR-1", "Requester: Carol (carol@example.com)", "Item: Production database `prod-db`",
			"Duration: 8h", "> investigating INC-4711", "[ Approve ] [ Deny ]"} {
			assert.Contains(t, cards[0], want, approver)
		}
	}

	w.clock.Advance(10 * time.Minute)
	rec := w.click("UALICE", slackbot.ActionApprove, "AR-1")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, strings.TrimSpace(rec.Body.String()), "a click is acknowledged with an empty 200")
	assert.Equal(t, []string{"✅ You approved AR-1: Production database `prod-db` for Carol (carol@example.com), 8h. Carol is told, and the access is being granted."},
		w.replies("UALICE", 1))
	w.drain()

	assert.Equal(t, t0.Add(10*time.Minute+8*time.Hour), w.grantEnd("AR-1"), "the built-in backend recorded the grant")

	told := w.dms("UCAROL")
	require.Len(t, told, 2, "approved, then active")
	assert.Contains(t, told[0], "✅ Alice (alice@example.com) approved your request AR-1 for Production database `prod-db`.")
	assert.Contains(t, told[1], "🔓 Your access to Production database `prod-db` is active until 2026-11-23 17:10 UTC (request AR-1).")

	updates := w.slack.Calls("chat.update")
	require.Len(t, updates, 2, "every approver's card is updated")
	assert.ElementsMatch(t, []string{"DUALICE", "DUBOB"}, []string{updates[0].Channel, updates[1].Channel},
		"chat.update uses the DM channel each card was posted in")
	for _, approver := range []string{"UALICE", "UBOB"} {
		card := w.card(approver)
		assert.Contains(t, card, "✅ Approved by Alice (alice@example.com) at 2026-11-23 09:10 UTC.")
		assert.NotContains(t, card, "[ Approve ]", "the buttons are gone")
	}
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
}

func TestDeny_AsksForAReasonInAModalAndTellsTheRequesterWhy(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")

	rec := w.click("UBOB", slackbot.ActionDeny, "AR-1")
	require.Equal(t, http.StatusOK, rec.Code)
	views := w.slack.Calls("views.open")
	require.Len(t, views, 1, "deny opens the reason modal")
	assert.Empty(t, views[0].Failed)
	assert.Contains(t, string(views[0].View), `"callback_id":"deny_reason"`)
	assert.Contains(t, string(views[0].View), `"private_metadata":"AR-1"`)

	empty := decodeView(t, w.submit("UBOB", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "  "}))
	assert.Equal(t, viewAnswer{Action: "errors", Errors: map[string]string{
		"reason": "Tell the requester why you deny the request, so they know what to do instead."}}, empty)

	ok := w.submit("UBOB", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "use the bastion <!channel>"})
	require.Equal(t, http.StatusOK, ok.Code)
	assert.Empty(t, strings.TrimSpace(ok.Body.String()), "an empty answer closes the modal")
	w.drain()

	told := w.dms("UCAROL")
	require.Len(t, told, 1)
	assert.Contains(t, told[0], "❌ Bob (bob@example.com) denied your request AR-1 for Office VPN `vpn`:\n> use the bastion")
	for _, c := range w.slack.Calls("") {
		assert.NotContains(t, string(c.Blocks)+c.Text, "<!channel>", "a reason cannot ping a channel")
	}
	assert.Contains(t, w.card("UBOB"), "❌ Denied by Bob (bob@example.com) at 2026-11-23 09:00 UTC:\n> use the bastion")
	assert.NotContains(t, w.card("UBOB"), "[ Deny ]")

	again := decodeView(t, w.submit("UBOB", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "twice"}))
	assert.Equal(t, "AR-1 was already denied by Bob at 2026-11-23 09:00 UTC.", again.Errors["reason"],
		"a refusal that names no field still shows on the reason field")
}

func TestDeny_TooLateForTheModalIsExplained(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn")
	w.slack.Fail("views.open", 1, slackfake.Failure{Error: "expired_trigger_id"})
	w.click("UBOB", slackbot.ActionDeny, "AR-1")
	assert.Equal(t, []string{"⚠️ Slack did not let me open the form in time; click Deny again."}, w.replies("UBOB", 1))
}

func TestCancel_OnlyTheRequesterMayCancel(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn")

	assert.Equal(t, "⚠️ Only Carol, who asked for AR-1, can cancel it.", ephemeral(t, w.command("UBOB", "cancel AR-1")))
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel ar-1")), "Request AR-1 for Office VPN `vpn` is cancelled")
	w.drain()
	assert.Contains(t, w.card("UBOB"), "🚫 Cancelled by requester Carol (carol@example.com) at 2026-11-23 09:00 UTC.")
	assert.NotContains(t, w.card("UBOB"), "[ Approve ]")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel AR-1")), "AR-1 is already cancelled.")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel AR-99")), "There is no request AR-99")

	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	assert.Equal(t, []string{"⚠️ AR-1 is cancelled, so there is nothing left to decide."}, w.replies("UBOB", 1))
}

func TestApprove_RequesterCannotApproveOwnRequest(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request prod-db because debugging")

	w.click("UCAROL", slackbot.ActionApprove, "AR-1")
	assert.Equal(t, []string{"⚠️ You can't decide your own request AR-1; it is waiting for Alice, Bob."}, w.replies("UCAROL", 1))
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request carol-only")), "You are the only approver of Carol's own thing")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"))
}

func TestApprove_NonApproverIsRefusedAtOnceAndNeverGetsAModal(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request prod-db because debugging")

	// The click says username "alice"; only the signed user id counts.
	w.click("UERIN", slackbot.ActionApprove, "AR-1")
	w.click("UERIN", slackbot.ActionDeny, "AR-1")
	refusals := w.replies("UERIN", 2)
	for _, r := range refusals {
		assert.Equal(t, "⚠️ There is no request AR-1; `/access status` lists yours and `/access pending` the ones waiting for you.", r)
	}
	assert.Empty(t, w.slack.Calls("views.open"), "a non-approver is refused before any modal opens")

	forged := decodeView(t, w.submit("UERIN", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "forged"}))
	assert.Contains(t, forged.Errors["reason"], "There is no request AR-1", "a forged modal submission is refused too")
	r, err := w.store.Get(context.Background(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StatePendingApproval, r.State)
	assert.Contains(t, w.logs.String(), `"msg":"slack action refused"`)
	assert.Contains(t, w.logs.String(), `"reason":"not an approver of this request"`)
}

func TestConcurrentApprovals_ExactlyOneDecisionAndOneSubmission(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request prod-db because debugging")

	var wg sync.WaitGroup
	for _, u := range []string{"UALICE", "UBOB"} {
		wg.Go(func() { w.click(u, slackbot.ActionApprove, "AR-1") })
	}
	wg.Wait()
	w.drain()

	answers := append(w.replies("UALICE", 1), w.replies("UBOB", 1)...)
	var won, lost []string
	for _, a := range answers {
		if strings.HasPrefix(a, "✅ You approved") {
			won = append(won, a)
		} else {
			lost = append(lost, a)
		}
	}
	require.Len(t, won, 1, "one click wins")
	require.Len(t, lost, 1, "the other is told who decided")
	assert.Regexp(t, `^⚠️ AR-1 was already approved by (Alice|Bob) at 2026-11-23 09:00 UTC\.$`, lost[0])

	assert.Len(t, w.dms("UCAROL"), 2, "one approval notice and one active notice")
	assert.Len(t, w.slack.Calls("chat.update"), 2)
	var decisions, submits int
	require.NoError(t, w.store.Audit(context.Background(), time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		switch a.Event {
		case governance.EventApprove:
			decisions++
		case governance.EventSubmit:
			submits++
		}
		return nil
	}))
	assert.Equal(t, 1, decisions)
	assert.Equal(t, 1, submits)
}

func TestSlashCommandRetriedBySlack_OneRequestAndTheSameAnswer(t *testing.T) {
	w := newWorld(t)
	first := ephemeral(t, w.commandWith("UCAROL", "request vpn", "trigger-same"))
	retry := ephemeral(t, w.commandWith("UCAROL", "request vpn", "trigger-same", "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout"))
	assert.Equal(t, first, retry, "the retry gets the same answer")
	assert.Contains(t, first, "AR-1")
	w.drain()
	mine, err := w.svc.Mine(context.Background(), governance.Person{Email: "carol@example.com"})
	require.NoError(t, err)
	assert.Len(t, mine, 1)
	assert.Len(t, w.dms("UBOB"), 1, "one card")

	again := ephemeral(t, w.command("UCAROL", "request vpn"))
	assert.Contains(t, again, "You already asked for Office VPN: AR-1", "a new command for the same access is refused")
	other := ephemeral(t, w.command("UCAROL", "request prod-db for 1h because another"))
	assert.Contains(t, other, "AR-2", "a new command is a new request")
}

// working is what a slash command answers when its work outlasts Slack's deadline.
const working = "⏳ Working on it… this takes a moment; I will answer here when it is done."

func TestSlowSlashCommand_AnswersInTimeThenOnceThroughResponseURL(t *testing.T) {
	w := newWorld(t)
	w.answerWithin = time.Millisecond // Slack's 3 s, shrunk: users.info is held below until released
	w.start()
	release := w.slack.Hold("users.info")
	assert.Equal(t, working, ephemeral(t, w.commandWith("UCAROL", "request vpn because travelling", "trigger-slow")))
	assert.Equal(t, working, ephemeral(t, w.commandWith("UCAROL", "request vpn because travelling", "trigger-slow", "X-Slack-Retry-Num", "1")),
		"Slack retrying the command gets the same quick answer")
	assert.Empty(t, w.slack.Calls("response_url"), "the result is not there yet")

	release()
	got := w.replies("UCAROL", 2)
	w.drain()
	assert.Len(t, w.dms("UBOB"), 1, "one card")
	mine, err := w.svc.Mine(context.Background(), governance.Person{Email: "carol@example.com"})
	require.NoError(t, err)
	require.Len(t, mine, 1, "one request")
	// The two attempts run side by side: whichever binds the command first names the
	// request (its id from its process's block), and the other answers with it.
	id := mine[0].ID
	want := "📥 Request " + id + " for Office VPN `vpn`, 30d, is waiting for Bob. I will tell you their decision in a direct message.\n> travelling\n" +
		"  Changed your mind? `/access cancel " + id + "`"
	assert.Equal(t, []string{want, want}, got, "both attempts hear of the one request")
	assert.Len(t, w.slack.Calls("response_url"), 2, "one result per attempt, nothing more")
	assert.Contains(t, w.logs.String(), `"msg":"slash command answered later through response_url"`)
}

func TestSlowSlashCommand_AFailureAfterTheAnswerIsToldThroughResponseURL(t *testing.T) {
	w := newWorld(t)
	w.answerWithin = time.Millisecond
	w.start()
	release := w.slack.Hold("users.info")
	w.slack.Fail("users.info", 1, slackfake.Failure{Status: http.StatusInternalServerError})
	assert.Equal(t, working, ephemeral(t, w.command("UCAROL", "status")))
	release()
	got := w.replies("UCAROL", 1)
	require.Len(t, got, 1)
	assert.Regexp(t, `^⚠️ Something went wrong on our side; try again in a minute\. \(ref [0-9a-f]{8}\)$`, got[0])
	assert.Contains(t, w.logs.String(), `"ref":"`+got[0][len(got[0])-9:len(got[0])-1]+`"`)
}

// Slow commands hold their slots in the work after answers until they end. One that finds
// none free is refused at once with nothing done, never told "Working on it…" and then
// forgotten.
func TestSlowSlashCommand_NoRoomMeansRefusedNotForgotten(t *testing.T) {
	w := newWorld(t)
	w.answerWithin = time.Millisecond
	w.background = 2
	w.start()
	release := w.slack.Hold("users.info")
	assert.Equal(t, working, ephemeral(t, w.commandWith("UCAROL", "request vpn because one", "trigger-1")))
	assert.Equal(t, working, ephemeral(t, w.commandWith("UALICE", "status", "trigger-2")))
	busy := ephemeral(t, w.commandWith("UDAVE", "request vpn because three", "trigger-3"))
	assert.Contains(t, busy, "accessbot is busy right now and did nothing with this; try again in a minute")

	release()
	assert.Len(t, w.replies("UCAROL", 1), 1, "the slow ones answer later")
	assert.Len(t, w.replies("UALICE", 1), 1)
	mine, err := w.svc.Mine(context.Background(), governance.Person{Email: "dave@example.com"})
	require.NoError(t, err)
	assert.Empty(t, mine, "the refused command did nothing")
	assert.Contains(t, w.logs.String(), `"msg":"slash command refused: too much work in flight"`)
}

func TestRequestForm_OpensFromTheBareCommandAndPutsErrorsOnTheirFields(t *testing.T) {
	w := newWorld(t)
	rec := w.command("UCAROL", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, strings.TrimSpace(rec.Body.String()), "the form opening is the answer")
	views := w.slack.Calls("views.open")
	require.Len(t, views, 1)
	assert.Contains(t, string(views[0].View), `"callback_id":"request_form"`)
	assert.Contains(t, string(views[0].View), `"value":"prod-db"`)
	assert.Empty(t, w.slack.Calls("users.info"), "the trigger is used before anything else")

	tests := []struct {
		name   string
		values map[string]string
		field  string
		says   string
	}{
		{"bad duration", map[string]string{"item": "prod-db", "duration": "8 parsecs", "reason": "x"}, "duration", "not a duration"},
		{"too long", map[string]string{"item": "prod-db", "duration": "30d", "reason": "x"}, "duration", "at most 7d"},
		{"reason required", map[string]string{"item": "prod-db", "duration": "8h"}, "reason", "needs a reason"},
		{"unknown item", map[string]string{"item": "nope"}, "item", "There is no catalog item \"nope\"."},
		{"own item", map[string]string{"item": "carol-only"}, "item", "only approver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := decodeView(t, w.submit("UCAROL", slackbot.CallbackRequestForm, "", tt.values))
			assert.Equal(t, "errors", a.Action)
			require.Len(t, a.Errors, 1)
			assert.Contains(t, a.Errors[tt.field], tt.says)
		})
	}
	ok := decodeView(t, w.submit("UCAROL", slackbot.CallbackRequestForm, "", map[string]string{"item": "prod-db", "duration": "2h", "reason": "on call"}))
	assert.Equal(t, viewAnswer{Action: "clear"}, ok)
	w.drain()
	assert.Equal(t, []string{"📥 Your request AR-1 for Production database `prod-db` (2h) went to Alice, Bob for approval. You will hear here when one of them decides."},
		w.dms("UCAROL"), "a submitted form is confirmed by DM")
	assert.Len(t, w.dms("UALICE"), 1)
}

func TestCommands_HelpListsCommandsAndTheCatalog(t *testing.T) {
	w := newWorld(t)
	help := ephemeral(t, w.command("UCAROL", "help"))
	for _, want := range []string{"/access request <item>", "_Example:_", "/access status", "/access pending", "/access cancel AR-7",
		"`prod-db` Production database\n   default 8h, at most 7d; a reason is required", "`vpn` Office VPN\n   default 30d"} {
		assert.Contains(t, help, want)
	}
	assert.Empty(t, w.slack.Calls("users.info"), "help needs nobody's identity")
}

func TestCommands_MistakesAreExplainedWithTheWayOut(t *testing.T) {
	w := newWorld(t)
	assert.Equal(t, "⚠️ There is no catalog item \"prod-bd\". Did you mean `prod-db` (Production database)?", ephemeral(t, w.command("UCAROL", "request prod-bd")))
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request prod-db for 8h")), "Production database needs a reason.")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "sudo make me a sandwich")), "I don't know the command \"sudo\"")
	rec := w.command("UCAROL", "request <!channel> because <@U1>")
	ephemeral(t, rec)
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Text struct{ Text string } `json:"text"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	require.Len(t, m.Blocks, 1)
	for _, s := range []string{m.Text, m.Blocks[0].Text.Text} {
		assert.Contains(t, s, `There is no catalog item "&lt;!channel&gt;".`, "even an error message cannot ping")
		assert.NotContains(t, s, "<!channel>")
	}
}

func TestCommands_SlacksEscapingIsUndoneSoApproversSeeTheReasonEscapedOnce(t *testing.T) {
	w := newWorld(t)
	// Carol types: /access request prod-db because fix A&B <urgent>
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request prod-db because fix A&amp;B &lt;urgent&gt;")), "> fix A&B <urgent>")
	w.drain()
	r, err := w.store.Get(context.Background(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, "fix A&B <urgent>", r.Reason, "the reason as typed")
	cards := w.slack.Messages(slackfake.DM("UALICE"))
	require.Len(t, cards, 1)
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	require.NoError(t, json.Unmarshal(cards[0].Blocks, &blocks))
	var mrkdwn strings.Builder
	for _, b := range blocks {
		mrkdwn.WriteString(b.Text.Text + "\n")
	}
	assert.Contains(t, mrkdwn.String(), "> fix A&amp;B &lt;urgent&gt;\n", "escaped once in the mrkdwn Slack gets")
	assert.Contains(t, w.card("UALICE"), "> fix A&B <urgent>", "what Alice reads")

	// A form's fields arrive as typed, unescaped, and are taken as they are.
	decodeView(t, w.submit("UCAROL", slackbot.CallbackRequestForm, "", map[string]string{"item": "vpn", "reason": "A&amp;B is literal"}))
	r, err = w.store.Get(context.Background(), "AR-2")
	require.NoError(t, err)
	assert.Equal(t, "A&amp;B is literal", r.Reason)
}

func TestRevoke_FromAnAddressSlackTurnedIntoAMailtoLink(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")
	w.approve("UBOB", "AR-1")
	// Dave, an admin, types: /access revoke vpn from carol@example.com
	got := ephemeral(t, w.command("UDAVE", "revoke vpn from <mailto:carol@example.com|carol@example.com>"))
	assert.Contains(t, got, "The access of Carol (carol@example.com) to Office VPN `vpn` (request AR-1) is revoked")
	assert.Equal(t, governance.StateRevoked, w.state("AR-1"))
}

func TestCommands_StatusAndPendingWithWorkingButtons(t *testing.T) {
	w := newWorld(t)
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "You have no requests yet")
	ephemeral(t, w.command("UCAROL", "request prod-db because a"))
	ephemeral(t, w.command("UCAROL", "request vpn"))

	status := ephemeral(t, w.command("UCAROL", "status"))
	assert.Contains(t, status, "AR-2 Office VPN `vpn`, 30d — waiting for Bob")
	assert.Contains(t, status, "AR-1 Production database `prod-db`, 8h — waiting for Alice, Bob")
	assert.Less(t, strings.Index(status, "AR-2"), strings.Index(status, "AR-1"), "newest first")

	rec := w.command("UBOB", "pending")
	pending := ephemeral(t, rec)
	assert.Contains(t, pending, "2 waiting for your decision")
	assert.Equal(t, 2, strings.Count(pending, "[ Approve ] [ Deny ]"), "each pending request has buttons")
	assert.Contains(t, rec.Body.String(), `"action_id":"approve","value":"AR-1"`)
	assert.Contains(t, rec.Body.String(), `"action_id":"deny","value":"AR-2"`)
	assert.Contains(t, ephemeral(t, w.command("UERIN", "pending")), "Nothing is waiting for your decision")

	w.click("UBOB", slackbot.ActionApprove, "AR-2") // the button of the pending list works like the card's
	assert.Contains(t, w.replies("UBOB", 1)[0], "You approved AR-2")
}

func TestSlackUserWithoutEmail_IsToldWhatIsWrong(t *testing.T) {
	w := newWorld(t)
	w.slack.AddUser(slackfake.User{ID: "UNOMAIL", Name: "No Mail"})
	assert.Contains(t, ephemeral(t, w.command("UNOMAIL", "status")), "users:read.email")
}

func TestInternalErrors_ApologiseWithARefAndLogTheDetail(t *testing.T) {
	w := newWorld(t)
	w.slack.Fail("users.info", 1, slackfake.Failure{Status: http.StatusInternalServerError})
	got := ephemeral(t, w.command("UCAROL", "status"))
	assert.Regexp(t, `^⚠️ Something went wrong on our side; try again in a minute\. \(ref [0-9a-f]{8}\)$`, got)
	ref := got[len(got)-9 : len(got)-1]
	assert.Contains(t, w.logs.String(), `"ref":"`+ref+`"`)
	assert.Contains(t, w.logs.String(), `"level":"ERROR"`)
}

func TestInteractions_UnknownKindsAreAcknowledgedAndIgnored(t *testing.T) {
	w := newWorld(t)
	for _, payload := range []string{`{"type":"view_closed","user":{"id":"UCAROL"}}`, `{"type":"shortcut"}`,
		`{"type":"block_actions","user":{"id":"UCAROL"},"actions":[{"action_id":"something_else"}]}`} {
		rec := w.post("/slack/interactions", url.Values{"payload": {payload}})
		assert.Equal(t, http.StatusOK, rec.Code, payload)
		assert.Empty(t, strings.TrimSpace(rec.Body.String()), payload)
	}
	assert.Equal(t, http.StatusBadRequest, w.post("/slack/interactions", url.Values{"payload": {"{not json"}}).Code)
	assert.Equal(t, http.StatusBadRequest, w.post("/slack/interactions", url.Values{}).Code)
	assert.Empty(t, w.slack.Calls(""))
}

func TestSSLCheck_IsAnswered(t *testing.T) {
	w := newWorld(t)
	rec := w.post("/slack/commands", url.Values{"ssl_check": {"1"}, "token": {"x"}})
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.String())
}

func TestSignatureAndSize_AreCheckedOnEveryRequest(t *testing.T) {
	w := newWorld(t)
	send := func(path, body string, ts int64, sig string) int {
		r := slackRequest(path, body, ts, sig)
		r.RemoteAddr = "203.0.113.9:4711"
		return serve(w.handler, r).Code
	}
	now := w.clock.Now().Unix()
	bodies := map[string]string{
		"/slack/commands":     url.Values{"text": {"status"}, "user_id": {"UCAROL"}, "team_id": {slackfake.TeamID}}.Encode(),
		"/slack/interactions": url.Values{"payload": {`{"type":"view_closed","user":{"id":"UCAROL"}}`}}.Encode(),
	}
	for path, body := range bodies {
		good := handlers.SlackSignature(secret, now, []byte(body))
		t.Run(path, func(t *testing.T) {
			assert.Equal(t, http.StatusOK, send(path, body, now, good))
			assert.Equal(t, http.StatusUnauthorized, send(path, body, 0, ""), "unsigned")
			assert.Equal(t, http.StatusUnauthorized, send(path, body, now, ""), "no signature")
			assert.Equal(t, http.StatusUnauthorized, send(path, body+"&x=1", now, good), "tampered")
			assert.Equal(t, http.StatusUnauthorized, send(path, body, now, handlers.SlackSignature("other", now, []byte(body))), "wrong secret")
			assert.Equal(t, http.StatusUnauthorized, send(path, body, now, "v1="+strings.TrimPrefix(good, "v0=")), "other version")
			stale := now - 301
			assert.Equal(t, http.StatusUnauthorized, send(path, body, stale, handlers.SlackSignature(secret, stale, []byte(body))), "stale")
			assert.Equal(t, http.StatusOK, send(path, body, now-299, handlers.SlackSignature(secret, now-299, []byte(body))), "old but in the window")
			future := now + 301
			assert.Equal(t, http.StatusUnauthorized, send(path, body, future, handlers.SlackSignature(secret, future, []byte(body))), "from the future")
			big := body + "&pad=" + strings.Repeat("x", 70<<10)
			assert.Equal(t, http.StatusRequestEntityTooLarge, send(path, big, now, handlers.SlackSignature(secret, now, []byte(big))), "oversized")
		})
	}
	logs := w.logs.String()
	assert.Contains(t, logs, `"reason":"timestamp outside the 5-minute window"`)
	assert.Contains(t, logs, `"reason":"signature does not match"`)
	assert.Contains(t, logs, `"remote":"203.0.113.9:4711"`)
	assert.NotContains(t, logs, secret, "the secret is never logged")
	assert.NotContains(t, logs, "view_closed", "bodies are never logged")
	assert.Len(t, w.slack.Calls("users.info"), 1, "only the accepted commands went on (the first found Carol, the next used the cache)")
}

func TestSignature_SlacksPublishedVectorPassesAtItsOwnTime(t *testing.T) {
	w := newWorld(t)
	clock := governance.NewManualClock(time.Unix(1531420618, 0))
	h := handlers.New(handlers.Config{Service: w.svc, Clock: clock, Logger: w.log,
		Slack: handlers.SlackConfig{SigningSecret: "8f742231b10e8888abcd99yyyzzz85a5", API: slackbot.NewClient("xoxb-test", w.slack.APIURL(), nil),
			Directory: slackbot.NewDirectory(slackbot.NewClient("xoxb-test", w.slack.APIURL(), nil), w.store,
				slackbot.WithWorkspaces(slackbot.Workspaces{Teams: []string{"T1DC2JH3J"}}))}})
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	send := func(sig string) int { return serve(h, slackRequest("/slack/commands", body, 1531420618, sig)).Code }
	assert.Equal(t, http.StatusOK, send("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"))
	assert.Equal(t, http.StatusUnauthorized, send("v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503"),
		"compared with the header as Slack writes it: lower-case hex only")
	assert.Equal(t, http.StatusUnauthorized, send("V0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"))
	assert.Equal(t, http.StatusUnauthorized, send("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504"))
	views := w.slack.Calls("views.open")
	require.Len(t, views, 1, "the vector is a bare command: the form opens")
	assert.Empty(t, views[0].Failed)
	assert.Equal(t, "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c", views[0].Params.Get("trigger_id"))
}

func TestRestart_ANewProcessDeliversEverythingExactlyOnce(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	w.replies("UBOB", 1)
	// The process dies here: the decision is stored, nothing that follows was delivered.

	w.start() // a new process over the same Redis prefix
	w.drain()
	w.start() // and another; nothing is left for it
	w.drain()

	told := w.dms("UCAROL")
	require.Len(t, told, 2, "approved + active, once each")
	assert.Contains(t, told[1], "is active until")
	assert.Len(t, w.slack.Calls("chat.update"), 1)
	var submits int
	require.NoError(t, w.store.Audit(context.Background(), time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		if a.Event == governance.EventSubmit {
			submits++
		}
		return nil
	}))
	assert.Equal(t, 1, submits)
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
}

func TestWorkerCrashMidDelivery_AnotherTakesOverOnce(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	claimed, err := w.store.ClaimTasks(context.Background(), "crashed-worker", 100, governance.ClaimEverywhere)
	require.NoError(t, err)
	require.Len(t, claimed, 3, "update cards, notify, submit — claimed, then the worker dies")

	w.start(func(o *redisstore.Options) { o.ReclaimAfter = -1 })
	w.drain()
	w.drain()
	assert.Len(t, w.dms("UCAROL"), 2)
	assert.Len(t, w.slack.Calls("chat.update"), 1)
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
}

func TestSlackRateLimit_CardIsRetriedAfterRetryAfter(t *testing.T) {
	w := newWorld(t)
	w.slack.Fail("chat.postMessage", 1, slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 30})
	w.ask("UCAROL", "request vpn")
	assert.Empty(t, w.dms("UBOB"), "rate limited: not sent yet")

	w.clock.Advance(29 * time.Second)
	w.drain()
	assert.Empty(t, w.dms("UBOB"), "Retry-After is honoured")
	w.clock.Advance(time.Second)
	w.drain()
	assert.Len(t, w.dms("UBOB"), 1)
	for _, c := range w.slack.Calls("chat.postMessage") {
		assert.True(t, c.JSON && c.Bearer, "the card goes as JSON with the bearer token, the refused try too")
	}
	rec := serve(handlers.Ops(w.metrics, false), httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Contains(t, rec.Body.String(), `accessbot_chat_api_calls_total{method="chat.postMessage",outcome="rate_limited",platform="slack"} 1`)
}

func TestSlackCardRefusals_AChannelSlackCannotFindIsGivenUpAServerErrorRetried(t *testing.T) {
	w := newWorld(t)
	w.slack.Fail("chat.postMessage", 1, slackfake.Failure{Error: "channel_not_found"})
	w.ask("UCAROL", "request vpn")
	w.clock.Advance(time.Hour)
	w.drain()
	assert.Empty(t, w.dms("UBOB"))
	assert.Len(t, w.slack.Calls("chat.postMessage"), 1, "a refusal no retry can fix is not tried again")

	w.slack.Fail("chat.postMessage", 1, slackfake.Failure{Status: http.StatusInternalServerError})
	w.ask("UDAVE", "request vpn")
	assert.Empty(t, w.dms("UBOB"), "Slack failed: not sent yet")
	w.clock.Advance(time.Hour)
	w.drain()
	assert.Len(t, w.dms("UBOB"), 1, "a server error is retried")
}

func TestSlackPermanentError_IsGivenUpNotRetried(t *testing.T) {
	w := newWorld(t)
	w.slack.Fail("users.lookupByEmail", 1, slackfake.Failure{Error: "users_not_found"})
	w.ask("UCAROL", "request vpn")
	w.clock.Advance(time.Hour)
	w.drain()
	assert.Empty(t, w.dms("UBOB"))
	assert.Len(t, w.slack.Calls("users.lookupByEmail"), 1, "a person Slack does not know is not asked for again")
}

func TestHealthAndReadiness(t *testing.T) {
	w := newWorld(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := serve(w.handler, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, "ok\n", rec.Body.String(), path)
	}

	down := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	catalog, err := governance.ParseCatalog([]byte("items:\n  - {id: x, name: X, backend: b, approvers: [a@example.com]}\n"))
	require.NoError(t, err)
	svc, err := governance.NewService(governance.Config{Catalog: catalog, Store: redisstore.New(down, redisstore.Options{}),
		Backends: []governance.Backend{namedBackend{}}, Notifier: slackbot.NewNotifier(nil, nil, nil), Logger: w.log})
	require.NoError(t, err)
	rec := serve(handlers.New(handlers.Config{Service: svc, Logger: w.log}), httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "not ready: the store does not answer: ")
	assert.Contains(t, rec.Body.String(), "127.0.0.1:1")
}

func TestNoSigningSecret_RefusesEverything(t *testing.T) {
	w := newWorld(t)
	h := handlers.New(handlers.Config{Service: w.svc, Logger: w.log})
	body := url.Values{"text": {"status"}, "user_id": {"UCAROL"}}.Encode()
	ts := w.clock.Now().Unix()
	rec := serve(h, slackRequest("/slack/commands", body, ts, handlers.SlackSignature("", ts, []byte(body))))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "an empty secret would let anyone sign")
}

// namedBackend is a backend that is never called; the readiness test needs one to exist.
type namedBackend struct{ governance.Backend }

func (namedBackend) Name() string { return "b" }

// A signed request that names nobody is a bad request, not an internal error.
func TestSlack_ARequestWithoutAUserIsABadRequest(t *testing.T) {
	w := newWorld(t)
	rec := w.post("/slack/commands", url.Values{"command": {"/access"}, "text": {"status"}, "team_id": {"T1"}, "trigger_id": {"t.1"}})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	rec = w.post("/slack/interactions", url.Values{"payload": {`{"type":"block_actions","actions":[{"action_id":"approve","value":"AR-1"}]}`}})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, w.slack.Calls("users.info"), "nobody was looked up")
}

// Over a real connection, a slow command's "Working on it…" reaches Slack whole while the
// work goes on (with its length, flushed through the metrics' writer), and the connection
// closes after it, so that no other request waits behind the work.
func TestSlowSlashCommand_WorkingReachesSlackWholeOverHTTPWhileTheWorkGoesOn(t *testing.T) {
	w := newWorld(t)
	w.answerWithin = time.Millisecond
	w.start()
	srv := httptest.NewServer(w.handler)
	defer srv.Close()
	release := w.slack.Hold("users.info")
	req := w.signed("/slack/commands", w.commandForm("UCAROL", "status", w.nextTrigger()).Encode())
	target, err := url.Parse(srv.URL + "/slack/commands")
	require.NoError(t, err)
	req.URL, req.Host, req.RequestURI = target, target.Host, ""
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, working, slackbot.ResponseText(body))
	assert.True(t, resp.Close, "the connection closes after the answer")
	assert.Empty(t, w.slack.Calls("response_url"), "the work goes on")
	release()
	assert.Contains(t, w.replies("UCAROL", 1)[0], "You have no requests")
}
