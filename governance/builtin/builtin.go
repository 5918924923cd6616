// Package builtin is the governance backend where accessbot itself is the system of
// record: a grant is the request's own submission, recorded with its end time in
// accessbot's store when the request is submitted, and optionally a signed JSON webhook
// tells a fulfilment service to carry it out. There is no second copy of a grant to keep
// in step with the request: the backend reads its grants from the requests.
//
// It knows nothing of chat platforms or of the other backends.
package builtin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Name is the backend name catalog items use.
const Name = "builtin"

// Ledger holds the requests whose submissions are the grants; accessbot's Store
// implements it.
type Ledger interface {
	Get(ctx context.Context, id string) (*governance.Request, error)
}

// Options configure the backend.
type Options struct {
	// WebhookURL, when set, receives a signed POST for every grant, extension and revocation;
	// a grant counts as done only when the webhook answers 2xx.
	WebhookURL string
	// WebhookSecret signs the webhook (required with WebhookURL).
	WebhookSecret string
	// Timeout bounds each webhook call, answer included (default 10 s); a call that runs
	// out is retried like a 5xx. Unused with HTTPClient.
	Timeout    time.Duration
	HTTPClient *http.Client
	Clock      governance.Clock
	// Catalog is what SearchCatalog offers.
	Catalog []governance.ItemRef
}

// Backend is the built-in backend.
type Backend struct {
	ledger Ledger
	opts   Options
}

var _ governance.Backend = (*Backend)(nil)

// New returns the built-in backend over ledger.
func New(ledger Ledger, opts Options) (*Backend, error) {
	if opts.WebhookURL != "" && opts.WebhookSecret == "" {
		return nil, errors.New("builtin: a webhook URL needs a signing secret (set BUILTIN_WEBHOOK_SECRET)")
	}
	if opts.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64 // one fulfilment host, many outbox workers
		if opts.Timeout <= 0 {
			opts.Timeout = 10 * time.Second
		}
		opts.HTTPClient = &http.Client{Timeout: opts.Timeout, Transport: t}
	}
	if opts.Clock == nil {
		opts.Clock = governance.SystemClock{}
	}
	return &Backend{ledger: ledger, opts: opts}, nil
}

// Name returns "builtin".
func (b *Backend) Name() string { return Name }

// LookupIdentity uses the e-mail address itself as the identity.
func (b *Backend) LookupIdentity(_ context.Context, p governance.Person) (governance.Identity, error) {
	email := strings.ToLower(p.Email)
	return governance.Identity{ID: email, Email: email}, nil
}

// SearchCatalog returns the configured items whose id or name contains query.
func (b *Backend) SearchCatalog(_ context.Context, query string) ([]governance.ItemRef, error) {
	q := strings.ToLower(query)
	var out []governance.ItemRef
	for _, it := range b.opts.Catalog {
		if strings.Contains(strings.ToLower(it.ID), q) || strings.Contains(strings.ToLower(it.Name), q) {
			out = append(out, it)
		}
	}
	return out, nil
}

// Submit grants the access (after the webhook, if any, accepted it). The grant is
// recorded when accessbot records the submission it returns; submitting the same request
// again grants the same access again, so retries are harmless.
func (b *Backend) Submit(ctx context.Context, g governance.Grant) (governance.Submission, error) {
	rec := grantRecord{RequestID: g.RequestID, Item: g.Item,
		Grantee: governance.Person{Email: g.Identity.Email, Name: g.Requester.Name}, Start: g.Start, End: g.End}
	if err := b.notify(ctx, "grant", rec, g.Reason, g.ApprovedBy); err != nil {
		return governance.Submission{}, err
	}
	return b.submission(rec), nil
}

// Status reads the grant from its request.
func (b *Backend) Status(ctx context.Context, s governance.Submission) (governance.Submission, error) {
	rec, err := b.grant(ctx, strings.TrimPrefix(s.ExternalID, Name+":"))
	if err != nil {
		return governance.Submission{}, err
	}
	return b.submission(rec), nil
}

// Extend moves the end of a grant; accessbot records the new end on the request.
func (b *Backend) Extend(ctx context.Context, g governance.Grant, end time.Time) (governance.Submission, error) {
	rec, err := b.grant(ctx, g.RequestID)
	if err != nil {
		return governance.Submission{}, err
	}
	rec.End = end
	if err := b.notify(ctx, "extend", rec, g.Reason, g.ApprovedBy); err != nil {
		return governance.Submission{}, err
	}
	return b.submission(rec), nil
}

