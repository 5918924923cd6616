-- apply: create or update one request and everything that changes with it, atomically.
--
-- KEYS[1]  request hash        P:{sN}:req:<id>
-- KEYS[2]  outbox stream       P:{sN}:outbox
-- KEYS[3]  due index (zset)    P:{sN}:due
-- KEYS[4]  audit stream        P:{sN}:audit
-- KEYS[5]  requester's index   P:{sN}:mine:<email>
-- KEYS[6…] approvers' pending indexes P:{sN}:pending:<email>, one per approver
--
-- ARGV[1]  "create" or "update"
-- ARGV[2]  expected stored version (update only)
-- ARGV[3]  new version
-- ARGV[4]  new state
-- ARGV[5]  request JSON
-- ARGV[6]  index score (created, unix ms)
-- ARGV[7]  request id
-- ARGV[8]  now (unix ms), stored with each outbox entry
-- ARGV[9]  number of outbox tasks T, ARGV[10] number of due entries D,
-- ARGV[11] number of due removals U, ARGV[12] number of audit records A,
-- then T task JSONs, D (member, score) pairs, U members, A audit JSONs.
--
-- Returns 1 when written, 0 when create found the request already there,
-- -1 when update found no request, -2 when update found another version.
local mode = ARGV[1]
if mode == "create" then
  if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
else
  local v = redis.call("HGET", KEYS[1], "v")
  if not v then return -1 end
  if v ~= ARGV[2] then return -2 end
end

local id, state, score = ARGV[7], ARGV[4], ARGV[6]
redis.call("HSET", KEYS[1], "v", ARGV[3], "state", state, "data", ARGV[5])
if mode == "create" then
  redis.call("ZADD", KEYS[5], score, id)
end
for i = 6, #KEYS do
  if state == "pending_approval" then
    redis.call("ZADD", KEYS[i], score, id)
  else
    redis.call("ZREM", KEYS[i], id)
  end
end

local ntasks, ndue, nundue, naudit = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local at = 13
for _ = 1, ntasks do
  redis.call("XADD", KEYS[2], "*", "task", ARGV[at], "at", ARGV[8])
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
for _ = 1, naudit do
  redis.call("XADD", KEYS[4], "*", "r", ARGV[at])
  at = at + 1
end
return 1
