package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzInteractionPayload feeds signed but arbitrary payloads (seeds in
// testdata/fuzz/FuzzInteractionPayload): the handler decodes what it can, answers 200 —
// or 400 when the payload is not an interaction — and never fails or panics, whatever
// Slack, or someone holding the secret, sends.
func FuzzInteractionPayload(f *testing.F) {
	w := newWorld(f)
	w.command("UCAROL", "request vpn")
	w.drain()
	f.Fuzz(func(t *testing.T, payload string) {
		payload = strings.ReplaceAll(payload, "RESPONSE", w.slack.ResponseURL("fuzz"))
		rec := w.post("/slack/interactions", url.Values{"payload": {payload}})
		switch rec.Code {
		case http.StatusOK:
			if body := strings.TrimSpace(rec.Body.String()); body != "" && !json.Valid([]byte(body)) {
				t.Fatalf("payload %q: answer is not JSON: %s", payload, body)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("payload %q: status %d", payload, rec.Code)
		}
	})
}

// FuzzCommandText feeds arbitrary /access text (seeds in testdata/fuzz/FuzzCommandText):
// the answer is always a 200 ephemeral message, a result or an explanation.
func FuzzCommandText(f *testing.F) {
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, text string) {
		rec := w.command("UCAROL", text)
		if rec.Code != http.StatusOK {
			t.Fatalf("text %q: status %d: %s", text, rec.Code, rec.Body.String())
		}
		if body := strings.TrimSpace(rec.Body.String()); body != "" {
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil || m["response_type"] != "ephemeral" {
				t.Fatalf("text %q: not an ephemeral message: %s", text, body)
			}
		}
	})
}

// FuzzTeamsActivity feeds arbitrary bodies, under a valid Bot Framework token, to
// /teams/messages (seeds in testdata/fuzz/FuzzTeamsActivity): the answer is 200, 400,
// 401 or 403, never a panic, and an invoke's 200 answer is JSON.
func FuzzTeamsActivity(f *testing.F) {
	w := newTeamsWorld(f)
	token := "Bearer " + w.teams.Token(w.teams.URL, t0)
	for _, typ := range []string{"message", "invoke", "conversationUpdate", "installationUpdate", "event"} {
		b, _ := json.Marshal(w.activity("29:carol", typ, map[string]any{"text": "status", "name": "adaptiveCard/action",
			"value": map[string]any{"action": map[string]any{"verb": "approve", "data": map[string]any{"request": "AR-1"}}}}))
		f.Add(b)
	}
	f.Add([]byte(`{"type":"message","value":"a string, not an object"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/teams/messages", bytes.NewReader(body))
		r.Header.Set("Authorization", token)
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if rec.Code == http.StatusOK && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("an answer that is not JSON: %q", rec.Body.String())
		}
	})
}

// FuzzSlackEvent feeds arbitrary signed Events API bodies (seeds in
// testdata/fuzz/FuzzSlackEvent): the answer is 200 (an event, acknowledged; a challenge,
// answered) or 400 (not JSON), never anything else, and never a panic.
func FuzzSlackEvent(f *testing.F) {
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, body string) {
		r := w.signed("/slack/events", body)
		r.Header.Set("Content-Type", "application/json")
		rec := serve(w.handler, r)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("body %q: status %d", body, rec.Code)
		}
	})
}
