/// The Lua scripts of connection state recovery in Redis (SPEC section 4.1, docs/recovery.md).
///
/// Keys are made from the prefix in ARGV[1] rather than passed in KEYS: one script call covers a
/// whole batch whose rooms are only known inside it. That suits one Redis (or a replica set),
/// not a Redis Cluster, like the rest of the adapter's channel scheme.
enum RecoveryScripts {
    /// Publishes a batch in order, in one round trip. For each event that wants an offset: the
    /// next offset (`<ms>-<seq>` from Redis' clock, growing across restarts), an entry in each of
    /// its rooms' streams (bounded by count, by age as the entry is added, and expiring when the
    /// room goes quiet, set once per room and call), and
    /// the message with the offset appended; an event whose id was published before (a relay that
    /// retries a batch it could not mark) is skipped. Other events are published as they are.
    ///
    /// ARGV: prefix, events per room, retention (ms), then per event: event id (`` for none),
    /// `1` when it wants an offset (else `0`), channel, message, data, room count, rooms...
    /// Returns one offset per event (`` when it got none or was skipped).
    static let publish = """
        local prefix = ARGV[1]
        local maxlen = tonumber(ARGV[2])
        local retention = tonumber(ARGV[3])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local lastKey = prefix .. 'last'
        local seenKey = prefix .. 'published'
        local ms, seq = 0, 0
        local last = redis.call('GET', lastKey)
        if last then
          local dash = string.find(last, '-', 1, true)
          ms = tonumber(string.sub(last, 1, dash - 1))
          seq = tonumber(string.sub(last, dash + 1))
        end
        local minid = string.format('%.0f-0', math.max(now - retention, 0))
        local offsets = {}
        local touched = {}
        local assigned = false
        local i = 4
        while i <= #ARGV do
          local eventId, wants, channel, message, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
          local count = tonumber(ARGV[i + 5])
          local first = i + 6
          i = first + count
          if wants ~= '1' then
            redis.call('PUBLISH', channel, message)
            table.insert(offsets, '')
          elseif eventId ~= '' and redis.call('ZSCORE', seenKey, eventId) then
            table.insert(offsets, '')
          else
            if now > ms then ms, seq = now, 0 else seq = seq + 1 end
            local id = string.format('%.0f-%.0f', ms, seq)
            assigned = true
            for r = first, first + count - 1 do
              local key = prefix .. 'room:' .. ARGV[r]
              -- Trimmed by age as it is added (entries older than the retention go).
              redis.call('XADD', key, 'MINID', minid, id, 'd', data)
              local length = redis.call('XLEN', key)
              if length > maxlen then
                -- Remember the newest entry trimmed for the count bound: a client behind it
                -- cannot be made whole (age trimming needs no mark, see RecoveryLimits).
                local old = redis.call('XRANGE', key, '-', '+', 'COUNT', length - maxlen)
                redis.call('XTRIM', key, 'MAXLEN', maxlen)
                redis.call('XSETID', key, id, 'MAXDELETEDID', old[#old][1])
              end
              touched[key] = true
            end
            redis.call('PUBLISH', channel, message .. string.char(0xa0 + #id) .. id)
            if eventId ~= '' then redis.call('ZADD', seenKey, now, eventId) end
            table.insert(offsets, id)
          end
        end
        -- Each room's log expires when the room goes quiet: once per room and call, however
        -- many of the batch's events it got.
        for key in pairs(touched) do redis.call('PEXPIRE', key, retention) end
        if assigned then
          redis.call('SET', lastKey, string.format('%.0f-%.0f', ms, seq))
          redis.call('ZREMRANGEBYSCORE', seenKey, '-inf', now - retention)
          redis.call('ZREMRANGEBYRANK', seenKey, 0, -100001)
        end
        return offsets
        """

    /// Reads what a recovering session missed: for each room, the newest offset trimmed away for
    /// the count bound and the entries after the given offset.
    ///
    /// ARGV: prefix, then room and offset pairs. Returns `{{trimmed, {{id, {'d', data}}...}}...}`.
    static let missed = """
        local out = {}
        for i = 2, #ARGV, 2 do
          local key = ARGV[1] .. 'room:' .. ARGV[i]
          if redis.call('EXISTS', key) == 1 then
            local info = redis.call('XINFO', 'STREAM', key)
            local trimmed = '0-0'
            for j = 1, #info, 2 do
              if info[j] == 'max-deleted-entry-id' then trimmed = info[j + 1] end
            end
            table.insert(out, {trimmed, redis.call('XRANGE', key, '(' .. ARGV[i + 1], '+')})
          else
            table.insert(out, {'0-0', {}})
          end
        end
        return out
        """
}
