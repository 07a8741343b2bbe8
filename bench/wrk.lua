-- Replays a prepared list of requests (one per line: METHOD \t PATH \t HEADERS \t BODY, headers
-- as "name: value" joined by "||"). Each wrk thread walks its own contiguous slice forward, so
-- pools of one-shot requests (a bank account per Pismo account) are never reused across threads;
-- a thread that has used up its slice goes on into the next thread's slice from its far end,
-- backward, so one thread outrunning the other repeats nothing until the whole pool is used (then
-- it starts over, and the repeats show as errors).
-- "{{n}}" in a header or body becomes a per-thread counter: unique idempotency keys.

local lines = {}
local order = {}  -- the indexes of lines this thread walks, in turn
local position = 0
local threads = 1
local thread_counter = 0
me = 0

function setup(thread)
  thread:set("id", thread_counter)
  thread_counter = thread_counter + 1
end

local function split(text, sep)
  local out, start = {}, 1
  while true do
    local i, j = string.find(text, sep, start, true)
    if not i then
      table.insert(out, string.sub(text, start))
      return out
    end
    table.insert(out, string.sub(text, start, i - 1))
    start = j + 1
  end
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      local parts = split(line, "\t")
      local headers = {}
      if parts[3] and #parts[3] > 0 then
        for _, header in ipairs(split(parts[3], "||")) do
          local name, value = string.match(header, "^([^:]+):%s*(.*)$")
          headers[name] = value
        end
      end
      table.insert(lines, {method = parts[1], path = parts[2], headers = headers, body = parts[4] or ""})
    end
  end
  file:close()
  threads = tonumber(args[2] or "1")
  me = tonumber(id) or 0  -- "id" is set by setup() in this thread's state
  math.randomseed(os.time() + me)
  local block = math.floor(#lines / threads)
  if block < 1 then block = #lines; me = 0 end
  local first = me * block + 1
  for i = first, first + block - 1 do table.insert(order, i) end
  if threads > 1 and #lines >= threads then
    local spare_first = ((me + 1) % threads) * block + 1
    for i = spare_first + block - 1, spare_first, -1 do table.insert(order, i) end
  end
end

function request()
  position = position % #order + 1
  local index = order[position]
  local item = lines[index]
  local n = tostring(me) .. "-" .. tostring(index) .. "-" .. tostring(math.random(1, 1000000000))
  local headers = {}
  for name, value in pairs(item.headers) do
    headers[name] = string.gsub(value, "{{n}}", n)
  end
  local body = string.gsub(item.body, "{{n}}", n)
  if #body == 0 then body = nil end
  return wrk.format(item.method, item.path, headers, body)
end
