package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/accounts/oauthfake"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// tokenKey seals connected accounts in these tests (ACCESSBOT_TOKEN_KEY's format).
const tokenKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// idpClient is accessbot's OAuth client at the fake identity provider.
var idpClient = oauthfake.Client{ID: "accessbot-test", Secret: "idp-client-secret", RequirePKCE: true}

// newConnectWorld is a world whose backend "fakeidp" connects people's accounts, served
// on a real listener (public) so that a browser can reach its pages; teams, when true,
// serves Teams too.
func newConnectWorld(t *testing.T, withTeams bool) *world {
	w := newPublicWorld(t, catalogYAML, withTeams)
	w.idp = oauthfake.Start(t, w.clock.Now)
	client := idpClient
	client.RedirectURIs = []string{w.public + "/oauth/fakeidp/callback"}
	w.idp.AddClient(client)
	w.idp.AddUser(oauthfake.User{Login: "carol", Password: "carol-pw", ID: "idp-carol", Email: "carol@example.com", Name: "Carol"})
	w.idp.AddUser(oauthfake.User{Login: "mallory", Password: "mallory-pw", ID: "idp-mallory", Email: "mallory@example.com", Name: "Mallory"})
	w.start()
	return w
}

// newPublicWorld is a world over catalog, not started yet, served on a real listener
// (public) so that a browser can reach its pages and a backend's sign-in can come back to
// them; teams, when true, serves Teams too. The caller adds the backends people connect
// to and starts it.
func newPublicWorld(t *testing.T, catalog string, withTeams bool) *world {
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), slack: slackfake.Start(t, people...),
		logs: &governancetest.Logs{}, catalog: catalog}
	if withTeams {
		w.teams = teamsfake.Start(t, teamsApp, teamsPeople...)
	} else {
		w.workspaces.Teams = []string{slackfake.TeamID}
	}
	w.slack.AddChannel("CADMINS")
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { w.handler.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	w.public = srv.URL
	return w
}

var linkRe = regexp.MustCompile(`\((http://127\.0\.0\.1:\d+/connect/fakeidp\?t=[^)\s]+)\)`)

// connectLink is the link `/access connect fakeidp` answers user with in Slack.
func (w *world) connectLink(user string) string {
	w.t.Helper()
	answer := ephemeral(w.t, w.command(user, "connect fakeidp"))
	m := linkRe.FindStringSubmatch(answer)
	require.NotNil(w.t, m, "no connect link in %q", answer)
	return m[1]
}

func TestConnect_TheCommandsAnswerOnlyThePerson(t *testing.T) {
	w := newConnectWorld(t, false)
	answer := w.ask("UCAROL", "connect fakeidp")
	assert.Contains(t, answer, "Connect your fakeidp account: sign in to fakeidp ("+w.public+"/connect/fakeidp?t=")
	assert.Contains(t, answer, "only for you and works once, until 2026-11-23 09:10 UTC")
	assert.Empty(t, w.dms("UCAROL"), "the link is never posted where others could read it")

	assert.Contains(t, w.ask("UCAROL", "connect nosuch"), "\"nosuch\" is not a system whose accounts can be connected here; you can use `/access connect fakeidp`.")
	assert.Contains(t, w.ask("UCAROL", "connections"), "You have connected no account yet.")
	assert.Contains(t, w.ask("UCAROL", "connections"), "Connect an account: `/access connect fakeidp`.")
	assert.Contains(t, w.ask("UCAROL", "disconnect fakeidp"), "You have no connected fakeidp account")
	assert.Contains(t, w.ask("UCAROL", "connect"), "Say which system: `/access connect sailpoint`")
}

