-- reserve: the request id bound to an idempotency key, binding a new one on first use;
-- and the one open request a person may have for an item.
-- Every key carries the hash tag {ids}, so this runs on one Redis Cluster slot.
--
-- KEYS[1]  sequence counter  P:{ids}:seq
-- KEYS[2]  idempotency key   P:{ids}:idem:<key>, or P:{ids}:idem: for none
-- KEYS[3]  open-request key  P:{ids}:open:<email>|<item>, or P:{ids}:open: for none
-- ARGV[1]  id prefix ("AR-")
-- ARGV[2]  how long the idempotency binding is kept, in seconds
-- ARGV[3]  "1" when KEYS[2] is a real key
-- ARGV[4]  "1" when KEYS[3] is a real key
-- ARGV[5]  the id the open-request key may be taken from (the caller found that request
--          finished), or ""
--
-- Returns {id, ""} with the id bound (or already bound to the idempotency key), or
-- {"", other} when the person's request other for the item may still be open: nothing is
-- bound then, and the caller looks at other.
if ARGV[3] == "1" then
  local id = redis.call("GET", KEYS[2])
  if id then return {id, ""} end
end
if ARGV[4] == "1" then
  local other = redis.call("GET", KEYS[3])
  if other and other ~= ARGV[5] then return {"", other} end
end
local id = ARGV[1] .. redis.call("INCR", KEYS[1])
if ARGV[3] == "1" then
  redis.call("SET", KEYS[2], id, "EX", tonumber(ARGV[2]))
end
if ARGV[4] == "1" then
  redis.call("SET", KEYS[3], id)
end
return {id, ""}
