package accounts

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Keyring seals and opens values with AES-256-GCM. The first key seals; every key opens,
// so that a new key can be put first while values sealed under the old one are still
// read (and re-sealed under the new one as they change). Each sealed value names the key
// it was sealed with: "<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>".
type Keyring struct {
	seal string // the id of the key that seals
	keys map[string]cipher.AEAD
}

var kidRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ErrSealed is the error of a sealed value that cannot be opened: not sealed by any key
// of the ring, sealed for something else (other associated data), or altered.
var ErrSealed = errors.New("the sealed value cannot be opened")

// ParseKeys reads ACCESSBOT_TOKEN_KEY: "kid1:<base64 of 32 bytes>[,kid0:<base64>…]", the
// first key sealing. The error says what is wrong without repeating a key.
func ParseKeys(s string) (*Keyring, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("ACCESSBOT_TOKEN_KEY is empty; set it to kid:<base64 of 32 random bytes>, e.g. k1:$(openssl rand -base64 32)")
	}
	k := &Keyring{keys: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(s, ",") {
		kid, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !kidRe.MatchString(kid) {
			return nil, fmt.Errorf("ACCESSBOT_TOKEN_KEY key %d: write it as kid:<base64>, the kid of letters, digits, - and _ (at most 32)", i+1)
		}
		if _, dup := k.keys[kid]; dup {
			return nil, fmt.Errorf("ACCESSBOT_TOKEN_KEY names key %q twice; give each key its own id", kid)
		}
		raw, err := decodeKey(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("ACCESSBOT_TOKEN_KEY key %q is not base64 of 32 bytes; make one with: openssl rand -base64 32", kid)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.keys[kid] = aead
		if i == 0 {
			k.seal = kid
		}
	}
	return k, nil
}

// decodeKey reads standard or URL base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// SealingKey is the id of the key that seals.
func (k *Keyring) SealingKey() string { return k.seal }

// Seal encrypts plain under the sealing key, bound to ad: the value opens only with the
// same associated data (what it belongs to), so it cannot be moved to someone else.
func (k *Keyring) Seal(plain, ad []byte) string {
	aead := k.keys[k.seal]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := aead.Seal(nonce, nonce, plain, ad)
	return k.seal + "." + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value Seal made with any key of the ring, for the same ad; an error
// wrapping ErrSealed otherwise.
func (k *Keyring) Open(sealed string, ad []byte) ([]byte, error) {
	kid, b64, ok := strings.Cut(sealed, ".")
	aead, known := k.keys[kid]
	if !ok || !known {
		return nil, fmt.Errorf("%w: sealed under key %q, which ACCESSBOT_TOKEN_KEY does not hold", ErrSealed, clip(kid))
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: malformed", ErrSealed)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: altered, or sealed for something else", ErrSealed)
	}
	return plain, nil
}

// Check seals and opens a value with every key, as doctor does.
func (k *Keyring) Check() error {
	probe := []byte("accessbot doctor")
	for kid := range k.keys {
		ring := &Keyring{seal: kid, keys: k.keys}
		plain, err := k.Open(ring.Seal(probe, []byte("probe")), []byte("probe"))
		if err != nil || string(plain) != string(probe) {
			return fmt.Errorf("key %q does not open what it sealed", kid)
		}
	}
	return nil
}

// clip keeps a key id from an outside value short in an error.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
