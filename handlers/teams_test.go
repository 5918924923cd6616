package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

const teamsApp = "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"

// Carol and Alice use Teams; Bob, Alice's co-approver, uses Slack.
var teamsPeople = []teamsfake.User{
	{ID: "29:carol", Email: "carol@example.com", Name: "Carol", ObjectID: "aad-carol"},
	{ID: "29:alice", Email: "alice@example.com", Name: "Alice", ObjectID: "aad-alice"},
}

func newTeamsWorld(t testing.TB) *world { return newTeamsWorldWith(t, teamsPeople...) }

// newTeamsWorldWith is a world whose Teams knows users; accessbot serves tenant-1.
func newTeamsWorldWith(t testing.TB, users ...teamsfake.User) *world {
	return newTeamsWorldOf(t, catalogYAML, users...)
}

// newTeamsWorldOf is a world of catalog whose Teams knows users.
func newTeamsWorldOf(t testing.TB, catalog string, users ...teamsfake.User) *world {
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), slack: slackfake.Start(t, people...),
		logs: &governancetest.Logs{}, catalog: catalog, teams: teamsfake.Start(t, teamsApp, users...)}
	w.slack.AddChannel("CADMINS")
	w.start()
	return w
}

// activity is what Teams posts for user in their personal chat with the bot, in tenant-1.
func (w *world) activity(user, typ string, fields map[string]any) map[string]any {
	a := map[string]any{"type": typ, "id": fmt.Sprintf("act-%d", w.trigger.Add(1)), "timestamp": t0.Format(time.RFC3339),
		"serviceUrl": w.teams.URL, "channelId": "msteams", "localTimezone": "Europe/Berlin",
		"channelData":  map[string]any{"tenant": map[string]any{"id": "tenant-1"}},
		"from":         map[string]any{"id": user, "name": strings.TrimPrefix(user, "29:"), "aadObjectId": "aad-" + strings.TrimPrefix(user, "29:")},
		"conversation": map[string]any{"conversationType": "personal", "tenantId": "tenant-1", "id": "a:" + strings.TrimPrefix(user, "29:")},
		"recipient":    map[string]any{"id": "28:" + teamsApp, "name": "accessbot"}}
	for k, v := range fields {
		a[k] = v
	}
	return a
}

// postTeams sends an activity with a token the fake channel signed; edit changes the token.
func (w *world) postTeams(act map[string]any, edit ...func(jwt.MapClaims, map[string]any)) *httptest.ResponseRecorder {
	b, err := json.Marshal(act)
	require.NoError(w.t, err)
	r := httptest.NewRequest(http.MethodPost, "/teams/messages", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+w.teams.Token(act["serviceUrl"].(string), w.clock.Now(), edit...))
	return serve(w.handler, r)
}

// say is user typing text to the bot; it waits for the bot's reply and returns its text.
func (w *world) sayTeams(user, text string) string {
	w.t.Helper()
	return teamsfake.CardText(w.teamsReply(user, text))
}

// teamsReply is the card accessbot answers user's message text with (after a lookup of
// their member record, where one is due).
func (w *world) teamsReply(user, text string) teams.Card {
	w.t.Helper()
	before := len(w.teams.Calls())
	rec := w.postTeams(w.activity(user, "message", map[string]any{"text": text}))
	require.Equal(w.t, http.StatusOK, rec.Code, rec.Body.String())
	for n := before + 1; ; n++ {
		if c := w.teams.Wait(w.t, n, 5*time.Second)[n-1]; c.Method == http.MethodPost {
			return teamsfake.CardOf(c.Activity)
		}
	}
}

// execute is user clicking a card button; it returns the invoke response.
func (w *world) execute(user, verb, id string, inputs map[string]any) map[string]any {
	w.t.Helper()
	data := map[string]any{"verb": verb, "request": id, "version": 1}
	for k, v := range inputs {
		data[k] = v
	}
	rec := w.postTeams(w.activity(user, "invoke", map[string]any{"name": "adaptiveCard/action", "replyToId": "1:1",
		"value": map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}}))
	require.Equal(w.t, http.StatusOK, rec.Code, rec.Body.String())
	var resp map[string]any
	require.NoError(w.t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp
}

