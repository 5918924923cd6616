package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ClaimDue returns up to limit due-index members (in total, across the shards) due at or
// before now, in the order they came due, and in the same step (one script per shard)
// moves each to now+lease, so no other sweeper takes it meanwhile. The transition that
// handles a member sets its next time or removes it; if the sweeper dies first, the
// member is due again when the lease ends. The cost grows with the number of due
// members, not with the number of pending requests.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error) {
	type due struct {
		member string
		at     int64
	}
	var all []due
	_, err := s.gather(ctx, limit, claimDueScript, nil,
		func(shard, quota int) scriptCall {
			return scriptCall{keys: []string{s.k.due(shard)}, args: []any{now.UnixMilli(), now.Add(lease).UnixMilli(), quota}}
		},
		func(_ int, reply []any) (int, error) {
			for i := 0; i+1 < len(reply); i += 2 {
				member, _ := reply[i].(string)
				score, _ := reply[i+1].(string)
				at, err := strconv.ParseFloat(score, 64)
				if err != nil {
					return 0, fmt.Errorf("due time of %s: %w", member, err)
				}
				all = append(all, due{member, int64(at)})
			}
			return len(reply) / 2, nil
		})
	if err != nil {
		// Members claimed before the failure are due again when their lease ends.
		return nil, fmt.Errorf("claim due work: %w", err)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at < all[j].at })
	members := make([]string, len(all))
	for i, d := range all {
		members[i] = d.member
	}
	return members, nil
}

// ClaimOnce reports whether this caller is the first to claim key within ttl (SET NX):
// the way several replicas agree that one of them sends a scheduled message. The claim
// holds a token of this call, so that a SET that go-redis sent again after its answer was
// lost, and that found its own first sending's claim, is still this caller's.
func (s *Store) ClaimOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	k, token := s.k.once(key), strconv.FormatUint(rand.Uint64(), 36)
	first, err := s.rdb.SetNX(ctx, k, token, ttl).Result()
	if err != nil || first {
		return first, err
	}
	held, err := s.rdb.Get(ctx, k).Result()
	if errors.Is(err, goredis.Nil) { // it ended meanwhile: claimed by nobody now
		return false, nil
	}
	return held == token, err
}
