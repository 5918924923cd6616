// Package redis is accessbot's Store on Redis (go-redis v9): requests, their indexes, the
// due-time index, the outbox, the audit trail, message references and the chat-user
// cache. It works on a single Redis, Sentinel or Cluster, and
// on the embedded in-process server (miniredis).
//
// Requests are spread over Options.Shards shards. Each shard's keys carry the hash tag
// {sN}, so a transition — the request, its indexes, its due entries, its outbox tasks and
// its audit records — is one Lua script on one Redis Cluster slot (see keys.go).
//
// It implements ports of governance and knows nothing of chat platforms or backends.
package redis

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

// group is the outbox streams' consumer group.
const group = "workers"

// idempotencyTTL is how long ReserveID remembers a key: far longer than any platform
// retries a command.
const idempotencyTTL = 24 * time.Hour

// Options tune a Store.
type Options struct {
	// Prefix starts every key; default "accessbot". It must not contain '{' or '}'.
	Prefix string
	// Shards is how many shards requests are spread over; default 16. Never change it on
	// a store that holds data: a request's shard is derived from its id.
	Shards int
	// ReclaimAfter is how long an outbox task may stay claimed and unfinished before
	// another consumer takes it over; default 1m. Negative: at once (for tests).
	ReclaimAfter time.Duration
	// IDPrefix starts every request id, followed by a number; default "AR-".
	IDPrefix string
	// Logger receives what the store does on its own and cannot return (default
	// slog.Default()).
	Logger *slog.Logger
}

// Store is the Redis implementation of governance.Store.
type Store struct {
	rdb          goredis.UniversalClient
	k            keys
	reclaimAfter time.Duration
	idPrefix     string
	rotate       atomic.Uint32 // the shard a fan-out starts with
	woken        []atomic.Bool // shards this Store enqueued tasks on since ClaimWoken last looked
	fresh        freshSnapshots
	handed       handedTasks
	ids          idBlocks
	cluster      bool // a Redis Cluster: a script's keys must lie on one slot
	log          *slog.Logger
}

var _ governance.Store = (*Store)(nil)

// New returns a Store over client. It does no I/O: the outbox consumer groups are created
// when first needed.
func New(client goredis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "accessbot"
	}
	if opts.Shards <= 0 {
		opts.Shards = 16
	}
	switch {
	case opts.ReclaimAfter == 0:
		opts.ReclaimAfter = time.Minute
	case opts.ReclaimAfter < 0:
		opts.ReclaimAfter = 0
	}
	if opts.IDPrefix == "" {
		opts.IDPrefix = "AR-"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	_, cluster := client.(*goredis.ClusterClient)
	return &Store{rdb: client, k: keys{prefix: opts.Prefix, shards: opts.Shards}, reclaimAfter: opts.ReclaimAfter,
		idPrefix: opts.IDPrefix, woken: make([]atomic.Bool, opts.Shards), cluster: cluster, log: opts.Logger}
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// ReserveID returns the request id bound to key, binding a fresh one on first use, and
// binds it to open, the person's one open request for an item, unless another request
// (other) holds that binding and is not the one the caller found finished (replace). One
// round trip either way. The open-request binding, kept until a request replaces it,
// holds the idempotency binding too; an ask without one (an extension) has its
// idempotency binding kept for 24 hours on a key of its own (reserve.lua).
func (s *Store) ReserveID(ctx context.Context, key, open, replace string) (id, other string, err error) {
	a := scriptArgs{keys: newArgList(4, 4*(len(s.k.prefix)+len(open)+16)), argv: newArgList(7, 64+len(open))}
	s.reservation(&a, key, open, replace)
	res, err := s.run(ctx, reserveScript, a.keys.strings(), a.argv.strings(), nil).StringSlice()
	if err != nil || len(res) != 2 {
		return "", "", fmt.Errorf("reserve request id for %q: %w", key, err)
	}
	return res[0], res[1], nil
}

// reservation appends reserve.lua's keys and arguments to a.
func (s *Store) reservation(a *scriptArgs, key, open, replace string) {
	email, item := splitOpen(open)
	k := &a.keys
	k.push(s.k.appendIDsKey(k.b, "seq", ""))
	k.push(s.k.appendIDsKey(k.b, "idem:", key))
	k.push(s.k.appendIDsKey(k.b, "open:", email))
	k.push(s.k.appendIDsKey(k.b, "open:", open))
	v := &a.argv
	v.str(s.idPrefix)
	v.int(int64(idempotencyTTL / time.Second))
	v.flag(key != "")
	v.flag(open != "")
	v.str(replace)
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		v.push(base64.RawURLEncoding.AppendEncode(v.b, sum[:9]))
	} else {
		v.str("")
	}
	v.str(item)
}

