package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/handlers"
)

func TestRequestApproveGrant_EndToEnd(t *testing.T) {
	w := newWorld(t)
	ack := ephemeral(t, w.command("UCAROL", "request prod-db for 8h because investigating INC-4711"))
	assert.Contains(t, ack, "AR-1")
	assert.Contains(t, ack, "Production database")
	assert.Contains(t, ack, "8h")
	assert.Contains(t, ack, "Alice, Bob", "the ack says who will approve")

	w.drain()
	for _, approver := range []string{"UALICE", "UBOB"} {
		cards := w.dms(approver)
		require.Len(t, cards, 1, approver)
		for _, want := range []string{"Access request AR-1", "Carol (carol@example.com)", "Production database", "8h", "investigating INC-4711", "[ Approve ] [ Deny ]"} {
			assert.Contains(t, cards[0], want)
		}
	}

	w.clock.Advance(10 * time.Minute)
	rec := w.click("UALICE", slackbot.ActionApprove, "AR-1")
	require.Equal(t, http.StatusOK, rec.Code)
	w.drain()

	updates := w.ws.Calls("chat.update")
	require.Len(t, updates, 2, "every approver's card is updated")
	channels := []string{updates[0].Channel, updates[1].Channel}
	assert.ElementsMatch(t, []string{"DUALICE", "DUBOB"}, channels, "chat.update uses the DM channel the card was posted in")
	for _, u := range updates {
		text := slackbot.BlocksText([]byte(u.Blocks))
		assert.Contains(t, text, "Approved by Alice")
		assert.NotContains(t, text, "[ Approve ]", "the buttons are gone")
	}
	told := strings.Join(w.dms("UCAROL"), "\n")
	assert.Contains(t, told, "Alice (alice@example.com) approved your request AR-1")
	assert.Contains(t, told, "is active until 2026-11-23 17:10 UTC")

	g, ok, err := w.store.Grant(context.Background(), "AR-1")
	require.NoError(t, err)
	require.True(t, ok, "the built-in backend recorded the grant")
	assert.Equal(t, t0.Add(10*time.Minute+8*time.Hour), g.End)
	r, err := w.store.Get(context.Background(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, r.State)
}

func TestDeny_AsksForAReasonAndTellsTheRequester(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	w.drain()

	require.Equal(t, http.StatusOK, w.click("UBOB", slackbot.ActionDeny, "AR-1").Code)
	views := w.ws.Calls("views.open")
	require.Len(t, views, 1, "deny opens the reason form")
	assert.Contains(t, views[0].View, `"private_metadata":"AR-1"`)
	assert.Contains(t, views[0].View, slackbot.CallbackDenyReason)

	empty := w.submit("UBOB", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "  "})
	assert.JSONEq(t, `{"response_action":"errors","errors":{"reason":"Tell the requester why you deny the request, so they know what to do instead."}}`, empty.Body.String())

	rec := w.submit("UBOB", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "use the bastion <!channel>"})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, strings.TrimSpace(rec.Body.String()), "an empty answer closes the form")
	w.drain()

	told := strings.Join(w.dms("UCAROL"), "\n")
	assert.Contains(t, told, "Bob (bob@example.com) denied your request AR-1")
	assert.Contains(t, told, "use the bastion")
	for _, c := range w.ws.Calls("chat.postMessage") {
		assert.NotContains(t, c.Blocks, "<!channel>", "a reason cannot ping a channel")
	}
	updates := w.ws.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, slackbot.BlocksText([]byte(updates[0].Blocks)), "Denied by Bob")
	assert.Empty(t, w.ws.Calls("users.lookupByEmail")[1:], "approvers are looked up once and then cached")
}

func TestCancel_OnlyTheRequester(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn"))
	w.drain()

	assert.Contains(t, ephemeral(t, w.command("UBOB", "cancel AR-1")), "Only Carol, who asked for AR-1, can cancel it.")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel ar-1")), "AR-1")
	w.drain()
	updates := w.ws.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, slackbot.BlocksText([]byte(updates[0].Blocks)), "Cancelled by Carol")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel AR-1")), "already cancelled")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "cancel AR-99")), "There is no request AR-99")

	require.Equal(t, http.StatusOK, w.click("UBOB", slackbot.ActionApprove, "AR-1").Code)
	assert.Contains(t, strings.Join(w.replies("UBOB"), "\n"), "AR-1 is cancelled, so there is nothing left to decide.")
}

