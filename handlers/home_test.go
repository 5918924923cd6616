package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/handlers"
)

// homeWorld is a world whose changes redraw Slack's Home tabs.
func homeWorld(t *testing.T) *world {
	w := newWorldWith(t, catalogYAML, nil)
	w.homes = true
	w.start()
	return w
}

// home is user's Home tab as Slack shows it now, as text, and how often it was published.
func (w *world) home(user string) (string, int) {
	w.t.Helper()
	h := w.slack.Home(user)
	if h == nil {
		return "", 0
	}
	var v struct {
		Type   string          `json:"type"`
		Blocks json.RawMessage `json:"blocks"`
	}
	require.NoError(w.t, json.Unmarshal(h.View, &v))
	require.Equal(w.t, "home", v.Type)
	return slackbot.BlocksText(v.Blocks), h.Publishes
}

// event is the Events API request Slack sends for an inner event of team.
func (w *world) event(team string, inner map[string]any) *http.Request {
	b, err := json.Marshal(map[string]any{"token": "ignored", "team_id": team, "api_app_id": "A0FAKE", "type": "event_callback",
		"event_id": "Ev" + w.nextTrigger(), "event_time": w.clock.Now().Unix(), "event": inner})
	require.NoError(w.t, err)
	r := w.signed("/slack/events", string(b))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// homeClick is user pressing a button of their Home tab: the payload has a view container
// and, unlike a message's, no response_url.
func (w *world) homeClick(user, action, id string) *httptest.ResponseRecorder {
	p := w.clickPayload(user, action, id)
	delete(p, "response_url")
	p["container"] = map[string]any{"type": "view", "view_id": "VH" + user}
	p["view"] = map[string]any{"id": "VH" + user, "type": "home", "callback_id": slackbot.CallbackHome}
	return w.interaction(p)
}

// openHome is user opening accessbot's Home tab, drawn before it returns.
func (w *world) openHome(users ...string) {
	w.t.Helper()
	for _, user := range users {
		n := len(w.slack.Calls("views.publish"))
		rec := serve(w.handler, w.event(slackfake.TeamID, map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user,
			"tab": "home", "event_ts": "1700000000.000100"}))
		require.Equal(w.t, http.StatusOK, rec.Code)
		w.slack.Wait(w.t, "views.publish", n+1, 5*time.Second)
	}
}

// settle waits for the work handlers do after answering.
func (w *world) settle() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(w.t, w.bg.Wait(ctx))
}

func TestHome_IsRedrawnThroughTheOutboxAfterARequestADecisionAndTheEnd(t *testing.T) {
	w := homeWorld(t)
	w.openHome("UCAROL", "UALICE", "UBOB")
	w.ask("UCAROL", "request prod-db for 8h because investigating INC-4711")

	carol, n := w.home("UCAROL")
	assert.Equal(t, 2, n, "drawn when opened, and again after the request")
	assert.Contains(t, carol, "Your requests")
	assert.Contains(t, carol, "AR-1 Production database `prod-db`, 8h — waiting for approval")
	assert.Contains(t, carol, "_Next:_ a decision from Alice, Bob.")
	assert.Contains(t, carol, "[ Cancel request ]")
	assert.Contains(t, carol, "You hold no access through accessbot right now.")
	alice, n := w.home("UALICE")
	assert.Equal(t, 2, n, "one drawing per person and pass, however many tasks asked for it")
	assert.Contains(t, alice, "AR-1 Carol (carol@example.com) asks for Production database `prod-db`, 8h")
	assert.Contains(t, alice, "[ Approve ] [ Deny ]")
	bob, _ := w.home("UBOB")
	assert.Contains(t, bob, "AR-1 Carol")

	w.approve("UALICE", "AR-1")
	require.Equal(t, governance.StateActive, w.state("AR-1"))
	carol, _ = w.home("UCAROL")
	assert.Contains(t, carol, "Your access")
	assert.Contains(t, carol, "AR-1 Production database `prod-db` until 2026-11-23 17:00 UTC")
	assert.Contains(t, carol, "[ Extend ] [ Revoke ]")
	assert.Contains(t, carol, "Nothing under way.")
	for _, approver := range []string{"UALICE", "UBOB"} {
		h, _ := w.home(approver)
		assert.Contains(t, h, "Nothing is waiting for your decision.", approver)
	}

	w.sweepAfter(8 * time.Hour)
	require.Equal(t, governance.StateExpired, w.state("AR-1"))
	carol, _ = w.home("UCAROL")
	assert.Contains(t, carol, "You hold no access through accessbot right now.", "the end shows too")
	assert.Contains(t, carol, "/access help")
}

