// Package redis is accessbot's Store on Redis (go-redis v9): requests, their indexes, the
// due-time index, the outbox, the audit trail, message references, the chat-user cache
// and the built-in backend's ledger. It works on a single Redis, Sentinel or Cluster, and
// on the embedded in-process server.
//
// It implements ports of governance and knows nothing of chat platforms or backends.
package redis

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accessbot/accessbot/governance"
)

var (
	//go:embed apply.lua
	applySrc    string
	applyScript = goredis.NewScript(applySrc)

	//go:embed reserve.lua
	reserveSrc    string
	reserveScript = goredis.NewScript(reserveSrc)

	//go:embed claim.lua
	claimSrc    string
	claimScript = goredis.NewScript(claimSrc)

	//go:embed promote.lua
	promoteSrc    string
	promoteScript = goredis.NewScript(promoteSrc)
)

const group = "workers"

// Options tune a Store.
type Options struct {
	Prefix       string        // key prefix; default "accessbot"
	Shards       int           // default 16; never change it on a store that holds data
	ReclaimAfter time.Duration // an outbox task claimed this long ago and not finished is taken over; default 1m, negative: at once
	IDPrefix     string        // request ids are IDPrefix + a number; default "AR-"
}

// Store is the Redis implementation of governance.Store.
type Store struct {
	rdb          goredis.UniversalClient
	k            keys
	reclaimAfter time.Duration
	idPrefix     string
	groupsReady  atomic.Bool
}

var _ governance.Store = (*Store)(nil)

// New returns a Store over client.
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
	return &Store{rdb: client, k: keys{prefix: opts.Prefix, shards: opts.Shards}, reclaimAfter: opts.ReclaimAfter, idPrefix: opts.IDPrefix}
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// ReserveID returns the request id bound to key, binding a fresh one on first use; one
// round trip either way.
func (s *Store) ReserveID(ctx context.Context, key string) (string, error) {
	if key == "" {
		n, err := s.rdb.Incr(ctx, s.k.seq()).Result()
		if err != nil {
			return "", err
		}
		return s.idPrefix + strconv.FormatInt(n, 10), nil
	}
	return reserveScript.Run(ctx, s.rdb, []string{s.k.seq(), s.k.idempotency(key)}, s.idPrefix, int((24 * time.Hour).Seconds())).Text()
}

// Create stores a new request with its effects, unless a request with its id exists.
func (s *Store) Create(ctx context.Context, r *governance.Request, fx governance.Effects) (bool, error) {
	res, err := s.apply(ctx, "create", r, 0, fx)
	return res == 1, err
}

// Update replaces the request if its stored version is prevVersion, applying fx.
func (s *Store) Update(ctx context.Context, r *governance.Request, prevVersion int64, fx governance.Effects) error {
	res, err := s.apply(ctx, "update", r, prevVersion, fx)
	switch {
	case err != nil:
		return err
	case res == -1:
		return fmt.Errorf("request %s: %w", r.ID, governance.ErrNotFound)
	case res == -2:
		return governance.ErrConflict
	}
	return nil
}

func (s *Store) apply(ctx context.Context, mode string, r *governance.Request, prev int64, fx governance.Effects) (int64, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	shard := s.k.shardOf(r.ID)
	ks := make([]string, 0, 5+len(r.Approvers))
	ks = append(ks, s.k.request(r.ID), s.k.outbox(shard), s.k.due(shard), s.k.audit(shard), s.k.mine(shard, r.Requester.Email))
	for _, a := range r.Approvers {
		ks = append(ks, s.k.pending(shard, a.Email))
	}
	args := make([]any, 0, 12+len(fx.Tasks)+2*len(fx.Due)+len(fx.Undue)+len(fx.Audit))
	args = append(args, mode, prev, r.Version, string(r.State), data, r.CreatedAt.UnixMilli(), r.ID,
		time.Now().UnixMilli(), len(fx.Tasks), len(fx.Due), len(fx.Undue), len(fx.Audit))
	for _, t := range fx.Tasks {
		b, err := json.Marshal(t)
		if err != nil {
			return 0, err
		}
		args = append(args, b)
	}
	for member, at := range fx.Due {
		args = append(args, member, at.UnixMilli())
	}
	for _, member := range fx.Undue {
		args = append(args, member)
	}
	for _, a := range fx.Audit {
		b, err := json.Marshal(a)
		if err != nil {
			return 0, err
		}
		args = append(args, b)
	}
	return applyScript.Run(ctx, s.rdb, ks, args...).Int64()
}

