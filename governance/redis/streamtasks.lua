-- streamtasks: the functions of the scripts that hand outbox tasks to a consumer
-- (claimtasks.lua, apply.lua). A script cannot call another, so scripts.go puts this file
-- in front of each of theirs; it runs inside them, on the keys they are given (their
-- one Cluster slot), and is no script of its own.

-- takeTasks appends the entry id and the "task" field of each stream entry in entries to
-- out (entry id, task JSON, …) and returns how many it appended. An entry deleted while
-- pending shows as nil (Redis 6.2) and is passed over.
local function takeTasks(entries, out)
  local n = 0
  for _, e in ipairs(entries) do
    if e then
      local fields, task = e[2], ""
      for i = 1, #fields, 2 do
        if fields[i] == "task" then task = fields[i + 1] end
      end
      out[#out + 1] = e[1]
      out[#out + 1] = task
      n = n + 1
    end
  end
  return n
end

-- readNewTasks hands up to count tasks of stream never handed to anyone to consumer in
-- group, appending them to out, and returns how many; it creates the group (from id 0, so
-- nothing enqueued before is skipped) when missing. On any other error it returns nil and
-- Redis's error text.
local function readNewTasks(stream, group, consumer, count, out)
  local function read()
    return redis.pcall("XREADGROUP", "GROUP", group, consumer, "COUNT", count, "STREAMS", stream, ">")
  end
  local res = read()
  if type(res) == "table" and res.err and string.find(res.err, "NOGROUP", 1, true) then
    redis.call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
    res = read()
  end
  if type(res) == "table" and res.err then return nil, res.err end
  if not res then return 0 end
  return takeTasks(res[1][2], out)
end
