-- wrk script: partner pushes, POST /$ingest/<partner> with a partner document as the body,
-- each document sent once, in the order of LIST_FILE (acp-bench-push-docs), as a hospice or
-- the community trust pushes its exports. Run with one wrk thread (-t1): the documents are
-- shared out in order within that thread's connections.
-- Usage: wrk -t1 -cN ... -s bench/push.lua http://127.0.0.1:PORT -- LIST_FILE PARTNER CONTENT_TYPE
-- The answer (a Parameters resource) says how many records were stored; done() prints:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non2xx=C stored=K
--         stored_per_s=X exhausted=Z
-- (rps: pushes per second; stored_per_s: records stored per second; exhausted: requests made
-- after every document was sent once — they re-send the last one, whose records are then
-- unchanged: a run that exhausts its documents needs more of them).

local docs = {}
local next = 1
stored = 0     -- globals: done() reads them with thread:get
exhausted = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local list, partner, ctype = args[1], args[2], args[3]
  if list == nil or partner == nil or ctype == nil then
    error("push.lua: give LIST_FILE PARTNER CONTENT_TYPE after --")
  end
  for path in io.lines(list) do
    local f = assert(io.open(path, "rb"))
    local body = f:read("*a")
    f:close()
    docs[#docs + 1] = wrk.format("POST", "/$ingest/" .. partner,
                                 {["Content-Type"] = ctype, Accept = "application/fhir+json"},
                                 body)
  end
  if #docs == 0 then
    error("push.lua: no documents in " .. list)
  end
end

function request()
  if next > #docs then
    exhausted = exhausted + 1
    return docs[#docs]
  end
  local r = docs[next]
  next = next + 1
  return r
end

function response(status, headers, body)
  local n = body:match('"name":"stored","valueInteger":(%d+)')
  if n then stored = stored + tonumber(n) end
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local t = threads[1]
  local k = t and t:get("stored") or 0
  local z = t and t:get("exhausted") or 0
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d " ..
    "stored=%d stored_per_s=%.1f exhausted=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, k, k / seconds, z))
end
