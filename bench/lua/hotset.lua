-- Random access over HOTSET_N keys: HOTSET_PREFIX followed by a 10-digit number.
local prefix = os.getenv("HOTSET_PREFIX")
local n = tonumber(os.getenv("HOTSET_N") or "1000")
math.randomseed(os.time())
function request()
  return wrk.format("GET", prefix .. string.format("%010d", math.random(1, n)))
end
