-- wrk script: a request about one child, as a clinician's system makes it. The kind after the
-- ids file (default "search"):
--   search      GET /CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|<NHS number>
--   gp          the GP query: the same with &status=active&_include=CarePlan:subject (the
--               active plans and the Patient in one Bundle)
--   summary     GET /Patient/$acp-summary?identifier=https://fhir.nhs.uk/Id/nhs-number|<NHS number>
--   encounters  GET /Encounter?subject=Patient/<id>&_sort=-date (the encounter list, newest first)
-- with the value percent-encoded (":" "/" and "|" as %3A %2F %7C). The child is drawn at
-- random from IDS_FILE ("<patient id>\t<NHS number>" lines, from acp-bench-corpus or
-- acp-bench-load-data).
-- Requests are formatted once in init(), so wrk spends as little as possible per request.
-- Usage: wrk ... -s bench/search.lua http://127.0.0.1:PORT -- IDS_FILE [search|gp|summary|encounters]
-- done() prints one line for bench/run.sh and bench/run-summary.sh:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non2xx=C

local paths = {}
local seed = 0
local nhsSystem = "https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C"
local kinds = {
  search = function(id, nhs) return "/CarePlan?subject:Patient.identifier=" .. nhsSystem .. nhs end,
  gp = function(id, nhs)
    return "/CarePlan?subject:Patient.identifier=" .. nhsSystem .. nhs ..
           "&status=active&_include=CarePlan:subject"
  end,
  summary = function(id, nhs) return "/Patient/$acp-summary?identifier=" .. nhsSystem .. nhs end,
  encounters = function(id, nhs) return "/Encounter?subject=Patient/" .. id .. "&_sort=-date" end,
}

function setup(thread)
  seed = seed + 1
  thread:set("seed", seed)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("search.lua: give the ids file after --")
  end
  local kind = kinds[args[2] or "search"]
  if kind == nil then
    error("search.lua: the request after the ids file is search, gp, summary or encounters")
  end
  for line in io.lines(path) do
    local id, nhs = line:match("^([^\t]+)\t(%d+)$")
    if nhs then
      paths[#paths + 1] = wrk.format("GET", kind(id, nhs), {Accept = "application/fhir+json"})
    end
  end
  if #paths == 0 then
    error("search.lua: no NHS numbers in " .. path)
  end
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  return paths[math.random(#paths)]
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
