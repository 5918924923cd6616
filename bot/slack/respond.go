package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Responder posts messages to response_url, the way to answer only the person who
// clicked a button or typed a command, after the HTTP acknowledgement.
type Responder struct {
	hc *http.Client
}

// NewResponder returns a Responder using hc; nil means a client with a 5-second timeout.
// A given client without a timeout is copied and given one, so a slow Slack never holds
// a goroutine for long.
func NewResponder(hc *http.Client) *Responder {
	c := http.Client{Timeout: 5 * time.Second}
	if hc != nil {
		c = *hc
		if c.Timeout <= 0 {
			c.Timeout = 5 * time.Second
		}
	}
	return &Responder{hc: &c}
}

// Respond posts m to responseURL. m is ephemeral and leaves the original message alone
// (replace_original false) unless m says otherwise.
func (r *Responder) Respond(ctx context.Context, responseURL string, m Message) error {
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("response_url %q is not an http(s) URL", responseURL)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("post to response_url: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("response_url answered %s: %s", resp.Status, bytes.TrimSpace(answer))
	}
	return nil
}
