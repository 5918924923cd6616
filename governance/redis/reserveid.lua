-- reserveid: reserve.lua for ARGV[8], an id the process took from its block of the
-- sequence, or, without ARGV[8], for a fresh id from the sequence (KEYS[1], prefixed with
-- ARGV[1]). Its keys, arguments and answer are otherwise reserve.lua's.
--
-- Runs after reserve.lua.
return reserve(KEYS, ARGV, function()
  if ARGV[8] then return ARGV[8] end
  return ARGV[1] .. redis.call("INCR", KEYS[1])
end)
