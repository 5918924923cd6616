package governance_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// Bob's card is on its way when Alice approves, and another replica delivers the
// decision's card updates before Bob's card is recorded: Bob's card is redrawn as soon as
// it is, rather than left with buttons for a decided request.
func TestDispatcher_ACardSentWhileTheRequestWasDecidedIsRedrawn(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	r := b.ask("pair")
	other := governance.NewDispatcher(b.svc, "other-replica")
	var decided sync.Once
	b.rec.onCard = func(to governance.Person) {
		if to.Email != "bob@example.com" {
			return
		}
		decided.Do(func() {
			_, err := b.svc.Decide(ctx, governance.DecideInput{RequestID: r.ID, Approve: true,
				Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
			assert.NoError(t, err)
			assert.NoError(t, other.Drain(ctx)) // updates the cards recorded so far: not Bob's
		})
	}
	b.deliver()
	var alice, bob []string
	for _, e := range b.rec.Take() {
		switch {
		case strings.HasPrefix(e, "update→alice@example.com:"):
			alice = append(alice, e)
		case strings.HasPrefix(e, "update→bob@example.com:"):
			bob = append(bob, e)
		}
	}
	// Alice's card went out alongside Bob's: the decision's update or her own redraw (or
	// both, when her reference was saved between the decision and that update) redraws it.
	assert.NotEmpty(t, alice, "Alice's card is updated")
	for _, e := range alice {
		assert.NotEqual(t, "update→alice@example.com:pending_approval", e)
	}
	require.Len(t, bob, 1, "Bob's card, recorded after the decision's updates, is redrawn once")
	assert.NotEqual(t, "update→bob@example.com:pending_approval", bob[0])
}

// A card is saved, and its task acknowledged, as soon as no other delivery is in progress,
// not when its pass ends: a card whose reference was not saved would be sent again by
// whoever took its task over.
func TestDispatcher_EachCardIsSavedAtOnce(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	b.ask("pair")
	waiting := func() int64 {
		n, _, err := b.store.OutboxDepth(ctx)
		require.NoError(t, err)
		return n
	}
	require.EqualValues(t, 2, waiting(), "the two approvers' cards")
	var during []int64
	b.rec.onCard = func(governance.Person) { during = append(during, waiting()) }
	require.NoError(t, governance.NewDispatcher(b.svc, "one", governance.WithWorkers(1)).Drain(ctx))
	assert.Equal(t, []int64{2, 1}, during, "while the second card is on its way, the first is no longer waiting")
	assert.Zero(t, waiting())
}

// The cards of a pass, sent side by side, are saved in one round trip by the last of
// them to finish, not one round trip each.
func TestDispatcher_CardsSentSideBySideAreSavedTogether(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	svc, counted := overAcks(t, b, 0)
	_, err := svc.Request(ctx, governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: "carol@example.com"}}, Item: "pair", Reason: "why"})
	require.NoError(t, err)
	var both sync.WaitGroup // each card is on its way until both are
	both.Add(2)
	b.rec.onCard = func(governance.Person) { both.Done(); both.Wait() }
	require.NoError(t, governance.NewDispatcher(svc, "one", governance.WithWorkers(2),
		governance.WithCardWithin(time.Minute)).Drain(ctx))
	assert.Equal(t, 1, counted.calls, "both cards saved, and their tasks acknowledged, in one round trip")
	n, _, err := b.store.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// overAcks is b's process over a store that counts the round trips that acknowledge tasks,
