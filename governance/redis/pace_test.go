package redis

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestLimiter_TwoProcessesShareOneBudget(t *testing.T) {
	clock := governance.NewManualClock(t0)
	opts := Options{Prefix: redistest.Prefix(t)}
	// Two replicas: their own connections to one Redis, the same key.
	a, b := NewLimiter(redistest.Client(t), opts), NewLimiter(redistest.Client(t), opts)
	a.Now, b.Now = clock.Now, clock.Now
	ctx := context.Background()
	const key, rate, burst = "sailpoint:pat-id:v3", 10.0, 3

	var waits []time.Duration
	for i := range 6 {
		l := a
		if i%2 == 1 {
			l = b
		}
		d, err := l.Reserve(ctx, key, rate, burst)
		require.NoError(t, err)
		waits = append(waits, d)
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{0, 0, 0, 100 * ms, 200 * ms, 300 * ms}, waits,
		"a burst of 3 at once, then one turn per 100 ms, whichever replica asks")

	clock.Advance(250 * ms) // the next turn falls at 400 ms: 600 ms of queue less the burst's 200 ms
	d, err := b.Reserve(ctx, key, rate, burst)
	require.NoError(t, err)
	assert.Equal(t, 150*ms, d)

	clock.Advance(10 * time.Second) // idle: the full burst again
	for range burst {
		d, err := a.Reserve(ctx, key, rate, burst)
		require.NoError(t, err)
		assert.Zero(t, d)
	}

	other, err := a.Reserve(ctx, "sailpoint:another-client:v3", rate, burst)
	require.NoError(t, err)
	assert.Zero(t, other, "each key is a budget of its own")
}

func TestLimiter_CountsByRedisTimeAndForgetsAnIdleLimit(t *testing.T) {
	rdb := redistest.Client(t)
	l := NewLimiter(rdb, Options{Prefix: redistest.Prefix(t)})
	ctx := context.Background()
	d, err := l.Reserve(ctx, "k", 1, 1)
	require.NoError(t, err)
	assert.Zero(t, d)
	d, err = l.Reserve(ctx, "k", 1, 1)
	require.NoError(t, err)
	assert.InDelta(t, float64(time.Second), float64(d), float64(100*time.Millisecond), "by Redis's clock: the next second")

	key := l.k.pace("k")
	assert.Contains(t, key, "{pace:k}", "a hash tag of its own: one Cluster slot")
	ttl, err := rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Duration(0))
	assert.LessOrEqual(t, ttl, 3*time.Second)

	_, err = l.Reserve(ctx, "k", 0, 1)
	assert.Error(t, err)
}

func TestLimiter_WorksOnACluster(t *testing.T) {
	l := NewLimiter(redistest.Cluster(t), Options{Prefix: redistest.Prefix(t)})
	d, err := l.Reserve(context.Background(), "sailpoint:{odd}:v3", 10, 1)
	require.NoError(t, err)
	assert.Zero(t, d)
}
