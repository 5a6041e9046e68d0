-- POST /api/collections/users/records with a unique email per request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local n = 0
local prefix
local password = os.getenv("BENCH_PASSWORD") or "benchpass123"

function init(args)
  window_init()
  math.randomseed(os.time() + (tid or 0) * 7919)
  prefix = string.format("s%d-%d-%d", os.time(), tid or 0, math.random(1, 1000000000))
end

function request()
  n = n + 1
  local body = string.format(
    '{"email":"%s-%d@bench.local","password":"%s","passwordConfirm":"%s","city":"Bergen","age":%d,"name":"Signup %d"}',
    prefix, n, password, password, 18 + n % 60, n)
  return wrk.format("POST", "/api/collections/users/records",
    {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  window_response(status)
end
