package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/handlers"
)

// deadline bounds every wait on the fake Socket Mode: far longer than anything takes.
const deadline = 10 * time.Second

// socketMode serves w's Slack over n connections to a fake Socket Mode, until the test
// ends.
func (w *world) socketMode(n int) *slackfake.SocketMode {
	t := w.t
	sm := slackfake.StartSocketMode(t)
	api := slackapi.New("xoxb-test", slackapi.OptionAppLevelToken(slackfake.AppToken), slackapi.OptionAPIURL(sm.APIURL()))
	var clients []*socketmode.Client
	for range n {
		clients = append(clients, socketmode.New(api, socketmode.OptionLog(log.New(io.Discard, "", 0))))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- handlers.NewSocketMode(w.config, clients...).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(deadline):
			t.Error("Socket Mode did not stop")
		}
	})
	sm.WaitOpen(t, n, n, deadline)
	return sm
}

// slashCommand is user's /access text over Socket Mode; it returns the acknowledgement's
// payload as text, which must be an ephemeral message.
func (w *world) slashCommand(sm *slackfake.SocketMode, user, text string) string {
	t := w.t
	t.Helper()
	fields := map[string]string{}
	for k, v := range w.commandForm(user, text, w.nextTrigger()) {
		fields[k] = v[0]
	}
	ack := sm.Send(t, "slash_commands", fields, true, deadline)
	var m map[string]any
	require.NoError(t, json.Unmarshal(ack, &m), string(ack))
	require.Equal(t, "ephemeral", m["response_type"], string(ack))
	return slackbot.ResponseText(ack)
}

func TestSocketMode_ACommandIsAnsweredInItsAcknowledgement(t *testing.T) {
	w := newWorld(t)
	sm := w.socketMode(1)

	assert.Contains(t, w.slashCommand(sm, "UCAROL", "request prod-db for 8h because investigating INC-4711"),
		"Request AR-1 for Production database `prod-db`, 8h, is waiting for Alice, Bob.")
	assert.Contains(t, w.slashCommand(sm, "UCAROL", "frobnicate"), "/access help", "a mistake is answered in the acknowledgement too")
	w.drain()
	assert.Contains(t, w.lastDM("UALICE"), "Access request AR-1", "the approvers got their cards")
	assert.Empty(t, sm.Strays(), "every acknowledgement answered an envelope, within Slack's size limit")
}

func TestSocketMode_AClickIsAcknowledgedEmptyAndAnsweredThroughResponseURL(t *testing.T) {
	w := newWorld(t)
	sm := w.socketMode(1)
	w.slashCommand(sm, "UCAROL", "request vpn because travelling")
	w.drain()

	ack := sm.Send(t, "interactive", w.clickPayload("UBOB", slackbot.ActionApprove, "AR-1"), false, deadline)
	assert.Nil(t, ack, "a click is acknowledged without a payload")
	assert.Contains(t, w.replies("UBOB", 1)[0], "You approved AR-1")
	w.drain()
	assert.Contains(t, w.card("UBOB"), "Approved by Bob (bob@example.com)")

	again := sm.Send(t, "interactive", w.clickPayload("UBOB", slackbot.ActionApprove, "AR-1"), false, deadline)
	assert.Nil(t, again)
	assert.Contains(t, w.replies("UBOB", 2)[1], "already", "a second click, on this or another replica's connection, decides nothing")
}

func TestSocketMode_AFormSubmissionIsAnsweredWithItsViewResponse(t *testing.T) {
	w := newWorld(t)
	sm := w.socketMode(1)

	ack := sm.Send(t, "interactive", w.submitPayload("UCAROL", slackbot.CallbackRequestForm, "",
		map[string]string{slackbot.BlockItem: "vpn", slackbot.BlockDuration: "forever", slackbot.BlockReason: "travelling"}), true, deadline)
	var v struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(ack, &v), string(ack))
	assert.Equal(t, "errors", v.Action)
	assert.Contains(t, v.Errors, slackbot.BlockDuration, "the mistake is shown on its field, the modal stays open")

	ack = sm.Send(t, "interactive", w.submitPayload("UCAROL", slackbot.CallbackRequestForm, "",
		map[string]string{slackbot.BlockItem: "vpn", slackbot.BlockDuration: "2d", slackbot.BlockReason: "travelling"}), true, deadline)
	require.NoError(t, json.Unmarshal(ack, &v), string(ack))
	assert.Equal(t, "clear", v.Action, "a good submission closes the modal")
}

