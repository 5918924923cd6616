package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// slackSkew is how far a request's timestamp may be from now, either way (Slack's rule).
const slackSkew = 5 * time.Minute

var (
	errNoSecret = errors.New("no signing secret configured")
	errUnsigned = errors.New("missing or malformed X-Slack-Signature or X-Slack-Request-Timestamp")
	errStale    = errors.New("timestamp outside the 5-minute window")
	errBadSig   = errors.New("signature does not match")
	errTooLarge = errors.New("body too large")
)

// SlackSignature is Slack's v0 signature of body sent at ts: "v0=" and the hex
// HMAC-SHA256 of "v0:<ts>:<body>" keyed with the signing secret. Development clients sign
// with it too.
func SlackSignature(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// verifySlack checks a request's Slack signature against the body (read once, at most
// max bytes) and the clock given — slack-go's verifier reads the wall clock, which tests
// cannot move. It returns the raw body. The signature is computed over the timestamp
// header exactly as sent and compared with the signature header exactly as Slack writes
// it ("v0=" and lower-case hex): anything else, however equivalent, is refused.
func verifySlack(w http.ResponseWriter, r *http.Request, secret string, max int64, now time.Time) ([]byte, error) {
	if secret == "" {
		return nil, errNoSecret
	}
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	sig, tsHeader := r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")
	ts, err := slackTimestamp(sig, tsHeader)
	if err != nil {
		return nil, err
	}
	if d := now.Sub(time.Unix(ts, 0)); d > slackSkew || d < -slackSkew {
		return nil, errStale
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, "v0:"+tsHeader+":")
	m.Write(body)
	want := make([]byte, 3, 3+2*sha256.Size)
	copy(want, "v0=")
	want = hex.AppendEncode(want, m.Sum(nil))
	if !hmac.Equal([]byte(sig), want) {
		return nil, errBadSig
	}
	return body, nil
}

// slackTimestamp reads the timestamp header: a positive whole number of seconds, written
// as Slack writes it (no sign, no leading zeros, at most 12 digits); sig must at least
// look like a v0 signature.
func slackTimestamp(sig, tsHeader string) (int64, error) {
	if !strings.HasPrefix(sig, "v0=") || tsHeader == "" || len(tsHeader) > 12 {
		return 0, errUnsigned
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || ts <= 0 || strconv.FormatInt(ts, 10) != tsHeader {
		return 0, errUnsigned
	}
	return ts, nil
}

// VerifySlack checks a request's Slack signature as the handlers do and returns its body;
// the load tool's floor server uses it, so both sides pay the same for the check.
func VerifySlack(w http.ResponseWriter, r *http.Request, secret string, max int64, now time.Time) ([]byte, error) {
	return verifySlack(w, r, secret, max, now)
}
