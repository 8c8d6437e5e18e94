-- POST wrong passwords to the login with a new email on every request (so per-account
-- throttling alone cannot stop it) and count the answers by status.
-- wrk -s login_attack.lua http://127.0.0.1:PORT/api/auth/login -- http://127.0.0.1:PORT
local threads = {}
local counter = 0
local origin
statuses = {}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  origin = args[1]
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"email":"victim-%d-%d@example.com","password":"wrong password %d"}', number, counter, counter)
  local headers = {["Content-Type"] = "application/json", ["Origin"] = origin}
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d %d\n", status, n))
  end
end
