package redis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
