package redis

import (
	"context"
	"sync"
	"time"
)

// idBlocks hands out request ids from blocks of the sequence this process took, so that a
// new request's id is known before its one script runs (CreateReserved). A block is one id
// while requests come seldom, so ids stay in order and none is skipped; when a block is
// used up within idBlockGrow of being taken, the next is twice as large, up to
// maxIDBlock. Under load, ids of different replicas are then out of order, and those of a
// block a stopping process had not used up are never given: ids name requests, they do
// not count them.
type idBlocks struct {
	mu         sync.Mutex
	next, last int64 // the next id to give, and the block's last; next > last: none left
	size       int64 // the size of the block taken last
	taken      time.Time
	now        func() time.Time // time.Now, or a test's clock
}

const (
	maxIDBlock  = 64
	idBlockGrow = time.Second
)

// take gives the next id, taking a block with fetch (the block's last id, given its size)
// when none is left.
func (b *idBlocks) take(ctx context.Context, fetch func(context.Context, int64) (int64, error)) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next == 0 || b.next > b.last {
		size := int64(1)
		now := time.Now
		if b.now != nil {
			now = b.now
		}
		if b.size > 0 && now().Sub(b.taken) < idBlockGrow {
			size = min(2*b.size, maxIDBlock)
		}
		last, err := fetch(ctx, size)
		if err != nil {
			return 0, err
		}
		b.next, b.last, b.size, b.taken = last-size+1, last, size, now()
	}
	n := b.next
	b.next++
	return n, nil
}

// giveBack returns n, given by take and not used (its ask was refused, or was a retry), if
// no id was given after it: a person refused does not see the next request skip a number.
func (b *idBlocks) giveBack(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next == n+1 {
		b.next = n
	}
}