// nextID returns a fresh request id, bound to nothing yet, from a block of the sequence
// this Store holds (idBlocks).
func (s *Store) nextID(ctx context.Context) (string, error) {
	n, err := s.ids.take(ctx, func(ctx context.Context, size int64) (int64, error) {
		return s.rdb.IncrBy(ctx, s.k.seq(), size).Result()
	})
	if err != nil {
		return "", fmt.Errorf("take request ids: %w", err)
	}
	return s.idPrefix + strconv.FormatInt(n, 10), nil
}

// giveBack returns id, from nextID and bound to nothing (its ask was refused, or was a
// retry), to the block it came from (idBlocks). An id bound once is never given again.
func (s *Store) giveBack(id string) {
	if n, err := strconv.ParseInt(strings.TrimPrefix(id, s.idPrefix), 10, 64); err == nil {
		s.ids.giveBack(n)
	}
}

// CreateReserved binds a new request and creates it. On a Redis that is one server this
// is one script (reservecreate.lua), for an id taken from this Store's block: one round
// trip. On a Cluster the binding's keys and the request's lie on different slots, and it
// is ReserveID then Create: two.
func (s *Store) CreateReserved(ctx context.Context, key, open, replace string, build func(id string) (*governance.Request, governance.Effects)) (governance.Reserved, error) {
	if s.cluster {
		id, other, err := s.ReserveID(ctx, key, open, replace)
		if err != nil || other != "" {
			return governance.Reserved{Other: other}, err
		}
		r, fx := build(id)
		created, err := s.Create(ctx, r, fx)
		if err != nil || !created {
			return governance.Reserved{Bound: id}, err
		}
		return governance.Reserved{Request: r, Effects: fx, Created: true}, nil
	}
	id, err := s.nextID(ctx)
	if err != nil {
		return governance.Reserved{}, err
	}
	r, fx := build(id)
	a := s.applyArgs(r, fx)
	s.reservation(&a, key, open, replace)
	call, err := s.applyCall(&a, "create", r, 0, fx)
	if err != nil {
		return governance.Reserved{}, fmt.Errorf("create request %s: %w", id, err)
	}
	reply, err := s.run(ctx, reserveCreateScript, call.keys, call.argv, &sentAgain{}).Result()
	if err != nil {
		return governance.Reserved{}, fmt.Errorf("create request %s: %w", id, err)
	}
	if v, ok := reply.([]any); ok && len(v) == 3 && v[0] == int64(-3) {
		s.giveBack(id) // nothing was written
		bound, _ := v[1].(string)
		other, _ := v[2].(string)
		return governance.Reserved{Bound: bound, Other: other}, nil
	}
	res, _, err := s.applied(ctx, reply, r, fx, call)
	switch {
	case err != nil:
		return governance.Reserved{}, fmt.Errorf("create request %s: %w", id, err)
	case res != 1:
		// Another request holds the id this process took for its own: its sequence was
		// set back. The id is not given back; the next ask takes the next one.
		return governance.Reserved{}, fmt.Errorf("create request %s: another request holds the id; try again", id)
	}
	if len(fx.Tasks) > 0 {
		s.fresh.put(r, nil) // a new request has no cards yet
	}
	return governance.Reserved{Request: r, Effects: fx, Created: true}, nil
}

