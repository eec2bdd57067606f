-- The shared cache's answer, or the right to fetch it, in one step.
-- KEYS: 1 the answer ({"at_ms":…,"at":…,"value":…}, PX = its TTL), 2 the in-flight lock.
-- ARGV: 1 fresh after ms ('' = any age), 2 our process id, 3 the lock's ms, 4 the most a
--       Busy asker waits before looking again, ms.
-- Returns {1, 0, answer} hit, {2, ms, ''} someone else is fetching, {3, 0, ''} yours (locked).
local answer = redis.call('GET', KEYS[1])
if answer then
  if ARGV[1] == '' then return {1, 0, answer} end
  local at = tonumber(string.match(answer, '^{"at_ms":(%d+)') or '-1')
  if at >= tonumber(ARGV[1]) then return {1, 0, answer} end
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then
  local left = redis.call('PTTL', KEYS[2])
  local cap = tonumber(ARGV[4])
  if left < 0 or left > cap then left = cap end
  return {2, left, ''}
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {3, 0, ''}
