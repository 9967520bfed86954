-- wrk script: SMART backend services token requests, POST /token (bench/run-tls.sh).
-- Usage: wrk -t THREADS ... -s bench/token.lua URL -- FORMS_FILE THREADS
-- FORMS_FILE has one application/x-www-form-urlencoded body a line, each with its own signed
-- client assertion (bench/smart_client.mjs forms). The gateway accepts an assertion's jti
-- once only, so every body is sent at most once: wrk thread k (1..THREADS) sends lines k,
-- k + THREADS, k + 2 THREADS... in order. A thread that has sent all of its lines goes on
-- re-sending its last one (a replay, refused 400) and counts those requests as "exhausted":
-- give more lines than the run can use.
-- done() prints one line:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non2xx=C ok=K ok_rps=O
--         non200=X exhausted=Y
-- ok counts 200 answers carrying an access_token; non200 every other answer (with
-- exhausted ones); rps counts every answer, ok_rps only the 200s.

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("tid", count)
  table.insert(threads, thread)
end

local forms = {}
local next_form = 1
ok = 0
non200 = 0
exhausted = 0

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  if path == nil or nthreads == nil then
    error("token.lua: give the forms file and the number of wrk threads after --")
  end
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
                   Accept = "application/json"}
  local line_no = 0
  for line in io.lines(path) do
    line_no = line_no + 1
    if line_no % nthreads == tid % nthreads and line ~= "" then
      forms[#forms + 1] = wrk.format("POST", "/token", headers, line)
    end
  end
  if #forms == 0 then
    error("token.lua: no forms for thread " .. tid .. " in " .. path)
  end
end

function request()
  if next_form > #forms then
    exhausted = exhausted + 1
    return forms[#forms]
  end
  local r = forms[next_form]
  next_form = next_form + 1
  return r
end

function response(status, headers, body)
  if status == 200 and body:find('"access_token"', 1, true) then
    ok = ok + 1
  else
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local k, x, y = 0, 0, 0
  for _, t in ipairs(threads) do
    k = k + t:get("ok")
    x = x + t:get("non200")
    y = y + t:get("exhausted")
  end
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d " ..
    "ok=%d ok_rps=%.1f non200=%d exhausted=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, k, k / seconds, x, y))
end
