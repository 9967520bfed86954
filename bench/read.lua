-- wrk script: FHIR read of a random patient, GET /Patient/<id>.
-- Usage: wrk ... -s bench/read.lua http://127.0.0.1:PORT -- IDS_FILE [TOKEN_FILE]
-- IDS_FILE has one "<patient id>\t<NHS number>" line per patient (acp-bench-load-data).
-- TOKEN_FILE (bench/run-tls.sh) holds an access token: every request then carries
-- "Authorization: Bearer <token>" (gateway.auth.mode=smart).
-- Requests are formatted once in init(), so wrk spends as little as possible per request.
-- done() prints one line for bench/run.sh:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non2xx=C

local ids = {}
local seed = 0

function setup(thread)
  seed = seed + 1
  thread:set("seed", seed)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("read.lua: give the ids file after --")
  end
  local headers = {Accept = "application/fhir+json"}
  if args[2] ~= nil then
    local f = assert(io.open(args[2], "r"))
    local token = f:read("*l")
    f:close()
    if token == nil or token == "" then
      error("read.lua: no token in " .. args[2])
    end
    headers.Authorization = "Bearer " .. token
  end
  for line in io.lines(path) do
    local id = line:match("^([^\t]+)\t")
    if id then
      ids[#ids + 1] = wrk.format("GET", "/Patient/" .. id, headers)
    end
  end
  if #ids == 0 then
    error("read.lua: no ids in " .. path)
  end
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  return ids[math.random(#ids)]
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
