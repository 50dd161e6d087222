-- Requests read from a file, one per line: METHOD <tab> PATH <tab> bearer token <tab> JSON body.
-- wrk's threads are separate Lua states: each takes every n-th line, so no line (an
-- offer to accept) is sent twice unless the list runs out and wraps around.
local threads, all_threads = 0, {}
setup = function(thread)
  thread:set("index", threads)
  threads = threads + 1
  table.insert(all_threads, thread)
end

local queue, position = {}, 0
local function parse(line)
  local method, path, token, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
  local headers = {["Content-Type"] = "application/json", ["Accept-Language"] = "en"}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format(method, path, headers, body)
end

init = function(args)
  local n = tonumber(args[2])
  local lines = {}
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(lines, line) end
  end
  for i, line in ipairs(lines) do
    if (i - 1) % n == index or #lines < n then table.insert(queue, parse(line)) end
  end
end

-- The first few refused answers of each thread, to say why (printed as REFUSED lines).
refused, refused_count = "", 0
response = function(status, headers, body)
  if status >= 300 and refused_count < 5 then
    refused_count = refused_count + 1
    refused = refused .. "REFUSED " .. status .. " " .. string.gsub(string.sub(body or "", 1, 200), "\n", " ") .. "\n"
  end
end

request = function()
  position = position % #queue + 1
  return queue[position]
end

done = function(summary, latency, requests)
  for _, thread in ipairs(all_threads) do
    io.write(thread:get("refused") or "")
  end
  io.write(string.format("RESULT requests=%d errors=%d status_errors=%d timeouts=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout, summary.errors.status, summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