// lastRedrawn is the text of the card Teams last redrew in place (a PUT of an activity).
func (w *world) lastRedrawn() string {
	w.t.Helper()
	redrawn := w.teamsCards(http.MethodPut, "")
	require.NotEmpty(w.t, redrawn, "no card was redrawn in place")
	return redrawn[len(redrawn)-1]
}

// sentTo lists the cards posted to a Teams conversation, as text.
func (w *world) sentTo(conversation string) []string {
	return w.teamsCards(http.MethodPost, conversation)
}

// teamsCards lists, as text and oldest first, the cards accessbot sent to Teams with
// method (POST: posted, PUT: redrawn in place), to conversation or, when it is "", to any.
func (w *world) teamsCards(method, conversation string) []string {
	var out []string
	for _, c := range w.teams.Calls() {
		if c.Method == method && (conversation == "" || c.Conversation == conversation) {
			out = append(out, teamsfake.CardText(teamsfake.CardOf(c.Activity)))
		}
	}
	return out
}

// lastSentTo is the text of the last card or message posted to conversation; there must be one.
func (w *world) lastSentTo(conversation string) string {
	w.t.Helper()
	sent := w.sentTo(conversation)
	require.NotEmpty(w.t, sent, "nothing posted to %s", conversation)
	return sent[len(sent)-1]
}

// install adds accessbot to each user's personal chat, one after the other, as Teams
// tells a bot, and waits for each welcome.
func (w *world) install(users ...string) {
	w.t.Helper()
	for _, user := range users {
		before := len(w.teams.Calls())
		rec := w.postTeams(w.activity(user, "conversationUpdate", map[string]any{"membersAdded": []any{map[string]any{"id": "28:" + teamsApp}}}))
		require.Equal(w.t, http.StatusOK, rec.Code)
		w.teams.Wait(w.t, before+2, 5*time.Second) // the member lookup, then the welcome
	}
}

func TestTeams_RequestApproveAcrossTeamsAndSlack(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol")
	assert.Contains(t, w.sentTo("a:carol")[0], "**accessbot** — ask for access", "installing says hello with the help")
	w.install("29:alice")

	assert.Contains(t, w.sayTeams("29:carol", "request"), "Request access", "`request` alone is a form")
	reply := w.sayTeams("29:carol", "request prod-db for 4h because incident 4711")
	assert.Contains(t, reply, "Request **AR-1** for **Production database** `prod-db`, 4h, is waiting for Alice, Bob")
	w.drain()

	aliceCard := w.sentTo("a:alice")
	require.Len(t, aliceCard, 2, "the welcome, then the approval card")
	assert.Contains(t, aliceCard[1], "Requester: Carol (carol@example.com)")
	assert.Contains(t, aliceCard[1], "[Approve]")
	assert.Contains(t, w.card("UBOB"), "incident 4711", "Bob, on Slack, got the same request")

	refused := w.execute("29:carol", "approve", "AR-1", nil)
	assert.Equal(t, "application/vnd.microsoft.activity.message", refused["type"])
	assert.Contains(t, refused["value"], "You can't decide your own request AR-1")

	resp := w.execute("29:alice", "approve", "AR-1", nil)
	assert.Equal(t, float64(200), resp["statusCode"])
	assert.Equal(t, "application/vnd.microsoft.card.adaptive", resp["type"])
	assert.Contains(t, teamsfake.CardText(resp["value"]), "Approved by Alice (alice@example.com)")
	assert.NotContains(t, teamsfake.CardText(resp["value"]), "[Approve]")
	w.drain()

	var updated []string
	for _, c := range w.teams.Calls() {
		if c.Method == http.MethodPut {
			updated = append(updated, c.Conversation+" "+c.ActivityID+" "+teamsfake.CardText(teamsfake.CardOf(c.Activity)))
		}
	}
	require.Len(t, updated, 1)
	assert.Contains(t, updated[0], "a:alice 1:")
	assert.Contains(t, updated[0], "Approved by Alice")
	assert.Contains(t, w.card("UBOB"), "Approved by Alice", "Bob's Slack card is updated too")
	carol := strings.Join(w.sentTo("a:carol"), "\n")
	assert.Contains(t, carol, "Alice (alice@example.com) approved your request **AR-1**")
	assert.Contains(t, carol, "Your access to **Production database** `prod-db` is active until")

	late := w.execute("29:alice", "deny", "AR-1", map[string]any{"reason": "changed my mind"})
	assert.Contains(t, late["value"], "AR-1 was already approved by Alice", "a later click is told who decided")
	assert.Contains(t, w.sayTeams("29:carol", "status"), "**AR-1** **Production database** `prod-db`, 4h — **active**")
}

