package main

import (
	"context"
	"io"
	"os"
	"slices"
	"sync"
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

// The servers take turns in an order that rotates every round; each one's commands are
// numbered on across its turns, and its turns add up.
func TestInterleave_TakesTurnsInARotatingOrder(t *testing.T) {
	lt := &load{out: io.Discard, conc: 8, warm: 10 * time.Millisecond}
	var mu sync.Mutex
	var turns []string
	sent := map[string][]int{}
	newServer := func(name string) *server {
		return &server{name: name, pid: os.Getpid(), res: result{name: name}, send: func(_ context.Context, i int) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if len(turns) == 0 || turns[len(turns)-1] != name {
				turns = append(turns, name)
			}
			sent[name] = append(sent[name], i)
			return "", nil
		}}
	}
	servers := []*server{newServer("a"), newServer("b"), newServer("c")}
	lt.interleave(context.Background(), servers, 1000, 3, 20*time.Millisecond)

	assert.Equal(t, []string{"a", "b", "c", "b", "c", "a", "c", "a", "b"}, turns)
	for _, s := range servers {
		slices.Sort(sent[s.name])
		want := make([]int, 70) // 10 warming up, then three turns of 20
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, sent[s.name], "%s's commands are numbered on across its turns", s.name)
		assert.Equal(t, 70, s.res.sent)
		assert.Equal(t, 60, s.res.measured, "the warm-up is not measured")
		assert.Len(t, s.res.latencies, 70)
	}
}
