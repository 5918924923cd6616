package handlers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Slack's published test vector (chat-platforms.md 1.1).
const (
	vectorSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	vectorTS     = 1531420618
	vectorBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	vectorSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func slackRequest(ts, sig string, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
	if ts != "" {
		r.Header.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		r.Header.Set("X-Slack-Signature", sig)
	}
	return r
}

func TestSlackSignature_MatchesSlacksPublishedVector(t *testing.T) {
	assert.Equal(t, vectorSig, SlackSignature(vectorSecret, vectorTS, []byte(vectorBody)))
}

func TestVerifySlack_AcceptsThePublishedVectorAtItsOwnTime(t *testing.T) {
	body, err := verifySlack(httptest.NewRecorder(), slackRequest(strconv.Itoa(vectorTS), vectorSig, vectorBody), vectorSecret, 64<<10, time.Unix(vectorTS, 0))
	require.NoError(t, err)
	assert.Equal(t, vectorBody, string(body), "the raw body is handed on for parsing")
}

func TestVerifySlack_RefusesWhatSlackDidNotSignJustNow(t *testing.T) {
	now := time.Unix(vectorTS, 0)
	sign := func(ts int64, body string) (string, string) {
		return strconv.FormatInt(ts, 10), SlackSignature(vectorSecret, ts, []byte(body))
	}
	tests := []struct {
		name    string
		ts, sig string
		body    string
		secret  string
		max     int64
		want    error
	}{
		{name: "299 seconds old", body: "a=1", want: nil},
		{name: "301 seconds old", body: "a=1", want: errStale},
		{name: "301 seconds ahead", body: "a=1", want: errStale},
		{name: "no timestamp", ts: "-", body: "a=1", want: errUnsigned},
		{name: "no signature", sig: "-", body: "a=1", want: errUnsigned},
		{name: "timestamp not a number", ts: "soon", body: "a=1", want: errUnsigned},
		{name: "v1 signature", sig: "v1=" + strings.TrimPrefix(vectorSig, "v0="), body: vectorBody, want: errUnsigned},
		{name: "signature not hex", sig: "v0=zz", body: "a=1", want: errBadSig},
		{name: "signature too short", sig: vectorSig[:40], body: vectorBody, want: errBadSig},
		{name: "another body", sig: vectorSig, body: vectorBody + "&x=1", want: errBadSig},
		{name: "body over the limit", body: strings.Repeat("x", 101), max: 100, want: errTooLarge},
		{name: "hex in upper case", sig: "v0=" + strings.ToUpper(strings.TrimPrefix(vectorSig, "v0=")), body: vectorBody, want: errBadSig},
		{name: "timestamp with a leading zero", ts: "0" + strconv.FormatInt(vectorTS, 10), sig: vectorSig, body: vectorBody, want: errUnsigned},
		{name: "timestamp with a plus sign", ts: "+" + strconv.FormatInt(vectorTS, 10), sig: vectorSig, body: vectorBody, want: errUnsigned},
		{name: "no secret configured", body: "a=1", secret: "-", want: errNoSecret},
	}
	offsets := map[string]int64{"299 seconds old": -299, "301 seconds old": -301, "301 seconds ahead": 301}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, sig := sign(vectorTS+offsets[tt.name], tt.body)
			if tt.ts != "" {
				ts = strings.TrimPrefix(tt.ts, "-")
			}
			if tt.sig != "" {
				sig = strings.TrimPrefix(tt.sig, "-")
			}
			secret := vectorSecret
			if tt.secret == "-" {
				secret = ""
			}
			max := tt.max
			if max == 0 {
				max = 64 << 10
			}
			r := slackRequest(ts, sig, tt.body)
			r.ContentLength = -1 // read the body to find out its size, as with chunked requests
			_, err := verifySlack(httptest.NewRecorder(), r, secret, max, now)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// FuzzVerifySlack feeds the verifier arbitrary headers and bodies. Whatever arrives, it
// accepts exactly the bodies signed with the secret at a time within five minutes of now,
// and never panics.
func FuzzVerifySlack(f *testing.F) {
	now := time.Unix(vectorTS, 0)
	const max = 1 << 10
	f.Fuzz(func(t *testing.T, offset int64, body []byte, sig string) {
		// An arbitrary signature header passes only if it is the right one.
		tsHeader := strconv.FormatInt(vectorTS+offset, 10)
		r := slackRequest(tsHeader, sig, string(body))
		got, err := verifySlack(httptest.NewRecorder(), r, vectorSecret, max, now)
		if err == nil {
			want := SlackSignature(vectorSecret, vectorTS+offset, body)
			if sig != want || string(got) != string(body) {
				t.Fatalf("accepted signature %q for body %q at offset %d; the right one is %q", sig, body, offset, want)
			}
		}
		// The right signature passes exactly when the time and the size are right.
		good := SlackSignature(vectorSecret, vectorTS+offset, body)
		_, err = verifySlack(httptest.NewRecorder(), slackRequest(tsHeader, good, string(body)), vectorSecret, max, now)
		inWindow := offset >= -300 && offset <= 300
		switch {
		case len(body) > max: // a declared Content-Length over the limit is refused before anything else
			if !errors.Is(err, errTooLarge) {
				t.Fatalf("%d bytes: got %v, want errTooLarge", len(body), err)
			}
		case vectorTS+offset <= 0 || len(tsHeader) > 12:
			if err == nil {
				t.Fatalf("accepted timestamp %s", tsHeader)
			}
		case !inWindow:
			if !errors.Is(err, errStale) {
				t.Fatalf("offset %d: got %v, want errStale", offset, err)
			}
		case err != nil:
			t.Fatalf("refused a correctly signed body %q at offset %d: %v", body, offset, err)
		}
	})
}