// Get returns a request by id.
func (s *Store) Get(ctx context.Context, id string) (*governance.Request, error) {
	data, err := s.rdb.HGet(ctx, s.k.request(id), "data").Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("request %s: %w", id, governance.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return decodeRequest(data)
}

func decodeRequest(data []byte) (*governance.Request, error) {
	var r governance.Request
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode stored request: %w", err)
	}
	return &r, nil
}

// ListByRequester returns email's newest requests, newest first.
func (s *Store) ListByRequester(ctx context.Context, email string, limit int) ([]*governance.Request, error) {
	return s.list(ctx, func(shard int) string { return s.k.mine(shard, email) }, true, limit)
}

// ListPendingFor returns the pending requests email may decide, oldest first.
func (s *Store) ListPendingFor(ctx context.Context, email string, limit int) ([]*governance.Request, error) {
	return s.list(ctx, func(shard int) string { return s.k.pending(shard, email) }, false, limit)
}

// list reads one index from every shard in one pipeline, merges, and fetches the
// requests in a second one.
func (s *Store) list(ctx context.Context, key func(int) string, newestFirst bool, limit int) ([]*governance.Request, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.ZSliceCmd, s.k.shards)
	for i := range cmds {
		if newestFirst {
			cmds[i] = pipe.ZRevRangeWithScores(ctx, key(i), 0, int64(limit-1))
		} else {
			cmds[i] = pipe.ZRangeWithScores(ctx, key(i), 0, int64(limit-1))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	var all []goredis.Z
	for _, c := range cmds {
		all = append(all, c.Val()...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if newestFirst {
			return all[i].Score > all[j].Score
		}
		return all[i].Score < all[j].Score
	})
	if len(all) > limit {
		all = all[:limit]
	}
	if len(all) == 0 {
		return nil, nil
	}
	pipe = s.rdb.Pipeline()
	gets := make([]*goredis.StringCmd, len(all))
	for i, z := range all {
		gets[i] = pipe.HGet(ctx, s.k.request(z.Member.(string)), "data")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	out := make([]*governance.Request, 0, len(gets))
	for _, g := range gets {
		b, err := g.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r, err := decodeRequest(b)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SaveMessageRef remembers a card sent for a request.
func (s *Store) SaveMessageRef(ctx context.Context, requestID string, ref governance.MessageRef) error {
	b, err := json.Marshal(ref)
	if err != nil {
		return err
	}
	return s.rdb.HSet(ctx, s.k.msgs(requestID), ref.Platform+":"+ref.Recipient, b).Err()
}

// MessageRefs lists the cards sent for a request, in a stable order.
func (s *Store) MessageRefs(ctx context.Context, requestID string) ([]governance.MessageRef, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.msgs(requestID)).Result()
	if err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(m))
	for f := range m {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	refs := make([]governance.MessageRef, 0, len(m))
	for _, f := range fields {
		var ref governance.MessageRef
		if err := json.Unmarshal([]byte(m[f]), &ref); err != nil {
			return nil, fmt.Errorf("decode message ref of %s: %w", requestID, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// ChatUser returns a cached chat user by platform id.
func (s *Store) ChatUser(ctx context.Context, platform, id string) (governance.ChatUser, bool, error) {
	return s.chatUser(ctx, s.k.chatUser(platform, id))
}

// ChatUserByEmail returns a cached chat user by e-mail.
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
		return u, false, err
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return u, false, nil // a damaged entry is a cache miss
	}
	return u, true, nil
}

// SaveChatUser caches a chat user under both its id and its e-mail.
func (s *Store) SaveChatUser(ctx context.Context, u governance.ChatUser, ttl time.Duration) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	pipe.Set(ctx, s.k.chatUser(u.Platform, u.ID), b, ttl)
	if u.Email != "" {
		pipe.Set(ctx, s.k.chatEmail(u.Platform, u.Email), b, ttl)
	}
	_, err = pipe.Exec(ctx)
	return err
}

// SaveGrant records a built-in grant; saving the same request again overwrites it.
func (s *Store) SaveGrant(ctx context.Context, g governance.GrantRecord) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.k.grant(g.RequestID), b, 0).Err()
}

// Grant reads a built-in grant.
func (s *Store) Grant(ctx context.Context, requestID string) (governance.GrantRecord, bool, error) {
	var g governance.GrantRecord
	b, err := s.rdb.Get(ctx, s.k.grant(requestID)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return g, false, nil
	}
	if err != nil {
		return g, false, err
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return g, false, fmt.Errorf("decode grant %s: %w", requestID, err)
	}
	return g, true, nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }
