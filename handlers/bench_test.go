package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
)

// BenchmarkSlashCommand measures the path Slack waits on for `/access request`: the
// signature check, parsing, the service call that stores the request with its outbox
// tasks in Redis (a real redis-server), and the ephemeral answer. Card delivery happens
// after the answer, in the outbox, and is not part of it.
func BenchmarkSlashCommand(b *testing.B) {
	w := newWorld(b)
	w.command("UCAROL", "status") // warm the directory cache, as in steady state
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := url.Values{"command": {"/access"}, "text": {"request vpn for 7d because benchmark"}, "user_id": {"UCAROL"},
			"team_id": {slackfake.TeamID}, "channel_id": {"C1"}, "trigger_id": {"bench." + strconv.Itoa(i)},
			"response_url": {"https://hooks.slack.com/commands/T1/1/x"}}.Encode()
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, w.signed("/slack/commands", body))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "AR-") {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}
