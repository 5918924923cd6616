package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
)

func TestMetrics_AfterAnEndToEndRequest(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	w.drain()
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	w.drain()

	rec := serve(w.handler, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`accessbot_transitions_total{backend="builtin",event="request",state="pending_approval"} 1`,
		`accessbot_transitions_total{backend="builtin",event="approve",state="approved"} 1`,
		`accessbot_transitions_total{backend="builtin",event="activate",state="active"} 1`,
		`accessbot_time_to_decision_seconds_count{decision="approve"} 1`,
		`accessbot_backend_calls_total{backend="builtin",op="submit",outcome="ok"} 1`,
		`accessbot_outbox_deliveries_total{kind="card",outcome="ok"} 1`,
		`accessbot_http_request_seconds_count{code="200",endpoint="/slack/commands"} 1`,
		`accessbot_http_request_seconds_count{code="200",endpoint="/slack/interactions"} 1`,
		`accessbot_outbox_depth 0`,
		`accessbot_chat_api_calls_total{method="chat.update",outcome="ok",platform="slack"} 1`,
		`accessbot_chat_api_calls_total{method="users.info",outcome="ok",platform="slack"} 1`,
	} {
		assert.Contains(t, string(body), want)
	}
}
