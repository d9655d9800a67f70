-- wrk script of bench/visits_load.py: each request syncs VISITS_BATCH new visits, each on a
-- random task of the open round, with the full form answered, as a phone sends them.
--
-- From the environment (set by visits_load.py): VISITS_TOKEN (an API token), VISITS_TASKS (a
-- file with one task id per line), VISITS_BATCH, VISITS_RUN (8 hex digits, new on each run).
-- UUIDs are RUN-thread-random-random-counter: unique within a run by construction.
-- At the end it prints one line "RESULT <json>" with the counts and latency percentiles.

local token = os.getenv("VISITS_TOKEN")
local batch = tonumber(os.getenv("VISITS_BATCH") or "1")
local run = os.getenv("VISITS_RUN")
local tasks = {}
for line in io.lines(os.getenv("VISITS_TASKS")) do
  tasks[#tasks + 1] = line
end

local threads = {}
local counter = 0
-- Globals, so that setup() can set and done() can read them in each thread's Lua state.
thread_no = 0
created, refused, failed = 0, 0, 0

function setup(thread)
  thread:set("thread_no", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(tonumber(run, 16) + thread_no * 7919)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Token " .. token
  wrk.headers["Content-Type"] = "application/json"
end

local answers = '"answers":{"temperature":36.6,"came_from_outside":false,"people_home":3,'
  .. '"elderly_alone":false,"disability_needs_help":false}'

function request()
  local visits = {}
  for i = 1, batch do
    counter = counter + 1
    local uuid = string.format("%s-%04x-4%03x-8%03x-%012x", run, thread_no,
      math.random(0, 4095), math.random(0, 4095), counter)
    visits[i] = '{"uuid":"' .. uuid .. '","task":' .. tasks[math.random(#tasks)]
      .. ',"outcome":"visited",' .. answers .. ',"visited_at":"2024-01-01T10:00:00+08:00"}'
  end
  return wrk.format(nil, "/api/v1/campaign-visits/sync/", nil,
    '{"visits":[' .. table.concat(visits, ",") .. ']}')
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
    return
  end
  local _, n = string.gsub(body, '"status":"created"', "")
  created = created + n
  refused = refused + (batch - n)
end

function done(summary, latency, requests)
  local c, r, f = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    r = r + thread:get("refused")
    f = f + thread:get("failed")
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"created":%d,"refused":%d,"failed":%d,'
    .. '"socket_errors":%d,"p50":%.1f,"p95":%.1f,"p99":%.1f,"mean":%.1f}\n',
    summary.requests, summary.duration / 1e6, c, r, f,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
end
