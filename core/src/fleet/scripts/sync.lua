-- cbreaker fleet: one member's sync (docs/fleet.md). Stores and reads only; every decision is
-- the member's core. One hash tag holds every key of a breaker (Redis Cluster).
-- KEYS: 1 record, 2 counts, 3 seqs, 4 trips, 5 members, 6 leases
-- ARGV: 1 member, 2 record prefix (config), 3 record the member follows ('' none),
--       4 leases wanted, 5 renew (0/1), 6 half_open_max_calls, 7 lease ms (half_open_max_wait),
--       8 window ms, 9 member ttl ms, 10 delta count, then 8 fields a delta:
--       seq, generation, probe (0/1), age ms, successes, failures, slow, tripped (0/1)
-- Returns: {server ms, has record (0/1), record, acked seq, leases held, members,
--           {count field, value, ...}, {trip entry, ...}}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local window = tonumber(ARGV[8])

local kind = redis.call('TYPE', KEYS[1])['ok']
local record = ''
local has = 0
if kind == 'string' then
  record = redis.call('GET', KEYS[1])
  has = 1
elseif kind ~= 'none' then
  record = '!' .. kind
  has = 1
end

-- Apply the member's deltas once each, unless the fleet has another config (the member is
-- refused by its core on this answer).
local acked = tonumber(redis.call('HGET', KEYS[3], member) or '0')
local other = string.sub(record, 1, 4) == 'cb1 ' and string.sub(record, 1, 21) ~= ARGV[2]
local n = tonumber(ARGV[10])
if not other then
  local last = acked
  for i = 0, n - 1 do
    local b = 10 + i * 8
    local seq = tonumber(ARGV[b + 1])
    if seq > acked then
      local gen, age = ARGV[b + 2], tonumber(ARGV[b + 4])
      if age < window then
        local field
        if ARGV[b + 3] == '1' then
          field = 'p.' .. gen .. '.'
        else
          field = 'w.' .. gen .. '.' .. math.floor((now - age) / 1000) .. '.'
        end
        local s, f, w = tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6]), tonumber(ARGV[b + 7])
        if s > 0 then redis.call('HINCRBY', KEYS[2], field .. 's', s) end
        if f > 0 then redis.call('HINCRBY', KEYS[2], field .. 'f', f) end
        if w > 0 then redis.call('HINCRBY', KEYS[2], field .. 'w', w) end
        if ARGV[b + 8] == '1' then
          redis.call('ZADD', KEYS[4], now - age, gen .. '.' .. member)
        end
      end
      if seq > last then last = seq end
    end
  end
  if last > acked then
    redis.call('HSET', KEYS[3], member, last)
    acked = last
  end
end

-- Window fields past the window go.
local oldest = math.floor((now - window) / 1000)
local fields = redis.call('HKEYS', KEYS[2])
for _, f in ipairs(fields) do
  local sec = string.match(f, '^w%.%d+%.(%d+)%.')
  if sec and tonumber(sec) <= oldest then redis.call('HDEL', KEYS[2], f) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (now - window))

redis.call('ZADD', KEYS[5], now, member)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (now - tonumber(ARGV[9])))

-- Probe leases: expired ones go; grant, return or renew against the record the member
-- follows only (a transition deletes every lease of the generation before).
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
local mine = {}
local held = redis.call('ZRANGE', KEYS[6], 0, -1)
local taken = {}
for _, l in ipairs(held) do
  taken[l] = true
  if string.sub(l, 1, #member + 1) == member .. '#' then table.insert(mine, l) end
end
if has == 1 and record == ARGV[3] then
  local want, max, lease_ms = tonumber(ARGV[4]), tonumber(ARGV[6]), tonumber(ARGV[7])
  local free = max - #held
  local i = 1
  -- New leases only for a member with calls waiting (renew = 1): one that keeps what it
  -- holds never gets back a lease that just expired.
  while ARGV[5] == '1' and #mine < want and free > 0 do
    local name = member .. '#' .. i
    if not taken[name] then
      redis.call('ZADD', KEYS[6], now + lease_ms, name)
      table.insert(mine, name)
      free = free - 1
    end
    i = i + 1
  end
  while #mine > want do
    redis.call('ZREM', KEYS[6], table.remove(mine))
  end
  if ARGV[5] == '1' then
    for _, l in ipairs(mine) do redis.call('ZADD', KEYS[6], 'XX', now + lease_ms, l) end
  end
end

return {now, has, record, acked, #mine, redis.call('ZCARD', KEYS[5]),
        redis.call('HGETALL', KEYS[2]), redis.call('ZRANGE', KEYS[4], 0, -1)}
