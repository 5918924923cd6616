-- claimtasks: hand up to ARGV[4] tasks of one shard's outbox to a consumer: first (when
-- ARGV[5] is 1) those another consumer claimed and left unfinished for ARGV[3] ms, then
-- new ones. Creates
-- the consumer group (from id 0, so nothing enqueued before is skipped) when missing.
--
-- KEYS[1]  outbox stream  P:{sN}:outbox
-- ARGV[1]  consumer group ("workers")
-- ARGV[2]  consumer name
-- ARGV[3]  min idle time before a claimed task is taken over, ms
-- ARGV[4]  at most this many tasks (> 0)
-- ARGV[5]  1: take over unfinished tasks first; 0: new tasks only
--
-- Returns a flat array: entry id, task JSON, entry id, task JSON, …
--
-- Runs after streamtasks.lua (takeTasks, readNewTasks).
local stream, group, consumer, idle, want = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local reclaim = ARGV[5] == "1"
local out, n = {}, 0

local cursor = "0-0"
for _ = 1, reclaim and 10 or 0 do -- XAUTOCLAIM scans a bounded part of the pending list per call
  local res = redis.pcall("XAUTOCLAIM", stream, group, consumer, idle, cursor, "COUNT", want - n)
  if type(res) == "table" and res.err then
    if not string.find(res.err, "NOGROUP", 1, true) then return redis.error_reply(res.err) end
    redis.call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
    break
  end
  n = n + takeTasks(res[2], out)
  cursor = res[1]
  if cursor == "0-0" or n >= want then break end
end

if n < want then
  local got, err = readNewTasks(stream, group, consumer, want - n, out)
  if err then return redis.error_reply(err) end
  n = n + got
end
return out
