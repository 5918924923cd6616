package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// writeTrail creates n requests, each with one audit record a minute after the last, so
// consecutive records land on different shards.
func writeTrail(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		r := request(fmt.Sprintf("AR-%d", i), "carol@example.com")
		mustCreate(t, s, r, governance.Effects{Audit: []governance.AuditRecord{
			{At: t0.Add(time.Duration(i) * time.Minute), RequestID: r.ID, Event: governance.EventRequest, To: r.State},
		}})
	}
}

func readTrail(t *testing.T, s *Store, since, until time.Time) []governance.AuditRecord {
	t.Helper()
	var got []governance.AuditRecord
	require.NoError(t, s.Audit(context.Background(), since, until, func(a governance.AuditRecord) error {
		got = append(got, a)
		return nil
	}))
	return got
}

func times(rs []governance.AuditRecord) []time.Duration {
	var out []time.Duration
	for _, r := range rs {
		out = append(out, r.At.Sub(t0))
	}
	return out
}

func minutes(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i < to; i++ {
		out = append(out, time.Duration(i)*time.Minute)
	}
	return out
}

func TestAudit_StreamsTheTrailInTimeOrderAcrossShards(t *testing.T) {
	s := newStore(t, Options{})
	writeTrail(t, s, 40)
	cases := []struct {
		name         string
		since, until time.Time
		want         []time.Duration
	}{
		{"everything", time.Time{}, time.Time{}, minutes(0, 40)},
		{"since is inclusive, until exclusive", t0.Add(10 * time.Minute), t0.Add(20 * time.Minute), minutes(10, 20)},
		{"bounds inside a millisecond", t0.Add(10*time.Minute - time.Microsecond), t0.Add(20*time.Minute + time.Microsecond), minutes(10, 21)},
		{"open end", t0.Add(35 * time.Minute), time.Time{}, minutes(35, 40)},
		{"open start", time.Time{}, t0.Add(3 * time.Minute), minutes(0, 3)},
		{"nothing in range", t0.Add(time.Hour), t0.Add(2 * time.Hour), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, times(readTrail(t, s, c.since, c.until)))
		})
	}
}

func TestAudit_ReadsPageByPage(t *testing.T) {
	s := newStore(t, Options{Shards: 2})
	writeTrail(t, s, 3*auditPage)
	got := readTrail(t, s, time.Time{}, time.Time{})
	assert.Equal(t, minutes(0, 3*auditPage), times(got))
	assert.Equal(t, minutes(auditPage-1, 2*auditPage+1), times(readTrail(t, s, t0.Add((auditPage-1)*time.Minute), t0.Add((2*auditPage+1)*time.Minute))))
}

func TestAudit_RecordsOfOneTransitionKeepTheirOrder(t *testing.T) {
	s := newStore(t, Options{})
	r := request("AR-1", "carol@example.com")
	events := []governance.Event{governance.EventSubmit, governance.EventActivate}
	mustCreate(t, s, r, governance.Effects{Audit: []governance.AuditRecord{
		{At: t0, RequestID: "AR-1", Event: events[0]}, {At: t0, RequestID: "AR-1", Event: events[1]}}})
	got := readTrail(t, s, time.Time{}, time.Time{})
	require.Len(t, got, 2)
	assert.Equal(t, events, []governance.Event{got[0].Event, got[1].Event})
}

func TestAudit_ALateRecordComesOutWhereItWasWritten(t *testing.T) {
	// Two replicas whose clocks differ: the second writes a record timed before the
	// newest one on the same shard. The stream cannot go back, so the record follows.
	ctx := context.Background()
	for name, client := range servers() {
		t.Run(name, func(t *testing.T) {
			s := New(client(t), Options{Prefix: redistest.Prefix(t)})
			r := request("AR-1", "carol@example.com")
			mustCreate(t, s, r, governance.Effects{Audit: []governance.AuditRecord{{At: t0.Add(time.Second), RequestID: "AR-1", Event: governance.EventRequest}}})
			require.NoError(t, s.Update(ctx, next(r, governance.StateCancelled), 1, governance.Effects{
				Audit: []governance.AuditRecord{{At: t0, RequestID: "AR-1", Event: governance.EventCancel}}}))
			got := readTrail(t, s, time.Time{}, time.Time{})
			require.Len(t, got, 2, "nothing is lost")
			assert.Equal(t, []governance.Event{governance.EventRequest, governance.EventCancel}, []governance.Event{got[0].Event, got[1].Event})
			assert.Equal(t, t0, got[1].At, "the record keeps its own time")
		})
	}
}

func TestAudit_StopsAtTheFirstErrorOfFn(t *testing.T) {
	s := newStore(t, Options{})
	writeTrail(t, s, 10)
	stop := errors.New("disk full")
	calls := 0
	err := s.Audit(context.Background(), time.Time{}, time.Time{}, func(governance.AuditRecord) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 3, calls)
}

// TestAudit_100kTransitionsStreamInConstantMemory reads back 100,000 audit records and
// checks that the live heap never grows by more than a few pages' worth: the export does
// not hold the trail, whatever its size.
func TestAudit_100kTransitionsStreamInConstantMemory(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 100_000
	pipe := s.rdb.Pipeline()
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		id := "AR-" + strconv.Itoa(i)
		rec, err := json.Marshal(governance.AuditRecord{At: at, RequestID: id, Event: governance.EventRequest,
			To: governance.StatePendingApproval, Actor: fmt.Sprintf("user%d@example.com", i%977), Platform: "slack"})
		require.NoError(t, err)
		pipe.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.audit(s.k.shardOf(id)), ID: strconv.FormatInt(at.UnixMilli(), 10) + "-*",
			Values: []any{"r", rec}})
		if i%5000 == 4999 {
			_, err := pipe.Exec(ctx)
			require.NoError(t, err)
		}
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)

	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	count := 0
	last := time.Time{}
	require.NoError(t, s.Audit(ctx, time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		count++
		assert.False(t, a.At.Before(last), "time order")
		last = a.At
		if count%2000 == 0 {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
		return nil
	}))
	assert.Equal(t, n, count)
	grew := int64(peak) - int64(base)
	t.Logf("live heap grew by at most %d KB while streaming %d records", grew/1024, n)
	// Holding the trail would cost ~23 MB (about 230 bytes a record); the pages in flight
	// (16 shards × 500 records) stay well under 12 MB.
	assert.Less(t, grew, int64(12<<20), "memory must not grow with the trail")
}
