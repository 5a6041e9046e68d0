-- Shared by every workload script: per-thread ids, a token file reader, a
-- steady-state window counter, and a done() that prints one JSON line
-- (prefixed "BENCH_JSON ") for bench.py.
local threads = {}
local counter = 0

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local tsbuf = ffi.new("bench_timespec")

-- Monotonic seconds.
function now()
  ffi.C.clock_gettime(1, tsbuf)
  return tonumber(tsbuf.tv_sec) + tonumber(tsbuf.tv_nsec) * 1e-9
end

-- Hash-bound workloads count the successful responses that arrive between
-- $BENCH_WINDOW_FROM and $BENCH_WINDOW_TO seconds after the thread started, so
-- that the ramp-up and the requests still in flight when wrk stops (a whole
-- batch, for a server that hashes all 64 requests at once) do not bias the rate.
local t0, wfrom, wto
steady = 0
function window_init()
  t0 = now()
  wfrom = tonumber(os.getenv("BENCH_WINDOW_FROM") or "")
  wto = tonumber(os.getenv("BENCH_WINDOW_TO") or "")
end

function window_response(status)
  if wfrom ~= nil and status < 400 then
    local t = now() - t0
    if t >= wfrom and t < wto then steady = steady + 1 end
  end
end

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

-- Lines "id<TAB>token" (user workloads) from $BENCH_TOKENS.
function read_tokens()
  local path = os.getenv("BENCH_TOKENS")
  local list = {}
  if path == nil or path == "" then return list end
  for line in io.lines(path) do
    local id, tok = line:match("^(%S+)\t(%S+)$")
    if id then table.insert(list, {id = id, token = tok}) end
  end
  return list
end

function env_num(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return tonumber(v)
end

function done(summary, latency, requests)
  local e = summary.errors
  local total = 0
  for _, t in ipairs(threads) do total = total + (tonumber(t:get("steady")) or 0) end
  local wf = tonumber(os.getenv("BENCH_WINDOW_FROM") or "") or 0
  local wt = tonumber(os.getenv("BENCH_WINDOW_TO") or "") or 0
  io.write(string.format(
    'BENCH_JSON {"steady":%d,"window_s":%.3f,"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    total, wt - wf, summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
