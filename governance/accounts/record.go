package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// record is one connected account as it is sealed into the store: who the person is at
// the backend, and the tokens. It is never logged and never leaves this package in the clear.
type record struct {
	ID       string    `json:"id"`
	Email    string    `json:"email"`
	Name     string    `json:"name,omitempty"`
	Access   string    `json:"at,omitempty"`
	Refresh  string    `json:"rt,omitempty"`
	Expiry   time.Time `json:"exp,omitzero"` // the access token's; zero: the provider gave none
	Since    time.Time `json:"since"`        // when the person connected
	Platform string    `json:"platform,omitempty"`
	ChatID   string    `json:"chat,omitempty"`
}

func (r record) identity() governance.Identity {
	return governance.Identity{ID: r.ID, Email: r.Email, Name: r.Name}
}

// String keeps the tokens out of anything that formats a record.
func (r record) String() string { return fmt.Sprintf("account %s (%s)", r.ID, r.Email) }

// GoString keeps the tokens out of %#v.
func (r record) GoString() string { return r.String() }

// accountAD binds a sealed account to its backend and owner: moved to another person's
// field, or another backend's, it no longer opens.
func accountAD(backend, email string) []byte {
	return []byte("accessbot account\x00" + backend + "\x00" + strings.ToLower(email))
}

// load reads and opens a person's account at backend; sealed is what the store holds
// (for a later swap), nil with ok false when there is none.
func (m *Manager) load(ctx context.Context, backend, email string) (r record, sealed []byte, ok bool, err error) {
	sealed, ok, err = m.store.SealedAccount(ctx, backend, email)
	if err != nil || !ok {
		return record{}, nil, false, err
	}
	r, err = m.open(backend, email, sealed)
	return r, sealed, err == nil, err
}

func (m *Manager) open(backend, email string, sealed []byte) (record, error) {
	b, err := m.keys.Open(string(sealed), accountAD(backend, email))
	if err != nil {
		return record{}, fmt.Errorf("open the connected account at %s: %w", backend, err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("decode the connected account at %s: %w", backend, governance.ErrConnectAgain)
	}
	return r, nil
}

func (m *Manager) seal(backend, email string, r record) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return []byte(m.keys.Seal(b, accountAD(backend, email)))
}
