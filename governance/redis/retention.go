package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Purge removes a finished request with its card references, grant record, index entries
// and due entries, in one script on its shard. A request that is not finished, or that
// changed since it was read, is left alone.
func (s *Store) Purge(ctx context.Context, id string) (bool, error) {
	due := []any{id, "", "approval:" + id, "expiry:" + id, "sync:" + id, "purge:" + id}
	r, err := s.Get(ctx, id)
	switch {
	case errors.Is(err, governance.ErrNotFound): // gone already: only its due entries are left
		r = &governance.Request{ID: id}
	case err != nil:
		return false, err
	case !r.State.Terminal():
		return false, nil
	default:
		due[1] = strconv.FormatInt(r.Version, 10)
	}
	shard := s.k.shardOf(id)
	keys := []string{s.k.request(id), s.k.msgs(id), s.k.grant(id), s.k.due(shard), s.k.mine(shard, r.Requester.Email)}
	for _, a := range r.Approvers {
		keys = append(keys, s.k.pending(shard, a.Email))
	}
	res, err := purgeScript.Run(ctx, s.rdb, keys, due...).Int()
	if err != nil {
		return false, fmt.Errorf("purge request %s: %w", id, err)
	}
	return res >= 0, nil
}

// TrimAudit removes audit records older than before from every shard's audit stream, at
// most limit a shard (one script each, all in one pipeline), and says how many it removed.
func (s *Store) TrimAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	last := strconv.FormatInt(before.UnixMilli()-1, 10)
	calls := make([]scriptCall, s.k.shards)
	for i := range calls {
		calls[i] = scriptCall{keys: []string{s.k.audit(i)}, args: []any{last, limit}}
	}
	var n int64
	for _, c := range s.evalEach(ctx, trimAuditScript, calls) {
		removed, err := c.Int64()
		if err != nil {
			return n, fmt.Errorf("trim the audit trail: %w", err)
		}
		n += removed
	}
	return n, nil
}
