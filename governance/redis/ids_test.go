package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ids come one block at a time: one id while requests come seldom, twice the last block
// (up to 64) while they come faster than a block a second.
func TestIDBlocks_GrowUnderLoadAndShrinkWhenQuiet(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var seq int64
	var sizes []int64
	b := &idBlocks{now: func() time.Time { return now }}
	take := func() int64 {
		t.Helper()
		n, err := b.take(context.Background(), func(_ context.Context, size int64) (int64, error) {
			sizes = append(sizes, size)
			seq += size
			return seq, nil
		})
		require.NoError(t, err)
		return n
	}
	for want := int64(1); want <= 191; want++ {
		require.Equal(t, want, take(), "in order, none skipped")
	}
	assert.Equal(t, []int64{1, 2, 4, 8, 16, 32, 64, 64}, sizes, "doubling up to 64 while busy")

	for b.next <= b.last { // use up the block, then stay quiet
		take()
	}
	now = now.Add(2 * idBlockGrow)
	sizes = nil
	take()
	assert.Equal(t, []int64{1}, sizes, "a quiet store takes one id at a time again")
}

// An id given back before another was given comes out again; one given back later is
// skipped, never given twice.
func TestIDBlocks_GiveBack(t *testing.T) {
	var seq int64
	b := &idBlocks{}
	take := func() int64 {
		t.Helper()
		n, err := b.take(context.Background(), func(_ context.Context, size int64) (int64, error) {
			seq += 64
			return seq, nil // a block of 64, whatever was asked: the test reads what take does with it
		})
		require.NoError(t, err)
		return n
	}
	b.size, b.taken = 32, time.Now()
	first := take()
	b.giveBack(first)
	assert.Equal(t, first, take(), "given back at once: given again")
	second := take()
	third := take()
	b.giveBack(second) // a later one was given meanwhile
	assert.Equal(t, third+1, take(), "never given twice")

	_, err := (&idBlocks{}).take(context.Background(), func(context.Context, int64) (int64, error) {
		return 0, errors.New("connection refused")
	})
	assert.Error(t, err)
}
