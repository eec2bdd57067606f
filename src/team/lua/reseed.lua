-- Puts this process's recent calls back on the shared log (after an outage, or a restart
-- that lost the data) and adopts the epoch marker, creating it when missing.
-- KEYS: 1 the epoch marker, 2.. the endpoints' sorted sets.
-- ARGV: 1 a new epoch id (used only if the marker is missing), 2 now ms ('' = TIME),
--       3 the marker's TTL ms, 4 the sets' TTL ms, 5 '1' when the caller saw an earlier
--       epoch (so Redis lost its data: reserved work waits out the grace from now) or '0' (a
--       registration this Redis never had: no one to wait for), then per set: n, then n
--       pairs member, score.
-- Same member ids as when admitted, so a call already on the log is not added twice.
-- Returns {the marker's value, now}.
local now = now_ms(ARGV[2])
local pos = 6
for i = 2, #KEYS do
  local n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    redis.call('ZADD', KEYS[i], 'NX', ARGV[pos + 1], ARGV[pos])
    pos = pos + 2
  end
  if n > 0 then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
local marker = redis.call('GET', KEYS[1])
if not marker then
  local created = now
  if ARGV[5] ~= '1' then created = 0 end
  marker = ARGV[1] .. ':' .. created
  redis.call('SET', KEYS[1], marker, 'PX', ARGV[3])
end
return {marker, now}
