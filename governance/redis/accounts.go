package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// Connected accounts live in one hash per person, P:{acct:<email>}:accounts, a field per
// backend holding the value governance/accounts sealed. They carry no expiry and are not
// touched by request retention: an account is kept until its owner disconnects it or the
// provider refuses its grant.

// SealedAccount returns the sealed account of email at backend; ok is false when none.
func (s *Store) SealedAccount(ctx context.Context, backend, email string) ([]byte, bool, error) {
	b, err := s.rdb.HGet(ctx, s.k.accounts(email), backend).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read connected account at %s: %w", backend, err)
	}
	return b, true, nil
}

// SealedAccounts returns every sealed account of email, by backend.
func (s *Store) SealedAccounts(ctx context.Context, email string) (map[string][]byte, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.accounts(email)).Result()
	if err != nil {
		return nil, fmt.Errorf("read connected accounts: %w", err)
	}
	out := make(map[string][]byte, len(m))
	for backend, v := range m {
		out[backend] = []byte(v)
	}
	return out, nil
}

// SwapAccount replaces the sealed account of email at backend with next (nil removes it),
// provided the stored value is still prev (nil: whatever is stored), in one script.
func (s *Store) SwapAccount(ctx context.Context, backend, email string, prev, next []byte) (bool, error) {
	conditional, store := "0", "0"
	if prev != nil {
		conditional = "1"
	}
	if next != nil {
		store = "1"
	}
	n, err := swapAccountScript.Run(ctx, s.rdb, []string{s.k.accounts(email)}, backend, conditional, prev, store, next).Int()
	if err != nil {
		return false, fmt.Errorf("save connected account at %s: %w", backend, err)
	}
	return n == 1, nil
}
