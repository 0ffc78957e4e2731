-- wrk script: POST /v1/transfers between random accounts listed (one id a line) in $ACCOUNTS_FILE,
-- each request with its own Idempotency-Key; $TOKEN is a staff bearer token, $TENANT the tenant (demo).
-- Kept lean (headers built once per thread, no response hook) so wrk is not the bottleneck.
local ids = {}
for line in io.lines(os.getenv("ACCOUNTS_FILE")) do ids[#ids + 1] = line end
local threads = 0
local run = tostring(os.time())

-- Each thread gets its own tag, so no two requests share an Idempotency-Key.
function setup(thread)
  threads = threads + 1
  thread:set("tag", run .. "-" .. threads)
end

local counter = 0
local headers

function init(args)
  math.randomseed(os.time() * 1000 + tonumber(string.match(tag, "-(%d+)$")))
  headers = {
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["X-Tenant"] = os.getenv("TENANT") or "demo",
    ["Content-Type"] = "application/json",
  }
end

function request()
  counter = counter + 1
  local n = #ids
  local from = math.random(n)
  local to = math.random(n - 1)
  if to >= from then to = to + 1 end
  headers["Idempotency-Key"] = "bench-" .. tag .. "-" .. counter
  local body = '{"from_account_id":"' .. ids[from] .. '","to_account_id":"' .. ids[to] .. '","amount":' .. math.random(1, 100) .. ',"currency":"CAD"}'
  return wrk.format("POST", "/v1/transfers", headers, body)
end