func TestHome_NotRedrawnForThoseWhoNeverOpenedIt(t *testing.T) {
	w := homeWorld(t)
	w.openHome("UCAROL")
	w.ask("UCAROL", "request vpn because travelling")
	_, n := w.home("UCAROL")
	assert.Equal(t, 2, n)
	assert.Nil(t, w.slack.Home("UBOB"), "Bob never opened his Home tab: it is drawn when he does, not before")
	assert.Len(t, w.slack.Calls("views.publish"), 2)

	w.openHome("UBOB")
	bob, _ := w.home("UBOB")
	assert.Contains(t, bob, "AR-1 Carol (carol@example.com) asks for Office VPN `vpn`", "as it is when he opens it")
}

// A change makes no task to redraw the home of someone this process knows not to watch
// theirs (their record at hand says they have not opened it lately): the task would only
// find that out again. Someone it does not know yet gets the task, which finds out.
func TestHome_NoTaskForThoseKnownNotToWatch(t *testing.T) {
	w := homeWorld(t)
	homeTasks := func() string {
		rec := serve(handlers.Ops(w.metrics, false), httptest.NewRequest(http.MethodGet, "/metrics", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		for line := range strings.SplitSeq(rec.Body.String(), "\n") {
			if strings.HasPrefix(line, `accessbot_outbox_deliveries_total{kind="home",outcome="ok"}`) {
				return line[strings.LastIndexByte(line, ' ')+1:]
			}
		}
		return "0"
	}
	w.ask("UCAROL", "request vpn because travelling")
	assert.Equal(t, "1", homeTasks(), "Bob's record was not at hand yet (Carol's was: she had just asked)")
	w.ask("UDAVE", "request vpn because travelling")
	assert.Equal(t, "1", homeTasks(), "neither Dave nor Bob watches, and both are known now")
	assert.Empty(t, w.slack.Calls("views.publish"))

	w.openHome("UBOB")
	w.ask("UERIN", "request vpn because travelling")
	assert.Equal(t, "2", homeTasks(), "Bob watches now: his home is redrawn")
	bob, _ := w.home("UBOB")
	assert.Contains(t, bob, "AR-3")
}

func TestHome_NotDrawnWithoutHomes(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")
	assert.Empty(t, w.slack.Calls("views.publish"), "a bot without Slack's Home tab publishes none")
}

func TestHome_DrawnWhenOpenedThroughTheEventsAPI(t *testing.T) {
	w := newWorld(t) // drawn on opening even where changes do not redraw it
	w.ask("UCAROL", "request vpn because travelling")

	rec := serve(w.handler, w.event(slackfake.TeamID, map[string]any{"type": "app_home_opened", "user": "UBOB", "channel": "DUBOB",
		"tab": "home", "event_ts": "1700000000.000100"}))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.String(), "acknowledged at once; the drawing follows")
	w.slack.Wait(t, "views.publish", 1, 5*time.Second)
	bob, _ := w.home("UBOB")
	assert.Contains(t, bob, "AR-1 Carol (carol@example.com) asks for Office VPN `vpn`")

	// The messages tab, another workspace and an unsigned request draw nothing.
	serve(w.handler, w.event(slackfake.TeamID, map[string]any{"type": "app_home_opened", "user": "UCAROL", "tab": "messages"}))
	serve(w.handler, w.event("T0OTHER", map[string]any{"type": "app_home_opened", "user": "UCAROL", "tab": "home"}))
	unsigned := w.event(slackfake.TeamID, map[string]any{"type": "app_home_opened", "user": "UCAROL", "tab": "home"})
	unsigned.Header.Set("X-Slack-Signature", "v0=00")
	assert.Equal(t, http.StatusUnauthorized, serve(w.handler, unsigned).Code)
	w.settle()
	assert.Len(t, w.slack.Calls("views.publish"), 1)
	assert.Nil(t, w.slack.Home("UCAROL"))

	// An event accessbot does not know is acknowledged too, so Slack does not retry it.
	rec = serve(w.handler, w.event(slackfake.TeamID, map[string]any{"type": "reaction_added_unknown_to_us", "user": "UCAROL"}))
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestHome_AnsweresURLVerificationWithTheChallengeWhenSigned(t *testing.T) {
	w := newWorld(t)
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	r := w.signed("/slack/events", body)
	r.Header.Set("Content-Type", "application/json")
	rec := serve(w.handler, r)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", rec.Body.String())
	assert.Equal(t, "text/plain", rec.Header().Get("Content-Type"))

	forged := slackRequest("/slack/events", body, w.clock.Now().Unix(), "v0=deadbeef")
	assert.Equal(t, http.StatusUnauthorized, serve(w.handler, forged).Code, "the challenge is answered only to Slack")
}

func TestHome_CancelAndRevokeFromTheHomeTabActForTheClickerOnly(t *testing.T) {
	w := homeWorld(t)
	w.openHome("UCAROL", "UBOB")
	w.ask("UCAROL", "request vpn because travelling")

	w.homeClick("UBOB", slackbot.ActionCancel, "AR-1")
	w.settle()
	assert.Contains(t, w.lastDM("UBOB"), "Only Carol", "someone else's Cancel is refused, by direct message: a Home tab click has no response_url")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"))

	w.homeClick("UCAROL", slackbot.ActionCancel, "AR-1")
	w.settle()
	assert.Contains(t, w.lastDM("UCAROL"), "Request AR-1 for Office VPN `vpn` is cancelled")
	assert.Equal(t, governance.StateCancelled, w.state("AR-1"))
	w.drain()
	carol, _ := w.home("UCAROL")
	assert.Contains(t, carol, "Nothing under way.")
	bob, _ := w.home("UBOB")
	assert.Contains(t, bob, "Nothing is waiting for your decision.")

	w.ask("UCAROL", "request vpn because travelling again")
	w.approve("UBOB", "AR-2")
	require.Equal(t, governance.StateActive, w.state("AR-2"))
	w.homeClick("UALICE", slackbot.ActionRevoke, "AR-2")
	w.settle()
	assert.Equal(t, governance.StateActive, w.state("AR-2"), "a stranger cannot revoke Carol's access")
	assert.Contains(t, w.lastDM("UALICE"), "AR-2")
	w.homeClick("UCAROL", slackbot.ActionRevoke, "AR-2")
	w.settle()
	assert.Equal(t, governance.StateRevoked, w.state("AR-2"))
	assert.Contains(t, w.lastDM("UCAROL"), "is revoked")
	w.drain()
	carol, _ = w.home("UCAROL")
	assert.Contains(t, carol, "You hold no access through accessbot right now.")
}

func TestHome_OpenedOverSocketMode(t *testing.T) {
	w := newWorld(t)
	sm := w.socketMode(1)
	w.ask("UCAROL", "request vpn because travelling")
	ack := sm.Send(t, "events_api", map[string]any{"type": "event_callback", "team_id": slackfake.TeamID, "api_app_id": "A0FAKE",
		"event_id": "Ev2", "event": map[string]any{"type": "app_home_opened", "user": "UCAROL", "channel": "DUCAROL", "tab": "home"}}, false, deadline)
	assert.Nil(t, ack, "acknowledged without a payload")
	w.slack.Wait(t, "views.publish", 1, deadline)
	carol, _ := w.home("UCAROL")
	assert.Contains(t, carol, "AR-1 Office VPN `vpn`, 30d — waiting for approval")
}

func TestHome_ABotSeesWhyItHasNoHome(t *testing.T) {
	w := newWorld(t)
	serve(w.handler, w.event(slackfake.TeamID, map[string]any{"type": "app_home_opened", "user": "UBOT", "tab": "home"}))
	w.slack.Wait(t, "views.publish", 1, 5*time.Second)
	bot, _ := w.home("UBOT")
	assert.Contains(t, bot, "Bots and apps cannot use accessbot", "someone accessbot cannot act for is told why, where they look")
}

func TestHome_TheTasksOfOnePassDrawEachHomeOnce(t *testing.T) {
	w := homeWorld(t)
	w.openHome("UCAROL", "UBOB")
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	ephemeral(t, w.command("UCAROL", "cancel AR-1"))
	w.drain()
	carol, n := w.home("UCAROL")
	assert.Equal(t, 2, n, "the request's and the cancellation's tasks draw Carol's home once")
	assert.Contains(t, carol, "Nothing under way.", "as the store has it when drawn")
	_, n = w.home("UBOB")
	assert.Equal(t, 2, n)
}

func TestHome_OpenedWithALargeViewIsTaken(t *testing.T) {
	w := newWorld(t)
	var blocks []map[string]any
	for range 100 {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Repeat("x", 2000)}})
	}
	rec := serve(w.handler, w.event(slackfake.TeamID, map[string]any{"type": "app_home_opened", "user": "UCAROL", "tab": "home",
		"view": map[string]any{"id": "VHUCAROL", "type": "home", "blocks": blocks, "hash": "1.home"}}))
	assert.Equal(t, http.StatusOK, rec.Code, "the Home tab Slack sends back, 200 KB of it, fits")
	w.slack.Wait(t, "views.publish", 1, 5*time.Second)
}
