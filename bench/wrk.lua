-- wrk script of bench/xmlcurl_bench.py; wrk loads it in its main thread and in each
-- of its threads. Configured through the environment:
--   BENCH_BODIES   file of request bodies, one a line (sent in turn, each thread
--                  starting at its own place)
--   BENCH_PATH     URL path; BENCH_AUTH  Authorization header
--   BENCH_EXPECT   text every good answer contains (others are counted as bad)
--   BENCH_RATE     requests/s for all threads together; 0 = flat out
--   BENCH_THREADS  wrk's -t (at a given rate: one connection per thread)
-- done() prints one line: "BENCH key=value ..." (latencies in microseconds).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local timespec = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
local path = os.getenv("BENCH_PATH")
local expect = os.getenv("BENCH_EXPECT")
local rate = tonumber(os.getenv("BENCH_RATE"))
local nthreads = tonumber(os.getenv("BENCH_THREADS"))

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")

-- Main thread: keep the threads to collect their counts in done().
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- Per thread (globals, so that done() can read them with thread:get).
latencies = {}
bad = 0
local next_body, started, due_since, next_due = nil, nil, nil, nil
local period = rate > 0 and nthreads * 1e6 / rate or 0

function request()
  next_body = (next_body or id * 7919) % #bodies + 1
  local now = now_us()
  -- Coordinated omission: a request sent late because its connection was still
  -- waiting for the previous answer is timed from when it was due (as wrk2 does).
  started = due_since or now
  due_since = nil
  return wrk.format(nil, path, nil, bodies[next_body])
end

function response(status, headers, body)
  if rate > 0 then
    latencies[#latencies + 1] = now_us() - started
  end
  if status ~= 200 or not string.find(body, expect, 1, true) then
    bad = bad + 1
  end
end

if rate > 0 then
  -- Open loop: each thread's one connection sends on a fixed schedule (threads
  -- staggered), whatever the answers' latency; wrk's timers have 1 ms resolution.
  function delay()
    local now = now_us()
    next_due = next_due or now + id * period / nthreads
    local due = next_due
    next_due = next_due + period
    if now >= due then
      due_since = due
      return 0
    end
    return math.ceil((due - now) / 1000)
  end
end

function done(summary, latency, requests)
  local all, bad_total = {}, 0
  for _, thread in ipairs(threads) do
    for _, value in ipairs(thread:get("latencies")) do
      all[#all + 1] = value
    end
    bad_total = bad_total + thread:get("bad")
  end
  local p50, p99
  if #all > 0 then
    table.sort(all)
    p50 = all[math.ceil(#all * 0.50)]
    p99 = all[math.ceil(#all * 0.99)]
  else -- flat out: several connections per thread, wrk's own timing
    p50, p99 = latency:percentile(50), latency:percentile(99)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bad=%d errors=%d p50=%.1f p99=%.1f\n",
    summary.requests, summary.duration, bad_total,
    e.connect + e.read + e.write + e.status + e.timeout, p50, p99
  ))
end