// the first fails of them failing.
func overAcks(t *testing.T, b *bed, fails int) (*governance.Service, *flakyAcks) {
	counted := &flakyAcks{Store: b.store, fails: fails}
	svc, err := governance.NewService(governance.Config{Catalog: b.svc.Catalog(), Store: counted,
		Backends: []governance.Backend{mustBuiltin(t, b)}, Notifier: b.rec, Clock: b.clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return svc, counted
}

// flakyAcks is a store that counts the round trips that acknowledge tasks, and whose
// first fails acknowledgements fail, as when Redis is away for a moment.
type flakyAcks struct {
	governance.Store
	mu    sync.Mutex
	fails int
	calls int
}

func (f *flakyAcks) AckTask(ctx context.Context, ts ...governance.Task) error {
	_, err := f.AckWithCards(ctx, nil, ts...)
	return err
}

func (f *flakyAcks) AckWithCards(ctx context.Context, cards []governance.SentCard, ts ...governance.Task) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return f.Store.AckWithCards(ctx, cards, ts...)
}

// An acknowledgement that fails is sent again until it lands, so Redis being away for a
// moment does not make every notice of the pass go out a second time.
func TestDispatcher_AFailedAcknowledgementIsSentAgain(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	svc, flaky := overAcks(t, b, 3)
	_, err := svc.Request(ctx, governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: "carol@example.com"}}, Item: "db", Reason: "why"})
	require.NoError(t, err)
	require.NoError(t, governance.NewDispatcher(svc, "one").Drain(ctx))
	assert.Equal(t, []string{"card→alice@example.com"}, b.rec.Take())
	n, _, err := b.store.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is left to be delivered again")
	assert.Zero(t, flaky.fails)
}

// A notice its consumer was sending when it stopped (killed before acknowledging it) is
// not sent again by the consumer that reclaims it: said twice is worse than lost in that
// moment. One that was never begun is sent.
func TestDispatcher_ANoticeBeingSentWhenItsConsumerStoppedIsNotSentAgain(t *testing.T) {
	for _, begun := range []bool{true, false} {
		t.Run(fmt.Sprintf("begun %v", begun), func(t *testing.T) {
			b := newBed(t, governance.Schedule{})
			ctx := context.Background()
			b.store = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: b.prefix, ReclaimAfter: -1}) // take over at once
			svc, err := governance.NewService(governance.Config{Catalog: b.svc.Catalog(), Store: b.store,
				Backends: []governance.Backend{mustBuiltin(t, b)}, Notifier: b.rec, Clock: b.clock, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			_, err = svc.Request(ctx, governance.RequestInput{Requester: governance.Actor{Person: governance.Person{Email: "carol@example.com"}},
				Item: "db", Reason: "why", Confirm: true})
			require.NoError(t, err)
			tasks, err := b.store.ClaimTasks(ctx, "dies", 10, governance.ClaimWoken)
			require.NoError(t, err)
			require.Len(t, tasks, 2, "the card and the requester's notice")
			for _, task := range tasks {
				if task.Kind == governance.TaskNotify && begun {
					first, err := b.store.FirstDelivery(ctx, task) // the consumer was sending it when it died
					require.NoError(t, err)
					require.True(t, first)
				}
			}
			require.NoError(t, governance.NewDispatcher(svc, "takes-over").Drain(ctx))
			want := []string{"card→alice@example.com", "received→carol@example.com"}
			if begun {
				want = want[:1]
			}
			assert.Equal(t, want, b.rec.Take())
			n, _, err := b.store.OutboxDepth(ctx)
			require.NoError(t, err)
			assert.Zero(t, n, "acknowledged either way")
		})
	}
}

// heldBackend is the built-in backend with submissions that wait to be let go.
type heldBackend struct {
	governance.Backend
	held chan struct{}
}

func (h *heldBackend) Submit(ctx context.Context, g governance.Grant) (governance.Submission, error) {
	<-h.held
	return h.Backend.Submit(ctx, g)
}

// An approval's pass submits the grant, and in the same pass delivers what recording the
// submission enqueued for this process (the requester told their access is active), with
// no round trip to ask for it; every task of the pass is acknowledged in one round trip.
func TestDispatcher_APassDeliversWhatItsDeliveriesEnqueuedAndAcknowledgesOnce(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	svc, counted := overAcks(t, b, 0)
	d := governance.NewDispatcher(svc, "one")
	_, err := b.store.ClaimTasks(ctx, "one", 10, governance.ClaimWoken) // as a running dispatcher does once woken
	require.NoError(t, err)
	id := b.request("db")
	counted.calls = 0

	_, err = svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
	require.NoError(t, err)
	_, err = d.RunOnce(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"approved→carol@example.com", "active→carol@example.com"}, notices(b.rec.Take()),
		"one pass: the approval, the grant and its notice")
	assert.Equal(t, governance.StateActive, b.get(id).State)
	assert.Equal(t, 1, counted.calls, "the pass's tasks acknowledged in one round trip")
	n, _, err := b.store.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// A pass held up by a slow delivery does not hold the acknowledgements of what it
