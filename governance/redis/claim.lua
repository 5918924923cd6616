-- claim: take the due-index members that are due, leasing each to the caller.
--
-- KEYS[1]  due index (zset of members scored by due unix ms)  P:{sN}:due
-- ARGV[1]  now (unix ms)
-- ARGV[2]  lease end (unix ms): the claimed members are moved there, out of others' reach
-- ARGV[3]  at most this many
--
-- Returns the claimed members.
local due = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do
  redis.call("ZADD", KEYS[1], ARGV[2], m)
end
return due
