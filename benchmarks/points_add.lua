-- wrk script: POST /api/points/add for a rotating set of guests of one restaurant.
-- The token and restaurant come from the environment (benchmarks/points-add sets them).
local token = os.getenv("HERALD_BENCH_TOKEN")
local restaurant = os.getenv("HERALD_BENCH_RESTAURANT")
local counter = 0

request = function()
  counter = counter + 1
  local body = string.format('{"guestId":"bench-%d","restaurantId":"%s","amount":1,"description":"bench"}',
                             counter % 1000, restaurant)
  return wrk.format("POST", "/api/points/add",
                    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %.3f, \"p50ms\": %.3f, \"p90ms\": %.3f, \"p99ms\": %.3f, \"maxms\": %.3f, \"errors\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
