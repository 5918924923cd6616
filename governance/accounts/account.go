package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
)

// refreshEarly is how long before its expiry an access token is refreshed, so that a
// token handed out still works for the call it is wanted for.
const refreshEarly = time.Minute

// Account returns email's connected account at backend: an error wrapping
// governance.ErrNotConnected when they never connected (or disconnected), and one wrapping
// governance.ErrConnectAgain when what is stored can no longer be used.
func (m *Manager) Account(ctx context.Context, backend, email string) (governance.Account, error) {
	if _, err := m.connector(backend); err != nil {
		return nil, err
	}
	r, _, ok, err := m.load(ctx, backend, email)
	switch {
	case errors.Is(err, ErrSealed):
		// Sealed under a key that was taken out of ACCESSBOT_TOKEN_KEY: the person connects again.
		m.log.WarnContext(ctx, "connected account sealed under a key no longer held", "backend", backend, "email", email, "err", err)
		return nil, fmt.Errorf("%s account of %s: %w", backend, email, governance.ErrConnectAgain)
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("%s account of %s: %w", backend, email, governance.ErrNotConnected)
	}
	return &account{m: m, backend: backend, email: email, who: r.identity()}, nil
}

// account is one person's connected account; it reads the store on every Token, so that
// every replica sees the refresh token another one rotated.
type account struct {
	m       *Manager
	backend string
	email   string
	who     governance.Identity
}

func (a *account) Identity() governance.Identity { return a.who }

// Token returns a current access token, refreshing it (and saving the rotated refresh
// token) when it expires within a minute.
func (a *account) Token(ctx context.Context) (string, error) {
	m := a.m
	if tok, ok, err := a.current(ctx); err != nil || ok {
		return tok, err
	}
	lock := m.refreshLock(a.backend, a.email)
	lock.Lock()
	defer lock.Unlock()
	// Another refresh of this process may have finished while this one waited.
	if tok, ok, err := a.current(ctx); err != nil || ok {
		return tok, err
	}
	for attempt := 0; ; attempt++ {
		r, sealed, ok, err := m.load(ctx, a.backend, a.email)
		if err != nil || !ok {
			return "", a.gone(err)
		}
		if r.Refresh == "" {
			m.log.InfoContext(ctx, "connected account has no refresh token and its access token expired", "backend", a.backend, "email", a.email)
			_, _ = m.store.SwapAccount(ctx, a.backend, a.email, sealed, nil)
			return "", fmt.Errorf("%s account of %s: the access token expired and cannot be refreshed: %w", a.backend, a.email, governance.ErrConnectAgain)
		}
		c, err := m.connector(a.backend)
		if err != nil {
			return "", err
		}
		in, err := c.SignIn(ctx)
		if err != nil {
			return "", fmt.Errorf("sign-in of %s: %w", a.backend, err)
		}
		tok, err := m.config(a.backend, in).TokenSource(m.httpContext(ctx), &oauth2.Token{RefreshToken: r.Refresh}).Token()
		if err != nil {
			if !deadGrant(err) {
				return "", fmt.Errorf("refresh the %s account of %s: %w", a.backend, a.email, tokenError("refresh", err))
			}
			// Another replica may have rotated the refresh token just before: then the
			// stored one is newer than what was sent, and it is tried instead.
			if swapped, serr := m.store.SwapAccount(ctx, a.backend, a.email, sealed, nil); serr != nil {
				return "", serr
			} else if !swapped && attempt == 0 {
				continue
			}
			status, code := statusOf(err)
			m.log.InfoContext(ctx, "connected account's grant refused: forgotten, the person must connect again",
				"backend", a.backend, "email", a.email, "status", status, "error_code", code)
			return "", fmt.Errorf("%s account of %s: the provider refused the grant (%d %s): %w", a.backend, a.email, status, clip(code), governance.ErrConnectAgain)
		}
		next := r
		next.Access, next.Refresh, next.Expiry = tok.AccessToken, tok.RefreshToken, m.expiry(tok)
		if swapped, err := m.store.SwapAccount(ctx, a.backend, a.email, sealed, m.seal(a.backend, a.email, next)); err != nil {
			return "", err
		} else if !swapped {
			// The person disconnected or connected again meanwhile: this token is still
			// good for now, but what is stored stays theirs.
			m.log.InfoContext(ctx, "connected account changed during a refresh; the stored one kept", "backend", a.backend, "email", a.email)
		}
		return tok.AccessToken, nil
	}
}

// current is the stored access token while it is good for another minute.
func (a *account) current(ctx context.Context) (string, bool, error) {
	r, _, ok, err := a.m.load(ctx, a.backend, a.email)
	if err != nil || !ok {
		return "", false, a.gone(err)
	}
	if r.Access != "" && (r.Expiry.IsZero() || a.m.clock.Now().Before(r.Expiry.Add(-refreshEarly))) {
		return r.Access, true, nil
	}
	return "", false, nil
}

// gone is the error of an account that could not be read: disconnected, or sealed under
// a key no longer held (both: connect again), or the store's error.
func (a *account) gone(err error) error {
	if err == nil || errors.Is(err, ErrSealed) {
		return fmt.Errorf("%s account of %s: %w", a.backend, a.email, governance.ErrConnectAgain)
	}
	return err
}

// deadGrant reports whether the token endpoint refused the refresh token itself (revoked,
// expired, already used): invalid_grant, or a 400 or 401 that does not blame accessbot's
// own client (invalid_client, unauthorized_client: the operator must fix the client, and
// nobody's account is forgotten for it).
func deadGrant(err error) bool {
	status, code := statusOf(err)
	switch {
	case code == "invalid_grant":
		return true
	case code == "invalid_client" || code == "unauthorized_client":
		return false
	}
	return status == http.StatusBadRequest || status == http.StatusUnauthorized
}

// refreshLock is the lock that keeps this process to one refresh per account at a time.
func (m *Manager) refreshLock(backend, email string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := backend + "\x00" + email
	l, ok := m.refreshs[key]
	if !ok {
		l = &sync.Mutex{}
		m.refreshs[key] = l
	}
	return l
}
