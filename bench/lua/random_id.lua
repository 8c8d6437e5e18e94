-- GET a path template ("/api/tasks/%d") with a random id in [lo, hi] on every request.
-- wrk -s random_id.lua http://127.0.0.1:PORT/ -- /api/tasks/%d 1 1000000
local template, lo, hi
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

function init(args)
  template = args[1]
  lo = tonumber(args[2])
  hi = tonumber(args[3])
  math.randomseed(os.time() * 100 + number)
end

function request()
  return wrk.format("GET", string.format(template, math.random(lo, hi)))
end
