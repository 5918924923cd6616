-- pace: the next turn of a rate limit shared by every process that uses the key (GCRA,
-- the generic cell rate algorithm, as a queue of reservations). The key holds the
-- theoretical arrival time (TAT) of the next turn, in microseconds; turns are spaced by
-- the emission interval, and up to burst of them may fall at once. Every call takes a
-- turn, so concurrent callers queue up instead of retrying. The key has a hash tag of its
-- own, so the script runs on one Redis Cluster slot.
--
-- KEYS[1]  the limit's key  P:{pace:<name>}
-- ARGV[1]  emission interval, in microseconds (1e6 / rate per second)
-- ARGV[2]  burst: how many turns may fall at the same moment (at least 1)
-- ARGV[3]  now, in microseconds; "" to read Redis's own clock (TIME), which every
--          process sharing the key then agrees on
--
-- Returns how many microseconds the caller must wait before using its turn (0: at once).
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call("GET", KEYS[1]))
if not tat or tat < now then
  tat = now
end
local at = tat - (burst - 1) * interval
local wait = 0
if at > now then
  wait = at - now
end
tat = tat + interval
-- Kept until the queue has drained, then forgotten (an idle limit starts afresh).
redis.call("SET", KEYS[1], string.format("%d", tat), "PX", math.floor((tat - now) / 1000) + 1000)
return wait