// splitOpen splits an open-request binding "<email>|<item>" into the person and the item
// (at the first '|' after the '@': a domain holds none).
func splitOpen(open string) (email, item string) {
	at := max(strings.LastIndex(open, "@"), 0)
	if bar := strings.IndexByte(open[at:], '|'); bar >= 0 {
		return open[:at+bar], open[at+bar+1:]
	}
	return open, ""
}

// Create stores a new request with its effects in one script, unless a request with its
// id exists; then it writes nothing and created is false.
func (s *Store) Create(ctx context.Context, r *governance.Request, fx governance.Effects) (bool, error) {
	res, _, err := s.apply(ctx, "create", r, 0, fx)
	if err != nil {
		return false, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	if res == 1 && len(fx.Tasks) > 0 {
		s.fresh.put(r, nil) // a new request has no cards yet
	}
	return res == 1, nil
}

// Update replaces the request and applies fx in one script, provided its stored version
// is still prevVersion; governance.ErrConflict otherwise, and nothing is written.
func (s *Store) Update(ctx context.Context, r *governance.Request, prevVersion int64, fx governance.Effects) error {
	res, cards, err := s.apply(ctx, "update", r, prevVersion, fx)
	if err == nil && res == 1 && len(fx.Tasks) > 0 {
		s.fresh.put(r, cards)
	}
	switch {
	case err != nil:
		return fmt.Errorf("update request %s: %w", r.ID, err)
	case res == -1:
		return fmt.Errorf("request %s: %w", r.ID, governance.ErrNotFound)
	case res == -2:
		return governance.ErrConflict
	}
	return nil
}

// apply runs apply.lua, whose header lists the keys and arguments built here. An update
// that enqueues tasks also returns the request's cards as stored when it was written.
func (s *Store) apply(ctx context.Context, mode string, r *governance.Request, prev int64, fx governance.Effects) (int64, []governance.MessageRef, error) {
	a := s.applyArgs(r, fx)
	call, err := s.applyCall(&a, mode, r, prev, fx)
	if err != nil {
		return 0, nil, err
	}
	reply, err := s.run(ctx, applyScript, call.keys, call.argv, &sentAgain{}).Result()
	if err != nil {
		return 0, nil, err
	}
	return s.applied(ctx, reply, r, fx, call)
}

// applyCall is apply.lua's keys and arguments for writing r with fx (after reserve.lua's,
// when reservecreate.lua runs both), and the shard and consumer they name.
type applyCall struct {
	keys, argv []string
	shard      int
	consumer   string
	tasks      map[string]governance.Task // the tasks enqueued, by the JSON their entries hold
}

// applyArgs are empty script arguments with room for apply.lua's for r and fx, and
// reserve.lua's in front of them.
func (s *Store) applyArgs(r *governance.Request, fx governance.Effects) scriptArgs {
	nkeys := 4 + 6 + len(r.Approvers)
	nargs := 7 + 19 + len(fx.Tasks) + 2*len(fx.Due) + len(fx.Undue) + 2*len(fx.Audit)
	people := len(r.Requester.Email)
	for _, a := range r.Approvers {
		people += len(a.Email)
	}
	return scriptArgs{
		keys: newArgList(nkeys, nkeys*(len(s.k.prefix)+12)+people+2*len(r.ID)+64), // 64: reserve.lua's person and item
		argv: newArgList(nargs, 384+len(r.Reason)+len(r.Item.Name)+people+80*len(fx.Tasks)+32*(len(fx.Due)+len(fx.Undue))+112*len(fx.Audit)),
	}
}

// applyCall appends apply.lua's keys and arguments for writing r with fx to a, and makes
// the call.
func (s *Store) applyCall(a *scriptArgs, mode string, r *governance.Request, prev int64, fx governance.Effects) (applyCall, error) {
	shard := s.k.shardOf(r.ID)
	k := &a.keys
	k.push(s.k.appendShardKey(k.b, shard, "req:", r.ID))
	k.push(s.k.appendShardKey(k.b, shard, "outbox", ""))
	k.push(s.k.appendShardKey(k.b, shard, "due", ""))
	k.push(s.k.appendShardKey(k.b, shard, "audit", ""))
	k.push(s.k.appendPersonKey(k.b, shard, "mine:", r.Requester.Email))
	k.push(s.k.appendShardKey(k.b, shard, "msgs:", r.ID))
	for _, ap := range r.Approvers {
		k.push(s.k.appendPersonKey(k.b, shard, "pending:", ap.Email))
	}

	consumer := ""
	if len(fx.Tasks) > 0 {
		consumer = s.handed.consumerFor(len(fx.Tasks))
	}
	v := &a.argv
	v.str(mode)
	v.int(prev)
	v.int(r.Version)
	v.str(string(r.State))
	// Each approver's flag says whether they may decide the request now: all of them while
	// accessbot's approval is pending, only those of the backend's open approvals at a desk.
	b := v.b
	for _, ap := range r.Approvers {
		b = append(b, flagByte(r.Awaits(ap)))
	}
	v.push(b)
	b, err := appendRequest(v.b, r)
	if err != nil {
		return applyCall{}, err
	}
	v.push(b)
	v.int(r.CreatedAt.UnixMilli())
	v.str(r.ID)
	v.int(time.Now().UnixMilli())
	v.int(int64(len(fx.Tasks)))
	v.int(int64(len(fx.Due)))
	v.int(int64(len(fx.Undue)))
	v.int(int64(len(fx.Audit)))
	v.flag(len(fx.Tasks) > 0) // the cards come back with the tasks
	v.str(consumer)
	v.str(group)
	b = v.b
	for _, t := range fx.Tasks {
		b = append(b, flagByte(t.Kind == governance.TaskNotify || t.Kind == governance.TaskAdminAlert))
	}
	v.push(b)
	v.push(s.k.appendShardKey(v.b, shard, "sent:", ""))
	v.int(s.markerTTL().Milliseconds())
	firstTask := len(v.ends)
	for _, t := range fx.Tasks {
		if s.k.shardOf(t.RequestID) != shard {
			return applyCall{}, fmt.Errorf("outbox task for %s cannot be enqueued with request %s: another shard", t.RequestID, r.ID)
		}
		b, err := appendTask(v.b, t)
		if err != nil {
			return applyCall{}, err
		}
		v.push(b)
	}
	for member, at := range fx.Due {
		v.str(member)
		v.int(at.UnixMilli())
	}
	for _, member := range fx.Undue {
		v.str(member)
	}
	for _, au := range fx.Audit {
		v.int(auditMillis(au))
		b, err := appendAudit(v.b, au)
		if err != nil {
			return applyCall{}, err
		}
		v.push(b)
	}

	call := applyCall{keys: a.keys.strings(), argv: a.argv.strings(), shard: shard, consumer: consumer}
	if len(fx.Tasks) > 0 {
		call.tasks = make(map[string]governance.Task, len(fx.Tasks))
		for i, t := range fx.Tasks {
			t.ID, t.Marked = "", false
			call.tasks[call.argv[firstTask+i]] = t
		}
	}
	return call, nil
}

// flagByte is '1' for true and '0' for false, one of the flag strings the scripts read.
func flagByte(v bool) byte {
	if v {
		return '1'
	}
	return '0'
}

// applied reads apply.lua's reply to call: what was written, and the cards and tasks
// handed to this process.
func (s *Store) applied(ctx context.Context, reply any, r *governance.Request, fx governance.Effects, call applyCall) (int64, []governance.MessageRef, error) {
	shard, consumer := call.shard, call.consumer
	switch v := reply.(type) {
	case int64:
		if v == 1 && len(fx.Tasks) > 0 {
			s.wake(shard)
		}
		return v, nil, nil
	case []any: // written, with the cards and the tasks claimed for this process
		if len(v) != 5 {
			return 0, nil, fmt.Errorf("apply answered %d values", len(v))
		}
		fields, _ := v[1].([]any)
		m := make(map[string]string, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			f, _ := fields[i].(string)
			m[f], _ = fields[i+1].(string)
		}
		claimed, _ := v[2].([]any)
		tasks := taskEntries(shard, claimed, call.tasks)
		marked, _ := v[4].([]any)
		for i := range tasks {
			_, id, _ := strings.Cut(tasks[i].ID, "/")
			tasks[i].Marked = slices.Contains(marked, any(id))
		}
		if !s.handed.add(consumer, tasks) {
			s.unmark(ctx, tasks) // its dispatcher stopped meanwhile: whoever takes them over sends them
		}
		if all, _ := v[3].(int64); all != 1 {
			s.wake(shard) // some of the tasks are still to be claimed there
		}
		refs, err := decodeRefs(r.ID, m)
		return 1, refs, err
	}
	return 0, nil, fmt.Errorf("apply answered %T", reply)
}

// Get returns a request by id, or an error wrapping governance.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*governance.Request, error) {
	data, err := s.rdb.Get(ctx, s.k.request(id)).Bytes()
	if isWrongType(err) { // stored before requests were strings
		data, err = s.rdb.HGet(ctx, s.k.request(id), "data").Bytes()
	}
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("request %s: %w", id, governance.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get request %s: %w", id, err)
	}
	return decodeRequest(id, data)
}