func TestRefusals_SelfApprovalAndNonApprovers(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request prod-db because debugging"))
	w.drain()

	w.click("UCAROL", slackbot.ActionApprove, "AR-1")
	assert.Equal(t, []string{"⚠️ You can't decide your own request AR-1; it is waiting for Alice, Bob."}, w.replies("UCAROL"))

	w.click("UERIN", slackbot.ActionApprove, "AR-1")
	w.click("UERIN", slackbot.ActionDeny, "AR-1")
	refusals := w.replies("UERIN")
	require.Len(t, refusals, 2)
	for _, r := range refusals {
		assert.Equal(t, "⚠️ You are not an approver of AR-1, so you can't decide it; it is waiting for Alice, Bob.", r)
	}
	assert.Empty(t, w.ws.Calls("views.open"), "a non-approver is refused before any form opens")

	forged := w.submit("UERIN", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "forged"})
	assert.Contains(t, forged.Body.String(), "not an approver", "a forged modal submission is refused too")

	r, _ := w.store.Get(context.Background(), "AR-1")
	assert.Equal(t, governance.StatePendingApproval, r.State)

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request carol-only")), "You are the only approver of Carol's own thing")
}

func TestConcurrentApprovals_ExactlyOneDecisionAndOneSubmission(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request prod-db because debugging"))
	w.drain()

	var wg sync.WaitGroup
	for _, u := range []string{"UALICE", "UBOB"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.click(u, slackbot.ActionApprove, "AR-1")
		}()
	}
	wg.Wait()
	w.drain()

	losers := append(w.replies("UALICE"), w.replies("UBOB")...)
	require.Len(t, losers, 1, "the click that lost is told")
	assert.Regexp(t, `AR-1 was already approved by (Alice|Bob) at 2026-11-23 09:00 UTC\.`, losers[0])
	told := w.dms("UCAROL")
	require.Len(t, told, 2, "one approval notice and one active notice")
	assert.Len(t, w.ws.Calls("chat.update"), 2)
	var submits int
	require.NoError(t, w.store.Audit(context.Background(), time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		if a.Event == governance.EventSubmit {
			submits++
		}
		return nil
	}))
	assert.Equal(t, 1, submits)
}

func TestSlashCommandRetriedBySlack_OneRequest(t *testing.T) {
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
}

