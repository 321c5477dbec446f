-- GET /api/v1/posts/nearby at a random point of South Korea, as a random seeded voter.
-- Arguments after `--`: the tokens file.
local tokens = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local lat = 33.0 + math.random() * 5.6
  local lon = 124.6 + math.random() * 6.4
  local path = string.format("/api/v1/posts/nearby?lat=%.6f&lon=%.6f", lat, lon)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
