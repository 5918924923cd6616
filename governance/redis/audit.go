package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

// auditPage is how many entries Audit reads from one shard at a time.
const auditPage = 256

// Audit streams the audit trail between since (inclusive) and until (exclusive), zero
// meaning unbounded, to fn in time order. It merges the shards' streams page by page, so
// its memory does not grow with the trail, and stops at fn's first error, returning it.
//
// An audit entry's stream id is its record's time ("<At in unix ms>-<n>"), so a time
// range is read without scanning the rest. A stream only grows, though: a record written
// after a later-timed one on the same shard (replicas whose clocks differ) was placed at
// that later time, and comes out there.
func (s *Store) Audit(ctx context.Context, since, until time.Time, fn func(governance.AuditRecord) error) error {
	start, end := "-", "+"
	if !since.IsZero() {
		start = strconv.FormatInt(max(since.UnixMilli(), 0), 10)
	}
	if !until.IsZero() {
		last := until.Add(-time.Nanosecond).UnixMilli() // the last millisecond before until
		if last < 0 {
			return nil
		}
		end = strconv.FormatInt(last, 10)
	}
	keep := func(a governance.AuditRecord) bool {
		return (since.IsZero() || !a.At.Before(since)) && (until.IsZero() || a.At.Before(until))
	}

	curs := make([]*auditCursor, s.k.shards)
	pipe := s.rdb.Pipeline()
	firsts := make([]*goredis.XMessageSliceCmd, s.k.shards)
	for i := range curs {
		curs[i] = &auditCursor{shard: i}
		firsts[i] = pipe.XRangeN(ctx, s.k.audit(i), start, end, auditPage)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("read audit trail: %w", err)
	}
	for i, c := range curs {
		if err := c.fill(firsts[i].Val(), keep); err != nil {
			return err
		}
	}

	for {
		var next *auditCursor
		for _, c := range curs {
			for len(c.page) == 0 && c.from != "" {
				msgs, err := s.rdb.XRangeN(ctx, s.k.audit(c.shard), c.from, end, auditPage).Result()
				if err != nil {
					return fmt.Errorf("read audit trail: %w", err)
				}
				if err := c.fill(msgs, keep); err != nil {
					return err
				}
			}
			if len(c.page) > 0 && (next == nil || c.before(next)) {
				next = c
			}
		}
		if next == nil {
			return nil
		}
		if err := fn(next.page[0].rec); err != nil {
			return err
		}
		next.page = next.page[1:]
	}
}

// auditCursor reads one shard's audit stream.
type auditCursor struct {
	shard int
	from  string // the id the next page starts at; "" once the stream is read to the end
	page  []auditEntry
}

type auditEntry struct {
	ms  int64 // the entry's place in the stream, from its id
	rec governance.AuditRecord
}

// fill takes one page read from the stream, keeping the records keep accepts.
func (c *auditCursor) fill(msgs []goredis.XMessage, keep func(governance.AuditRecord) bool) error {
	c.from = ""
	for _, m := range msgs {
		a, err := decodeAudit(m.ID, m.Values)
		if err != nil {
			return fmt.Errorf("decode audit record %s of shard %d: %w", m.ID, c.shard, err)
		}
		if keep(a) {
			c.page = append(c.page, auditEntry{ms: entryTime(m.ID).UnixMilli(), rec: a})
		}
	}
	if len(msgs) == auditPage {
		last := msgs[len(msgs)-1].ID
		ms, seq, _ := strings.Cut(last, "-")
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil {
			return fmt.Errorf("audit entry id %s of shard %d: %w", last, c.shard, err)
		}
		c.from = ms + "-" + strconv.FormatUint(n+1, 10)
	}
	return nil
}

// before orders the heads of two cursors: by place in the stream, then by record time,
// then by shard, so the order is the same on every read.
func (c *auditCursor) before(o *auditCursor) bool {
	a, b := c.page[0], o.page[0]
	switch {
	case a.ms != b.ms:
		return a.ms < b.ms
	case !a.rec.At.Equal(b.rec.At):
		return a.rec.At.Before(b.rec.At)
	}
	return c.shard < o.shard
}
