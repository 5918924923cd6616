package main

import (
	"context"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The warm-up's requests are sent and their latencies and errors count, but throughput and
// CPU are per the requests after it; a phase with a bound on requests (the clicks) and no
// warm-up measures them all.
func TestDrive_MeasuresCPUAfterTheWarmUp(t *testing.T) {
	lt := &load{out: io.Discard, conc: 8}
	var calls atomic.Int64
	do := func(int) (string, error) { calls.Add(1); return "", nil }

	r := lt.drive(context.Background(), "x", os.Getpid(), 200, 100*time.Millisecond, 100*time.Millisecond, 0, do)
	assert.Equal(t, int64(40), calls.Load())
	assert.Equal(t, 40, r.sent)
	assert.Len(t, r.latencies, 40)
	assert.Equal(t, 20, r.measured)

	calls.Store(0)
	r = lt.drive(context.Background(), "clicks", os.Getpid(), 200, 0, time.Second, 5, do)
	assert.Equal(t, int64(5), calls.Load())
	assert.Equal(t, 5, r.sent)
	assert.Equal(t, 5, r.measured)
}
