package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Limiter is a rate limit shared through Redis by every process that asks for the same
// key: a GCRA in one script (pace.lua), timed by Redis's own clock, so replicas whose
// clocks differ still agree. SailPoint's limit, for one, is per client_id and API
// version, not per process (governance/sailpoint's Options.Limiter).
type Limiter struct {
	rdb goredis.UniversalClient
	k   keys
	// Now, when set, is the clock the limit is counted by instead of Redis's (tests).
	Now func() time.Time
}

// NewLimiter returns a Limiter over client, its keys under opts.Prefix (the Store's).
func NewLimiter(client goredis.UniversalClient, opts Options) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = "accessbot"
	}
	return &Limiter{rdb: client, k: keys{prefix: opts.Prefix}}
}

// Limiter is a Limiter on the Store's Redis and prefix.
func (s *Store) Limiter() *Limiter { return &Limiter{rdb: s.rdb, k: s.k} }

// Reserve takes the next turn of the limit key allows (rate turns per second, up to burst
// at once), shared with every caller of the same key, and says how long to wait before
// using it. Each call takes a turn, waited for or not. A caller that cannot reach Redis
// gets an error and no turn.
func (l *Limiter) Reserve(ctx context.Context, key string, rate float64, burst int) (time.Duration, error) {
	if rate <= 0 {
		return 0, errors.New("redis limiter: rate must be above 0")
	}
	interval := int64(1e6 / rate)
	now := ""
	if l.Now != nil {
		now = strconv.FormatInt(l.Now().UnixMicro(), 10)
	}
	wait, err := paceScript.Run(ctx, l.rdb, []string{l.k.pace(key)}, interval, max(burst, 1), now).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(wait) * time.Microsecond, nil
}
