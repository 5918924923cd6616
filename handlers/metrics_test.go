package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/handlers"
)

func TestMetrics_AfterAnEndToEndRequest(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	w.drain()
	w.click("UBOB", slackbot.ActionApprove, "AR-1")
	w.drain()

	rec := serve(handlers.Ops(w.metrics, false), httptest.NewRequest(http.MethodGet, "/metrics", nil))
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
		`accessbot_chat_api_calls_total{method="chat.postMessage",outcome="ok",platform="slack"} `, // the card and the notices, sent as JSON
		`accessbot_chat_api_calls_total{method="users.info",outcome="ok",platform="slack"} 1`,
	} {
		assert.Contains(t, string(body), want)
	}
}

// /metrics is not on the public listener: it is the metrics listener's (Ops), or, where
// an operator insists on one port, the public one's behind a bearer token.
func TestMetrics_NotServedPubliclyWithoutItsToken(t *testing.T) {
	w := newWorld(t)
	get := func(h http.Handler, auth string) int {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusNotFound, get(w.handler, ""), "not on the public listener")
	pprof := httptest.NewRecorder()
	handlers.Ops(w.metrics, false).ServeHTTP(pprof, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	assert.Equal(t, http.StatusNotFound, pprof.Code, "profiles only when enabled")

	withToken := handlers.New(handlers.Config{Service: w.svc, Metrics: w.metrics, MetricsToken: "s3cret"})
	assert.Equal(t, http.StatusUnauthorized, get(withToken, ""))
	assert.Equal(t, http.StatusUnauthorized, get(withToken, "Bearer wrong"))
	assert.Equal(t, http.StatusOK, get(withToken, "Bearer s3cret"))
}

// Teams' Bot Connector calls are counted beside Slack's, by platform.
func TestMetrics_TeamsCallsAreCountedToo(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol")
	w.sayTeams("29:carol", "status")
	// The welcome is sent after the answer: the fake sees the call before the client has
	// counted its answer, so wait for the work done after answering to finish.
	require.NoError(t, w.bg.Wait(context.Background()))
	rec := serve(handlers.Ops(w.metrics, false), httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	assert.Contains(t, string(body), `accessbot_chat_api_calls_total{method="send",outcome="ok",platform="teams"}`)
	assert.Contains(t, string(body), `accessbot_chat_api_calls_total{method="member",outcome="ok",platform="teams"}`)
}
