package handlers_test

import (
	"encoding/json"
	"net/http"
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
