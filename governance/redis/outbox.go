package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

// The outbox is one Redis Stream per shard, read through the consumer group "workers".
// A transition enqueues its tasks on its request's shard. A task is acknowledged and
// deleted when done; one claimed by a consumer that stops answering is taken over
// (XAUTOCLAIM) after ReclaimAfter. Retries wait in a per-shard sorted set until due.

// ClaimTasks returns up to max tasks for consumer. ClaimEverywhere looks at every shard,
// for tasks other consumers left unfinished for ReclaimAfter and for new ones; ClaimWoken
// looks for new ones only, and only on the shards this Store enqueued tasks on since it
// last looked there; ClaimHanded only hands over the tasks claimed for consumer when they
// were enqueued, with no round trip. Task.ID is "<shard>/<entry id>".
func (s *Store) ClaimTasks(ctx context.Context, consumer string, max int, scope governance.ClaimScope) ([]governance.Task, error) {
	out := s.handed.take(consumer, max, scope)
	if max -= len(out); max <= 0 || scope == governance.ClaimHanded || scope == governance.ClaimLast {
		return out, nil
	}
	var only []int
	reclaim := 1
	if scope == governance.ClaimWoken {
		for i := range s.woken {
			if s.woken[i].Swap(false) {
				only = append(only, i)
			}
		}
		if len(only) == 0 {
			return out, nil
		}
		reclaim = 0
	}
	idle := int64(s.reclaimAfter / time.Millisecond)
	more, err := s.gather(ctx, max, claimTasksScript, only,
		func(shard, quota int) scriptCall {
			return scriptCall{keys: []string{s.k.outbox(shard)}, args: []any{group, consumer, idle, quota, reclaim}}
		},
		func(shard int, reply []any) (int, error) {
			out = append(out, taskEntries(shard, reply, nil)...)
			return len(reply) / 2, nil
		})
	if only != nil {
		s.wake(more...) // still work there: the next woken pass looks again
	}
	if err != nil {
		// Tasks claimed before the failure are taken over after ReclaimAfter; those handed
		// over already are delivered.
		if len(out) > 0 {
			return out, nil
		}
		return nil, fmt.Errorf("claim outbox tasks for %s: %w", consumer, err)
	}
	return out, nil
}

// taskEntries reads a flat reply of entry ids and task JSONs from shard's outbox.
func taskEntries(shard int, reply []any, known map[string]governance.Task) []governance.Task {
	out := make([]governance.Task, 0, len(reply)/2)
	for i := 0; i+1 < len(reply); i += 2 {
		id, _ := reply[i].(string)
		raw, _ := reply[i+1].(string)
		t, ok := known[raw]
		if ok {
			out = append(out, withID(t, shard, id))
			continue
		}
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			// Handed on rather than dropped: the dispatcher gives up a task of an
			// unknown kind and logs it, with its id.
			t = governance.Task{Kind: "undecodable"}
		}
		out = append(out, withID(t, shard, id))
	}
	return out
}

func withID(t governance.Task, shard int, entry string) governance.Task {
	t.ID = strconv.Itoa(shard) + "/" + entry
	return t
}

// wake marks shards as holding tasks this Store enqueued, for ClaimWoken.
func (s *Store) wake(shards ...int) {
	for _, i := range shards {
		s.woken[i].Store(true)
	}
}

// entry splits a Task.ID made by ClaimTasks.
func (s *Store) entry(t governance.Task) (shard int, id string, err error) {
	sh, id, ok := strings.Cut(t.ID, "/")
	n, err := strconv.Atoi(sh)
	if !ok || err != nil || n < 0 || n >= s.k.shards || id == "" {
		return 0, "", fmt.Errorf("outbox task id %q is not one this store handed out", t.ID)
	}
	return n, id, nil
}

// AckTask marks tasks done and deletes them: one XACK and one XDEL per shard involved,
// all in one pipeline.
func (s *Store) AckTask(ctx context.Context, ts ...governance.Task) error {
	_, err := s.AckWithCards(ctx, nil, ts...)
	return err
}

// AckWithCards saves cards (as SaveMessageRef) and acknowledges ts (as AckTask), all in
// one pipeline; it returns each card's request version as stored then (0: gone).
func (s *Store) AckWithCards(ctx context.Context, cards []governance.SentCard, ts ...governance.Task) ([]int64, error) {
	if len(ts) == 0 && len(cards) == 0 {
		return nil, nil
	}
	ids := map[int][]string{}
	for _, t := range ts {
		shard, id, err := s.entry(t)
		if err != nil {
			return nil, err
		}
		ids[shard] = append(ids[shard], id)
	}
	p := newPipeCmds(3*len(cards)+2*len(ids), 8*len(cards)+3*len(ids)+2*len(ts),
		len(cards)*(3*len(s.k.prefix)+100)+len(ids)*(2*len(s.k.prefix)+30)+len(ts)*32)
	versions := make([]storedVersion, len(cards))
	for i, c := range cards {
		v, err := s.saveRef(p, c.Request.ID, c.Ref)
		if err != nil {
			return nil, err
		}
		versions[i] = v
	}
	a := &p.args
	for shard, list := range ids {
		p.cmd("xack")
		a.push(s.k.appendShardKey(a.b, shard, "outbox", ""))
		a.str(group)
		for _, id := range list {
			a.str(id)
		}
		p.cmd("xdel")
		a.push(s.k.appendShardKey(a.b, shard, "outbox", ""))
		for _, id := range list {
			a.str(id)
		}
	}
	pipe := s.rdb.Pipeline()
	cmds := p.queue(ctx, pipe)
	if err := execQuiet(ctx, pipe); err != nil {
		return nil, fmt.Errorf("ack %d outbox tasks with %d cards: %w", len(ts), len(cards), err)
	}
	out := make([]int64, len(cards))
	for i, v := range versions {
		out[i], _ = v.read(cmds) // 0 when the request is gone
	}
	return out, nil
}

