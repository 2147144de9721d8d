"""Recovery burst (issue 11, point 6; see BENCHMARKS.md): 1,000 restaurant-staff clients on one
gateway of a loopback cluster (redis-server, 3 gateways, a points-api, nginx), 20 restaurants of
50 staff each. A few events reach them live (so they hold offsets), then their gateway gets
SIGKILL; while they are away, 50 more events per restaurant are committed through the points API.
Then all 1,000 reconnect at once through nginx with {token, pid, offset}, as socket.io-client
does. Target: every client recovered (same socket id, `recovered`), its 50 missed events each
once and in order, all within 5 s of the reconnects starting. Also: the Redis memory of one
session and of one logged event (MEMORY USAGE over the keys).

Usage: recovery_burst.py --herald PATH [--clients 1000] [--restaurants 20] [--missed 50]"""
import argparse
import asyncio
import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_bench import token as make_token  # noqa: E402
from herald_cluster import Cluster  # noqa: E402
from storm_client import open_socket  # noqa: E402


class Staff:
    """One client: its session (pid, sid), its last offset, and the transaction ids it got."""

    def __init__(self, index, restaurant, secret):
        self.sub = f"burst-staff-{index}"
        self.restaurant = restaurant
        self.token = make_token(secret, self.sub, "restaurant", restaurant)
        self.pid = self.sid = self.offset = None
        self.received = []
        self.recovered = None
        self.protocol = None
        self.done_at = None

    def on_event(self, text):
        args = json.loads(text[2:])
        if isinstance(args[-1], str) and len(args) > 2:
            self.offset = args[-1]
        if args[0] == "points_added":
            self.received.append(args[1]["transactionId"])


def post_points(api, restaurant, secret, count, sent):
    token = make_token(secret, f"burst-owner-{restaurant}", "restaurant", restaurant)
    for _ in range(count):
        body = json.dumps({"guestId": f"g-{restaurant}", "restaurantId": restaurant, "amount": 1}).encode()
        request = urllib.request.Request(api + "/api/points/add", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            sent[restaurant].append(json.loads(response.read())["transaction"]["id"])


def commit(cluster, restaurants, count, sent):
    with ThreadPoolExecutor(max_workers=len(restaurants)) as pool:
        for future in [pool.submit(post_points, cluster.url, r, cluster.secret, count, sent) for r in restaurants]:
            future.result()


async def run(args):
    cluster = Cluster(args.herald, nodes=3, workers=2, api=True).start()
    try:
        restaurants = [f"burst-r{i}" for i in range(args.restaurants)]
        staff = [Staff(i, restaurants[i % len(restaurants)], cluster.secret) for i in range(args.clients)]
        sent = {r: [] for r in restaurants}
        # Everyone on gateway 1, directly, so that one kill takes them all.
        port = cluster.gateway_ports[0]

        async def connect(member, host_port, auth=None):
            member.protocol, info = await open_socket(
                "127.0.0.1", host_port, "127.0.0.1", member.token, member.on_event, lambda _: None, 20, auth=auth)
            reply = member.protocol.connect_reply or {}
            member.recovered = info.get("recovered")
            member.pid, member.sid = reply.get("pid"), reply.get("sid")
            return info

        for start in range(0, len(staff), 200):
            await asyncio.gather(*(connect(m, port) for m in staff[start:start + 200]))
        first_sids = {m.sub: m.sid for m in staff}
        await asyncio.get_running_loop().run_in_executor(None, commit, cluster, restaurants, 2, sent)
        deadline = time.time() + 10
        while time.time() < deadline and not all(len(m.received) >= 2 for m in staff):
            await asyncio.sleep(0.05)
        live = sum(len(m.received) for m in staff)
        cluster.kill_gateway(0)
        await asyncio.sleep(0.5)
        await asyncio.get_running_loop().run_in_executor(None, commit, cluster, restaurants, args.missed, sent)
        await asyncio.sleep(0.5)  # the relay has published them all into the logs
        # The burst: everyone at once, through nginx.
        nginx_port = cluster.port
        started = time.time()

        async def come_back(member):
            auth = {"token": member.token, "pid": member.pid}
            if member.offset is not None:
                auth["offset"] = member.offset
            await connect(member, nginx_port, auth)
            expected = len(sent[member.restaurant])
            while len(member.received) < expected and time.time() < started + 30:
                await asyncio.sleep(0.01)
            member.done_at = time.time()

        await asyncio.gather(*(come_back(m) for m in staff), return_exceptions=True)
        finished = max(m.done_at or time.time() for m in staff)
        lost = duplicated = disordered = 0
        for m in staff:
            expected = sent[m.restaurant]
            lost += len(set(expected) - set(m.received))
            duplicated += len(m.received) - len(set(m.received))
            disordered += int([t for t in m.received if t in expected] != [t for t in expected if t in m.received])
        recovered = sum(1 for m in staff if m.recovered is True and m.sid == first_sids[m.sub])
        store = redis.Redis.from_url(cluster.redis_url)
        session_keys = list(store.scan_iter("herald:recovery:session:*", count=1000))
        session_bytes = sum(store.memory_usage(k) or 0 for k in session_keys[:200]) / max(1, min(200, len(session_keys)))
        room_keys = list(store.scan_iter("herald:recovery:room:*", count=1000))
        entries = sum(store.xlen(k) for k in room_keys)
        room_bytes = sum(store.memory_usage(k, samples=0) or 0 for k in room_keys)
        result = {
            "clients": len(staff), "restaurants": len(restaurants), "missedPerClient": args.missed,
            "liveBeforeKill": live, "recovered": recovered, "lost": lost, "duplicated": duplicated,
            "clientsOutOfOrder": disordered,
            "recoverySeconds": round(finished - started, 3),
            "redisBytesPerSession": round(session_bytes), "sessions": len(session_keys),
            "roomLogs": len(room_keys), "loggedEvents": entries,
            "redisBytesPerLoggedEvent": round(room_bytes / max(1, entries)),
        }
        print(json.dumps(result))
        ok = recovered == len(staff) and lost == 0 and duplicated == 0 and disordered == 0 and finished - started <= 5
        return 0 if ok else 1
    finally:
        cluster.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herald", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--restaurants", type=int, default=20)
    parser.add_argument("--missed", type=int, default=50)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
