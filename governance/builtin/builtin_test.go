package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// memLedger holds requests in memory, as accessbot's store does (tested in governance/redis).
type memLedger struct {
	mu sync.Mutex
	m  map[string]*governance.Request
}

func (l *memLedger) Get(_ context.Context, id string) (*governance.Request, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[id]
	if !ok {
		return nil, fmt.Errorf("request %s: %w", id, governance.ErrNotFound)
	}
	return r, nil
}

// record keeps what accessbot records of a submission: the request with it, in state.
func (l *memLedger) record(g governance.Grant, sub governance.Submission, state governance.State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*governance.Request{}
	}
	l.m[g.RequestID] = &governance.Request{ID: g.RequestID, Item: g.Item, Requester: governance.Person{Email: g.Identity.Email},
		State: state, Submission: &sub}
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func grant() governance.Grant {
	return governance.Grant{RequestID: "AR-7", Item: governance.ItemRef{ID: "vpn", Name: "VPN", Backend: Name},
		Identity: governance.Identity{ID: "carol@example.com", Email: "carol@example.com"}, Reason: "on call",
		ApprovedBy: governance.Person{Email: "alice@example.com"}, Start: t0, End: t0.Add(8 * time.Hour)}
}

func TestSubmit_GrantsWithEndTimeReadBackFromItsRequest(t *testing.T) {
	clock := governance.NewManualClock(t0)
	l := &memLedger{}
	b, err := New(l, Options{Clock: clock})
	require.NoError(t, err)

	sub, err := b.Submit(context.Background(), grant())
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, sub.State)
	assert.Equal(t, t0.Add(8*time.Hour), sub.End)
	assert.Equal(t, "builtin:AR-7", sub.ExternalID)

	_, err = b.Status(context.Background(), sub)
	assert.True(t, governance.IsPermanent(err), "a grant whose submission was never recorded does not exist")
	assert.ErrorIs(t, err, governance.ErrNotFound)

	l.record(grant(), sub, governance.StateActive)
	st, err := b.Status(context.Background(), sub)
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, st.State)
	clock.Advance(8 * time.Hour)
	st, err = b.Status(context.Background(), sub)
	require.NoError(t, err)
	assert.Equal(t, governance.StateExpired, st.State, "after its end the grant reads as ended")
}

func TestRevoke_TellsTheFulfilmentServiceUntilTheRequestIsRevoked(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev WebhookEvent
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev.Type+" "+ev.RequestID+" "+ev.Grantee.Email)
	}))
	defer srv.Close()
	l := &memLedger{}
	b, err := New(l, Options{WebhookURL: srv.URL, WebhookSecret: "s", Clock: governance.NewManualClock(t0)})
	require.NoError(t, err)
	sub, err := b.Submit(context.Background(), grant())
	require.NoError(t, err)
	l.record(grant(), sub, governance.StateActive)

	require.NoError(t, b.Revoke(context.Background(), grant()))
	l.record(grant(), sub, governance.StateRevoked)
	require.NoError(t, b.Revoke(context.Background(), grant()), "revoking again is done already")
	assert.Equal(t, []string{"grant AR-7 carol@example.com", "revoke AR-7 carol@example.com"}, got)
	st, err := b.Status(context.Background(), sub)
	require.NoError(t, err)
	assert.Equal(t, governance.StateRevoked, st.State)

	err = b.Revoke(context.Background(), governance.Grant{RequestID: "AR-404"})
	assert.True(t, governance.IsPermanent(err), "revoking a grant that does not exist cannot succeed later")
}

func TestWebhook_SignedAndRetriedOrRefusedByStatus(t *testing.T) {
	const secret = "s3cret"
	var (
		mu     sync.Mutex
		status = http.StatusOK
		got    []WebhookEvent
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(TimestampHeader), 10, 64)
		if r.Header.Get(SignatureHeader) != Sign(secret, ts, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev WebhookEvent
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	l := &memLedger{}
	b, err := New(l, Options{WebhookURL: srv.URL, WebhookSecret: secret, Clock: governance.NewManualClock(t0)})
	require.NoError(t, err)

	_, err = b.Submit(context.Background(), grant())
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, WebhookEvent{Type: "grant", RequestID: "AR-7", Item: grant().Item,
		Grantee: governance.Person{Email: "carol@example.com"}, Start: t0, End: t0.Add(8 * time.Hour),
		Reason: "on call", ApprovedBy: "alice@example.com", SentAt: t0}, got[0])

	tests := []struct {
		name      string
		status    int
		permanent bool
		after     time.Duration
	}{
		{"server error is retried", http.StatusBadGateway, false, 0},
		{"rate limit is retried after Retry-After", http.StatusTooManyRequests, false, 30 * time.Second},
		{"refusal is permanent", http.StatusUnprocessableEntity, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			status = tt.status
			mu.Unlock()
			g := grant()
			g.RequestID = "AR-" + strconv.Itoa(tt.status)
			_, err := b.Submit(context.Background(), g)
			require.Error(t, err)
			assert.Equal(t, tt.permanent, governance.IsPermanent(err))
			var ra *governance.RetryAfterError
			if tt.after > 0 {
				require.True(t, errors.As(err, &ra))
				assert.Equal(t, tt.after, ra.After)
			}
		})
	}
}

func TestNew_WebhookWithoutSecretIsRefused(t *testing.T) {
	_, err := New(&memLedger{}, Options{WebhookURL: "https://fulfil.example.com"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "BUILTIN_WEBHOOK_SECRET")
}
