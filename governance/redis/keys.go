package redis

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// keys builds every key accessbot uses. Everything one transition touches shares the
// hash tag of its request's shard ({s3}), so a transition is one script on one Redis
// Cluster slot. The id sequence and the idempotency keys share the tag {ids}, so
// reserving an id is one script too. The chat-user cache keys are only ever used by
// single-key commands and carry no tag.
//
// The prefix must not contain '{' or '}': Redis Cluster hashes the first {…} of a key.
type keys struct {
	prefix string
	shards int
}

func (k keys) shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(k.shards))
}

func (k keys) tag(shard int) string {
	return k.prefix + ":{s" + strconv.Itoa(shard) + "}:"
}

func (k keys) request(id string) string { return k.tag(k.shardOf(id)) + "req:" + id }
func (k keys) msgs(id string) string    { return k.tag(k.shardOf(id)) + "msgs:" + id }
func (k keys) grant(id string) string   { return k.tag(k.shardOf(id)) + "grant:" + id } // kept by earlier releases; purged with its request
func (k keys) outbox(shard int) string  { return k.tag(shard) + "outbox" }
func (k keys) retry(shard int) string   { return k.tag(shard) + "retry" }
func (k keys) due(shard int) string     { return k.tag(shard) + "due" }
func (k keys) audit(shard int) string   { return k.tag(shard) + "audit" }

// sent is the delivery marker of the outbox entry id on shard.
func (k keys) sent(shard int, id string) string { return k.tag(shard) + "sent:" + id }

func (k keys) mine(shard int, email string) string {
	return k.tag(shard) + "mine:" + strings.ToLower(email)
}

func (k keys) pending(shard int, email string) string {
	return k.tag(shard) + "pending:" + strings.ToLower(email)
}

func (k keys) seq() string                   { return k.prefix + ":{ids}:seq" }
func (k keys) idempotency(key string) string { return k.prefix + ":{ids}:idem:" + key }
func (k keys) open(key string) string        { return k.prefix + ":{ids}:open:" + key }

func (k keys) once(key string) string { return k.prefix + ":once:" + key }

// pace is the key of a rate limit shared across processes (Limiter), with a hash tag of
// its own; braces in the name, which would move its Cluster slot, are replaced.
func (k keys) pace(name string) string {
	return k.prefix + ":{pace:" + strings.NewReplacer("{", "(", "}", ")").Replace(name) + "}"
}

// accounts is the hash of a person's connected accounts (sealed), with a hash tag of its own.
func (k keys) accounts(email string) string {
	return k.prefix + ":{acct:" + strings.NewReplacer("{", "(", "}", ")").Replace(strings.ToLower(email)) + "}:accounts"
}

func (k keys) chatUser(platform, id string) string { return k.prefix + ":user:" + platform + ":" + id }
func (k keys) chatEmail(platform, email string) string {
	return k.prefix + ":email:" + platform + ":" + strings.ToLower(email)
}
