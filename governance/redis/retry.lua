-- retry: finish an outbox task and schedule its next attempt, unless the task was
-- already finished (another consumer took it over and acknowledged it).
--
-- KEYS[1]  outbox stream  P:{sN}:outbox
-- KEYS[2]  retry set      P:{sN}:retry  (zset of "<entry id> <task JSON>" scored by due unix ms)
-- ARGV[1]  consumer group
-- ARGV[2]  entry id of the task being finished
-- ARGV[3]  when the next attempt is due, unix ms
-- ARGV[4]  the next attempt, "<entry id> <task JSON>" (the entry id keeps members unique)
--
-- Returns 1 when the retry was scheduled, 0 when the task was already finished.
if redis.call("XACK", KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call("XDEL", KEYS[1], ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[4])
return 1