// delivered meanwhile for longer than WithAckWithin.
func TestDispatcher_ASlowDeliveryDoesNotHoldTheOthersAcknowledgements(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	held := &heldBackend{Backend: mustBuiltin(t, b), held: make(chan struct{})}
	svc, err := governance.NewService(governance.Config{Catalog: b.svc.Catalog(), Store: b.store,
		Backends: []governance.Backend{held}, Notifier: b.rec, Clock: b.clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	id := b.request("db")
	_, err = svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
	require.NoError(t, err)
	waiting := func() int64 {
		n, _, err := b.store.OutboxDepth(ctx)
		require.NoError(t, err)
		return n
	}
	before := waiting()
	require.Greater(t, before, int64(1), "the submission and what the decision tells")

	done := make(chan error, 1)
	go func() {
		_, err := governance.NewDispatcher(svc, "one", governance.WithAckWithin(10*time.Millisecond)).RunOnce(ctx)
		done <- err
	}()
	require.Eventually(t, func() bool { return waiting() == 1 }, 10*time.Second, 5*time.Millisecond,
		"everything but the held submission is acknowledged while it is held")
	close(held.held)
	require.NoError(t, <-done)
	require.NoError(t, governance.NewDispatcher(svc, "one").Drain(ctx)) // what recording the submission enqueued
	assert.Zero(t, waiting())
	assert.ElementsMatch(t, []string{"approved→carol@example.com", "active→carol@example.com"}, notices(b.rec.Take()))
}

// notices keeps the notices of events.
func notices(events []string) []string {
	var out []string
	for _, e := range events {
		if !strings.HasPrefix(e, "card→") && !strings.HasPrefix(e, "update→") {
			out = append(out, e)
		}
	}
	return out
}

func mustBuiltin(t *testing.T, b *bed) governance.Backend {
	backend, err := builtin.New(b.store, builtin.Options{Clock: b.clock})
	require.NoError(t, err)
	return backend
}

// wakes records how transitions wake the dispatcher.
type wakes struct {
	mu  sync.Mutex
	got []string
}

func (w *wakes) Wake()  { w.add("wake") }
func (w *wakes) Hurry() { w.add("hurry") }
func (w *wakes) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, s)
}

// A transition that enqueues a submission hurries the dispatcher (someone waits for the
// grant); any other work wakes it to wait a moment for more.
func TestService_ADecisionThatGrantsHurriesTheDispatcher(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	w := &wakes{}
	b.svc.SetWake(w)
	r := b.ask("db")
	_, err := b.svc.Decide(context.Background(), governance.DecideInput{RequestID: r.ID, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"wake", "hurry"}, w.got, "the request's cards, then its grant")
}

// A dispatcher that stops delivers what its process's transitions claimed for it as they
// enqueued them (a notice among them is marked as being sent: no other replica would send
// it); what is enqueued after it stopped waits in the outbox for another replica.
func TestDispatcher_StoppingDeliversWhatWasClaimedForIt(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	ctx := context.Background()
	d := governance.NewDispatcher(b.svc, "stops")
	_, err := b.store.ClaimTasks(ctx, "stops", 10, governance.ClaimWoken) // as a running dispatcher does once woken
	require.NoError(t, err)
	id := b.request("db")
	_, err = b.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "alice@example.com"}}})
	require.NoError(t, err)

	stopped, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, d.Run(stopped, time.Minute))
	assert.Equal(t, []string{"approved→carol@example.com"}, notices(b.rec.Take()), "the decision's notice, before it stopped")
	assert.Equal(t, governance.StateActive, b.get(id).State, "and its submission")

	require.NoError(t, governance.NewDispatcher(b.svc, "another-replica").Drain(ctx))
	assert.Equal(t, []string{"active→carol@example.com"}, notices(b.rec.Take()),
		"what recording the submission enqueued, by another replica")
}
