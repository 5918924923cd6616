package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// FuzzInteractionPayload feeds signed but arbitrary payloads: the handler must answer
// 200 or 400, never fail or panic, whatever Slack (or an attacker with the secret) sends.
func FuzzInteractionPayload(f *testing.F) {
	for _, s := range []string{
		`{"type":"block_actions","user":{"id":"UALICE"},"actions":[{"action_id":"approve","value":"AR-1"}]}`,
		`{"type":"block_actions","user":{"id":"UALICE"},"actions":[{"action_id":"deny","value":"not an id"}]}`,
		`{"type":"view_submission","user":{"id":"UBOB"},"view":{"callback_id":"deny_reason","private_metadata":"AR-1"}}`,
		`{"type":"view_submission","user":{"id":"UCAROL"},"view":{"callback_id":"request_form","state":{"values":{"item":{"item_input":{"selected_option":{"value":"vpn"}}}}}}}`,
		`{"type":"shortcut"}`, `{}`, `[]`, `null`, `{"type":"block_actions","actions":[]}`,
	} {
		f.Add(s)
	}
	w := newWorld(f)
	w.command("UCAROL", "request vpn")
	f.Fuzz(func(t *testing.T, payload string) {
		rec := w.post("/slack/interactions", url.Values{"payload": {payload}})
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("payload %q: status %d", payload, rec.Code)
		}
	})
}

// FuzzCommandText feeds arbitrary /access text: the answer is always a 200 ephemeral
// message, whether a result or an explanation.
func FuzzCommandText(f *testing.F) {
	for _, s := range []string{"", "help", "status", "pending", "cancel AR-1", "request vpn for 8h because x",
		"request prod-db for 99999d", "request <!channel> because <@U1>", "cancel AR-99999999999999999999"} {
		f.Add(s)
	}
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, text string) {
		rec := w.command("UCAROL", text)
		if rec.Code != http.StatusOK {
			t.Fatalf("text %q: status %d: %s", text, rec.Code, rec.Body.String())
		}
	})
}
