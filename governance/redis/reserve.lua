-- reserve: the request id bound to an idempotency key, binding a new one on first use;
-- and the one open request a person may have for an item. It defines reserve(K, A, newID),
-- run by reserveid.lua (the id from the sequence) and reservecreate.lua (an id the process
-- took from its block, and the request created in the same script).
-- Every key carries the hash tag {ids}, so reserveid.lua runs on one Redis Cluster slot.
--
-- K, A are reserveid.lua's KEYS and ARGV:
-- KEYS[1]  sequence counter      P:{ids}:seq
-- KEYS[2]  idempotency key       P:{ids}:idem:<key>, or P:{ids}:idem: for none
-- KEYS[3]  person's open requests (hash, a field per item)  P:{ids}:open:<email>
-- KEYS[4]  the same binding as it was stored before (a string)  P:{ids}:open:<email>|<item>
-- ARGV[1]  id prefix ("AR-")
-- ARGV[2]  how long the idempotency binding is kept, in seconds
-- ARGV[3]  "1" when there is an idempotency key
-- ARGV[4]  "1" when there is an open-request binding to check (KEYS[3], field ARGV[7])
-- ARGV[5]  the id the open-request binding may be taken from (the caller found that
--          request finished), or ""
-- ARGV[6]  a digest of the idempotency key ("" for none)
-- ARGV[7]  the item, the field of KEYS[3]
--
-- The open-request binding holds "<id> <digest of the idempotency key>" (or, stored
-- before, "<id>"): it is the idempotency binding too, so an ask with both needs no key of
-- its own for its idempotency key; KEYS[2] is written only for an ask without an
-- open-request binding (an extension). A person's bindings share one small hash.
--
-- Returns {id, ""} with the id bound (or already bound to the idempotency key), or
-- {"", other} when the person's request other for the item may still be open: nothing is
-- bound then, and the caller looks at other.
local function reserve(K, A, newID)
  if A[3] == "1" then
    local id = redis.call("GET", K[2])
    if id then return {id, ""} end
  end
  if A[4] == "1" then
    local held = redis.call("HGET", K[3], A[7]) or redis.call("GET", K[4])
    if held then
      local other, key = string.match(held, "^(%S+) ?(.*)$")
      if A[3] == "1" and key == A[6] then return {other, ""} end -- the same ask again
      if other ~= A[5] then return {"", other} end
    end
  end
  local id = newID()
  if A[4] == "1" then
    local bound = id
    if A[3] == "1" then bound = id .. " " .. A[6] end
    redis.call("HSET", K[3], A[7], bound)
    redis.call("DEL", K[4])
  elseif A[3] == "1" then
    redis.call("SET", K[2], id, "EX", tonumber(A[2]))
  end
  return {id, ""}
end
