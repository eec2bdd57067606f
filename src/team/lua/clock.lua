-- Prepended to every script that reads the clock (src/team/scripts.rs): Redis's own time in
-- ms, so clients' clocks never matter, or the virtual "now" a test passes.
local function now_ms(given)
  if given ~= nil and given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