func TestTeams_DenyNeedsAReasonWhichTheRequesterSees(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol", "29:alice")
	w.sayTeams("29:carol", "request vpn because travelling")
	w.drain()

	assert.Contains(t, w.execute("29:alice", "deny", "AR-1", nil)["value"], "Tell the requester why you deny the request")
	assert.Contains(t, w.execute("29:mallory", "deny", "AR-1", map[string]any{"reason": "x"})["value"], "Teams did not tell accessbot your e-mail",
		"someone Teams cannot name is refused")

	resp := w.execute("29:alice", "deny", "AR-1", map[string]any{"reason": "use the office network"})
	assert.Contains(t, resp["value"], "There is no request AR-1", "Alice has no part in the VPN request")

	// Alice denies prod-db in Teams, with the reason typed in the card.
	w.sayTeams("29:carol", "request prod-db for 1h because month end")
	w.drain()
	denied := w.execute("29:alice", "deny", "AR-2", map[string]any{"reason": "ask the on-call DBA instead"})
	assert.Equal(t, "application/vnd.microsoft.card.adaptive", denied["type"])
	assert.Contains(t, teamsfake.CardText(denied["value"]), "Denied by Alice (alice@example.com)")
	assert.Contains(t, teamsfake.CardText(denied["value"]), "ask the on-call DBA instead")
	w.drain()
	assert.Contains(t, strings.Join(w.sentTo("a:carol"), "\n"), "denied your request **AR-2** for **Production database** `prod-db`:\n\\> ask the on-call DBA instead")

	// Bob decides vpn, from Slack; Carol hears it in Teams.
	w.click("UBOB", slackbot.ActionDeny, "AR-1")
	w.submit("UBOB", slackbot.CallbackDenyReason, "AR-1", map[string]string{slackbot.BlockReason: "use the office network"})
	w.drain()
	assert.Contains(t, strings.Join(w.sentTo("a:carol"), "\n"), "denied your request **AR-1** for **Office VPN** `vpn`:\n\\> use the office network")
}

func TestTeams_BadTokensAreRefusedWithoutAnyOutgoingCall(t *testing.T) {
	w := newTeamsWorld(t)
	act := w.activity("29:carol", "message", map[string]any{"text": "status"})
	other := teamsfake.Start(t, teamsApp)
	cases := map[string]func(jwt.MapClaims, map[string]any){
		"expired":          func(c jwt.MapClaims, _ map[string]any) { c["exp"] = t0.Add(-time.Hour).Unix() },
		"wrong audience":   func(c jwt.MapClaims, _ map[string]any) { c["aud"] = "another-bot" },
		"other serviceurl": func(c jwt.MapClaims, _ map[string]any) { c["serviceurl"] = "https://smba.trafficmanager.net/emea/" },
		"no expiry":        func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") },
	}
	for name, edit := range cases {
		assert.Equal(t, http.StatusUnauthorized, w.postTeams(act, edit).Code, name)
	}

	// Signed by a key the Bot Framework never published.
	b, _ := json.Marshal(act)
	r := httptest.NewRequest(http.MethodPost, "/teams/messages", bytes.NewReader(b))
	r.Header.Set("Authorization", "Bearer "+other.Token(w.teams.URL, t0))
	assert.Equal(t, http.StatusUnauthorized, serve(w.handler, r).Code, "forged")

	r = httptest.NewRequest(http.MethodPost, "/teams/messages", bytes.NewReader(b))
	assert.Equal(t, http.StatusUnauthorized, serve(w.handler, r).Code, "no token")

	// A valid token whose serviceurl claim matches, for a serviceUrl not on the allow-list.
	evil := w.activity("29:carol", "message", map[string]any{"text": "status", "serviceUrl": "https://evil.example.com/"})
	assert.Equal(t, http.StatusUnauthorized, w.postTeams(evil).Code, "serviceUrl not allowed")

	assert.Empty(t, w.teams.Calls(), "nothing was sent anywhere")
	assert.Zero(t, w.teams.TokensIssued())
}

