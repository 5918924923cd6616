package handlers

import (
	"net/url"
	"testing"
)

// BenchmarkForm reads a slash command's form as the command handler does: every field it uses.
func BenchmarkForm(b *testing.B) {
	body := []byte(url.Values{"token": {"x"}, "team_id": {"T1"}, "team_domain": {"acme"}, "channel_id": {"C1"}, "channel_name": {"general"},
		"user_id": {"U00042"}, "user_name": {"load"}, "command": {"/access"}, "text": {"request vpn-7 for 2h because load test"},
		"api_app_id": {"A1"}, "is_enterprise_install": {"false"}, "response_url": {"https://hooks.slack.com/commands/T1/1/x"},
		"trigger_id": {"1.2.3"}}.Encode())
	b.ReportAllocs()
	for b.Loop() {
		f, err := parseForm(body)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range []string{"ssl_check", "team_id", "enterprise_id", "user_id", "channel_id", "command", "text", "trigger_id", "response_url"} {
			_ = f.Get(k)
		}
	}
}
