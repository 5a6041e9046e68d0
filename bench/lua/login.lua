-- POST /api/collections/users/auth-with-password as a random seeded user.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local users
local password = os.getenv("BENCH_PASSWORD") or "benchpass123"

function init(args)
  window_init()
  users = env_num("BENCH_USERS", 1000)
  math.randomseed(os.time() + (tid or 0) * 104729)
end

function request()
  local i = math.random(0, users - 1)
  local body = string.format('{"identity":"u%d@bench.local","password":"%s"}', i, password)
  return wrk.format("POST", "/api/collections/users/auth-with-password",
    {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  window_response(status)
end
