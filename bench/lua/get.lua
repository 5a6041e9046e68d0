-- GET $BENCH_PATH, with $BENCH_AUTH as Authorization when set (admin lists,
-- and the token-less health path). A static request: no per-request Lua.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH") or "/"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then wrk.headers["Authorization"] = auth end