// Revoke ends a grant now; accessbot records it on the request. A grant already revoked
// is left alone.
func (b *Backend) Revoke(ctx context.Context, g governance.Grant) error {
	rec, err := b.grant(ctx, g.RequestID)
	if err != nil || rec.revoked {
		return err
	}
	return b.notify(ctx, "revoke", rec, "", governance.Person{})
}

// Cancel has nothing to withdraw: built-in grants take effect at once.
func (b *Backend) Cancel(context.Context, governance.Submission) error { return nil }

// grantRecord is a grant as the request that holds it says.
type grantRecord struct {
	RequestID string
	Item      governance.ItemRef
	Grantee   governance.Person
	Start     time.Time
	End       time.Time // zero: no end
	revoked   bool
}

// grant reads the grant of request id: its recorded submission.
func (b *Backend) grant(ctx context.Context, id string) (grantRecord, error) {
	r, err := b.ledger.Get(ctx, id)
	if errors.Is(err, governance.ErrNotFound) || (err == nil && (r.Submission == nil || r.Item.Backend != Name)) {
		return grantRecord{}, governance.Permanent(fmt.Errorf("no built-in grant for %s: %w", id, governance.ErrNotFound))
	}
	if err != nil {
		return grantRecord{}, fmt.Errorf("read grant %s: %w", id, err)
	}
	return grantRecord{RequestID: r.ID, Item: r.Item, Grantee: governance.Person{Email: strings.ToLower(r.Requester.Email), Name: r.Requester.Name},
		Start: r.Submission.Start, End: r.Submission.End, revoked: r.State == governance.StateRevoked}, nil
}

func (b *Backend) submission(rec grantRecord) governance.Submission {
	s := governance.Submission{Backend: Name, ExternalID: Name + ":" + rec.RequestID, State: governance.StateActive, Start: rec.Start, End: rec.End}
	now := b.opts.Clock.Now()
	switch {
	case rec.revoked:
		s.State, s.Detail = governance.StateRevoked, "revoked"
	case !rec.End.IsZero() && !now.Before(rec.End):
		s.State, s.Detail = governance.StateExpired, "ended"
	}
	return s
}

// WebhookEvent is the JSON body POSTed to the fulfilment URL. Receivers should treat
// (type, request) as an idempotency key: a retried delivery carries the same values.
type WebhookEvent struct {
	Type       string             `json:"type"` // grant, extend, revoke
	RequestID  string             `json:"request"`
	Item       governance.ItemRef `json:"item"`
	Grantee    governance.Person  `json:"grantee"`
	Start      time.Time          `json:"start"`
	End        time.Time          `json:"end,omitzero"`
	Reason     string             `json:"reason,omitempty"`
	ApprovedBy string             `json:"approvedBy,omitempty"`
	SentAt     time.Time          `json:"sentAt"`
}

// Webhook signature headers: X-Accessbot-Signature is "v1=" + hex HMAC-SHA256 of
// "v1:<timestamp>:<body>" with the shared secret; X-Accessbot-Timestamp is Unix seconds.
const (
	SignatureHeader = "X-Accessbot-Signature"
	TimestampHeader = "X-Accessbot-Timestamp"
)

// Sign computes the webhook signature of body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v1:%d:", ts)
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func (b *Backend) notify(ctx context.Context, kind string, rec grantRecord, reason string, by governance.Person) error {
	if b.opts.WebhookURL == "" {
		return nil
	}
	now := b.opts.Clock.Now()
	body, err := json.Marshal(WebhookEvent{Type: kind, RequestID: rec.RequestID, Item: rec.Item, Grantee: rec.Grantee,
		Start: rec.Start, End: rec.End, Reason: reason, ApprovedBy: by.Email, SentAt: now})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return governance.Permanent(fmt.Errorf("fulfilment webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign(b.opts.WebhookSecret, now.Unix(), body))
	resp, err := b.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("fulfilment webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		err := fmt.Errorf("fulfilment webhook answered %s", resp.Status)
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
			return governance.RetryAfter(err, time.Duration(secs)*time.Second)
		}
		return err
	case code >= 500 || code == http.StatusRequestTimeout:
		return fmt.Errorf("fulfilment webhook answered %s", resp.Status)
	default:
		return governance.Permanent(fmt.Errorf("fulfilment webhook refused the %s: %s %s", kind, resp.Status, strings.TrimSpace(string(snippet))))
	}
}
