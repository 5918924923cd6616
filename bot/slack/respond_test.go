package slack

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

func TestResponder_RepliesEphemerallyWithoutReplacingTheOriginal(t *testing.T) {
	fake := slackfake.Start(t)
	err := NewResponder(nil, fake.URL()).Respond(context.Background(), fake.ResponseURL("UBOB"),
		Reply(voice.Error(&governance.Problem{Message: "AR-7 was already approved by Alice."}, "")))
	require.NoError(t, err)
	calls := fake.Calls("response_url")
	require.Len(t, calls, 1)
	assert.Equal(t, "UBOB", calls[0].Hook)
	var body map[string]any
	require.NoError(t, json.Unmarshal(calls[0].Body, &body))
	assert.Equal(t, "ephemeral", body["response_type"])
	assert.Equal(t, false, body["replace_original"])
	assert.Equal(t, "⚠️ AR-7 was already approved by Alice.", ResponseText(calls[0].Body))
}

// A payload's response_url is only ever posted to when it points at Slack: anything else
// (this machine, another service, Slack's host over http or with a port) is refused, and
// nothing is sent.
func TestResponder_PostsOnlyToSlacksResponseHosts(t *testing.T) {
	fake := slackfake.Start(t)
	for _, u := range []string{
		fake.ResponseURL("UBOB"), // an http server on loopback, not named as an origin
		"file:///etc/passwd",
		"http://hooks.slack.com/actions/T1/1/x",
		"https://hooks.slack.com.evil.example/actions/T1/1/x",
		"https://hooks.slack.com:8443/actions/T1/1/x",
		"https://user@hooks.slack.com/actions/T1/1/x",
		"https://169.254.169.254/latest/meta-data/",
	} {
		err := NewResponder(nil).Respond(context.Background(), u, Message{Text: "hi"})
		assert.ErrorIs(t, err, ErrNotSlacks, u)
	}
	assert.Empty(t, fake.Calls("response_url"), "nothing was sent")
	assert.ErrorIs(t, NewResponder(nil, "https://hooks.slack-gov.com").Respond(context.Background(),
		"https://hooks.slack.com/actions/T1/1/x", Message{}), ErrNotSlacks, "only the origins given")
}
