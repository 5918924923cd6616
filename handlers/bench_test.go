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
// after the answer, in the outbox, and is not part of it. Each command is another
// person's (a person may have one request open per item), each already known to the
// directory, as in steady state.
func BenchmarkSlashCommand(b *testing.B) {
	w := newWorld(b)
	for i := range b.N {
		id := "UBENCH" + strconv.Itoa(i)
		w.slack.AddUser(slackfake.User{ID: id, Email: "bench" + strconv.Itoa(i) + "@example.com", Name: "Bench"})
		w.command(id, "status") // warm the directory cache
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := url.Values{"command": {"/access"}, "text": {"request vpn for 7d because benchmark"}, "user_id": {"UBENCH" + strconv.Itoa(i)},
			"team_id": {slackfake.TeamID}, "channel_id": {"C1"}, "trigger_id": {"bench." + strconv.Itoa(i)},
			"response_url": {"https://hooks.slack.com/commands/T1/1/x"}}.Encode()
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, w.signed("/slack/commands", body))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "is waiting for") {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}
