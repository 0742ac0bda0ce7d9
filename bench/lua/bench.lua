-- One wrk script for every workload. Arguments: SPEC_FILE THREADS.
--
-- SPEC_FILE is "MODE METHOD PATH", header lines, a blank line, then the body. With MODE "ONE"
-- every request sends that body; with MODE "POOL" every line after the blank one is a body to
-- send exactly once (refresh tokens, authorization codes): thread k of THREADS takes lines k,
-- k+THREADS, ... and stops once every one of them is answered, so no credential is ever sent
-- twice. A connection that finds the share used up sends nothing (an empty request) and idles.
-- wrk calls request() once on thread 0 before the run to check the script, and never sends that
-- body: thread 0 expects one answer fewer.
-- wrk's own clock always runs for the whole -d duration, so a pool run times itself (first request
-- to last answer, monotonic clock through LuaJIT's FFI) and counts its own answers.
-- At the end one line "BENCH_JSON {...}" carries the figures (latencies in microseconds);
-- every response that is not 2xx counts as an error, and the first one is kept as a sample.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000000 + math.floor(tonumber(now_ts.tv_nsec) / 1000)
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local pool = nil
local next_body = 1
answered = 0
first_us = 0
last_us = 0
local static_request = nil
local method, path, headers = nil, nil, {}
non2xx = 0
sample = ""

local function read_spec(file)
  local f = assert(io.open(file, "r"))
  local first = f:read("*l")
  local mode, m, p = first:match("^(%S+)%s+(%S+)%s+(%S+)")
  local hdrs = {}
  for line in f:lines() do
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    hdrs[name] = value
  end
  local rest = f:read("*a") or ""
  f:close()
  return mode, m, p, hdrs, rest
end

function init(args)
  local mode, body
  mode, method, path, headers, body = read_spec(args[1])
  local nthreads = tonumber(args[2])
  if mode == "POOL" then
    pool = {}
    local i = 0
    for line in body:gmatch("[^\n]+") do
      if i % nthreads == thread_index then table.insert(pool, line) end
      i = i + 1
    end
    expected = #pool - (thread_index == 0 and 1 or 0)
  else
    if body == "" then body = nil end
    static_request = wrk.format(method, path, headers, body)
  end
end

function request()
  if pool == nil then return static_request end
  local body = pool[next_body]
  if body == nil then
    if #pool == 0 then wrk.thread:stop() end
    return ""
  end
  if next_body == 1 then first_us = now_us() end
  next_body = next_body + 1
  return wrk.format(method, path, headers, body)
end

function response(status, hdrs, body)
  if pool ~= nil then
    answered = answered + 1
    last_us = now_us()
    if answered >= expected then wrk.thread:stop() end
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if sample == "" then
      local challenge = hdrs["WWW-Authenticate"] or hdrs["www-authenticate"]
      sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
      if challenge then sample = sample .. " WWW-Authenticate: " .. challenge end
    end
  end
end

local function json_string(s)
  s = s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  local pool_answers, pool_start, pool_end = 0, nil, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local s = t:get("sample") or ""
    if first == "" then first = s end
    pool_answers = pool_answers + (t:get("answered") or 0)
    local started = t:get("first_us") or 0
    if started > 0 and (pool_start == nil or started < pool_start) then pool_start = started end
    pool_end = math.max(pool_end, t:get("last_us") or 0)
  end
  local pool_us = (pool_start and pool_end > pool_start) and (pool_end - pool_start) or 0
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"pool_answers":%d,"pool_us":%d,' ..
    '"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"sample":%s}\n',
    summary.requests, summary.duration, pool_answers, pool_us, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    json_string(first)))
end
