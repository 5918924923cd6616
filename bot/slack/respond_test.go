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
	err := NewResponder(nil).Respond(context.Background(), fake.ResponseURL("UBOB"),
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

func TestResponder_RefusesWhatIsNotAnHTTPURL(t *testing.T) {
	assert.Error(t, NewResponder(nil).Respond(context.Background(), "file:///etc/passwd", Message{}))
}
