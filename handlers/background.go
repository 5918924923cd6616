package handlers

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Background runs the work handlers do after answering, at most a fixed number at a time,
// so a slow Slack or Bot Connector cannot pile up goroutines; Wait lets a shutting-down
// server finish it before the process exits. The work runs on long-lived goroutines (at
// most that number, started as needed), whose stacks have grown to what the work needs:
// a fresh goroutine per command would grow its stack again every time.
type Background struct {
	sem     chan struct{}
	work    chan func() // to an idle worker
	workers atomic.Int32
	log     *slog.Logger

	mu     sync.Mutex
	active int           // functions started and not yet returned
	idle   chan struct{} // closed when active drops to zero
}

// NewBackground runs at most n functions at a time; log (nil: slog.Default()) hears of
// the ones dropped.
func NewBackground(n int, log *slog.Logger) *Background {
	return &Background{sem: make(chan struct{}, n), work: make(chan func()), log: cmp.Or(log, slog.Default())}
}

// Go runs f, or drops it when every slot is busy, and logs that. It is for Slack replies:
// the action they answer is done and acknowledged already, and a lost reply is better
// than a pile of waiting ones.
func (b *Background) Go(f func()) {
	select {
	case b.sem <- struct{}{}:
		b.run(f)
	default:
		b.log.Warn("too many replies in flight; one was dropped", "limit", cap(b.sem))
	}
}

// Start runs f as soon as a slot is free, waiting at most until ctx ends, and reports
// whether f runs. It is for work that is the command itself (Teams), which must be
// refused while the sender still waits for the answer, never acknowledged and then lost.
func (b *Background) Start(ctx context.Context, f func()) bool {
	select {
	case b.sem <- struct{}{}:
	default:
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
	}
	b.run(f)
	return true
}

// Enter takes a slot for work its caller does itself, waiting at most until ctx ends,
// and reports whether it got one; TryEnter takes one only if one is free now. Leave gives
// it back. Work entered is counted as a function started: Wait waits for it.
func (b *Background) Enter(ctx context.Context) bool {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	b.entered()
	return true
}

// TryEnter is Enter without waiting.
func (b *Background) TryEnter() bool {
	select {
	case b.sem <- struct{}{}:
	default:
		return false
	}
	b.entered()
	return true
}

func (b *Background) entered() {
	b.mu.Lock()
	if b.active == 0 {
		b.idle = make(chan struct{})
	}
	b.active++
	b.mu.Unlock()
}

// Leave gives back the slot Enter took.
func (b *Background) Leave() {
	<-b.sem
	b.mu.Lock()
	if b.active--; b.active == 0 {
		close(b.idle)
	}
	b.mu.Unlock()
}

// Running is how many functions are running now.
func (b *Background) Running() int { return len(b.sem) }

// Wait waits until every function started has returned, or ctx ends (then it returns
// ctx's error). Call it after the HTTP server has stopped taking requests.
func (b *Background) Wait(ctx context.Context) error {
	b.mu.Lock()
	if b.active == 0 {
		b.mu.Unlock()
		return nil
	}
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run hands f, which holds a slot, to an idle worker, or starts one while there are fewer
// workers than slots; otherwise a worker is about to be idle (it has just given up its
// slot), and f waits for it.
func (b *Background) run(f func()) {
	b.mu.Lock()
	if b.active == 0 {
		b.idle = make(chan struct{})
	}
	b.active++
	b.mu.Unlock()
	select {
	case b.work <- f:
		return
	default:
	}
	if b.workers.Add(1) <= int32(cap(b.sem)) {
		go b.worker(f)
		return
	}
	b.workers.Add(-1)
	b.work <- f
}

func (b *Background) worker(f func()) {
	for {
		f()
		<-b.sem // the slot is free before Wait can say so
		b.mu.Lock()
		if b.active--; b.active == 0 {
			close(b.idle)
		}
		b.mu.Unlock()
		f = <-b.work
	}
}
