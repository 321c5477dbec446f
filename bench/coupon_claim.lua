-- A claim storm: every request a random seeded claimant and a fresh Idempotency-Key, so a
-- claimant's later claims are refused as already holding, and the day sells out.
-- Arguments after `--`: the tokens file, the event id, a tag naming the run.
-- A client that is told to come back later (429 or 503) waits as long as `Retry-After` says
-- before its next claim, as the app does; wrk then pauses one connection of the thread per such
-- answer (it asks `delay()` once before each request, without saying for which connection).
-- done() prints the answers by kind: `answers issued=… refused=… busy=… other=…`.
local threads = {}

function setup(thread)
  thread:set("tag", tostring(#threads))
  table.insert(threads, thread)
end

local headers, path, counter = {}, nil, 0
-- Pauses owed, in milliseconds, oldest first.
local pauses = {}
issued, refused, busy, other = 0, 0, 0, 0

function init(args)
  path = "/api/v1/coupon-events/" .. args[2] .. "/claims"
  for line in io.lines(args[1]) do
    if #line > 0 then
      headers[#headers + 1] = "Bearer " .. line
    end
  end
  tag = args[3] .. "-" .. tag
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + #tag)
end

function request()
  counter = counter + 1
  return wrk.format("POST", path, {
    ["Authorization"] = headers[math.random(#headers)],
    ["Idempotency-Key"] = tag .. "-" .. counter,
  })
end

function delay()
  return table.remove(pauses, 1) or 0
end

function response(status, response_headers)
  if status == 201 then
    issued = issued + 1
  elseif status == 409 or status == 403 then
    refused = refused + 1
  elseif status == 429 or status == 503 then
    busy = busy + 1
    local seconds = tonumber(response_headers["Retry-After"] or response_headers["retry-after"] or "1") or 1
    pauses[#pauses + 1] = math.floor(seconds * 1000)
  else
    other = other + 1
  end
end

function done()
  local totals = { issued = 0, refused = 0, busy = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format("answers issued=%d refused=%d busy=%d other=%d\n",
    totals.issued, totals.refused, totals.busy, totals.other))
end
