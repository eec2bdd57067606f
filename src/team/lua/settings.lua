-- The first process writes the team's settings; every process reads them back to compare.
-- KEYS: 1 the settings hash. ARGV: 1 TTL ms, then field, value pairs. Returns HGETALL.
for i = 2, #ARGV, 2 do
  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