// button returns the data of the card's button for verb on request id.
func button(t testing.TB, card any, verb, id string) map[string]any {
	t.Helper()
	found := teamsfake.Button(card, verb, id)
	require.NotNil(t, found, "no %s button for %s", verb, id)
	return found
}

func TestTeams_DecidingFromTheListKeepsTheOthersActionable(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol", "29:alice")
	w.sayTeams("29:carol", "request prod-db for 1h because one") // one request each: a second ask is refused
	for _, ask := range []struct{ who, text string }{{"UDAVE", "2h because two"}, {"UERIN", "3h because three"}} {
		w.clock.Advance(time.Minute)
		ephemeral(t, w.command(ask.who, "request prod-db for "+ask.text))
	}
	w.drain()
	assert.Regexp(t, `(?s)3 waiting for your decision.*AR-1\*\* .*AR-2\*\* .*AR-3\*\* `, w.sayTeams("29:alice", "pending"), "oldest first")
	calls := w.teams.Calls()
	list := teamsfake.CardOf(calls[len(calls)-1].Activity)

	resp := w.execute("29:alice", "approve", "AR-2", button(t, list, "approve", "AR-2"))
	require.Equal(t, "application/vnd.microsoft.card.adaptive", resp["type"], resp["value"])
	after := teamsfake.CardText(resp["value"])
	assert.Contains(t, after, "2 waiting for your decision")
	assert.Regexp(t, `(?s)AR-1\*\* .*AR-2\*\* .*Approved by Alice .*AR-3\*\* `, after, "the decided request stays in its place, saying so")
	button(t, resp["value"], "approve", "AR-1")
	button(t, resp["value"], "deny", "AR-3")
	assert.Equal(t, 2, strings.Count(after, "[Approve]"), "AR-2 has no buttons any more")

	deny := button(t, resp["value"], "deny", "AR-3")
	deny["reason-AR-3"] = "three hours is too long"
	resp = w.execute("29:alice", "deny", "AR-3", deny)
	after = teamsfake.CardText(resp["value"])
	assert.Contains(t, after, "1 waiting for your decision")
	assert.Contains(t, after, "Denied by Alice (alice@example.com)")
	assert.Contains(t, after, "three hours is too long")
	assert.NotContains(t, after, "AR-2", "a request decided earlier has left the list")
	button(t, resp["value"], "approve", "AR-1")

	assert.Equal(t, governance.StateApproved, w.state("AR-2"))
}

func TestTeams_WhenBusyAMessageIsRefusedWithRetryNeverAcknowledgedAndLost(t *testing.T) {
	w := newTeamsWorld(t)
	w.busy = time.Nanosecond // when every slot is taken, refuse at once
	w.start()
	w.install("29:carol")
	release := w.teams.Hold(t) // the Bot Connector stops answering

	before := len(w.sentTo("a:carol"))
	acked := 0
	var refused *httptest.ResponseRecorder
	for refused == nil {
		require.Less(t, acked, 1000, "a busy accessbot refuses activities, never acknowledges ones it drops")
		rec := w.postTeams(w.activity("29:carol", "message", map[string]any{"text": "status"}))
		if rec.Code == http.StatusOK {
			acked++
		} else {
			refused = rec
		}
	}
	assert.Equal(t, http.StatusServiceUnavailable, refused.Code, "refused, while Teams still waits for the answer")
	assert.NotEmpty(t, refused.Header().Get("Retry-After"))
	assert.Contains(t, w.logs.String(), "teams activity refused with 503")

	held := len(w.teams.Calls()) // nothing reaches the held connector's record
	release()
	w.teams.Wait(t, held+acked, 5*time.Second)
	assert.Len(t, w.sentTo("a:carol"), before+acked, "every acknowledged message is answered")
	idle, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, w.bg.Wait(idle), "the work behind the answers has returned its slots")

	assert.Contains(t, w.sayTeams("29:carol", "status"), "You have no requests yet", "sent again, it is answered")
}

