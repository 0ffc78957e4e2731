-- wrk script: POST /v1/transfers between random accounts listed (one id a line) in $ACCOUNTS_FILE,
-- each request with its own Idempotency-Key; $TOKEN is a staff bearer token, $TENANT the tenant (demo). Amounts are small so most transfers succeed.
local ids = {}
for line in io.lines(os.getenv("ACCOUNTS_FILE")) do ids[#ids + 1] = line end
local counter = 0
local threads = 0
local run = tostring(os.time())

-- Each thread gets its own tag, so no two requests share an Idempotency-Key.
function setup(thread)
  threads = threads + 1
  thread:set("tag", run .. "-" .. threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + #tag + tonumber(string.match(tag, "-(%d+)$")))
end

function request()
  counter = counter + 1
  local from = ids[math.random(#ids)]
  local to = ids[math.random(#ids)]
  while to == from do to = ids[math.random(#ids)] end
  local body = string.format('{"from_account_id":"%s","to_account_id":"%s","amount":%d,"currency":"CAD"}', from, to, math.random(1, 100))
  local headers = {
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["X-Tenant"] = os.getenv("TENANT") or "demo",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("bench-%s-%d", tag, counter),
  }
  return wrk.format("POST", "/v1/transfers", headers, body)
end

local statuses = {}
function response(status) statuses[status] = (statuses[status] or 0) + 1 end
