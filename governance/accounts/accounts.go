// Package accounts carries out connected accounts for every backend: the one-time connect
// link a chat command hands out, the OAuth 2.0 authorization-code sign-in (PKCE S256,
// a sealed single-use state, a cookie that ties the callback to the browser that began
// it), the check that the account signed in to is the chat user's own, and the tokens,
// sealed with AES-256-GCM (Keyring) in the Store and refreshed through golang.org/x/oauth2.
//
// It implements governance.Accounts. It knows no chat platform and no HTTP routing (the
// handlers turn its answers into pages and redirects), and no backend's wire format: each
// backend describes its sign-in with a governance.Connector. Tokens never leave it in the
// clear except as the answer of Account.Token, and never appear in a log line or an error.
package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Store is what accounts keeps in the store: the sealed accounts, and the claims that make
// a link and a state single-use.
type Store interface {
	governance.AccountStore
	ClaimOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Options are what a Manager is built from.
type Options struct {
	Store      Store    // required
	Keys       *Keyring // required
	PublicURL  string   // where people's browsers reach accessbot, e.g. https://accessbot.example.com; required
	Connectors map[string]governance.Connector
	Notifier   governance.AccountNotifier // tells the person in chat when they connected; may be nil
	Clock      governance.Clock           // default the system clock
	Logger     *slog.Logger               // default slog.Default()
	HTTPClient *http.Client               // for the token endpoints; default 15 s timeout
}

// Manager is people's connected accounts: the connect flow and the tokens.
type Manager struct {
	store      Store
	keys       *Keyring
	public     string
	connectors map[string]governance.Connector
	notifier   governance.AccountNotifier
	clock      governance.Clock
	log        *slog.Logger
	client     *http.Client

	mu       sync.Mutex
	refreshs map[string]*sync.Mutex // one refresh at a time per account in this process
}

var _ governance.Accounts = (*Manager)(nil)

// New returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil || o.Keys == nil {
		return nil, errors.New("accounts: a store and a keyring are required")
	}
	if o.PublicURL == "" {
		return nil, errors.New("accounts: the public URL is required (publicURL or ACCESSBOT_PUBLIC_URL)")
	}
	m := &Manager{store: o.Store, keys: o.Keys, public: strings.TrimRight(o.PublicURL, "/"), connectors: o.Connectors,
		notifier: o.Notifier, clock: o.Clock, log: cmp.Or(o.Logger, slog.Default()), client: o.HTTPClient,
		refreshs: map[string]*sync.Mutex{}}
	if m.clock == nil {
		m.clock = governance.SystemClock{}
	}
	if m.client == nil {
		m.client = &http.Client{Timeout: 15 * time.Second}
	}
	return m, nil
}

// Backends lists the backends whose accounts can be connected, by name.
func (m *Manager) Backends() []string {
	var out []string
	for name := range m.connectors {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ErrNoConnector: the backend named is not one whose accounts can be connected here.
var ErrNoConnector = errors.New("no such backend with connected accounts")

// connector is backend's Connector.
func (m *Manager) connector(backend string) (governance.Connector, error) {
	if c, ok := m.connectors[backend]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNoConnector, clip(backend))
}

// Connections lists the accounts email has connected, by backend. An account sealed under
// a key no longer held is listed without an identity.
func (m *Manager) Connections(ctx context.Context, email string) ([]governance.Connection, error) {
	all, err := m.store.SealedAccounts(ctx, email)
	if err != nil {
		return nil, err
	}
	var out []governance.Connection
	for backend, sealed := range all {
		r, err := m.open(backend, email, sealed)
		if err != nil {
			m.log.WarnContext(ctx, "connected account cannot be opened", "backend", backend, "email", email, "err", err)
		}
		out = append(out, governance.Connection{Backend: backend, As: r.identity(), Since: r.Since})
	}
	slices.SortFunc(out, func(a, b governance.Connection) int { return strings.Compare(a.Backend, b.Backend) })
	return out, nil
}

// Disconnect forgets email's account at backend; false when there was none. The grant
// itself stays with the provider until it expires (or the person revokes it there).
func (m *Manager) Disconnect(ctx context.Context, backend, email string) (bool, error) {
	if _, ok, err := m.store.SealedAccount(ctx, backend, email); err != nil || !ok {
		return false, err
	}
	if _, err := m.store.SwapAccount(ctx, backend, email, nil, nil); err != nil {
		return false, err
	}
	m.log.InfoContext(ctx, "connected account disconnected", "backend", backend, "email", email)
	return true, nil
}
