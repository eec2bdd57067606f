-- One admission decision on one endpoint's shared log (see src/team/scripts.rs).
-- KEYS: 1 the endpoint's sorted set (member = call id, score = admission ms by Redis TIME),
--       2 the endpoint's pause key (its end in ms), 3 the epoch marker, 4 the consoles set.
-- ARGV: 1 call id, 2 now in ms ('' = TIME; tests pass a virtual clock), 3 the asker's epoch,
--       4 grace ms after a new epoch, 5 the set's TTL ms, 6 number of windows k,
--       then k pairs: allowed at the asker's lane level, reach ms (window + slack),
--       then the asker's process id, how long a console counts ms, the consoles set's TTL ms.
-- Returns {kind, value, now, consoles, count_1 .. count_k}: kind 0 admitted (value = score),
-- 1 wait (value = ms), 2 paused (value = ms left), 3 re-seed (the epoch is missing or not ours).
-- Asking says "I am here" as a heartbeat does, and the reply counts who else is: the share a
-- process falls back to when Redis goes away is only as good as that count, and consoles that
-- start together would otherwise know of each other only a heartbeat later.
local now = now_ms(ARGV[2])
local k = tonumber(ARGV[6])
local wall = now_ms(nil)
redis.call('ZADD', KEYS[4], wall, ARGV[7 + 2 * k])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', wall - tonumber(ARGV[8 + 2 * k]))
redis.call('PEXPIRE', KEYS[4], ARGV[9 + 2 * k])
local consoles = redis.call('ZCARD', KEYS[4])
local pause = redis.call('GET', KEYS[2])
if pause and tonumber(pause) > now then
  return {2, tonumber(pause) - now, now, consoles}
end
local epoch = redis.call('GET', KEYS[3])
if not epoch or epoch ~= ARGV[3] then
  return {3, 0, now, consoles}
end
local longest = 0
for i = 1, k do
  local reach = tonumber(ARGV[6 + 2 * i])
  if reach > longest then longest = reach end
end
local function counts(reply)
  for i = 1, k do
    local reach = tonumber(ARGV[6 + 2 * i])
    reply[#reply + 1] = redis.call('ZCOUNT', KEYS[1], '(' .. (now - reach), '+inf')
  end
  return reply
end
-- A retry of a call already on the books (after a timeout): admitted, counted once.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score then
  return counts({0, tonumber(score), now, consoles})
end
-- After a restart that lost the log, every process re-adds its own calls when it notices
-- (heartbeats, once a second): until the marker is that old, no one may spend.
local created = tonumber(string.match(epoch, ':(%d+)$') or '0')
local grace = tonumber(ARGV[4])
if now - created < grace then
  return {1, grace - (now - created), now, consoles}
end
-- Trim first: counting entries that have left every window would refuse calls spuriously.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local wait = 0
local seen = {}
for i = 1, k do
  local allowed = tonumber(ARGV[5 + 2 * i])
  local reach = tonumber(ARGV[6 + 2 * i])
  local used = redis.call('ZCOUNT', KEYS[1], '(' .. (now - reach), '+inf')
  seen[i] = used
  if used >= allowed then
    -- Room comes when the allowed-th newest call leaves this window.
    local e = redis.call('ZREVRANGE', KEYS[1], allowed - 1, allowed - 1, 'WITHSCORES')
    local w = tonumber(e[2]) + reach - now
    if w > wait then wait = w end
  end
end
if wait > 0 then
  local reply = {1, wait, now, consoles}
  for i = 1, k do reply[#reply + 1] = seen[i] end
  return reply
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local reply = {0, now, now, consoles}
for i = 1, k do reply[#reply + 1] = seen[i] + 1 end
return reply
