-- Once a second per process: say we are here, count who else is, keep our epoch marker
-- alive, and read what the status shows and the fallback needs.
-- KEYS: 1 the consoles set, 2 the epoch marker, then per endpoint: its sorted set, its pause key.
-- ARGV: 1 process id, 2 our epoch, 3 the marker's TTL ms, 4 how long a console counts ms,
--       5 the consoles set's TTL ms, 6 number of windows k, 7 .. 6+k reach ms,
--       then per endpoint: the lowest score to return (calls at or after it).
-- Returns {now, consoles, epoch ok (1/0), then per endpoint: pause end (0), k counts, m, m
-- scores, their m members}: the members let a process that outlives a Redis restart put the
-- team's calls it saw back on the log, its peers' that ended included, each counted once.
local now = now_ms(nil)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local reply = {now, redis.call('ZCARD', KEYS[1]), 0}
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  reply[3] = 1
end
local k = tonumber(ARGV[6])
local e = 0
for i = 3, #KEYS, 2 do
  e = e + 1
  local pause = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if pause <= now then pause = 0 end
  reply[#reply + 1] = pause
  for w = 1, k do
    local reach = tonumber(ARGV[6 + w])
    reply[#reply + 1] = redis.call('ZCOUNT', KEYS[i], '(' .. (now - reach), '+inf')
  end
  local scores = redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[6 + k + e], '+inf', 'WITHSCORES')
  reply[#reply + 1] = #scores / 2
  for j = 2, #scores, 2 do reply[#reply + 1] = tonumber(scores[j]) end
  for j = 1, #scores, 2 do reply[#reply + 1] = scores[j] end
end
return reply
