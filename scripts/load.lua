-- wrk script for scripts/load_test.sh: logged-in GETs spread over the paths in LOAD_PATHS
-- (space-separated), each request with the next of the session cookies in the file LOAD_SESSIONS.
-- Prints one JSON line of results at the end; any response other than 200 counts as an error.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   sessions = {}
   for line in io.lines(os.getenv("LOAD_SESSIONS")) do
      if line ~= "" then table.insert(sessions, line) end
   end
   paths = {}
   for path in string.gmatch(os.getenv("LOAD_PATHS"), "%S+") do
      table.insert(paths, path)
   end
   counter = 0
   not_ok = 0
   by_status = {}
end

function request()
   counter = counter + 1
   local path = paths[(counter % #paths) + 1]
   local session = sessions[(counter % #sessions) + 1]
   return wrk.format("GET", path, { ["Cookie"] = "sessionid=" .. session })
end

function response(status, headers, body)
   if status ~= 200 then
      not_ok = not_ok + 1
   end
end

function done(summary, latency, requests)
   local not_200 = 0
   for _, thread in ipairs(threads) do
      not_200 = not_200 + thread:get("not_ok")
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      '{"requests": %d, "seconds": %.1f, "requests_per_second": %.1f, "p50_ms": %.1f, "p90_ms": %.1f, '
      .. '"p99_ms": %.1f, "max_ms": %.1f, "not_200": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "errors": %d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, not_200, e.connect, e.read, e.write, e.timeout,
      not_200 + e.connect + e.read + e.write + e.timeout))
end
