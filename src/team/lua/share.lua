-- Stores the answer we fetched (unless ARGV[1] is empty: a release) and lets go of our lock.
-- KEYS: 1 the answer, 2 the in-flight lock. ARGV: 1 the answer's JSON, 2 its TTL ms,
-- 3 our process id. Another process's lock is left alone.
if ARGV[1] ~= '' and tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
return 1
