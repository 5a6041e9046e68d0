-- GET /api/collections/users/records/{own id} with that user's token,
-- cycling through the token pool (each thread starts at its own offset).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local pool, i

function init(args)
  pool = read_tokens()
  i = (tid or 0) * 17
end

function request()
  i = i + 1
  local u = pool[(i % #pool) + 1]
  return wrk.format("GET", "/api/collections/users/records/" .. u.id,
    {["Authorization"] = u.token})
end
