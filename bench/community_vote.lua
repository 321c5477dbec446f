-- Votes on one hot post by random seeded voters: helpful, not helpful or withdrawn at random.
-- Arguments after `--`: the tokens file, the post id.
local tokens = {}
local post

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  post = args[2]
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local path = "/api/v1/posts/" .. post .. "/vote"
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                    ["Content-Type"] = "application/json" }
  local pick = math.random(5)
  if pick == 5 then
    return wrk.format("DELETE", path, headers)
  elseif pick % 2 == 0 then
    return wrk.format("PUT", path, headers, '{"vote":"helpful"}')
  else
    return wrk.format("PUT", path, headers, '{"vote":"not_helpful"}')
  end
end
