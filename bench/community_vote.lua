-- Votes on one hot post by random seeded voters: helpful, not helpful or withdrawn at random.
-- Arguments after `--`: the tokens file, the post id.
-- Every request is formatted once in init(), so the load generator, which shares the cores
-- with the server, spends its time sending rather than building strings.
local requests = {}

function init(args)
  local path = "/api/v1/posts/" .. args[2] .. "/vote"
  for line in io.lines(args[1]) do
    if #line > 0 then
      local headers = { ["Authorization"] = "Bearer " .. line, ["Content-Type"] = "application/json" }
      requests[#requests + 1] = wrk.format("PUT", path, headers, '{"vote":"helpful"}')
      requests[#requests + 1] = wrk.format("PUT", path, headers, '{"vote":"not_helpful"}')
      requests[#requests + 1] = wrk.format("PUT", path, headers, '{"vote":"helpful"}')
      requests[#requests + 1] = wrk.format("PUT", path, headers, '{"vote":"not_helpful"}')
      requests[#requests + 1] = wrk.format("DELETE", path, headers)
    end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  return requests[math.random(#requests)]
end
