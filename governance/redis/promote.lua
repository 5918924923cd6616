-- promote: move outbox retries that are due back into the outbox stream.
--
-- KEYS[1]  retry set (zset of task JSON scored by due unix ms)  P:{sN}:retry
-- KEYS[2]  outbox stream                                         P:{sN}:outbox
-- ARGV[1]  now (unix ms)
-- ARGV[2]  at most this many
--
-- Returns the number of tasks moved.
local due = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
for _, task in ipairs(due) do
  redis.call("XADD", KEYS[2], "*", "task", task, "at", ARGV[1])
  redis.call("ZREM", KEYS[1], task)
end
return #due
