-- Load for `leadscore serve` from wrk (a C HTTP client): each request posts new events.
--   wrk -t2 -c4 -d20s -s benchmarks/wrk_events.lua http://127.0.0.1:PORT -- KEY LEADS BATCH PREFIX
-- Every event has a unique id, a random lead among LEADS and a type drawn from the bench's mix;
-- BATCH > 1 posts {"events": [...]}. done() prints one JSON line that bench_serve.py reads.

local threads = {}
local mix = {}
for _, pair in ipairs({{"page_view", 50}, {"email_open", 25}, {"email_click", 8}, {"content_download", 7},
                       {"pricing_page_view", 5}, {"demo_request", 3}, {"contact_form", 2}}) do
  for _ = 1, pair[2] do mix[#mix + 1] = pair[1] end
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  key, leads, batch, prefix = args[1], tonumber(args[2]), tonumber(args[3]), args[4]
  counter = 0
  math.randomseed(id * 7919)
  headers = {["X-API-Key"] = key, ["Content-Type"] = "application/json"}
end

local function event()
  counter = counter + 1
  local lead = math.random(1, leads)
  local kind = mix[math.random(1, #mix)]
  local url = (kind == "page_view" and lead % 5 == 0) and "/pricing" or "/blog"
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(1, 3600))
  return string.format('{"event_id":"%s-%d-%d","lead_id":%d,"type":"%s","ts":"%s","properties":{"url":"%s"}}',
                       prefix, id, counter, lead, kind, ts, url)
end

function request()
  local body
  if batch == 1 then
    body = event()
  else
    local parts = {}
    for i = 1, batch do parts[i] = event() end
    body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  end
  return wrk.format("POST", "/v1/events", headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration / 1e6, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
