package slackfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
)

const card = `[{"type":"section","text":{"type":"mrkdwn","text":"Access request AR-1"}}]`

// call posts body to method with the given content type and Authorization header and
// returns Slack's answer.
func call(t *testing.T, fake *slackfake.Server, method, contentType, auth, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fake.APIURL()+method, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var answer map[string]any
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(b, &answer), string(b))
	return answer
}

func TestJSONPosts_AreTakenWithTheBearerTokenAndRecordedAsFormsAre(t *testing.T) {
	fake := slackfake.Start(t, slackfake.User{ID: "UBOB", Email: "bob@example.com", Name: "Bob"})
	const jsonType = "application/json; charset=utf-8"

	got := call(t, fake, "chat.postMessage", jsonType, "Bearer "+slackfake.Token,
		`{"channel":"UBOB","text":"AR-1 waits for you","blocks":`+card+`}`)
	assert.Equal(t, map[string]any{"ok": true, "channel": "DUBOB", "ts": "1700000000.000001",
		"message": map[string]any{"text": "AR-1 waits for you", "ts": "1700000000.000001"}}, got)
	post := fake.Calls("chat.postMessage")[0]
	assert.True(t, post.JSON)
	assert.True(t, post.Bearer)
	assert.Equal(t, "UBOB", post.Channel)
	assert.Equal(t, "AR-1 waits for you", post.Text)
	assert.JSONEq(t, card, string(post.Blocks))
	assert.Equal(t, "1700000000.000001", post.TS)

	got = call(t, fake, "chat.update", jsonType, "Bearer "+slackfake.Token,
		`{"channel":"DUBOB","ts":"1700000000.000001","text":"AR-1 approved","blocks":`+card+`}`)
	assert.Equal(t, true, got["ok"], got)
	update := fake.Calls("chat.update")[0]
	assert.Equal(t, "DUBOB", update.Channel)
	assert.Equal(t, "1700000000.000001", update.TS)
	assert.Equal(t, "AR-1 approved", fake.Messages("DUBOB")[0].Text)
	assert.Equal(t, 1, fake.Messages("DUBOB")[0].Updates)

	// blocks given as a string holding the array are read too.
	quoted, _ := json.Marshal(card)
	got = call(t, fake, "chat.postMessage", jsonType, "Bearer "+slackfake.Token, `{"channel":"DUBOB","blocks":`+string(quoted)+`}`)
	assert.Equal(t, true, got["ok"], got)
	assert.JSONEq(t, card, string(fake.Calls("chat.postMessage")[1].Blocks))

	got = call(t, fake, "chat.postMessage", "application/json", "Bearer "+slackfake.Token, `{"channel":"DUBOB","text":"hi"}`)
	assert.Equal(t, "missing_charset", got["warning"], "Slack warns about a JSON body without a charset, and takes it")
}

func TestJSONPosts_WithoutTheBearerTokenAreRefused(t *testing.T) {
	fake := slackfake.Start(t, slackfake.User{ID: "UBOB", Email: "bob@example.com", Name: "Bob"})
	const jsonType = "application/json; charset=utf-8"
	for name, tc := range map[string]struct{ auth, body, want string }{
		"no header":               {"", `{"channel":"UBOB","text":"hi"}`, "not_authed"},
		"token in the JSON body":  {"", `{"token":"` + slackfake.Token + `","channel":"UBOB","text":"hi"}`, "not_authed"},
		"a user token":            {"Bearer xoxp-someone", `{"channel":"UBOB","text":"hi"}`, "invalid_auth"},
		"no content":              {"Bearer " + slackfake.Token, `{"channel":"UBOB","blocks":[]}`, "no_text"},
		"blocks Slack cannot use": {"Bearer " + slackfake.Token, `{"channel":"UBOB","blocks":{"type":"section"}}`, "invalid_blocks"},
		"someone unknown":         {"Bearer " + slackfake.Token, `{"channel":"UNOBODY","text":"hi"}`, "channel_not_found"},
	} {
		t.Run(name, func(t *testing.T) {
			got := call(t, fake, "chat.postMessage", jsonType, tc.auth, tc.body)
			assert.Equal(t, map[string]any{"ok": false, "error": tc.want}, got)
		})
	}
	for _, c := range fake.Calls("chat.postMessage") {
		assert.NotEmpty(t, c.Failed, "every refusal is recorded as one")
	}
	assert.Empty(t, fake.Messages("DUBOB"), "nothing was posted")

	// A form still carries its token as a field, as slack-go sends it.
	got := call(t, fake, "chat.postMessage", "application/x-www-form-urlencoded", "",
		url.Values{"token": {slackfake.Token}, "channel": {"UBOB"}, "text": {"hi"}}.Encode())
	assert.Equal(t, true, got["ok"], got)
	assert.False(t, fake.Calls("chat.postMessage")[len(fake.Calls("chat.postMessage"))-1].JSON)
}
