-- reserve: the request id bound to an idempotency key, binding a new one on first use.
-- Both keys carry the hash tag {ids}, so this runs on one Redis Cluster slot.
--
-- KEYS[1]  sequence counter  P:{ids}:seq
-- KEYS[2]  idempotency key   P:{ids}:idem:<key>
-- ARGV[1]  id prefix ("AR-")
-- ARGV[2]  how long the binding is kept, in seconds
--
-- Returns the request id.
local id = redis.call("GET", KEYS[2])
if id then return id end
id = ARGV[1] .. redis.call("INCR", KEYS[1])
redis.call("SET", KEYS[2], id, "EX", tonumber(ARGV[2]))
return id
