-- POST /api/collections/users/auth-refresh with a user token.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local pool, i

function init(args)
  pool = read_tokens()
  i = (tid or 0) * 17
end

function request()
  i = i + 1
  local u = pool[(i % #pool) + 1]
  return wrk.format("POST", "/api/collections/users/auth-refresh",
    {["Authorization"] = u.token})
end
