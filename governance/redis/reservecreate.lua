-- reservecreate: a new request's reservation (reserve.lua) and its creation (apply.lua,
-- "create") in one script, for an id the process took from its block of the sequence. Its
-- keys lie on two slots ({ids} and the request's shard), so it runs only on a Redis that is
-- one server; on a Cluster the two are run one after the other (Store.CreateReserved).
--
-- KEYS[1…4] and ARGV[1…7] are reserve.lua's (ARGV[1], the id prefix, is not used); what
-- follows is apply.lua's: KEYS[5] is its KEYS[1], ARGV[8] its ARGV[1]. They are taken off
-- the front of KEYS and ARGV here, so that apply.lua reads its own where it expects them.
--
-- Returns 0 when another request holds the id; {-3, id, ""} when the idempotency key is bound
-- to id, another request (a retried ask); {-3, "", other} when the person's request other
-- for the item may still be open; nothing is written then. Otherwise apply.lua's answer,
-- with the key and the open-request binding bound to the new request.
--
-- Runs after streamtasks.lua and reserve.lua, and before apply.lua.
local K, A = {}, {}
for i = 1, 4 do K[i] = table.remove(KEYS, 1) end
for i = 1, 7 do A[i] = table.remove(ARGV, 1) end
-- A request stored already is this very create's when the command is sent again (its
-- last argument) and the request holds what this run would store: go-redis sent it again
-- after its first run's answer was lost. apply.lua answers it as that run was answered.
if redis.call("EXISTS", KEYS[1]) == 0 then
  local bound = reserve(K, A, function() return ARGV[8] end)
  if bound[1] ~= ARGV[8] then return {-3, bound[1], bound[2]} end
elseif ARGV[#ARGV] ~= "1" or redis.pcall("GET", KEYS[1]) ~= ARGV[6] then
  return 0
end
