-- swapaccount: replace (or remove) one sealed connected account, provided the stored value
-- is still the one the caller read, so that two replicas refreshing the same grant at once
-- cannot overwrite each other's rotated refresh token, and a dead grant is forgotten only
-- if nobody saved a newer one meanwhile.
--
-- KEYS[1]  the person's accounts hash  P:{acct:<email>}:accounts (field: the backend)
-- ARGV[1]  the backend (hash field)
-- ARGV[2]  "1" when the swap is conditional, "0" to swap whatever is stored
-- ARGV[3]  the sealed value the caller read ("" when it read none)
-- ARGV[4]  "1" to store ARGV[5], "0" to remove the field
-- ARGV[5]  the new sealed value
--
-- Returns 1 when swapped, 0 when the stored value was not ARGV[3] (nothing changed). A
-- stored value that is ARGV[5] already is this very swap (a sealed value is never made
-- twice): go-redis sent the script again after its first run's answer was lost.
if ARGV[2] == "1" then
  local cur = redis.call("HGET", KEYS[1], ARGV[1])
  if not cur then cur = "" end
  if cur ~= ARGV[3] then
    if ARGV[4] == "1" and cur == ARGV[5] then return 1 end
    return 0
  end
end
if ARGV[4] == "1" then
  redis.call("HSET", KEYS[1], ARGV[1], ARGV[5])
else
  redis.call("HDEL", KEYS[1], ARGV[1])
end
return 1
