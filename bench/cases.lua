-- wrk script of bench/cases_load.py: the closed loop of one phase, CASES_PHASE:
--   intake    POST /api/v1/cases/ as a hotline operator (token): a text, a point near a random
--             compound, a phone; answered 201 when taken in, located, classified and routed
--   worklist  GET /cases/ as a department handler (session cookie); answered 200
--   tracking  GET /cases/track/<token>/ of random pre-loaded cases (anonymous); answered 200
--
-- From the environment (set by cases_load.py): CASES_PHASE, CASES_TOKEN (an API token),
-- CASES_PLACES (a file of lines "<name as a JSON string>\t<lat>\t<lng>"), CASES_COOKIE,
-- CASES_TRACK (a file with one tracking token per line), CASES_SEED.
-- At the end it prints one line "RESULT <json>" with the counts and latency percentiles.

local phase = os.getenv("CASES_PHASE")
local expect = phase == "intake" and 201 or 200
local places, tracked = {}, {}
if phase == "intake" then
  for line in io.lines(os.getenv("CASES_PLACES")) do
    local name, lat, lng = line:match("^(.-)\t(.-)\t(.-)$")
    places[#places + 1] = { name = name:sub(2, -2), lat = tonumber(lat), lng = tonumber(lng) }
  end
elseif phase == "tracking" then
  for line in io.lines(os.getenv("CASES_TRACK")) do
    tracked[#tracked + 1] = line
  end
end
-- The texts of cases_load.TEXTS: the place's name, then what is wrong there.
local texts = {
  "门口垃圾堆了两天没人清运", "的路灯晚上不亮", "电梯又坏了老人下不了楼",
  "附近工地夜间施工噪音很大", "门口井盖松动很危险", "楼顶漏水家里墙面发霉",
}

local threads = {}
-- Globals, so that setup() can set and done() can read them in each thread's Lua state.
thread_no = 0
ok, failed = 0, 0

function setup(thread)
  thread:set("thread_no", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(tonumber(os.getenv("CASES_SEED") or "1") + thread_no * 7919)
  if phase == "intake" then
    wrk.method = "POST"
    wrk.headers["Authorization"] = "Token " .. os.getenv("CASES_TOKEN")
    wrk.headers["Content-Type"] = "application/json"
  elseif phase == "worklist" then
    wrk.headers["Cookie"] = os.getenv("CASES_COOKIE")
  end
end

function request()
  if phase == "intake" then
    local p = places[math.random(#places)]
    local body = string.format(
      '{"text":"%s%s","lat":%.7f,"lng":%.7f,"reporter_phone":"139%08d","channel":"hotline"}',
      p.name, texts[math.random(#texts)], p.lat + (math.random() - 0.5) * 0.0006,
      p.lng + (math.random() - 0.5) * 0.0006, math.random(0, 99999999))
    return wrk.format(nil, "/api/v1/cases/", nil, body)
  elseif phase == "worklist" then
    return wrk.format(nil, "/cases/")
  end
  return wrk.format(nil, "/cases/track/" .. tracked[math.random(#tracked)] .. "/")
end

function response(status, headers, body)
  if status == expect then
    ok = ok + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local o, f = 0, 0
  for _, thread in ipairs(threads) do
    o = o + thread:get("ok")
    f = f + thread:get("failed")
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"ok":%d,"failed":%d,"socket_errors":%d,'
    .. '"p50":%.1f,"p95":%.1f,"p99":%.1f,"mean":%.1f}\n',
    summary.requests, summary.duration / 1e6, o, f,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
end
