package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

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