// mallory is a user of another organisation whose admins gave her Alice's e-mail address.
var mallory = teamsfake.User{ID: "29:mallory", Email: "alice@example.com", Name: "Mallory", ObjectID: "aad-mallory", Tenant: "tenant-evil"}

func TestTeams_AnotherOrganisationIsRefusedAndNeverAnswered(t *testing.T) {
	w := newTeamsWorldWith(t, append(teamsPeople, mallory)...)
	w.install("29:carol")
	w.sayTeams("29:carol", "request prod-db for 1h because month end")
	w.drain()
	before := len(w.teams.Calls())

	// in moves an activity to a tenant: conversation.tenantId, channelData.tenant.id.
	in := func(act map[string]any, conv, channel string) map[string]any {
		act["conversation"] = map[string]any{"conversationType": "personal", "tenantId": conv, "id": "a:mallory"}
		act["channelData"] = map[string]any{"tenant": map[string]any{"id": channel}}
		return act
	}
	approve := map[string]any{"name": "adaptiveCard/action", "value": map[string]any{"action": map[string]any{
		"type": "Action.Execute", "verb": "approve", "data": map[string]any{"verb": "approve", "request": "AR-1"}}}}
	cases := []struct {
		name string
		act  map[string]any
	}{
		{"a message in her personal chat", in(w.activity("29:mallory", "message", map[string]any{"text": "status"}), "tenant-evil", "tenant-evil")},
		{"a click on Approve", in(w.activity("29:mallory", "invoke", approve), "tenant-evil", "tenant-evil")},
		{"installing the bot", in(w.activity("29:mallory", "conversationUpdate", map[string]any{"membersAdded": []any{map[string]any{"id": "28:" + teamsApp}}}), "tenant-evil", "tenant-evil")},
		{"tenants that disagree", in(w.activity("29:mallory", "invoke", approve), "tenant-1", "tenant-evil")},
		{"no tenant at all", in(w.activity("29:mallory", "invoke", approve), "", "")},
	}
	for _, c := range cases {
		rec := w.postTeams(c.act)
		assert.Equal(t, http.StatusForbidden, rec.Code, c.name)
		assert.NotContains(t, rec.Body.String(), "AR-1", c.name)
	}
	assert.Len(t, w.teams.Calls(), before, "nothing was sent to her, and she was not even looked up")
	assert.Contains(t, w.logs.String(), `"msg":"teams activity from a tenant accessbot does not serve","tenant":"tenant-evil"`)
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "she decided nothing")
}

func TestTeams_AnExternalMemberOfOurChatIsNotTakenAtTheirEmail(t *testing.T) {
	w := newTeamsWorldWith(t, append(teamsPeople, mallory)...)
	w.install("29:carol")
	w.sayTeams("29:carol", "request prod-db for 1h because month end")
	w.drain()

	// A shared channel of ours (tenant-1) whose member record says she is of tenant-evil.
	resp := w.execute("29:mallory", "approve", "AR-1", nil)
	assert.Equal(t, "application/vnd.microsoft.activity.message", resp["type"])
	assert.Contains(t, resp["value"], "You belong to another organisation than accessbot serves")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"))
}

// Mallory (of tenant-evil, whose admins gave her alice@example.com) talked to the bot
// before tenants were checked, so accessbot recorded her Teams id as Alice. Her record is
// looked up again, tenant and all, before she may act in a shared channel of ours.
func TestTeams_AMemberRecordedBeforeTenantsWereCheckedIsCheckedAgain(t *testing.T) {
	w := newTeamsWorldWith(t, append(teamsPeople, mallory)...)
	require.NoError(t, w.store.SaveChatUser(t.Context(), governance.ChatUser{Platform: "teams", ID: "29:mallory",
		Email: "alice@example.com", Name: "Mallory"}, 0))
	w.install("29:carol")
	w.sayTeams("29:carol", "request prod-db for 1h because month end")
	w.drain()

	resp := w.execute("29:mallory", "approve", "AR-1", nil)
	assert.Contains(t, resp["value"], "You belong to another organisation than accessbot serves")
	assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"), "not decided as Alice")
}

