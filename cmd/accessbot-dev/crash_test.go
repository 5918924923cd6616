package main

import (
	"context"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCrash_KilledFiveTimesUnderLoadLosesAndDoublesNothing kills accessbot with SIGKILL
// at random moments of a running load, five times, restarting it each time; then every
// acknowledged request exists in one valid state, no acknowledged approval is lost, every
// approved request reached the backend (once per request), and the outbox drained.
func TestCrash_KilledFiveTimesUnderLoadLosesAndDoublesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		stop, url, err := startRedis(ctx, t.TempDir())
		require.NoError(t, err)
		defer stop()
		redisURL = url
	}
	c := newChaos(t, ctx, redisURL, nil)
	c.load()
	for kill := range 5 {
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		require.NoError(t, syscall.Kill(c.bot.pid, syscall.SIGKILL), "kill %d", kill+1)
		c.bot.stop() // reaps the killed process
		c.start()
	}
	time.Sleep(500 * time.Millisecond)
	c.verify(60 * time.Second)
}
