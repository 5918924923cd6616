package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

// The outbox is one Redis Stream per shard with the consumer group "workers". A task is
// acknowledged and deleted when done; one claimed by a consumer that stops answering is
// taken over (XAUTOCLAIM) after ReclaimAfter. Retries wait in a per-shard sorted set and
// are moved back into the stream when due.

// ensureGroups creates the consumer group on every shard's stream, once per Store.
func (s *Store) ensureGroups(ctx context.Context) error {
	if s.groupsReady.Load() {
		return nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.StatusCmd, s.k.shards)
	for i := range cmds {
		// From id 0, so tasks enqueued before the group existed are delivered too.
		cmds[i] = pipe.XGroupCreateMkStream(ctx, s.k.outbox(i), group, "0")
	}
	_, _ = pipe.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("create outbox consumer group: %w", err)
		}
	}
	s.groupsReady.Store(true)
	return nil
}

// ClaimTasks returns up to max tasks from each shard for consumer: tasks left unfinished
// by other consumers for ReclaimAfter, and new ones.
func (s *Store) ClaimTasks(ctx context.Context, consumer string, max int) ([]governance.Task, error) {
	if err := s.ensureGroups(ctx); err != nil {
		return nil, err
	}
	tasks, err := s.claim(ctx, consumer, max)
	if isNoGroup(err) { // the stream was deleted under us: recreate and try once more
		s.groupsReady.Store(false)
		if err := s.ensureGroups(ctx); err != nil {
			return nil, err
		}
		tasks, err = s.claim(ctx, consumer, max)
	}
	return tasks, err
}

func (s *Store) claim(ctx context.Context, consumer string, max int) ([]governance.Task, error) {
	pipe := s.rdb.Pipeline()
	stale := make([]*goredis.XAutoClaimCmd, s.k.shards)
	fresh := make([]*goredis.XStreamSliceCmd, s.k.shards)
	for i := range s.k.shards {
		stale[i] = pipe.XAutoClaim(ctx, &goredis.XAutoClaimArgs{Stream: s.k.outbox(i), Group: group,
			Consumer: consumer, MinIdle: s.reclaimAfter, Start: "0-0", Count: int64(max)})
		fresh[i] = pipe.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: consumer,
			Streams: []string{s.k.outbox(i), ">"}, Count: int64(max), Block: -1})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	var out []governance.Task
	for i := range s.k.shards {
		msgs, _, err := stale[i].Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
		out = s.appendTasks(out, i, msgs)
		streams, err := fresh[i].Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
		for _, st := range streams {
			out = s.appendTasks(out, i, st.Messages)
		}
	}
	return out, nil
}

func (s *Store) appendTasks(out []governance.Task, shard int, msgs []goredis.XMessage) []governance.Task {
	for _, m := range msgs {
		var t governance.Task
		raw, _ := m.Values["task"].(string)
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			t = governance.Task{Kind: "undecodable"} // the dispatcher gives it up and logs it
		}
		t.ID = strconv.Itoa(shard) + "/" + m.ID
		out = append(out, t)
	}
	return out
}

func (s *Store) entry(t governance.Task) (shard int, id string, err error) {
	sh, id, ok := strings.Cut(t.ID, "/")
	n, err := strconv.Atoi(sh)
	if !ok || err != nil || n < 0 || n >= s.k.shards {
		return 0, "", fmt.Errorf("outbox task id %q is not one this store handed out", t.ID)
	}
	return n, id, nil
}

// AckTask marks a task done and deletes it.
func (s *Store) AckTask(ctx context.Context, t governance.Task) error {
	shard, id, err := s.entry(t)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.XAck(ctx, s.k.outbox(shard), group, id)
		p.XDel(ctx, s.k.outbox(shard), id)
		return nil
	})
	return err
}

// RetryTask finishes t and schedules a copy with one more attempt for at.
func (s *Store) RetryTask(ctx context.Context, t governance.Task, at time.Time) error {
	shard, id, err := s.entry(t)
	if err != nil {
		return err
	}
	next := t
	next.Attempt++
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, s.k.retry(shard), goredis.Z{Score: float64(at.UnixMilli()), Member: b})
		p.XAck(ctx, s.k.outbox(shard), group, id)
		p.XDel(ctx, s.k.outbox(shard), id)
		return nil
	})
	return err
}

// PromoteRetries moves retries due at or before now back into the outbox.
func (s *Store) PromoteRetries(ctx context.Context, now time.Time) (int, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.Cmd, s.k.shards)
	for i := range cmds {
		// EVAL, not EVALSHA: a pipeline cannot fall back when the script cache is empty.
		cmds[i] = promoteScript.Eval(ctx, pipe, []string{s.k.retry(i), s.k.outbox(i)}, now.UnixMilli(), 500)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("promote outbox retries: %w", err)
	}
	n := 0
	for _, c := range cmds {
		v, _ := c.Int()
		n += v
	}
	return n, nil
}

// OutboxDepth reports how many tasks wait (in the streams, claimed or not, and in the
// retry sets) and when the oldest of the streams' tasks was enqueued.
func (s *Store) OutboxDepth(ctx context.Context) (int64, time.Time, error) {
	pipe := s.rdb.Pipeline()
	lens := make([]*goredis.IntCmd, s.k.shards)
	retries := make([]*goredis.IntCmd, s.k.shards)
	firsts := make([]*goredis.XMessageSliceCmd, s.k.shards)
	for i := range s.k.shards {
		lens[i] = pipe.XLen(ctx, s.k.outbox(i))
		retries[i] = pipe.ZCard(ctx, s.k.retry(i))
		firsts[i] = pipe.XRangeN(ctx, s.k.outbox(i), "-", "+", 1)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return 0, time.Time{}, err
	}
	var total int64
	var oldest time.Time
	for i := range s.k.shards {
		total += lens[i].Val() + retries[i].Val()
		for _, m := range firsts[i].Val() {
			ms, _ := strconv.ParseInt(strings.SplitN(m.ID, "-", 2)[0], 10, 64)
			if t := time.UnixMilli(ms).UTC(); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	return total, oldest, nil
}
