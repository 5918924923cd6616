package sailpoint_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

// BenchmarkPacing submits 1,000 approved requests (100 people × 10 access profiles)
// through the service and its outbox to a fake ISC that allows 50 calls per second per
// client id, with the backend paced to the same 50/s. With replicas=2, two replicas (each
// its own Redis connections, store, service, dispatcher, SailPoint client and token, the
// same client id) share the work and ISC's budget through the Redis limiter, as two
// processes do. The minimum time is the number of ISC calls made divided by 50/s; the run
// reports how close it came (ratio, target ≤ 1.15), how many calls ISC refused with 429
// (target 0), and checks that every request was submitted exactly once.
//
//	go test -run '^$' -bench Pacing -benchtime 1x ./governance/sailpoint/
func BenchmarkPacing(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			for b.Loop() {
				pace(b, replicas)
			}
		})
	}
}

func pace(b *testing.B, replicas int) {
	const (
		people   = 100
		items    = 10
		requests = people * items
		rate     = 50.0
	)
	// The fake's bucket holds a few calls, as network jitter bunches paced calls; the
	// backend's holds one, so it never sends more than 50/s.
	isc := iscfake.New(iscfake.Options{RateLimit: rate, Burst: 5})
	defer isc.Close()
	var cat strings.Builder
	cat.WriteString("items:\n")
	for i := range items {
		id := fmt.Sprintf("2c9180835d2e5168015d32f890ca%04d", i)
		isc.AddItem("ACCESS_PROFILE", id, fmt.Sprintf("Profile %d", i), "")
		fmt.Fprintf(&cat, "  - {id: p%d, name: Profile %d, backend: sailpoint, ref: 'ACCESS_PROFILE:%s', approvers: [boss@example.com], defaultDuration: 8h}\n", i, i, id)
	}
	for p := range people {
		isc.AddIdentity(fmt.Sprintf("2c9180857182305e01719937356%05d", p), fmt.Sprintf("p%d@example.com", p), fmt.Sprintf("Person %d", p), "")
	}
	catalog, err := governance.ParseCatalog([]byte(cat.String()))
	require.NoError(b, err)
	clock := governance.SystemClock{} // pacing is about real time
	opts := redisstore.Options{Prefix: redistest.Prefix(b)}
	var (
		store *redisstore.Store
		svcs  []*governance.Service
		disps []*governance.Dispatcher
	)
	for r := range replicas {
		rdb := redistest.Client(b) // a replica's own connections
		st := redisstore.New(rdb, opts)
		be, err := isc.Backend(clock, func(o *sailpoint.Options) {
			o.Rate, o.Burst = rate, 1
			if replicas > 1 {
				o.Limiter = redisstore.NewLimiter(rdb, opts)
			}
		})
		require.NoError(b, err)
		svc, err := governance.NewService(governance.Config{Catalog: catalog, Store: st, Backends: []governance.Backend{be},
			Notifier: &governancetest.Notes{}, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(b, err)
		store = st
		svcs = append(svcs, svc)
		disps = append(disps, governance.NewDispatcher(svc, fmt.Sprintf("bench-%d", r), governance.WithWorkers(16)))
	}
	ctx := context.Background()
	ids := make([]string, 0, requests)
	for p := range people {
		for i := range items {
			svc := svcs[(p*items+i)%len(svcs)]
			r, err := svc.Request(ctx, governance.RequestInput{Item: fmt.Sprintf("p%d", i), Reason: "bench",
				Requester: governance.Actor{Person: governance.Person{Email: fmt.Sprintf("p%d@example.com", p)}}})
			require.NoError(b, err)
			_, err = svc.Decide(ctx, governance.DecideInput{RequestID: r.ID, Approve: true,
				Approver: governance.Actor{Person: governance.Person{Email: "boss@example.com"}}})
			require.NoError(b, err)
			ids = append(ids, r.ID)
		}
	}
	before := len(isc.Calls())

	start := time.Now()
	var wg sync.WaitGroup
	for _, disp := range disps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(isc.Submitted()) < requests && time.Since(start) < 5*time.Minute {
				if err := disp.Drain(ctx); err != nil {
					b.Error(err)
					return
				}
				if len(isc.Submitted()) < requests { // a 429's retry waits for its Retry-After
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	calls := 0
	for _, c := range isc.Calls()[before:] {
		if strings.HasPrefix(c.Path, "/v3/") {
			calls++
		}
	}
	minimum := time.Duration(float64(calls-1) / rate * float64(time.Second))
	submitted := map[string]int{}
	for _, s := range isc.Submitted() {
		submitted[s.RequestedFor[0]+"/"+s.RequestedItems[0].ID]++
	}
	for key, n := range submitted {
		if n != 1 {
			b.Fatalf("%s submitted %d times", key, n)
		}
	}
	if len(submitted) != requests {
		b.Fatalf("%d of %d grants reached ISC", len(submitted), requests)
	}
	for _, id := range ids {
		r, err := store.Get(ctx, id)
		require.NoError(b, err)
		if r.State != governance.StateSubmitted {
			b.Fatalf("%s is %s: %s", id, r.State, r.Failure)
		}
	}
	b.ReportMetric(float64(calls), "isc-calls")
	b.ReportMetric(minimum.Seconds(), "min-s")
	b.ReportMetric(elapsed.Seconds(), "took-s")
	b.ReportMetric(elapsed.Seconds()/minimum.Seconds(), "ratio")
	b.ReportMetric(float64(isc.RateLimited()), "429s")
}
