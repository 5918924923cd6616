-- purge: forget a finished request and everything kept for it, atomically.
-- Every key is on the request's shard ({sN}), so this runs on one Redis Cluster slot.
--
-- KEYS[1]  request (string, or hash)   P:{sN}:req:<id>
-- KEYS[2]  message references          P:{sN}:msgs:<id>
-- KEYS[3]  grant record                P:{sN}:grant:<id>
-- KEYS[4]  due index (zset)            P:{sN}:due
-- KEYS[5]  requester's index (zset)    P:{sN}:mine:<email>
-- KEYS[6…] approvers' pending indexes  P:{sN}:pending:<email>, one per approver
--
-- ARGV[1]  request id
-- ARGV[2]  the version read, which must still be stored
-- ARGV[3…] the request's due-index members to remove
--
-- Returns 1 when purged, 0 when the request is gone already (its due members are
-- removed all the same), -2 when it changed since it was read. Nothing else is written
-- unless 1 is returned.
local id = ARGV[1]
local v
local kind = redis.call("TYPE", KEYS[1])["ok"]
if kind == "string" then
  v = string.match(redis.call("GETRANGE", KEYS[1], 0, 20), "^(%d+)")
elseif kind == "hash" then -- stored before requests were strings
  v = redis.call("HGET", KEYS[1], "v")
end
if v and v ~= ARGV[2] then return -2 end
for i = 3, #ARGV do
  redis.call("ZREM", KEYS[4], ARGV[i])
end
if not v then return 0 end
redis.call("DEL", KEYS[1], KEYS[2], KEYS[3])
for i = 5, #KEYS do
  redis.call("ZREM", KEYS[i], id)
end
return 1
