package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// The two tickets of the connect flow are sealed, not stored: a link (what the chat
// command hands out) and a state (what travels through the identity provider and back).
// Each is bound to its backend by its associated data, carries its own expiry (read
// against the Clock), and is made single-use by claiming its nonce once in the store.

// LinkTTL is how long a connect link may be opened; StateTTL how long the sign-in at the
// identity provider may take once it was opened.
const (
	LinkTTL  = 10 * time.Minute
	StateTTL = 10 * time.Minute
)

// link is what a connect link carries: who asked for it, in which chat, for which backend.
type link struct {
	Nonce    string `json:"n"`
	Backend  string `json:"b"`
	Platform string `json:"p"`
	ChatID   string `json:"c"`
	Email    string `json:"e"`
	Name     string `json:"m,omitempty"`
	Expires  int64  `json:"x"` // unix seconds
}

// state is what the authorization request's state carries: the link it came from, the
// PKCE verifier (sealed, so the browser never sees it) and a hash of the browser's cookie.
type state struct {
	link
	Link     string `json:"l"` // the link's nonce
	Verifier string `json:"v,omitempty"`
	Browser  string `json:"w"` // sha256 of the sign-in cookie
}

func linkAD(backend string) []byte  { return []byte("accessbot link\x00" + backend) }
func stateAD(backend string) []byte { return []byte("accessbot state\x00" + backend) }

// nonce is 128 random bits as hex.
func nonce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// browserHash is what a state keeps of its sign-in cookie.
func browserHash(cookie string) string {
	h := sha256.Sum256([]byte("accessbot browser\x00" + cookie))
	return hex.EncodeToString(h[:])
}

func (m *Manager) sealTicket(v any, ad []byte) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and numbers
	}
	return m.keys.Seal(b, ad)
}

// openTicket opens a sealed ticket into v, refusing one that is not accessbot's or has
// expired (the expiry read by expiresOf).
func (m *Manager) openTicket(sealed string, ad []byte, v any, expires func() int64, expired error) error {
	b, err := m.keys.Open(sealed, ad)
	if err != nil {
		return fmt.Errorf("%w: %w", governance.ErrLinkInvalid, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", governance.ErrLinkInvalid, err)
	}
	if !m.clock.Now().Before(time.Unix(expires(), 0)) {
		return expired
	}
	return nil
}

// errInvalid reports whether err is a ticket accessbot did not make.
func errInvalid(err error) bool { return errors.Is(err, governance.ErrLinkInvalid) }
