-- wrk script of deploy/bench-processes.sh: requests one environment through doppel's router
-- (Host header BENCH_HOST, Basic auth BENCH_AUTH since staging is private), each connection
-- pausing BENCH_PAUSE_MS between requests, and on exit prints the requests, the failed ones
-- (an answer outside 2xx, or a connect/read/write error or timeout: a reset connection is a
-- read error), the latency percentiles, and how many answers each distinct body got.
wrk.headers["Host"] = os.getenv("BENCH_HOST")
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_AUTH")
local pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  bodies = {}
end

function delay()
  return pause
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  local key = string.format("%d %s", status, (body or ""):gsub("%s+$", ""))
  bodies[key] = (bodies[key] or 0) + 1
end

function done(summary, latency, requests)
  local bad, seen = 0, {}
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    for body, n in pairs(t:get("bodies")) do
      seen[body] = (seen[body] or 0) + n
    end
  end
  local e = summary.errors
  local sockets = e.connect + e.read + e.write + e.timeout
  io.write(string.format("requests: %d in %.1f s\n", summary.requests, summary.duration / 1e6))
  io.write(string.format("failed: %d (non-2xx %d, connect %d, read/reset %d, write %d, timeout %d)\n",
    bad + sockets, bad, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("latency ms: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3))
  for body, n in pairs(seen) do
    io.write(string.format("answered \"%s\": %d\n", body, n))
  end
end
