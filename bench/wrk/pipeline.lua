-- wrk script for bench/load.sh, pipelined runs, as TechEmpower does: each write carries `depth` requests
-- (`wrk ... -s pipeline.lua URL -- 16`), and wrk counts each response. A pipelined response's latency runs
-- from the write of its batch. `done` is report.lua's (same directory).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local batch

init = function(args)
  local depth = tonumber(args[1]) or 1
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  batch = table.concat(r)
end

request = function()
  return batch
end