func TestTeams_AConversationRecordedInAnotherTenantIsNotUsed(t *testing.T) {
	w := newTeamsWorld(t)
	// Recorded before tenants were checked: Alice's e-mail, reached in Mallory's tenant.
	require.NoError(t, w.store.SaveChatUser(t.Context(), governance.ChatUser{Platform: "teams", ID: "29:mallory", Email: "alice@example.com",
		Reach: fmt.Sprintf(`{"serviceUrl":%q,"id":"a:mallory","tenantId":"tenant-evil"}`, w.teams.URL)}, 0))
	w.install("29:carol")
	w.sayTeams("29:carol", "request prod-db for 1h because month end")
	w.drain()
	assert.Empty(t, w.sentTo("a:mallory"), "Alice's approval card does not go to another organisation")
	assert.Contains(t, w.card("UALICE"), "month end", "Alice gets it in Slack instead")
}

func TestCommands_SlackAndTeamsAnswerEveryCommandAlike(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol")
	w.ask("UCAROL", "request vpn because travelling")
	asTeams := strings.NewReplacer("`/access `", "`request`", "`/access`", "`request`", "`/access ", "`")
	for _, text := range []string{"help", "status", "pending", "schedule AR-1", "cancel AR-9", "extend AR-1 for 2h", "revoke prod-db", "frobnicate now"} {
		t.Run(text, func(t *testing.T) {
			slack := asTeams.Replace(ephemeral(t, w.command("UCAROL", text)))
			require.NotEmpty(t, slack)
			assert.Equal(t, slack, teams.CardText(w.teamsReply("29:carol", text)))
		})
	}
}

// The Bot Framework may deliver an activity again: a request it asks for is made once.
// A body larger than accessbot takes is refused with 413, as Slack's is.
func TestTeams_ARedeliveredRequestAsksOnceAndAnOversizedBodyIs413(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol")
	act := w.activity("29:carol", "message", map[string]any{"text": "request vpn because travelling"})
	before := len(w.teams.Calls())
	for range 2 {
		require.Equal(t, http.StatusOK, w.postTeams(act).Code)
	}
	w.teams.Wait(t, before+2, 5*time.Second)
	mine, err := w.svc.Mine(context.Background(), governance.Person{Email: "carol@example.com"})
	require.NoError(t, err)
	assert.Len(t, mine, 1, "one request, answered twice alike")

	big := w.activity("29:carol", "message", map[string]any{"text": strings.Repeat("x", 70<<10)})
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.postTeams(big).Code)
}

