package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Responder posts messages to response_url, the way to answer only the person who
// clicked a button or typed a command, after the HTTP acknowledgement.
type Responder struct {
	hc      *http.Client
	origins []string
}

// NewResponder returns a Responder using hc, posting only to response_urls on origins
// (scheme://host[:port]; none given: DefaultResponseOrigins). A nil hc means a client with
// a 5-second timeout; a given client without a timeout is copied and given one, so a slow
// Slack never holds a goroutine for long.
func NewResponder(hc *http.Client, origins ...string) *Responder {
	c := http.Client{Timeout: 5 * time.Second}
	if hc != nil {
		c = *hc
		if c.Timeout <= 0 {
			c.Timeout = 5 * time.Second
		}
	}
	if len(origins) == 0 {
		origins = DefaultResponseOrigins
	}
	return &Responder{hc: &c, origins: origins}
}

// Respond posts m to responseURL. m is ephemeral and leaves the original message alone
// (replace_original false) unless m says otherwise. A responseURL on none of the
// Responder's origins is refused with ErrNotSlacks, and nothing is sent.
func (r *Responder) Respond(ctx context.Context, responseURL string, m Message) error {
	u, err := url.Parse(responseURL)
	if err != nil || u.Host == "" || u.User != nil || !slices.ContainsFunc(r.origins, func(o string) bool {
		return strings.EqualFold(o, u.Scheme+"://"+u.Host)
	}) {
		return fmt.Errorf("%w: %q (expected %s); not posted", ErrNotSlacks, responseURL, strings.Join(r.origins, " or "))
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
