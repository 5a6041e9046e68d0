-- PATCH /api/collections/users/records/{own id}: a profile update.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local pool, i

function init(args)
  pool = read_tokens()
  i = (tid or 0) * 17
end

function request()
  i = i + 1
  local u = pool[(i % #pool) + 1]
  local body = string.format('{"age":%d,"name":"Updated %d"}', 18 + i % 60, i)
  return wrk.format("PATCH", "/api/collections/users/records/" .. u.id,
    {["Authorization"] = u.token, ["Content-Type"] = "application/json"}, body)
end