// isWrongType says whether err is Redis refusing a command for the key's type: a request
// stored as a hash, as requests were before they were strings.
func isWrongType(err error) bool { return goredis.HasErrorPrefix(err, "WRONGTYPE") }

// readRequests reads the stored requests of ids in one pipeline (a second one for those
// stored as hashes, the older form); a request that does not exist is nil.
func (s *Store) readRequests(ctx context.Context, ids []string, also func(pipe goredis.Pipeliner, id string)) ([][]byte, error) {
	pipe := s.rdb.Pipeline()
	gets := make([]*goredis.StringCmd, len(ids))
	for i, id := range ids {
		gets[i] = pipe.Get(ctx, s.k.request(id))
		if also != nil {
			also(pipe, id)
		}
	}
	_, _ = pipe.Exec(ctx) // errors are read per command
	out := make([][]byte, len(ids))
	var old []int
	for i, g := range gets {
		b, err := g.Bytes()
		switch {
		case err == nil:
			out[i] = b
		case isWrongType(err):
			old = append(old, i)
		case !errors.Is(err, goredis.Nil):
			return nil, fmt.Errorf("read request %s: %w", ids[i], err)
		}
	}
	if len(old) == 0 {
		return out, nil
	}
	pipe = s.rdb.Pipeline()
	hgets := make([]*goredis.StringCmd, len(old))
	for j, i := range old {
		hgets[j] = pipe.HGet(ctx, s.k.request(ids[i]), "data")
	}
	_, _ = pipe.Exec(ctx)
	for j, i := range old {
		b, err := hgets[j].Bytes()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, fmt.Errorf("read request %s: %w", ids[i], err)
		}
		out[i] = b
	}
	return out, nil
}

