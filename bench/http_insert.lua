-- wrk script of bench/http_bench.sh: REST inserts into nobusd, and a JSON summary line.
--
-- Env (read by every wrk thread):
--   HTTP_BENCH_ROWS    rows per request; 0 or unset = plain GET of the URL given to wrk (/healthz)
--   HTTP_BENCH_STATUS  1 = also count the responses per HTTP status in a response() callback
--                      (wrk then parses every response's headers and body into Lua: extra client
--                      CPU; off by default, the 200s are requests minus wrk's own count of
--                      statuses > 399, and nobusd's /metrics count them too)
--
-- Insert mode: POST of a JSON array of HTTP_BENCH_ROWS rows of ~100 bytes (columns id BIGINT,
-- device STRING, temp DOUBLE, ts TIMESTAMP). Each row's id is unique in the run: 2 digits of wrk
-- thread, 9 of a per-thread request counter, 2 of row index. The request text is built once in
-- init() and cut where the request key goes, so request() is a single table.concat (no string
-- formatting per request).
--
-- done() prints one line "HTTP_BENCH_JSON {...}": duration_us, requests (responses received),
-- bytes, errors (connect, read, write, status = responses > 399, timeout = responses slower than
-- --timeout, left out of the latency figures), latency_us (p50, p90, p99, p999, max, mean), and
-- statuses when HTTP_BENCH_STATUS=1.

local rows = tonumber(os.getenv("HTTP_BENCH_ROWS") or "0") or 0
local count_status = os.getenv("HTTP_BENCH_STATUS") == "1"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
  if #threads > 99 then error("http_insert.lua: at most 99 wrk threads (ids carry 2 digits)") end
end

if rows > 0 then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"

  local KEY = 11 -- digits of the per-request key: 2 of thread, 9 of counter
  local frags    -- the request text, split where the key goes
  local n = 0

  function init(args)
    local marker = string.rep("~", KEY)
    local parts = {}
    for j = 0, rows - 1 do
      -- ~100 bytes with the comma: {"id":<13 digits>,"device":"...","temp":..,"ts":<us>}
      parts[#parts + 1] = string.format(
        '{"id":%s%02d,"device":"sensor-%02d-%04d-rack-%02d-benchmark","temp":%.2f,"ts":%d}',
        marker, j % 100, tid, j, j % 42, 15 + (j * 7 % 1000) / 100, 1764955800000000 + j)
    end
    local req = wrk.format(nil, nil, nil, "[" .. table.concat(parts, ",") .. "]")
    frags = {}
    local from = 1
    while true do
      local s, e = string.find(req, marker, from, true)
      if not s then break end
      frags[#frags + 1] = string.sub(req, from, s - 1)
      from = e + 1
    end
    frags[#frags + 1] = string.sub(req, from)
  end

  function request()
    n = n + 1
    return table.concat(frags, string.format("%02d%09d", tid, n % 1000000000))
  end
end

if count_status then
  statuses = {}
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local function ms(x)  -- latency figures are in microseconds; none when nothing was answered
    if x ~= x or x == math.huge then x = 0 end
    return string.format("%.3f", x / 1000)
  end
  local s = string.format(
    '{"duration_us":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_ms":{"p50":%s,"p90":%s,"p99":%s,"p999":%s,"max":%s,' ..
    '"mean":%s},"rows_per_request":%d',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max), ms(latency.mean), rows)
  if count_status then
    local total = {}
    for _, t in ipairs(threads) do
      for code, c in pairs(t:get("statuses") or {}) do total[code] = (total[code] or 0) + c end
    end
    local parts = {}
    for code, c in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', code, c) end
    s = s .. ',"statuses":{' .. table.concat(parts, ",") .. "}"
  end
  io.write("HTTP_BENCH_JSON " .. s .. "}\n")
end
