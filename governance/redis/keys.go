package redis

import (
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"
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

// A key is built in one allocation (the string; the buffer stays on the stack), and the
// hot path appends its keys to one buffer (scriptArgs) with the append forms below.
const keyBuf = 128

// appendShardKey appends the key <prefix>:{s<shard>}:<kind><name> to b.
func (k keys) appendShardKey(b []byte, shard int, kind, name string) []byte {
	b = append(b, k.prefix...)
	b = append(b, ":{s"...)
	b = strconv.AppendInt(b, int64(shard), 10)
	b = append(b, "}:"...)
	b = append(b, kind...)
	return append(b, name...)
}

// appendPersonKey appends the key of a person's index on shard: the e-mail in lower case.
func (k keys) appendPersonKey(b []byte, shard int, kind, email string) []byte {
	return appendLower(k.appendShardKey(b, shard, kind, ""), email)
}

func (k keys) shardKey(shard int, kind, name string) string {
	var buf [keyBuf]byte
	return string(k.appendShardKey(buf[:0], shard, kind, name))
}

func (k keys) request(id string) string { return k.shardKey(k.shardOf(id), "req:", id) }
func (k keys) msgs(id string) string    { return k.shardKey(k.shardOf(id), "msgs:", id) }
func (k keys) grant(id string) string   { return k.shardKey(k.shardOf(id), "grant:", id) } // kept by earlier releases; purged with its request
func (k keys) outbox(shard int) string  { return k.shardKey(shard, "outbox", "") }
func (k keys) retry(shard int) string   { return k.shardKey(shard, "retry", "") }
func (k keys) due(shard int) string     { return k.shardKey(shard, "due", "") }
func (k keys) audit(shard int) string   { return k.shardKey(shard, "audit", "") }

// sent is the delivery marker of the outbox entry id on shard.
func (k keys) sent(shard int, id string) string { return k.shardKey(shard, "sent:", id) }

func (k keys) mine(shard int, email string) string {
	var buf [keyBuf]byte
	return string(k.appendPersonKey(buf[:0], shard, "mine:", email))
}

func (k keys) pending(shard int, email string) string {
	var buf [keyBuf]byte
	return string(k.appendPersonKey(buf[:0], shard, "pending:", email))
}

// appendLower appends s as strings.ToLower writes it, without a string of its own when s
// is ASCII, as e-mail addresses are.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// appendIDsKey appends the key <prefix>:{ids}:<kind><name> to b.
func (k keys) appendIDsKey(b []byte, kind, name string) []byte {
	b = append(b, k.prefix...)
	b = append(b, ":{ids}:"...)
	b = append(b, kind...)
	return append(b, name...)
}

func (k keys) idsKey(kind, name string) string {
	var buf [keyBuf]byte
	return string(k.appendIDsKey(buf[:0], kind, name))
}

func (k keys) seq() string                   { return k.idsKey("seq", "") }
func (k keys) idempotency(key string) string { return k.idsKey("idem:", key) }
func (k keys) open(key string) string        { return k.idsKey("open:", key) }

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
