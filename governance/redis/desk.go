package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// deskSeen is the key of what the last poll of a backend's approvals saw pending: a hash
// of approval id → request id, replaced as a whole by each poll. It is one key, read and
// written by single commands, so it needs no hash tag of its own.
func (k keys) deskSeen(backend string) string { return k.prefix + ":desk:" + backend }

// DeskSeen returns the approvals the last poll of backend saw pending.
func (s *Store) DeskSeen(ctx context.Context, backend string) (map[string]string, error) {
	seen, err := s.rdb.HGetAll(ctx, s.k.deskSeen(backend)).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s's approvals seen: %w", backend, err)
	}
	return seen, nil
}

// SetDeskSeen replaces what the last poll of backend saw pending.
func (s *Store) SetDeskSeen(ctx context.Context, backend string, seen map[string]string) error {
	key := s.k.deskSeen(backend)
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, key)
		if len(seen) > 0 {
			p.HSet(ctx, key, seen)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s's approvals seen: %w", backend, err)
	}
	return nil
}
