package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
)

// TestLogs_EveryLineAboutARequestCarriesItsID runs one request through a rate-limited
// card, a refused click and approval, and checks that every line logged on the way says
// which request in a "request" attribute, so one request's story can be filtered out.
func TestLogs_EveryLineAboutARequestCarriesItsID(t *testing.T) {
	w := newWorld(t)
	w.slack.Fail("chat.postMessage", 1, slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 30})
	w.ask("UCAROL", "request vpn because travelling")
	w.click("UERIN", slackbot.ActionApprove, "AR-1") // refused
	w.approve("UBOB", "AR-1")

	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		lines++
		assert.Equal(t, "AR-1", rec["request"], "log line without its request id: %s", line)
	}
	assert.GreaterOrEqual(t, lines, 4, "created, retried, refused, submitted")
}
