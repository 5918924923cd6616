package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

// Audit streams the audit trail between since and until (zero: unbounded) in time
// order, merging the shards' streams page by page, so its memory does not grow with the
// size of the trail.
func (s *Store) Audit(ctx context.Context, since, until time.Time, fn func(governance.AuditRecord) error) error {
	type cursor struct {
		shard int
		next  string // the id after the last read, "" when exhausted
		buf   []governance.AuditRecord
	}
	const page = 500
	curs := make([]*cursor, s.k.shards)
	for i := range curs {
		curs[i] = &cursor{shard: i, next: "-"}
	}
	fill := func(c *cursor) error {
		for len(c.buf) == 0 && c.next != "" {
			msgs, err := s.rdb.XRangeN(ctx, s.k.audit(c.shard), c.next, "+", page).Result()
			if err != nil && err != goredis.Nil {
				return err
			}
			if len(msgs) < page {
				c.next = ""
			} else {
				c.next = "(" + msgs[len(msgs)-1].ID
			}
			for _, m := range msgs {
				raw, _ := m.Values["r"].(string)
				var a governance.AuditRecord
				if err := json.Unmarshal([]byte(raw), &a); err != nil {
					return fmt.Errorf("decode audit record %s: %w", m.ID, err)
				}
				if (!since.IsZero() && a.At.Before(since)) || (!until.IsZero() && !a.At.Before(until)) {
					continue
				}
				c.buf = append(c.buf, a)
			}
		}
		return nil
	}
	for {
		var best *cursor
		for _, c := range curs {
			if err := fill(c); err != nil {
				return err
			}
			if len(c.buf) > 0 && (best == nil || c.buf[0].At.Before(best.buf[0].At)) {
				best = c
			}
		}
		if best == nil {
			return nil
		}
		if err := fn(best.buf[0]); err != nil {
			return err
		}
		best.buf = best.buf[1:]
	}
}
