-- apply: create or update one request and everything that changes with it, atomically.
-- Every key is on the request's shard ({sN}), so this runs on one Redis Cluster slot.
--
-- KEYS[1]  request                     P:{sN}:req:<id>  (a string "<version> <JSON>"; a
--                                      hash with fields v, state, data when stored before)
-- KEYS[2]  outbox stream               P:{sN}:outbox
-- KEYS[3]  due index (zset)            P:{sN}:due
-- KEYS[4]  audit stream                P:{sN}:audit
-- KEYS[5]  requester's index (zset)    P:{sN}:mine:<email>
-- KEYS[6]  message references (hash)  P:{sN}:msgs:<id>  (only read)
-- KEYS[7…] approvers' pending indexes  P:{sN}:pending:<email>, one per approver
--
-- ARGV[1]  "create" or "update"
-- ARGV[2]  expected stored version (update only)
-- ARGV[3]  new version
-- ARGV[4]  new state
-- ARGV[5]  one flag per approver key: "1" when that approver may decide the request now, else "0"
-- ARGV[6]  the request as stored: "<new version> <JSON>"
-- ARGV[7]  index score (created, unix ms)
-- ARGV[8]  request id
-- ARGV[9]  now (unix ms), stored with each outbox entry as "at"
-- ARGV[10] number of outbox tasks T, ARGV[11] number of due entries D,
-- ARGV[12] number of due removals U, ARGV[13] number of audit records A,
-- then T task JSONs, D (member, unix ms) pairs, U members, A (unix ms, record) pairs; a
-- record is stored in the entry's field "a" (the compact form, codec.go; "r" held the
-- record's own JSON before).
--
-- ARGV[14] "1": a write that enqueues tasks returns the request's cards, as the
--          message-reference hash holds them then (so the process that wrote the request
--          can deliver its tasks without reading it back)
-- ARGV[15] consumer to claim the enqueued tasks for (its process delivers them without
--          asking for them), or "" to leave them for whoever claims first
-- ARGV[16] the outbox's consumer group ("workers")
-- ARGV[17] one flag per enqueued task: "1" when it is a notice or an alert, whose delivery
--          marker is set here when this script claims it for ARGV[15] (the process
--          sends it straight away and asks no more; see outbox.go, "Delivery markers")
-- ARGV[18] the delivery markers' key prefix on this shard, P:{sN}:sent: (the markers are
--          named by entry ids this script makes, so they cannot be passed in KEYS; they
--          carry the shard's hash tag, so they are on this script's slot)
-- ARGV[19] how long a delivery marker is kept, ms
-- ARGV[20…] the tasks, due entries, removals and audit records counted in ARGV[10…13]
-- ARGV[last] "1" when go-redis sends the command again (Store.run, sentAgain), else "0"
--
-- Returns 1 when written, 0 when create found another request there,
-- -1 when update found no request, -2 when update found another version.
-- Nothing is written unless 1 is returned. A command sent again (go-redis does when the
-- first sending's answer was lost with its connection) that finds the request holding
-- ARGV[6], the very write it makes, writes nothing and is answered as its first run was
-- (replayed). With ARGV[14] "1" a write returns
-- {1, {field, ref, …}, {entry id, task JSON, …}, all, {entry id, …}} instead of 1: the
-- cards, the tasks claimed for ARGV[15] (the oldest undelivered entries of the outbox, up
-- to as many as were enqueued: mostly these, and another's left unclaimed when not), all =
-- 1 when every task enqueued here was among them, and the claimed entries whose delivery
-- markers were set.
--
-- Runs after streamtasks.lua (readNewTasks).
local mode = ARGV[1]
local again = ARGV[#ARGV] == "1"
local ntasks, ndue, nundue, naudit = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])

-- replayed answers a run of this very write, stored by an earlier run whose answer was
-- lost, as that run was answered: the tasks it enqueued and claimed for ARGV[15] are
-- found among the consumer's pending entries (their task and "at" are this run's), with
-- their delivery markers, so that the process delivers them now, as it would have.
local function replayed()
  if ARGV[14] ~= "1" then return 1 end
  local cards = {}
  if mode == "update" then cards = redis.call("HGETALL", KEYS[6]) end
  local claimed, marked = {}, {}
  if ARGV[15] ~= "" and ntasks > 0 then
    local mine = {}
    for i = 20, 19 + ntasks do mine[ARGV[i]] = true end
    for _, p in ipairs(redis.call("XPENDING", KEYS[2], ARGV[16], "-", "+", 1000, ARGV[15])) do
      local e = redis.call("XRANGE", KEYS[2], p[1], p[1])[1]
      local f = {}
      for i = 1, e and #e[2] or 0, 2 do f[e[2][i]] = e[2][i + 1] end
      if f.at == ARGV[9] and f.task and mine[f.task] then
        claimed[#claimed + 1] = e[1]
        claimed[#claimed + 1] = f.task
        if redis.call("EXISTS", ARGV[18] .. e[1]) == 1 then marked[#marked + 1] = e[1] end
      end
    end
  end
  local all = 0
  if #claimed == 2 * ntasks then all = 1 end
  return {1, cards, claimed, all, marked}
end

if mode == "create" then
  if redis.call("EXISTS", KEYS[1]) == 1 then
    if again and redis.pcall("GET", KEYS[1]) == ARGV[6] then return replayed() end
    return 0
  end
else
  local v
  local kind = redis.call("TYPE", KEYS[1])["ok"]
  if kind == "string" then
    v = string.match(redis.call("GETRANGE", KEYS[1], 0, 20), "^(%d+)")
  elseif kind == "hash" then
    v = redis.call("HGET", KEYS[1], "v")
  end
  if not v then return -1 end
  if v ~= ARGV[2] then
    if again and v == ARGV[3] and kind == "string" and redis.call("GET", KEYS[1]) == ARGV[6] then return replayed() end
    return -2
  end
end

local id, score = ARGV[8], ARGV[7]
redis.call("SET", KEYS[1], ARGV[6]) -- a request stored as a hash becomes a string
if mode == "create" then
  redis.call("ZADD", KEYS[5], score, id)
end
-- Approvers only ever join a request, so the current list covers every index it is in.
for i = 7, #KEYS do
  if string.sub(ARGV[5], i - 6, i - 6) == "1" then
    redis.call("ZADD", KEYS[i], score, id)
  else
    redis.call("ZREM", KEYS[i], id)
  end
end

local at = 20
local lastTask = nil
local marks = {} -- entry id → true for the notices and alerts enqueued here
for i = 1, ntasks do
  lastTask = redis.call("XADD", KEYS[2], "*", "task", ARGV[at], "at", ARGV[9])
  if string.sub(ARGV[17], i, i) == "1" then marks[lastTask] = true end
  at = at + 1
end
for _ = 1, ndue do
  redis.call("ZADD", KEYS[3], ARGV[at + 1], ARGV[at])
  at = at + 2
end
for _ = 1, nundue do
  redis.call("ZREM", KEYS[3], ARGV[at])
  at = at + 1
end
-- An audit entry's id is the record's time ("<ms>-*"), so the trail can be read by time
-- range. A stream only grows, so a record older than the newest entry (the clocks of two
-- replicas differ) is placed at the newest entry's millisecond instead, with its own
-- millisecond beside it ("m"). (miniredis places such an entry later by itself; it is
-- moved the same way.)
for _ = 1, naudit do
  local ms = ARGV[at]
  local added = redis.pcall("XADD", KEYS[4], ms .. "-*", "a", ARGV[at + 1])
  local placed = type(added) == "string" and string.match(added, "^(%d+)")
  if placed ~= ms then
    if placed then redis.call("XDEL", KEYS[4], added) end
    local last = redis.call("XREVRANGE", KEYS[4], "+", "-", "COUNT", 1)
    local id = "*"
    if last[1] then id = string.match(last[1][1], "^(%d+)") .. "-*" end
    redis.call("XADD", KEYS[4], id, "a", ARGV[at + 1], "m", ms)
  end
  at = at + 2
end
if ARGV[14] == "1" then
  local cards = {}
  if mode == "update" then cards = redis.call("HGETALL", KEYS[6]) end
  local claimed, marked = {}, {}
  if ARGV[15] ~= "" and ntasks > 0 then
    local _, err = readNewTasks(KEYS[2], ARGV[16], ARGV[15], ntasks, claimed)
    if err then return redis.error_reply(err) end
    for i = 1, #claimed, 2 do
      if marks[claimed[i]] then
        redis.call("SET", ARGV[18] .. claimed[i], "1", "PX", ARGV[19])
        marked[#marked + 1] = claimed[i]
      end
    end
  end
  local all = 0 -- 1: every task enqueued here was claimed
  if #claimed > 0 and claimed[#claimed - 1] == lastTask then all = 1 end
  return {1, cards, claimed, all, marked}
end
return 1
