-- trimaudit: remove the oldest audit records of one shard, up to a time, a batch at a time.
--
-- KEYS[1]  audit stream  P:{sN}:audit (entry ids are "<unix ms>-<seq>")
-- ARGV[1]  the last millisecond to remove (records of later milliseconds stay)
-- ARGV[2]  how many records to remove at most
--
-- Returns how many records it removed.
local old = redis.call("XRANGE", KEYS[1], "-", ARGV[1], "COUNT", tonumber(ARGV[2]))
if #old == 0 then return 0 end
local ids = {}
for i, e in ipairs(old) do ids[i] = e[1] end
return redis.call("XDEL", KEYS[1], unpack(ids))