func TestRequestForm_ValidationErrorsLandOnTheirFields(t *testing.T) {
	w := newWorld(t)
	rec := w.command("UCAROL", "")
	require.Equal(t, http.StatusOK, rec.Code)
	views := w.ws.Calls("views.open")
	require.Len(t, views, 1)
	assert.Contains(t, views[0].View, slackbot.CallbackRequestForm)
	assert.Contains(t, views[0].View, `"value":"prod-db"`)

	tests := []struct {
		name   string
		values map[string]string
		field  string
		says   string
	}{
		{"bad duration", map[string]string{"item": "prod-db", "duration": "8 parsecs", "reason": "x"}, "duration", "not a duration"},
		{"too long", map[string]string{"item": "prod-db", "duration": "30d", "reason": "x"}, "duration", "at most 7d"},
		{"reason required", map[string]string{"item": "prod-db", "duration": "8h"}, "reason", "needs a reason"},
		{"unknown item", map[string]string{"item": "nope"}, "item", "no catalog item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := w.submit("UCAROL", slackbot.CallbackRequestForm, "", tt.values)
			var resp struct {
				Action string            `json:"response_action"`
				Errors map[string]string `json:"errors"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp), rec.Body.String())
			assert.Equal(t, "errors", resp.Action)
			assert.Contains(t, resp.Errors[tt.field], tt.says)
		})
	}
	ok := w.submit("UCAROL", slackbot.CallbackRequestForm, "", map[string]string{"item": "prod-db", "duration": "2h", "reason": "on call"})
	assert.JSONEq(t, `{"response_action":"clear"}`, ok.Body.String())
	w.drain()
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "Your request AR-1 for Production database `prod-db` (2h) went to Alice, Bob for approval.")
	assert.Len(t, w.dms("UALICE"), 1)
}

func TestCommands_HelpStatusPendingAndUnknownItems(t *testing.T) {
	w := newWorld(t)
	help := ephemeral(t, w.command("UCAROL", "help"))
	for _, want := range []string{"/access request <item>", "prod-db", "at most 7d", "a reason is required", "/access cancel AR-7"} {
		assert.Contains(t, help, want)
	}
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request prod-bd")), "Did you mean `prod-db` (Production database)?")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request prod-db for 8h")), "needs a reason")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "sudo make me a sandwich")), "I don't know the command \"sudo\"")
	assert.Contains(t, ephemeral(t, w.command("UCAROL", "status")), "You have no requests yet")

	ephemeral(t, w.command("UCAROL", "request prod-db because a"))
	ephemeral(t, w.command("UCAROL", "request vpn"))
	status := ephemeral(t, w.command("UCAROL", "status"))
	assert.Contains(t, status, "AR-2 Office VPN")
	assert.Contains(t, status, "waiting for approval (waiting for Bob)")

	rec := w.command("UBOB", "pending")
	pending := ephemeral(t, rec)
	assert.Contains(t, pending, "2 waiting for your decision")
	assert.Equal(t, 2, strings.Count(pending, "[ Approve ] [ Deny ]"), "each pending request has working buttons")
	assert.Contains(t, rec.Body.String(), `"action_id":"approve"`)
	assert.Contains(t, rec.Body.String(), `"value":"AR-1"`)
	assert.Contains(t, ephemeral(t, w.command("UERIN", "pending")), "Nothing is waiting for your decision")
}

func TestSlackUserWithoutEmail_IsToldWhatIsWrong(t *testing.T) {
	w := newWorld(t)
	w.ws.AddUser(slackbot.WorkspaceUser{ID: "UBOT", Name: "Some bot"})
	assert.Contains(t, ephemeral(t, w.command("UBOT", "status")), "users:read.email")
}

func TestSignatureAndSize_AreCheckedOnEveryRequest(t *testing.T) {
	w := newWorld(t)
	body := url.Values{"text": {"status"}, "user_id": {"UCAROL"}}.Encode()
	send := func(path, body string, ts int64, sig string) int {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if ts != 0 {
			r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		}
		if sig != "" {
			r.Header.Set("X-Slack-Signature", sig)
		}
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, r)
		return rec.Code
	}
	now := w.clock.Now().Unix()
	bodies := map[string]string{
		"/slack/commands":     body,
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
			stale := now - 301
			assert.Equal(t, http.StatusUnauthorized, send(path, body, stale, handlers.SlackSignature(secret, stale, []byte(body))), "stale")
			future := now + 301
			assert.Equal(t, http.StatusUnauthorized, send(path, body, future, handlers.SlackSignature(secret, future, []byte(body))), "from the future")
			big := body + "&pad=" + strings.Repeat("x", 70<<10)
			assert.Equal(t, http.StatusRequestEntityTooLarge, send(path, big, now, handlers.SlackSignature(secret, now, []byte(big))), "oversized")
		})
	}
}

func TestSlackSignature_MatchesSlacksPublishedVector(t *testing.T) {
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	assert.Equal(t, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		handlers.SlackSignature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, []byte(body)))
}

func TestRestartBetweenDecisionAndDelivery_EverythingHappensOnce(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	w.drain()
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	// The process dies here: the decision is stored, nothing of what follows was delivered.

	w.start() // a new process over the same Redis
	w.drain()
	w.start() // and another; nothing is left for it
	w.drain()

	assert.Len(t, w.dms("UCAROL"), 2, "approved + active, once each")
	assert.Len(t, w.ws.Calls("chat.update"), 1)
	r, err := w.store.Get(context.Background(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, r.State)
}

func TestWorkerCrashMidDelivery_AnotherTakesOverOnce(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	w.drain()
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	claimed, err := w.store.ClaimTasks(context.Background(), "crashed-worker", 100)
	require.NoError(t, err)
	require.Len(t, claimed, 3, "update cards, notify, submit — claimed, then the worker dies")

	w.start(func(o *redisstore.Options) { o.ReclaimAfter = -1 })
	w.drain()
	w.drain()
	assert.Len(t, w.dms("UCAROL"), 2)
	assert.Len(t, w.ws.Calls("chat.update"), 1)
	r, _ := w.store.Get(context.Background(), "AR-1")
	assert.Equal(t, governance.StateActive, r.State)
}

func TestSlackRateLimit_CardIsRetriedAfterRetryAfter(t *testing.T) {
	w := newWorld(t)
	w.ws.Fail("chat.postMessage", http.StatusTooManyRequests, 30, "")
	ephemeral(t, w.command("UCAROL", "request vpn"))
	w.drain()
	assert.Empty(t, w.dms("UBOB"), "rate limited: not sent yet")

	w.clock.Advance(29 * time.Second)
	w.drain()
	assert.Empty(t, w.dms("UBOB"), "Retry-After is honoured")
	w.clock.Advance(time.Second)
	w.drain()
	assert.Len(t, w.dms("UBOB"), 1)
}

func TestSlackPermanentError_IsGivenUpNotRetried(t *testing.T) {
	w := newWorld(t)
	w.ws.Fail("users.lookupByEmail", http.StatusOK, 0, "users_not_found")
	ephemeral(t, w.command("UCAROL", "request vpn"))
	w.drain()
	w.clock.Advance(time.Hour)
	w.drain()
	assert.Empty(t, w.dms("UBOB"))
	assert.Len(t, w.ws.Calls("users.lookupByEmail"), 1, "a person Slack does not know is not asked for again")
}

func TestHealthAndReadiness(t *testing.T) {
	w := newWorld(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, path)
	}
}
