-- Puts this process's recent calls back on the shared log (after an outage, or a restart
-- that lost the data) and adopts the epoch marker, creating it when missing.
-- KEYS: 1 the epoch marker, 2 the consoles set, 3.. the endpoints' sorted sets.
-- ARGV: 1 a new epoch id (used only if the marker is missing), 2 now ms ('' = TIME),
--       3 the marker's TTL ms, 4 the sets' TTL ms, 5 '1' when the caller saw an earlier
--       epoch (so Redis lost its data: reserved work waits out the grace from now) or '0' (a
--       registration this Redis never had: no one to wait for), 6 the process id, 7 how
--       long a console counts ms, 8 the consoles set's TTL ms, then per set: n, then n pairs
--       member, score.
-- Same member ids as when admitted, so a call already on the log is not added twice.
-- Connecting says "I am here" (see admit.lua for why) and counts who else is.
-- Returns {the marker's value, now, consoles}.
local now = now_ms(ARGV[2])
local wall = now_ms(nil)
redis.call('ZADD', KEYS[2], wall, ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', wall - tonumber(ARGV[7]))
redis.call('PEXPIRE', KEYS[2], ARGV[8])
local consoles = redis.call('ZCARD', KEYS[2])
local pos = 9
for i = 3, #KEYS do
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
return {marker, now, consoles}
