package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// Carol writes to the bot in Teams; Bob, the VPN's approver, never has.
var teamsOnlyPeople = []teamsfake.User{
	{ID: "29:carol", Email: "carol@example.com", Name: "Carol", ObjectID: "aad-carol"},
	{ID: "29:bob", Email: "bob@example.com", Name: "Bob", ObjectID: "aad-bob"},
}

// newTeamsOnlyWorld is an organisation on Teams alone, where accessbot installs itself
// through Graph for those who never wrote to it.
func newTeamsOnlyWorld(t *testing.T) *world {
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), slack: slackfake.Start(t),
		logs: &governancetest.Logs{}, catalog: catalogYAML, teams: teamsfake.Start(t, teamsApp, teamsOnlyPeople...), teamsOnly: true}
	var users []msgraphtest.User
	for _, u := range teamsOnlyPeople {
		users = append(users, msgraphtest.User{ID: u.ObjectID, Mail: u.Email, UserPrincipalName: u.Email, DisplayName: u.Name})
	}
	w.graph = msgraphtest.StartTeamsGraph(t, "tenant-1", teamsApp, "teams-secret", users...)
	w.teams.UseGraph(w.graph)
	w.start()
	return w
}

// graphCalls lists the fake Graph's calls as "METHOD path".
func (w *world) graphCalls() []string {
	var out []string
	for _, c := range w.graph.Calls() {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

func TestTeamsOnly_AnApproverWhoNeverWroteToTheBotGetsAndDecidesACard(t *testing.T) {
	w := newTeamsOnlyWorld(t)
	bobChat := msgraphtest.TeamsChatID("aad-bob", teamsApp)

	assert.Contains(t, w.sayTeams("29:carol", "request vpn because travelling"), "AR-1")
	require.False(t, w.graph.Installed("aad-bob"))
	w.drain()

	assert.True(t, w.graph.Installed("aad-bob"), "accessbot installed itself for Bob")
	assert.Equal(t, []string{"POST /token", "GET /users", "GET /appCatalogs/teamsApps", "GET /users/aad-bob/teamwork/installedApps",
		"POST /users/aad-bob/teamwork/installedApps", "GET /users/aad-bob/teamwork/installedApps",
		"GET /users/aad-bob/teamwork/installedApps/installation-2/chat"}, w.graphCalls())
	install := w.graph.Created()
	require.Len(t, install, 1)
	assert.Equal(t, w.graph.BaseURL()+"/appCatalogs/teamsApps/"+w.graph.CatalogID, install[0]["teamsApp@odata.bind"])
	cards := w.sentTo(bobChat)
	require.Len(t, cards, 1, "the card went to Bob's personal chat with the bot")
	assert.Contains(t, cards[0], "Access request AR-1")
	assert.Empty(t, w.slack.Calls("chat.postMessage"), "nobody hears in Slack")

	// Bob decides from the card, in the chat the install made.
	act := w.activity("29:bob", "invoke", map[string]any{"name": "adaptiveCard/action", "replyToId": "1:2",
		"value": map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "approve",
			"data": map[string]any{"verb": "approve", "request": "AR-1", "version": 1}}, "trigger": "manual"}})
	act["conversation"] = map[string]any{"conversationType": "personal", "tenantId": "tenant-1", "id": bobChat}
	rec := w.postTeams(act)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	w.drain()
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", r.Decision.By.Email)
	var updated bool
	for _, c := range w.teams.Calls() {
		if c.Method == http.MethodPut && c.Conversation == bobChat {
			updated = updated || strings.Contains(teamsfake.CardText(teamsfake.CardOf(c.Activity)), "Approved by Bob")
		}
	}
	assert.True(t, updated, "Bob's card shows the decision")
	assert.Contains(t, strings.Join(w.sentTo("a:carol"), "\n"), "approved", "Carol hears in her chat")

	// Bob is reached in that chat from now on: no second install.
	assert.Contains(t, w.sayTeams("29:carol", "request prod-db for 8h because investigating INC-4711"), "AR-2")
	w.drain()
	var bobInstalls int
	for _, c := range w.graphCalls() {
		if strings.HasPrefix(c, "GET /users/aad-bob/") || c == "POST /users/aad-bob/teamwork/installedApps" {
			bobInstalls++
		}
	}
	assert.Equal(t, 4, bobInstalls, "Bob's chat is remembered: nothing more is asked of Graph about him")
	assert.Len(t, w.sentTo(bobChat), 2, "Bob's second card came to the chat he has")
	assert.Contains(t, w.logs.String(), "Entra has no user whose e-mail or sign-in name is alice@example.com",
		"someone Entra does not know is not reached, and the log says why")
}

func TestTeamsOnly_WithoutConsentTheCardFailsSayingWhichPermission(t *testing.T) {
	w := newTeamsOnlyWorld(t)
	w.graph.Consent(false)
	assert.Contains(t, w.sayTeams("29:carol", "request vpn because travelling"), "AR-1")
	w.drain()
	assert.False(t, w.graph.Installed("aad-bob"))
	assert.Empty(t, w.sentTo(msgraphtest.TeamsChatID("aad-bob", teamsApp)))
	logs := w.logs.String()
	assert.Contains(t, logs, "outbox task given up")
	assert.Contains(t, logs, "TeamsAppInstallation.ReadWriteSelfForUser.All", "the log names what the admins must grant")
}
