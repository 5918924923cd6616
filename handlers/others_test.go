package handlers_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

// Dave, an admin, asks for Carol with a Slack mention; Carol is told and cancels it.
func TestRequestsForOthers_AnAdminAsksForSomeoneWhoIsToldAndCancels(t *testing.T) {
	w := newWorld(t)
	answer := w.ask("UDAVE", "request vpn for <@UCAROL|carol> for 2h because her laptop is new")
	assert.Contains(t, answer, "Request AR-1 for Office VPN `vpn`, 2h, for Carol (carol@example.com), is waiting for Bob")
	card := w.card("UBOB")
	assert.Contains(t, card, "For: Carol (carol@example.com)")
	assert.Contains(t, card, "Asked by: Dave (dave@example.com)")
	told := w.lastDM("UCAROL")
	assert.Contains(t, told, "Dave (dave@example.com) asked for Office VPN `vpn` (2h) for you: request AR-1")
	assert.Contains(t, told, "Not wanted? `/access cancel AR-1`")

	w.click("UDAVE", slackbot.ActionApprove, "AR-1")
	assert.Contains(t, w.replies("UDAVE", 1)[0], "You asked for AR-1 for Carol, so you can't decide it")

	assert.Contains(t, w.ask("UCAROL", "cancel AR-1"), "Request AR-1 for Office VPN `vpn` is cancelled")
	assert.Equal(t, governance.StateCancelled, w.state("AR-1"))
	assert.Contains(t, w.card("UBOB"), "Cancelled by requester Carol")
}

// Anyone but a manager or an admin is refused, with what to do; so is a name that is not
// someone accessbot can find.
func TestRequestsForOthers_OnlyManagersAndAdminsAndOnlyPeopleAccessbotCanName(t *testing.T) {
	w := newWorld(t)
	assert.Contains(t, w.ask("UBOB", "request vpn for carol@example.com because she asked"),
		"You can ask for access for someone else only as their manager or as an admin; carol@example.com can ask for Office VPN themselves")
	assert.Contains(t, w.ask("UDAVE", "request vpn for @carol because she asked"), `I can't tell who "@carol" is; write their e-mail address`)
	assert.Empty(t, w.requests("carol@example.com"))
}

// The request form's For field does the same.
func TestRequestsForOthers_TheFormHasAForField(t *testing.T) {
	w := newWorld(t)
	a := decodeView(t, w.submit("UBOB", slackbot.CallbackRequestForm, "", map[string]string{"item": "vpn", slackbot.BlockFor: "carol@example.com"}))
	require.Equal(t, "errors", a.Action)
	assert.Contains(t, a.Errors[slackbot.BlockFor], "only as their manager or as an admin", "the refusal lands on the For field")

	a = decodeView(t, w.submit("UDAVE", slackbot.CallbackRequestForm, "", map[string]string{"item": "vpn", slackbot.BlockFor: "carol@example.com", "reason": "new laptop"}))
	assert.Equal(t, "clear", a.Action)
	w.drain()
	rs := w.requests("carol@example.com")
	require.Len(t, rs, 1)
	assert.Equal(t, "dave@example.com", rs[0].RequestedBy.Email)
	assert.True(t, strings.Contains(w.lastDM("UCAROL"), "asked for Office VPN `vpn` (30d) for you"))
}
