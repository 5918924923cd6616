package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// sameAsParseQuery checks that parseForm accepts and refuses what url.ParseQuery does,
// and that Get gives ParseQuery's answer for every key the body names and for a slash
// command's fields.
func sameAsParseQuery(t *testing.T, body string) {
	t.Helper()
	want, wantErr := url.ParseQuery(body)
	got, err := parseForm([]byte(body))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("parseForm(%q): error %v, url.ParseQuery's %v", body, err, wantErr)
	}
	if err != nil {
		if err.Error() != wantErr.Error() {
			t.Fatalf("parseForm(%q): error %q, url.ParseQuery's %q", body, err, wantErr)
		}
		return
	}
	keys := []string{"user_id", "text", "payload", "ssl_check", "", "a b"}
	for k := range want {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if got.Get(k) != want.Get(k) {
			t.Fatalf("parseForm(%q).Get(%q) = %q, url.ParseQuery's %q", body, k, got.Get(k), want.Get(k))
		}
	}
}

func TestForm_AsParseQuery(t *testing.T) {
	command := url.Values{"command": {"/access"}, "text": {"request vpn for 2h because a&b=c; 100%"}, "user_id": {"U1"},
		"team_id": {"T1"}, "response_url": {"https://hooks.slack.com/commands/T1/1/x"}}.Encode()
	for _, body := range []string{
		command, "", "&&", "=", "a", "a=", "=b", "a=1&a=2", "user_id=U1&user_id=U2", "user%5Fid=U3", "text=a+b%20c",
		"a=%", "a=%4", "a=%zz&user_id=U1", "user_id=%41", "a=1;b=2", "a;b", "payload=%7B%22type%22%3A%22x%22%7D",
		strings.Repeat("a=1&", maxPlainFields+5), strings.Repeat("&", 20000),
	} {
		sameAsParseQuery(t, body)
	}
}

func FuzzForm(f *testing.F) {
	for _, s := range []string{"user_id=U1&text=request+vpn", "a=%zz", "a;b", "user%5Fid=U3&user_id=U4", "=&=&text=%25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { sameAsParseQuery(t, body) })
}
