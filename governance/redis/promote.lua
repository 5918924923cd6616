-- promote: move outbox retries that are due back into the outbox stream.
--
-- KEYS[1]  retry set (zset of "<entry id> <task JSON>" scored by due unix ms)  P:{sN}:retry
-- KEYS[2]  outbox stream                                                       P:{sN}:outbox
-- ARGV[1]  now (unix ms)
-- ARGV[2]  at most this many
--
-- Returns the number of tasks moved.
local due = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local task = member
  if string.sub(member, 1, 1) ~= "{" then -- members written before the entry id was added are bare JSON
    task = string.sub(member, string.find(member, " ", 1, true) + 1)
  end
  redis.call("XADD", KEYS[2], "*", "task", task, "at", ARGV[1])
  redis.call("ZREM", KEYS[1], member)
end
return #due