func TestConnect_WithoutConnectorsSaysNoneCanBeConnected(t *testing.T) {
	w := newWorld(t)
	assert.Contains(t, w.ask("UCAROL", "connect sailpoint"), "No account can be connected here")
	rec := serve(w.handler, httptest.NewRequest(http.MethodGet, "/connect/sailpoint?t=x", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code, "no sign-in pages without connected accounts")
}

// signInByHand is the browser's part of the flow without a browser: it opens link, signs
// in at the fake provider as login and follows the redirect to the callback, bringing the
// sign-in cookie; it returns the callback's page.
func (w *world) signInByHand(link, login, password string) *http.Response {
	w.t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(link)
	require.NoError(w.t, err)
	resp.Body.Close()
	require.Equal(w.t, http.StatusSeeOther, resp.StatusCode)
	for _, h := range []string{"Content-Security-Policy", "Referrer-Policy", "Cache-Control", "X-Frame-Options"} {
		assert.NotEmpty(w.t, resp.Header.Get(h), "the redirect carries %s", h)
	}
	cookies := resp.Cookies()
	require.Len(w.t, cookies, 1)
	assert.True(w.t, cookies[0].HttpOnly)
	assert.Equal(w.t, http.SameSiteLaxMode, cookies[0].SameSite)
	authorize, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(w.t, err)
	f := authorize.Query()
	f.Set("username", login)
	f.Set("password", password)
	f.Set("action", "signin")
	resp, err = noRedirect.PostForm(w.idp.AuthURL(), f)
	require.NoError(w.t, err)
	resp.Body.Close()
	require.Equal(w.t, http.StatusFound, resp.StatusCode)
	req, err := http.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil)
	require.NoError(w.t, err)
	req.AddCookie(cookies[0])
	resp, err = noRedirect.Do(req)
	require.NoError(w.t, err)
	w.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestConnect_PagesAreSafe(t *testing.T) {
	w := newConnectWorld(t, false)
	resp := w.signInByHand(w.connectLink("UCAROL"), "carol", "carol-pw")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	h := resp.Header
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	csp := h.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.NotContains(t, csp, "script-src")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))

	// Someone else's text on a page is escaped.
	rec := serve(w.handler, httptest.NewRequest(http.MethodGet, "/connect/%3Cscript%3E?t=x", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.NotContains(t, rec.Body.String(), "<script>")
	assert.Contains(t, rec.Body.String(), "&lt;script&gt;")
}

func TestConnect_TeamsAnswersInThePersonalChatOnly(t *testing.T) {
	w := newConnectWorld(t, true)
	w.install("29:carol")
	text := teams.PlainText(w.sayTeams("29:carol", "connect fakeidp"))
	assert.Contains(t, text, "Connect your fakeidp account: sign in to fakeidp ("+w.public+"/connect/fakeidp?t=")

	// In a channel, the link goes to the personal chat and the channel hears only that.
	before := len(w.teams.Calls())
	act := w.activity("29:carol", "message", map[string]any{"text": "<at>accessbot</at> connect fakeidp"})
	act["conversation"] = map[string]any{"conversationType": "channel", "isGroup": true, "tenantId": "tenant-1", "id": "19:general@thread.tacv2"}
	rec := w.postTeams(act)
	require.Equal(t, http.StatusOK, rec.Code)
	w.teams.Wait(t, before+2, 5*time.Second)
	personal := w.sentTo("a:carol")
	assert.Contains(t, personal[len(personal)-1], "/connect/fakeidp?t=")
	channel := w.sentTo("19:general@thread.tacv2")
	require.Len(t, channel, 1)
	assert.Contains(t, channel[0], "I answered you in our personal chat")
	assert.NotContains(t, channel[0], "/connect/")

	// Connected through the pages, Carol hears it in Teams.
	resp := w.signInByHand(linkRe.FindStringSubmatch(personal[len(personal)-1])[1], "carol", "carol-pw")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	personal = w.sentTo("a:carol")
	assert.Contains(t, teams.PlainText(personal[len(personal)-1]), "Your fakeidp account is connected as Carol (carol@example.com)")
	assert.Contains(t, teams.PlainText(w.sayTeams("29:carol", "connections")), "fakeidp as carol@example.com")
}

func TestConnect_DisconnectForgetsAndTheAccountIsNoLongerUsable(t *testing.T) {
	w := newConnectWorld(t, false)
	resp := w.signInByHand(w.connectLink("UCAROL"), "carol", "carol-pw")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, w.ask("UCAROL", "connections"), "fakeidp as carol@example.com, since 2026-11-23 09:00 UTC")
	assert.Contains(t, w.ask("UCAROL", "disconnect fakeidp"), "Your fakeidp account is disconnected")
	_, err := w.accounts.Account(context.Background(), "fakeidp", "carol@example.com")
	assert.ErrorIs(t, err, governance.ErrNotConnected)
	assert.True(t, strings.Contains(w.ask("UCAROL", "connections"), "You have connected no account yet."))
}