// ListByRequester returns up to limit of email's newest requests, newest first.
func (s *Store) ListByRequester(ctx context.Context, email string, limit int) ([]*governance.Request, error) {
	return s.list(ctx, func(shard int) string { return s.k.mine(shard, email) }, true, limit)
}

// ListPendingFor returns up to limit of the pending requests email may decide, oldest
// first.
func (s *Store) ListPendingFor(ctx context.Context, email string, limit int) ([]*governance.Request, error) {
	return s.list(ctx, func(shard int) string { return s.k.pending(shard, email) }, false, limit)
}

// list reads the first limit entries of one index from every shard in one pipeline,
// merges them by score, and fetches the requests in a second pipeline.
func (s *Store) list(ctx context.Context, key func(shard int) string, newestFirst bool, limit int) ([]*governance.Request, error) {
	if limit <= 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.ZSliceCmd, s.k.shards)
	for i := range cmds {
		if newestFirst {
			cmds[i] = pipe.ZRevRangeWithScores(ctx, key(i), 0, int64(limit-1))
		} else {
			cmds[i] = pipe.ZRangeWithScores(ctx, key(i), 0, int64(limit-1))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read request index: %w", err)
	}
	var all []goredis.Z
	for _, c := range cmds {
		all = append(all, c.Val()...)
	}
	if len(all) == 0 {
		return nil, nil
	}
	sort.SliceStable(all, func(i, j int) bool {
		if newestFirst {
			return all[i].Score > all[j].Score
		}
		return all[i].Score < all[j].Score
	})
	all = all[:min(len(all), limit)]

	ids := make([]string, len(all))
	for i, z := range all {
		ids[i] = z.Member.(string)
	}
	datas, err := s.readRequests(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*governance.Request, 0, len(datas))
	for i, b := range datas {
		if b == nil {
			continue // indexed but gone: nothing to show
		}
		r, err := decodeRequest(ids[i], b)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SaveMessageRef remembers a card sent for a request, one per recipient and platform: a
// later card to the same person replaces the earlier one. It reads the request's stored
// version in the same round trip.
func (s *Store) SaveMessageRef(ctx context.Context, requestID string, ref governance.MessageRef) (int64, error) {
	p := newPipeCmds(3, 8, 3*len(s.k.prefix)+100)
	version, err := s.saveRef(p, requestID, ref)
	if err != nil {
		return 0, err
	}
	pipe := s.rdb.Pipeline()
	cmds := p.queue(ctx, pipe)
	if err := execQuiet(ctx, pipe); err != nil {
		return 0, fmt.Errorf("save message ref of %s: %w", requestID, err)
	}
	v, _ := version.read(cmds) // 0 when the request is gone
	return v, nil
}

// saveRef adds to p the saving of a card and the reading of its request's version: HSET,
// GETRANGE and HGET (storedVersion).
func (s *Store) saveRef(p *pipeCmds, requestID string, ref governance.MessageRef) (storedVersion, error) {
	shard := s.k.shardOf(requestID)
	a := &p.args
	p.cmd("hset")
	a.push(s.k.appendShardKey(a.b, shard, "msgs:", requestID))
	a.push(append(append(append(a.b, ref.Platform...), ':'), ref.Recipient...))
	b, err := appendRef(a.b, ref)
	if err != nil {
		return storedVersion{}, err
	}
	a.push(b)
	head := p.cmd("getrange")
	a.push(s.k.appendShardKey(a.b, shard, "req:", requestID))
	a.str("0")
	a.str("20")
	p.cmd("hget")
	a.push(s.k.appendShardKey(a.b, shard, "req:", requestID))
	a.str("v")
	return storedVersion{head: head, field: head + 1}, nil
}

// execQuiet runs pipe and returns the first error other than a missing key or a
// storedVersion command refused for the key's type.
func execQuiet(ctx context.Context, pipe goredis.Pipeliner) error {
	cmds, _ := pipe.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) && !isWrongType(err) {
			return err
		}
	}
	return nil
}