// Delivery markers. A notice or an alert is marked as being sent right before it is
// (FirstDelivery), so that a consumer that takes it over from one that stopped does not
// say it a second time. One that a transition claimed for this process in the script
// that enqueued it is marked in that script (apply.lua) and handed over with
// Task.Marked: the process sends it straight away, without a round trip of its own.

// FirstDelivery sets t's delivery marker (on its shard, SET NX) and reports whether it
// was not set before. The marker outlives the time after which another consumer reclaims
// an unacknowledged task.
func (s *Store) FirstDelivery(ctx context.Context, t governance.Task) (bool, error) {
	shard, id, err := s.entry(t)
	if err != nil {
		return false, err
	}
	first, err := s.rdb.SetNX(ctx, s.k.sent(shard, id), "1", s.markerTTL()).Result()
	if err != nil {
		return false, fmt.Errorf("mark outbox task %s as being delivered: %w", t.ID, err)
	}
	return first, nil
}

// unmark takes back the delivery markers of tasks claimed and marked for a dispatcher
// that stopped before they were handed to it: they were never begun, so whoever takes
// them over after ReclaimAfter is to send them. A marker that cannot be taken back leaves
// its notice unsent (logged), never sent twice.
func (s *Store) unmark(ctx context.Context, ts []governance.Task) {
	var keys []string
	for _, t := range ts {
		if shard, id, err := s.entry(t); err == nil && t.Marked {
			keys = append(keys, s.k.sent(shard, id))
		}
	}
	if len(keys) == 0 {
		return
	}
	// The tasks of one transition are on its request's shard: one slot, one DEL.
	if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
		s.log.WarnContext(ctx, "take back the delivery markers of tasks enqueued as the dispatcher stopped; their notices will not be sent",
			"tasks", len(keys), "err", err)
	}
}

// markerTTL is how long a delivery marker is kept: past the time after which another
// consumer takes over an unacknowledged task, twice, with room to spare.
func (s *Store) markerTTL() time.Duration { return 2*s.reclaimAfter + 10*time.Minute }

// RetryTask finishes t and schedules a copy with Attempt+1 for at, in one script. When t
// was already finished (another consumer took it over and acknowledged it), nothing is
// scheduled: the task is done.
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
	err = retryScript.Run(ctx, s.rdb, []string{s.k.outbox(shard), s.k.retry(shard)},
		group, id, at.UnixMilli(), id+" "+string(b)).Err()
	if err != nil {
		return fmt.Errorf("schedule retry of outbox task %s: %w", t.ID, err)
	}
	return nil
}

// promoteBatch caps how many retries one PromoteRetries moves per shard; the rest move
// on the next call.
const promoteBatch = 500

// PromoteRetries moves retries due at or before now back into the outbox, with one
// script per shard in one pipeline, and says how many it moved.
func (s *Store) PromoteRetries(ctx context.Context, now time.Time) (int, error) {
	calls := make([]scriptCall, s.k.shards)
	for i := range calls {
		calls[i] = scriptCall{keys: []string{s.k.retry(i), s.k.outbox(i)}, args: []any{now.UnixMilli(), promoteBatch}}
	}
	n := 0
	for shard, c := range s.evalEach(ctx, promoteScript, calls) {
		moved, err := c.Int()
		if err != nil {
			return n, fmt.Errorf("promote outbox retries: %w", err)
		}
		if moved > 0 {
			s.wake(shard)
		}
		n += moved
	}
	return n, nil
}

// OutboxDepth says how much outbox work waits and since when, for metrics: pending is the
// number of tasks in the streams (claimed or not; finished ones are deleted) plus the
// retries waiting to come due; oldest is when the oldest task now in a stream was put
// there (zero when none is). It is read without a lock across shards, so it is a
// snapshot of each shard at a slightly different moment.
func (s *Store) OutboxDepth(ctx context.Context) (pending int64, oldest time.Time, err error) {
	pipe := s.rdb.Pipeline()
	lens := make([]*goredis.IntCmd, s.k.shards)
	retries := make([]*goredis.IntCmd, s.k.shards)
	firsts := make([]*goredis.XMessageSliceCmd, s.k.shards)
	for i := range s.k.shards {
		lens[i] = pipe.XLen(ctx, s.k.outbox(i))
		retries[i] = pipe.ZCard(ctx, s.k.retry(i))
		firsts[i] = pipe.XRangeN(ctx, s.k.outbox(i), "-", "+", 1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, time.Time{}, fmt.Errorf("read outbox depth: %w", err)
	}
	for i := range s.k.shards {
		pending += lens[i].Val() + retries[i].Val()
		for _, m := range firsts[i].Val() {
			if t := entryTime(m.ID); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	return pending, oldest, nil
}

// entryTime is the time a stream entry id ("<unix ms>-<seq>") stands for.
func entryTime(id string) time.Time {
	ms, _ := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 10, 64)
	return time.UnixMilli(ms).UTC()
}
