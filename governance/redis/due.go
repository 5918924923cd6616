package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ClaimDue takes up to limit due members from each shard's due index and moves them to
// now+lease, all shards in one pipeline. The cost grows with the number of due members,
// not with the number of pending requests (ZRANGEBYSCORE is O(log N + M)).
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.Cmd, s.k.shards)
	for i := range cmds {
		cmds[i] = claimScript.Eval(ctx, pipe, []string{s.k.due(i)}, now.UnixMilli(), now.Add(lease).UnixMilli(), limit)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("claim due items: %w", err)
	}
	var out []string
	for _, c := range cmds {
		members, err := c.StringSlice()
		if err != nil {
			return nil, err
		}
		out = append(out, members...)
	}
	return out, nil
}