// storedVersion is a request's version as a pipeline reads it, from a request stored as
// a string (its first bytes: GETRANGE) or as a hash (the older form: HGET of "v"): one of
// the two commands answers, the other is refused for the key's type. It holds their
// indexes among the pipeline's commands (pipeCmds).
type storedVersion struct{ head, field int }

// read is the version read by cmds; 0 when the request is gone.
func (v storedVersion) read(cmds []*goredis.Cmd) (int64, error) {
	if n, err := cmds[v.field].Int64(); err == nil {
		return n, nil
	}
	head, err := cmds[v.head].Text()
	if err != nil || head == "" {
		return 0, nil
	}
	n, _, _ := strings.Cut(head, " ")
	return strconv.ParseInt(n, 10, 64)
}

// MessageRefs lists the cards sent for a request, ordered by platform and recipient.
func (s *Store) MessageRefs(ctx context.Context, requestID string) ([]governance.MessageRef, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.msgs(requestID)).Result()
	if err != nil {
		return nil, fmt.Errorf("read message refs of %s: %w", requestID, err)
	}
	return decodeRefs(requestID, m)
}

// Snapshots reads the requests with these ids and the cards sent for each, in one
// pipeline. A request that does not exist is left out. A request this Store has just
// written with tasks, and not handed out since, is not read back: it is taken as written,
// with the cards it had then (see freshSnapshots).
func (s *Store) Snapshots(ctx context.Context, ids []string) (map[string]governance.Snapshot, error) {
	out := make(map[string]governance.Snapshot, len(ids))
	ids = s.fresh.take(ids, out)
	if len(ids) == 0 {
		return out, nil
	}
	cards := make([]*goredis.MapStringStringCmd, 0, len(ids))
	datas, err := s.readRequests(ctx, ids, func(pipe goredis.Pipeliner, id string) {
		cards = append(cards, pipe.HGetAll(ctx, s.k.msgs(id)))
	})
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if datas[i] == nil {
			continue
		}
		if err := cards[i].Err(); err != nil {
			return nil, fmt.Errorf("read the cards of %s: %w", id, err)
		}
		r, err := decodeRequest(id, datas[i])
		if err != nil {
			return nil, err
		}
		refs, err := decodeRefs(id, cards[i].Val())
		if err != nil {
			return nil, err
		}
		out[id] = governance.Snapshot{Request: r, Cards: refs}
	}
	return out, nil
}

