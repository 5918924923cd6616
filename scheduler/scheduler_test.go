package scheduler

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queue is a Sweeper with a number of due items; each Sweep takes up to limit of them.
type queue struct {
	mu    sync.Mutex
	due   int
	calls int
	err   error
}

func (q *queue) Sweep(_ context.Context, limit int, _ time.Duration) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	n := min(limit, q.due)
	q.due -= n
	return n, q.err
}

type observed struct {
	items int
	err   error
}

func (o *observed) Swept(_ time.Duration, items int, err error) { o.items, o.err = items, err }

func TestSweepNow_TakesEverythingDueInBatches(t *testing.T) {
	q := &queue{due: 1234}
	obs := &observed{}
	s, err := New(q, Config{Batch: 500}, nil, obs)
	require.NoError(t, err)
	n, err := s.SweepNow(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1234, n)
	assert.Equal(t, 4, q.calls, "500 + 500 + 234 + an empty look")
	assert.Equal(t, 1234, obs.items)
}

func TestSweepNow_ReportsFailures(t *testing.T) {
	q := &queue{due: 3, err: errors.New("redis down")}
	obs := &observed{}
	s, _ := New(q, Config{}, nil, obs)
	_, err := s.SweepNow(context.Background())
	assert.Error(t, err)
	assert.Error(t, obs.err)
}

func TestConfig_BadValuesSayWhatToWrite(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Sweep: "every minute"}, "not a cron spec"},
		{Config{Sweep: "61 * * * *"}, "not a cron spec"},
		{Config{Batch: -1}, "use 1 to 10000"},
		{Config{Lease: time.Second}, "at least 10s"},
		{Config{Digest: "daily at nine"}, "CRON_TZ=Europe/Berlin"},
	}
	for _, tt := range tests {
		err := tt.cfg.Check()
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.want)
	}
	ok := Config{}
	require.NoError(t, ok.Check())
	assert.Equal(t, "@every 1m", ok.Sweep)
	require.NoError(t, (&Config{Sweep: "*/30 * * * * *"}).Check(), "seconds are allowed")
	require.NoError(t, (&Config{Digest: "CRON_TZ=Europe/Berlin 0 9 * * 1-5"}).Check(), "a digest in a time zone")
}

// gated is a queue whose first Sweep waits for a release, so a test can stop the
// scheduler while a batch is in progress.
type gated struct {
	queue
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gated) Sweep(ctx context.Context, limit int, lease time.Duration) (int, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return g.queue.Sweep(ctx, limit, lease)
}

// Stop at shutdown lets the batch in progress finish and then ends the sweep, however
// much is still due: the backlog is another replica's, or the next start's.
func TestStop_FinishesTheBatchInProgressAndNoMore(t *testing.T) {
	g := &gated{queue: queue{due: 10_000}, entered: make(chan struct{}), release: make(chan struct{})}
	s, err := New(g, Config{Batch: 100}, nil, nil)
	require.NoError(t, err)
	swept := make(chan int)
	go func() {
		n, _ := s.SweepNow(context.Background())
		swept <- n
	}()
	<-g.entered // the first batch is in progress
	s.Stop()
	close(g.release)
	assert.Equal(t, 100, <-swept, "the batch in progress, and no other")
	assert.Equal(t, 1, g.calls)
}
