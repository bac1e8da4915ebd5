-- wrk script: POSTs search bodies, one JSON body per line of the file given after "--", cycling through them.
-- usage: wrk -t2 -c8 -d30s -s search.lua http://127.0.0.1:5080/indexes/scifact/search -- bodies.txt
local bodies = {}
local i = 0

function init(args)
  local path = args[1] or "bodies.txt"
  for line in io.lines(path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  if #bodies == 0 then error("no bodies in " .. path) end
  -- threads start at different places so they do not ask the same query in lockstep
  i = math.random(#bodies)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local key = os.getenv("SEMSEARCH_API_KEY")
  if key and #key > 0 then wrk.headers["X-Api-Key"] = key end
end

function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    e.connect, e.read, e.write, e.status, e.timeout))
end