// decodeRefs reads a request's message-reference hash, ordered by field.
func decodeRefs(requestID string, m map[string]string) ([]governance.MessageRef, error) {
	fields := make([]string, 0, len(m))
	for f := range m {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	refs := make([]governance.MessageRef, 0, len(m))
	for _, f := range fields {
		ref, err := decodeRef(f, m[f])
		if err != nil {
			return nil, fmt.Errorf("decode message ref of %s: %w", requestID, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// ChatUser returns a cached chat user by platform and platform user id.
func (s *Store) ChatUser(ctx context.Context, platform, id string) (governance.ChatUser, bool, error) {
	return s.chatUser(ctx, s.k.chatUser(platform, id))
}

// ChatUserByEmail returns a cached chat user by platform and e-mail (any case).
func (s *Store) ChatUserByEmail(ctx context.Context, platform, email string) (governance.ChatUser, bool, error) {
	return s.chatUser(ctx, s.k.chatEmail(platform, email))
}

func (s *Store) chatUser(ctx context.Context, key string) (governance.ChatUser, bool, error) {
	var u governance.ChatUser
	b, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("read chat user cache: %w", err)
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return governance.ChatUser{}, false, fmt.Errorf("decode cached chat user %s: %w", key, err)
	}
	return u, true, nil
}

// SaveChatUser caches a chat user under both its platform id and its e-mail for ttl.
// The two keys live on different Cluster slots, so they are written by one pipeline, not
// atomically; for a cache that is enough.
func (s *Store) SaveChatUser(ctx context.Context, u governance.ChatUser, ttl time.Duration) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	if u.ID != "" {
		pipe.Set(ctx, s.k.chatUser(u.Platform, u.ID), b, ttl)
	}
	if u.Email != "" {
		pipe.Set(ctx, s.k.chatEmail(u.Platform, u.Email), b, ttl)
	}
	if pipe.Len() == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("cache chat user %s:%s: %w", u.Platform, u.ID, err)
	}
	return nil
}
