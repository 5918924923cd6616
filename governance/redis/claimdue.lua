-- claimdue: claim due-index members of one shard: those due at or before now are moved to the
-- end of a lease, so no other sweeper takes them until the lease ends.
--
-- KEYS[1]  due index (zset of members scored by due unix ms)  P:{sN}:due
-- ARGV[1]  now, unix ms
-- ARGV[2]  end of the lease, unix ms
-- ARGV[3]  at most this many (> 0)
--
-- Returns a flat array: member, due unix ms (before the lease), member, due unix ms, …
local due = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "WITHSCORES", "LIMIT", 0, tonumber(ARGV[3]))
for i = 1, #due, 2 do
  redis.call("ZADD", KEYS[1], "XX", ARGV[2], due[i])
end
return due
