-- cbreaker fleet: compare-and-set of the fleet record (docs/fleet.md). Of many members that
-- decide the same transition at once, one lands; the others read the record that did.
-- KEYS: 1 record, 2 counts, 3 leases, 4 log
-- ARGV: 1 expected record ('' none; '!<type>' a key of another type), 2 new record,
--       3 log line
-- Returns: {1, new record} landed, or {0, record found}
local kind = redis.call('TYPE', KEYS[1])['ok']
local found = ''
if kind == 'string' then
  found = redis.call('GET', KEYS[1])
elseif kind ~= 'none' then
  found = '!' .. kind
end
if found ~= ARGV[1] then
  return {0, found}
end
if kind ~= 'string' then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2])
-- The leases and probe counts were the generation's before.
redis.call('DEL', KEYS[3])
for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(f, 1, 2) == 'p.' then redis.call('HDEL', KEYS[2], f) end
end
redis.call('LPUSH', KEYS[4], ARGV[3])
redis.call('LTRIM', KEYS[4], 0, 999)
return {1, ARGV[2]}