func TestSocketMode_AnAnswerTooLargeForTheAcknowledgementGoesThroughResponseURL(t *testing.T) {
	var catalog strings.Builder
	catalog.WriteString("items:\n")
	for i := range 100 { // help lists them all: about 26 KB, beyond Slack's 20 KB for an acknowledgement
		fmt.Fprintf(&catalog, "  - id: item-%02d\n    name: %s\n    backend: builtin\n    approvers: [\"Bob <bob@example.com>\"]\n",
			i, strings.Repeat("Long name ", 40))
	}
	w := newWorldWith(t, catalog.String(), nil)
	sm := w.socketMode(1)

	fields := map[string]string{}
	for k, v := range w.commandForm("UCAROL", "help", w.nextTrigger()) {
		fields[k] = v[0]
	}
	assert.Nil(t, sm.Send(t, "slash_commands", fields, true, deadline), "acknowledged empty, not dropped")
	help := w.replies("UCAROL", 1)[0]
	assert.Contains(t, help, "item-00")
	assert.Empty(t, sm.Strays(), "nothing was sent that Slack would drop")
}

func TestSocketMode_EventsAreAcknowledgedSoSlackDoesNotRetryThem(t *testing.T) {
	w := newWorld(t)
	sm := w.socketMode(1)
	ack := sm.Send(t, "events_api", map[string]any{"type": "event_callback", "team_id": slackfake.TeamID, "api_app_id": "A0FAKE",
		"event_id": "Ev1", "event": map[string]any{"type": "app_home_opened", "user": "UCAROL", "tab": "messages"}}, false, deadline)
	assert.Nil(t, ack)
}

func TestSocketMode_ReconnectsAfterDisconnectAndADroppedConnection(t *testing.T) {
	w := newWorld(t)
	sm := w.socketMode(2)

	sm.Disconnect(t, "refresh_requested", deadline)
	assert.Contains(t, w.slashCommand(sm, "UCAROL", "request vpn because travelling"), "AR-1",
		"the other connection serves while one is recycled")
	sm.WaitOpen(t, 2, 3, deadline)

	sm.Drop(t)
	sm.WaitOpen(t, 2, 4, deadline)
	assert.Contains(t, w.slashCommand(sm, "UCAROL", "status"), "AR-1", "the new connection serves")
	w.drain()
	assert.Nil(t, sm.Send(t, "interactive", w.clickPayload("UBOB", slackbot.ActionApprove, "AR-1"), false, deadline))
	assert.Contains(t, w.replies("UBOB", 1)[0], "You approved AR-1")
}

// A command whose work outlasts Slack's deadline is acknowledged with "Working on it…" at
// the deadline, once, and its result comes through its response_url.
func TestSocketMode_ASlowCommandIsAcknowledgedInTimeThenAnsweredThroughResponseURL(t *testing.T) {
	w := newWorld(t)
	w.answerWithin = time.Millisecond
	w.start()
	sm := w.socketMode(1)
	release := w.slack.Hold("users.info")
	assert.Equal(t, working, w.slashCommand(sm, "UCAROL", "status"))
	assert.Empty(t, w.slack.Calls("response_url"), "the result is not there yet")
	release()
	got := w.replies("UCAROL", 1)
	assert.Contains(t, got[0], "You have no requests")
	assert.Empty(t, sm.Strays(), "one acknowledgement, of the envelope it answers")
}
