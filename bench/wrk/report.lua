-- wrk script for bench/load.sh, unpipelined runs. It defines no `request` function, so wrk keeps its static
-- request (no Lua per request). `done` prints one machine-readable line: the totals, the latency percentiles
-- in microseconds, the error counts.
--
-- The percentiles: wrk 4.1 corrects for coordinated omission by adding samples at multiples of the mean time
-- per request below each slow one. With pipelining that mean (a batch's time over its 16 responses) lies below
-- the fastest recorded batch, and `latency:percentile(p)`, which walks the histogram from the recorded minimum
-- but ranks against the count that includes those samples, answers 0 for the higher percentiles. So the
-- percentiles here are taken among the samples from the minimum up: `visible` is their share of the count,
-- found by bisection where `percentile` turns 0, and the p-th percentile is `percentile(p * visible)`. When
-- nothing lies below the minimum (unpipelined runs), `visible` is 1 and these are wrk's own figures.
-- (`latency(i)` walks from the minimum on every call: too slow to scan the histogram with it.)
function visible_share(latency)
  if latency:percentile(100) ~= 0 then
    return 1
  end
  local low, high = 0, 100
  for _ = 1, 40 do
    local middle = (low + high) / 2
    if latency:percentile(middle) ~= 0 then low = middle else high = middle end
  end
  return low / 100
end

function percentiles(latency, wanted)
  local share = visible_share(latency)
  local found = {}
  for k, p in ipairs(wanted) do
    found[k] = latency:percentile(p * share)
  end
  return found
end

function report(summary, latency)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local p = percentiles(latency, { 50, 90, 99 })
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds, p[1], p[2], p[3], latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end

done = function(summary, latency, requests)
  report(summary, latency)
end
