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
// cannot move. It returns the raw body.
func verifySlack(w http.ResponseWriter, r *http.Request, secret string, max int64, now time.Time) ([]byte, error) {
	if secret == "" {
		return nil, errNoSecret
	}
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	ts, mac, err := slackHeaders(r.Header)
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
	want := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(want, "v0:%d:", ts)
	want.Write(body)
	if !hmac.Equal(mac, want.Sum(nil)) {
		return nil, errBadSig
	}
	return body, nil
}

// slackHeaders reads the timestamp and the MAC from a request's headers.
func slackHeaders(h http.Header) (ts int64, mac []byte, err error) {
	sig, tsHeader := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	hexMAC, ok := strings.CutPrefix(sig, "v0=")
	if !ok || tsHeader == "" || len(tsHeader) > 12 {
		return 0, nil, errUnsigned
	}
	ts, err = strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || ts <= 0 {
		return 0, nil, errUnsigned
	}
	mac, err = hex.DecodeString(hexMAC)
	if err != nil || len(mac) != sha256.Size {
		return 0, nil, errBadSig
	}
	return ts, mac, nil
}

// VerifySlack checks a request's Slack signature as the handlers do and returns its body;
// the load tool's floor server uses it, so both sides pay the same for the check.
func VerifySlack(w http.ResponseWriter, r *http.Request, secret string, max int64, now time.Time) ([]byte, error) {
	return verifySlack(w, r, secret, max, now)
}
