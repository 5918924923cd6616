package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/handlers"
)

// BenchmarkSlashCommand measures the path Slack waits on: signature check, parsing, the
// service call that stores the request with its outbox tasks in Redis, and the ephemeral
// answer. (Card delivery happens after the answer, in the outbox.)
func BenchmarkSlashCommand(b *testing.B) {
	w := newWorld(b)
	w.command("UCAROL", "status") // warm the user cache, as in steady state
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := url.Values{"command": {"/access"}, "text": {"request vpn for 7d because benchmark"}, "user_id": {"UCAROL"},
			"team_id": {"T1"}, "channel_id": {"C1"}, "trigger_id": {"bench-" + strconv.Itoa(i)}}.Encode()
		r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		ts := w.clock.Now().Unix()
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		r.Header.Set("X-Slack-Signature", handlers.SlackSignature(secret, ts, []byte(body)))
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "AR-") {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}
