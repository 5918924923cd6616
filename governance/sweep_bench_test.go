package governance_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// BenchmarkSweep measures one sweep that handles 1,000 due requests (a reminder each)
// while 10k, 100k or 1M other requests are pending but not due. The sweep reads the due
// index by score, so its time should not grow with the number pending. It also reports
// Redis memory per pending request. Seeding 1M requests takes a minute or two:
//
//	go test -run XXX -bench BenchmarkSweep -benchtime 10x ./governance/
func BenchmarkSweep(b *testing.B) {
	for _, pending := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			ctx := context.Background()
			client := redistest.Client(b)
			store := redisstore.New(client, redisstore.Options{Prefix: redistest.Prefix(b)})
			clock := governance.NewManualClock(t0)
			catalog, _ := governance.ParseCatalog([]byte(items))
			backend, _ := builtin.New(store, builtin.Options{Clock: clock})
			svc, err := governance.NewService(governance.Config{Catalog: catalog, Store: store, Backends: []governance.Backend{backend},
				Notifier: &recorder{}, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			before := usedMemory(b, client)
			// Not due for 60 days: the crowd the sweep must not pay for.
			seed(b, store, 0, pending, governance.Schedule{DaysUntilEscalation: 60, DaysBetweenReminders: 1, MaxReminders: 20})
			perPending := float64(usedMemory(b, client)-before) / float64(pending)
			// Due every day: reminded once per day, 20 days in a row.
			seed(b, store, pending, 1000, governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, MaxReminders: 20})

			b.ResetTimer()
			for i := 0; i < b.N && i < 19; i++ {
				b.StopTimer()
				clock.Advance(governance.Day)
				b.StartTimer()
				handled := 0
				for {
					n, err := svc.Sweep(ctx, 1000, 5*time.Minute)
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						break
					}
					handled += n
				}
				if handled != 1000 {
					b.Fatalf("sweep %d handled %d, want 1000", i, handled)
				}
			}
			b.ReportMetric(perPending, "redis-B/pending")
		})
	}
}

// seed stores n pending requests (ids from+1 …) with their due entries, in parallel.
func seed(b *testing.B, store *redisstore.Store, from, n int, sched governance.Schedule) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 16
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from + w + 1; i <= from+n; i += workers {
				r := &governance.Request{ID: "AR-" + strconv.Itoa(i), Version: 1, State: governance.StatePendingApproval,
					Requester: governance.Person{Email: fmt.Sprintf("user%d@example.com", i%5000)},
					Item:      governance.ItemRef{ID: "db", Name: "Database", Backend: "builtin"}, Duration: 8 * time.Hour,
					Reason: "seeded", Approvers: []governance.Person{{Email: "alice@example.com"}}, Schedule: sched,
					CreatedAt: t0, UpdatedAt: t0}
				at, _ := sched.FirstApprovalDue(t0)
				if _, err := store.Create(ctx, r, governance.Effects{Due: map[string]time.Time{"approval:" + r.ID: at}}); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

func usedMemory(b *testing.B, c goredis.UniversalClient) int64 {
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}
