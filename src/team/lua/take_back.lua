-- A call that did not count: off the log; with a pause, the endpoint stops for everyone.
-- KEYS: 1 the endpoint's sorted set, 2 its pause key.
-- ARGV: 1 call id, 2 pause ms ('' = none), 3 now in ms ('' = TIME).
-- Returns {pause end ms (0 = none), now}. The longer pause wins; the key expires at its end.
local now = now_ms(ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
local ends = 0
if ARGV[2] ~= '' then
  ends = now + tonumber(ARGV[2])
  local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
  if cur >= ends then
    ends = cur
  else
    redis.call('SET', KEYS[2], ends, 'PXAT', ends)
  end
end
return {ends, now}
