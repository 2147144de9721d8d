"""The recovery publishing script alone, on an idle redis-server (BENCHMARKS.md, "Targeted,
recovery on against off"): 3-event calls, each event to a room of its own, and the same with one
command left out, by Redis' own microseconds per call.
Usage: recovery_script_bench.py PORT   (a throwaway redis-server: it is flushed)"""
import os
import sys
import time

import redis
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "RedisAdapter", "RecoveryScripts.swift")).read()
body = src.split('static let publish = """')[1].split('"""')[0]
lua = "\n".join(line[8:] if line.startswith("        ") else line for line in body.splitlines())
r = redis.Redis(port=int(sys.argv[1]))
r.config_resetstat()
sha = r.script_load(lua)
data = '["points_added",{"eventId":"x","sentAt":1764597600123456,"seq":1}]'
msg = b"\x93\xa7emitter\x83\xa4type\x02\xa4data\x92\xacpoints_added\x83\xa7eventId\xa1x\xa6sentAt\xcb\x00\x00\x00\x00\x00\x00\x00\x00\xa3seq\x01\xa3nsp\xa1/\x84\xa5rooms\x91\xa7guest:1\xa5flags\x80\xa6except\x90\xa6offset"
n = 0
start = time.time()
for i in range(3000):
    args = ["herald:recovery:", "1000", "180000"]
    for j in range(3):
        n += 1
        args += ["", "1", "socket.io#/#guest:%d#" % (n % 10000), msg, data, "1", "guest:%d" % (n % 10000)]
    r.evalsha(sha, 0, *args)
print("elapsed", time.time() - start)
for k, v in r.info("commandstats").items():
    if k in ("cmdstat_evalsha", "cmdstat_xadd", "cmdstat_publish"):
        print(k, v["usec_per_call"])

def run(variant, name):
    r.config_resetstat(); r.flushall()
    sha = r.script_load(variant)
    n = 0
    for i in range(2000):
        args = ["herald:recovery:", "1000", "180000"]
        for j in range(3):
            n += 1
            args += ["", "1", "socket.io#/#guest:%d#" % (n % 10000), msg, data, "1", "guest:%d" % (n % 10000)]
        r.evalsha(sha, 0, *args)
    print(name, r.info("commandstats")["cmdstat_evalsha"]["usec_per_call"])

run(lua, "full")
run(lua.replace("redis.call('XTRIM', key, 'MINID', minid)", ""), "no-minid")
run(lua.replace("redis.call('PEXPIRE', key, retention)", ""), "no-pexpire")
run(lua.replace("local length = redis.call('XLEN', key)", "local length = 0"), "no-xlen")
run(lua.replace("redis.call('XADD', key, id, 'd', data)", ""), "no-xadd")
run(lua.replace("redis.call('PUBLISH', channel, message .. string.char(0xa0 + #id) .. id)", ""), "no-publish")