// The worst the review found: 20 requests with 1,000-character reasons for an item with a
// 200-character name, written in the characters that grow most on their way into a card.
// Through the real handler and renderer every card Teams gets, and every answer to a
// click, keeps within accessbot's budget and is taken by the fake Teams (which refuses
// what Teams refuses); a list shows ten at a time, and its button shows the next ten.
func TestTeams_EveryCardOfTheWorstListFitsAndTheRestIsAPageAway(t *testing.T) {
	name := strings.Repeat("Ledger <EMEA> & [audit]* ", 8)[:200]
	reason := strings.Repeat("Quarter-end close: <ledger> & [recon] *now* ", 23)[:1000]
	catalog := "items:\n" // twenty ledgers: one person has one request open per item
	for i := range 20 {
		catalog += fmt.Sprintf("  - {id: ledger-%d, name: %q, backend: builtin, approvers: [\"Alice <alice@example.com>\"], defaultDuration: 8h}\n", i, name)
	}
	w := newTeamsWorldOf(t, catalog, teamsPeople...)
	w.install("29:carol", "29:alice")
	for i := range 20 {
		w.sayTeams("29:carol", fmt.Sprintf("request ledger-%d for 1h because %s", i, reason))
		w.clock.Advance(time.Minute)
	}
	w.drain()

	list := w.teamsReply("29:alice", "pending")
	text := teamsfake.CardText(list)
	assert.Contains(t, text, "20 waiting for your decision")
	assert.Contains(t, text, "**AR-10**")
	assert.NotContains(t, text, "**AR-11**")
	assert.Contains(t, text, "…and 10 more — decide these, then `pending` shows the rest.")
	more := button(t, list, teams.VerbMore, "")

	// Show 10 more, clicked: the next page, read anew.
	clicks := []map[string]any{w.execute("29:alice", teams.VerbMore, "", more)}
	page := clicks[0]["value"]
	text = teamsfake.CardText(page)
	assert.Contains(t, text, "Requests 11–20 of 20.")
	assert.Contains(t, text, "**AR-11**")
	assert.Contains(t, text, "**AR-20**")
	assert.NotContains(t, text, "**AR-10**")
	assert.Nil(t, teamsfake.Button(page, teams.VerbMore, ""), "nothing after the last page")

	// A decision on the second page answers with the second page.
	clicks = append(clicks, w.execute("29:alice", "approve", "AR-15", button(t, page, "approve", "AR-15")))
	text = teamsfake.CardText(clicks[1]["value"])
	assert.Contains(t, text, "19 waiting for your decision")
	assert.Regexp(t, `(?s)\*\*AR-15\*\*.*Approved by Alice`, text)
	assert.Contains(t, text, "**AR-20**")
	assert.NotContains(t, text, "**AR-10**")

	assert.Contains(t, teamsfake.CardText(w.teamsReply("29:carol", "status")), "…and 10 more — see `status` once these are done.")
	_, err := w.svc.Digest(context.Background())
	require.NoError(t, err)
	w.drain()

	assert.Empty(t, w.teams.Refused(), "Teams took every card")
	sent := 0
	for _, c := range w.teams.Calls() {
		if c.Method == http.MethodPost || c.Method == http.MethodPut {
			sent++
			assert.LessOrEqual(t, c.Size, teams.MaxActivityBytes, teamsfake.CardText(teamsfake.CardOf(c.Activity))[:80])
		}
	}
	assert.Greater(t, sent, 40, "20 acknowledgements, 20 approval cards, the lists, the digest, and what the approval told")
	for _, click := range clicks {
		assert.LessOrEqual(t, teams.Size(click), teams.MaxActivityBytes, "the answer to a click")
	}
	digest := w.sentTo("a:alice")
	assert.Contains(t, digest[len(digest)-1], "Your access-request digest")
	assert.Contains(t, digest[len(digest)-1], "[Show 9 more]")
}

// Alice's admins give her a new address. For a day accessbot knows her by the old one;
// then her member record is read again: she is the new address (which approves nothing
// here), and cards for the old address no longer go to her Teams chat.
func TestTeams_AChangedEmailIsBelievedADayAfterTheRecordWasRead(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol", "29:alice")
	w.sayTeams("29:carol", "request prod-db for 1h because month end")
	w.drain()
	require.Len(t, w.sentTo("a:alice"), 2, "the welcome, then the approval card")

	w.teams.SetUser(teamsfake.User{ID: "29:alice", Email: "alice.smith@example.com", Name: "Alice", ObjectID: "aad-alice"})
	w.clock.Advance(23 * time.Hour)
	assert.Contains(t, w.sayTeams("29:alice", "pending"), "1 waiting for your decision", "a record younger than a day is believed")

	w.clock.Advance(time.Hour)
	assert.Contains(t, w.sayTeams("29:alice", "pending"), "Nothing is waiting for your decision", "now she is alice.smith@example.com")
	assert.Contains(t, w.logs.String(), `"msg":"teams member's e-mail changed","teams_user":"29:alice","from":"alice@example.com","to":"alice.smith@example.com"`)

	w.ask("UDAVE", "request prod-db for 2h because audit")
	assert.Len(t, w.sentTo("a:alice"), 4, "the two pending lists, and no card for alice@example.com")
	assert.Len(t, w.slack.Messages(slackfake.DM("UALICE")), 1, "alice@example.com is reached in Slack instead")
}
