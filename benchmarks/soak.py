"""Soak (issue 10, point 8): --duration seconds of connection churn against a loopback cluster
(redis-server, 3 `herald gateway` nodes, nginx in front; benchmarks/herald_cluster.py), under
a steady stream of targeted events.

--workers processes of python-socketio AsyncClients keep about --live sessions open between
them, half over long-polling (transports=['polling'], the sticky pool) and half over WebSocket
(['websocket'], the least-connections pool), from source addresses 127.0.0.2.. . A session
takes a free identity from a fixed pool of --guests guests (each with its own token, reused
across its sessions, as a returning guest's would be), connects with it, waits for `connected`,
emits `subscribe` {channel: "guest:<id>"} with an ack, stays 5 to 25 s receiving the events
published to it, stops being targeted 1 s before it disconnects, disconnects, and a new session
starts in its place. Each worker publishes --rate/workers events a second into Redis in the
emitter format (as `herald loadtest --redis` does) to random sessions that are subscribed;
events are counted per session (lost, duplicated) and timed from publish to receipt.

Every --interval seconds: each gateway's VmRSS (/proc/PID/status), open descriptors
(/proc/PID/fd) and herald_connections (/metrics), and the clients' counters, into a CSV under
/tmp. After --warmup seconds: RSS drift per gateway (max - first) / first over the rest (target
<= 5 %), and descriptors at the end of the window against its start (same load; mean of 3
samples each; target: no growth beyond --fd-noise). Then every client leaves, and each
gateway's descriptors with no clients are compared with those before the first client came.
Prints a table and one JSON line; exits 1 when a target is missed. Only 127.x is contacted.
"""
import argparse
import asyncio
import csv
import json
import multiprocessing
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_bench import token as make_token  # noqa: E402
from herald_cluster import Cluster, proc_fds, proc_rss  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Worker process.
# ---------------------------------------------------------------------------------------------
class SoakWorker:
    def __init__(self, args, index, url, redis_port, secret, pipe):
        self.args, self.index, self.url, self.redis_port, self.pipe = args, index, url, redis_port, pipe
        per = args.guests // args.workers
        self.free = [f"soak-{index}-{n}" for n in range(per)]
        random.shuffle(self.free)
        self.tokens = {guest: make_token(secret, guest, ttl=int(args.duration) + 7200) for guest in self.free}
        self.targets = {}          # guest -> session record, subscribed and not leaving
        self.counters = {"sessions": 0, "completed": 0, "connectFailures": 0, "subscribeFailures": 0,
                         "published": 0, "received": 0, "lost": 0, "duplicated": 0, "unexpectedDisconnects": 0,
                         "polling": 0, "websocket": 0, "publishErrors": 0}
        self.live = 0
        self.latencies = []        # ms, since the last report
        self.errors = {}
        self.stopping = False
        self.stop_event = asyncio.Event()

    def error(self, key):
        key = key[:120]
        self.errors[key] = self.errors.get(key, 0) + 1

    async def session(self, http, transport):
        import socketio

        guest = self.free.pop()
        record = {"expected": set(), "received": set()}
        sio = socketio.AsyncClient(reconnection=False, http_session=http, handle_sigint=False)
        connected = asyncio.get_running_loop().create_future()
        leaving = False

        @sio.on("connected")
        async def on_connected(info):
            if not connected.done():
                connected.set_result(info)

        @sio.on("points_added")
        async def on_points(payload, *offset):
            seq = payload.get("seq")
            if seq in record["received"]:
                self.counters["duplicated"] += 1
                return
            record["received"].add(seq)
            self.counters["received"] += 1
            self.latencies.append(time.time() * 1000 - payload["sentAt"] / 1000)

        @sio.event
        async def disconnect(*reason):
            if not leaving:
                self.counters["unexpectedDisconnects"] += 1
                self.error(f"disconnect: {reason}")

        self.counters["sessions"] += 1
        self.counters[transport] += 1
        self.live += 1
        try:
            try:
                await sio.connect(self.url, auth={"token": self.tokens[guest]}, transports=[transport],
                                  wait_timeout=10)
                await asyncio.wait_for(connected, 10)
            except Exception as error:  # noqa: BLE001 - counted
                self.counters["connectFailures"] += 1
                self.error(f"connect {transport}: {type(error).__name__}: {error}")
                await asyncio.sleep(1)
                return
            try:
                ack = await sio.call("subscribe", {"channel": f"guest:{guest}"}, timeout=10)
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise RuntimeError(f"ack {ack}")
            except Exception as error:  # noqa: BLE001 - counted
                self.counters["subscribeFailures"] += 1
                self.error(f"subscribe {transport}: {type(error).__name__}: {error}")
            else:
                self.targets[guest] = record
                try:
                    await asyncio.wait_for(self.stop_event.wait(), random.uniform(self.args.min_life, self.args.max_life))
                except asyncio.TimeoutError:
                    pass
                self.targets.pop(guest, None)
                await asyncio.sleep(1)          # events in flight arrive
            leaving = True
            missing = record["expected"] - record["received"]
            self.counters["lost"] += len(missing)
            await sio.disconnect()
            self.counters["completed"] += 1
        finally:
            self.targets.pop(guest, None)
            self.live -= 1
            self.free.insert(0, guest)

    async def slot(self, number, http):
        await asyncio.sleep(random.uniform(0, self.args.ramp))
        transport = "polling" if number % 2 == 0 else "websocket"
        while not self.stopping:
            try:
                await self.session(http, transport)
            except Exception as error:  # noqa: BLE001 - never fatal to the slot
                self.error(f"session: {type(error).__name__}: {error}")
                await asyncio.sleep(1)

    async def publisher(self):
        import msgpack
        import redis.asyncio as redis

        client = redis.Redis(host="127.0.0.1", port=self.redis_port)
        rate = self.args.rate / self.args.workers
        started = time.perf_counter()
        seq = self.index * 10**12
        sent = 0
        while not self.stopping:
            due = started + sent / rate
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
                continue
            sent += 1
            if not self.targets:
                continue
            guest = random.choice(list(self.targets)) if len(self.targets) < 64 else \
                random.choice(tuple(self.targets))
            record = self.targets[guest]
            seq += 1
            room = f"guest:{guest}"
            payload = {"eventId": f"soak-e{seq}", "sentAt": int(time.time() * 1e6), "seq": seq}
            message = msgpack.packb(["emitter", {"type": 2, "data": ["points_added", payload], "nsp": "/"},
                                     {"rooms": [room], "flags": {}, "except": []}])
            record["expected"].add(seq)
            try:
                await client.publish(f"socket.io#/#{room}#", message)
                self.counters["published"] += 1
            except Exception as error:  # noqa: BLE001 - counted
                record["expected"].discard(seq)
                self.counters["publishErrors"] += 1
                self.error(f"publish: {error}")
        await client.aclose()

    async def run(self):
        import aiohttp

        sessions = []
        for k in range(self.args.sources_per_worker):
            source = f"127.0.0.{2 + self.index * self.args.sources_per_worker + k}"
            connector = aiohttp.TCPConnector(limit=0, local_addr=(source, 0))
            sessions.append(aiohttp.ClientSession(connector=connector))
        live = self.args.live // self.args.workers
        slots = [asyncio.create_task(self.slot(n, sessions[n % len(sessions)])) for n in range(live)]
        publishing = asyncio.create_task(self.publisher())
        while True:
            if self.pipe.poll():
                command = self.pipe.recv()
                if command == "report":
                    latencies, self.latencies = self.latencies, []
                    self.pipe.send({"counters": dict(self.counters), "live": self.live, "latencies": latencies,
                                    "targets": len(self.targets)})
                elif command == "stop":
                    break
            await asyncio.sleep(0.1)
        self.stopping = True
        self.stop_event.set()
        # Every session finishes as it would (its events settle, it disconnects), bounded.
        await asyncio.wait(slots, timeout=30)
        for task in slots:
            task.cancel()
        publishing.cancel()
        for session in sessions:
            await session.close()
        self.pipe.send({"counters": dict(self.counters), "errors": self.errors, "live": self.live})


def worker_main(args, index, url, redis_port, secret, pipe):
    asyncio.run(SoakWorker(args, index, url, redis_port, secret, pipe).run())


# ---------------------------------------------------------------------------------------------
# Parent.
# ---------------------------------------------------------------------------------------------
def percentile(values, fraction):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(fraction * len(values) + 0.5)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herald", default=".build-bench/release/herald")
    parser.add_argument("--duration", type=float, default=1800, help="seconds of churn (default 1,800 = 30 min)")
    parser.add_argument("--warmup", type=float, default=300, help="seconds left out of the drift (default 300)")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples (default 10)")
    parser.add_argument("--live", type=int, default=300, help="sessions open at a time (default 300)")
    parser.add_argument("--guests", type=int, default=3000, help="identities the sessions take turns with")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sources-per-worker", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200, help="events per second in all (default 200)")
    parser.add_argument("--min-life", type=float, default=5)
    parser.add_argument("--max-life", type=float, default=25)
    parser.add_argument("--ramp", type=float, default=10)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--log-level", default="warning", help="the gateways' --log-level")
    parser.add_argument("--csv", default=None, help="default /tmp/herald-soak-<time>.csv")
    parser.add_argument("--target-drift", type=float, default=0.05)
    parser.add_argument("--fd-noise", type=int, default=10, help="descriptors of growth tolerated as noise")
    args = parser.parse_args()
    if args.guests // args.workers < args.live // args.workers + 10:
        parser.error("--guests must exceed --live")
    csv_path = args.csv or time.strftime("/tmp/herald-soak-%Y%m%d-%H%M%S.csv")

    cluster = Cluster(args.herald, nodes=args.nodes, workers=2, log_level=args.log_level)
    cluster.start()
    names = [cluster.gateway_name(i) for i in range(args.nodes)]
    pids = {name: cluster.gateway_pid(i) for i, name in enumerate(names)}
    print(f"cluster up: nginx {cluster.url}, gateways {pids}, logs {cluster.directory}; samples to {csv_path}",
          file=sys.stderr)
    time.sleep(2)
    idle_before = {name: proc_fds(pid) for name, pid in pids.items()}
    rss_idle_before = {name: proc_rss(pid) for name, pid in pids.items()}

    context = multiprocessing.get_context("fork")
    processes, pipes = [], []
    rows = []
    latencies_all, latencies_window = [], []
    crashed = []
    out = open(csv_path, "w", newline="")
    writer = csv.writer(out)
    writer.writerow(["t_s", "gateway", "pid", "rss_bytes", "fds", "herald_connections", "live_sessions",
                     "sessions", "completed", "published", "received", "lost", "duplicated", "connect_failures",
                     "subscribe_failures", "unexpected_disconnects", "latency_p99_ms"])
    try:
        for w in range(args.workers):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=worker_main,
                                      args=(args, w, cluster.url, cluster.redis_port, cluster.secret, child_end),
                                      daemon=True)
            process.start()
            processes.append(process)
            pipes.append(parent_end)
        started = time.time()
        next_sample = started
        while True:
            now = time.time()
            if now < next_sample:
                time.sleep(min(next_sample - now, 1))
                continue
            t = now - started
            for pipe in pipes:
                pipe.send("report")
            reports = [pipe.recv() for pipe in pipes]
            totals = {}
            for report in reports:
                for key, value in report["counters"].items():
                    totals[key] = totals.get(key, 0) + value
            live = sum(r["live"] for r in reports)
            latencies = [ms for r in reports for ms in r["latencies"]]
            latencies_all.extend(latencies)
            if t >= args.warmup:
                latencies_window.extend(latencies)
            p99 = percentile(latencies, 0.99)
            for i, name in enumerate(names):
                process = cluster.processes[name]
                if process.poll() is not None:
                    if name not in crashed:
                        crashed.append(name)
                        print(f"\n{name} exited with {process.returncode}!", file=sys.stderr)
                    continue
                rss, fds = proc_rss(pids[name]), proc_fds(pids[name])
                connections = cluster.metrics(i).get("herald_connections", float("nan"))
                row = {"t": t, "gateway": name, "rss": rss, "fds": fds, "connections": connections}
                rows.append(row)
                writer.writerow([f"{t:.1f}", name, pids[name], rss, fds, f"{connections:.0f}", live,
                                 totals["sessions"], totals["completed"], totals["published"], totals["received"],
                                 totals["lost"], totals["duplicated"], totals["connectFailures"],
                                 totals["subscribeFailures"], totals["unexpectedDisconnects"], f"{p99:.2f}"])
            out.flush()
            print(f"\r{t:6.0f} s: live {live}, sessions {totals['sessions']:,}, events {totals['received']:,}/"
                  f"{totals['published']:,}, lost {totals['lost']}, RSS MiB "
                  + "/".join(f"{r['rss'] / 2**20:.1f}" for r in rows[-len(names):])
                  + ", fds " + "/".join(str(r["fds"]) for r in rows[-len(names):]) + "   ",
                  end="", file=sys.stderr, flush=True)
            if t >= args.duration:
                break
            next_sample += args.interval
        print(file=sys.stderr)
        for pipe in pipes:
            pipe.send("stop")
        finals = [pipe.recv() for pipe in pipes]
        for process in processes:
            process.join(timeout=30)
        # Every client has left: what the gateways hold with no one connected.
        deadline = time.time() + 60
        while time.time() < deadline:
            gauges = [cluster.metrics(i).get("herald_connections", 0) for i in range(args.nodes)
                      if names[i] not in crashed]
            if not any(gauges):
                break
            time.sleep(1)
        time.sleep(5)
        idle_after = {name: proc_fds(pid) for name, pid in pids.items() if name not in crashed}
        rss_idle_after = {name: proc_rss(pid) for name, pid in pids.items() if name not in crashed}
        gauges_after = {names[i]: cluster.metrics(i).get("herald_connections") for i in range(args.nodes)
                        if names[i] not in crashed}
    finally:
        out.close()
        for process in processes:
            if process.is_alive():
                process.kill()
        cluster.stop()

    totals, errors = {}, {}
    for final in finals:
        for key, value in final["counters"].items():
            totals[key] = totals.get(key, 0) + value
        for key, value in final["errors"].items():
            errors[key] = errors.get(key, 0) + value

    print(f"| gateway | RSS at {args.warmup:.0f} s | RSS max after | drift | RSS end | fds start / end (same load) "
          f"| growth | idle fds before / after | RSS idle before / after |\n|---|---|---|---|---|---|---|---|---|")
    held_drift, held_fds, held_idle = True, True, True
    per_gateway = {}
    for name in names:
        window = [r for r in rows if r["gateway"] == name and r["t"] >= args.warmup]
        if name in crashed or len(window) < 2:
            print(f"| {name} | crashed or too few samples |")
            held_drift = held_fds = held_idle = False
            continue
        first, peak, last = window[0]["rss"], max(r["rss"] for r in window), window[-1]["rss"]
        drift = (peak - first) / first
        k = min(3, len(window) // 2)
        start_fds = sum(r["fds"] for r in window[:k]) / k
        end_fds = sum(r["fds"] for r in window[-k:]) / k
        start_conn = sum(r["connections"] for r in window[:k]) / k
        end_conn = sum(r["connections"] for r in window[-k:]) / k
        growth = end_fds - start_fds
        idle_growth = idle_after[name] - idle_before[name]
        held_drift &= drift <= args.target_drift
        held_fds &= growth <= args.fd_noise
        held_idle &= idle_growth <= 2
        per_gateway[name] = {"rssFirst": first, "rssMax": peak, "rssLast": last, "drift": drift,
                             "fdsStart": start_fds, "fdsEnd": end_fds, "connectionsStart": start_conn,
                             "connectionsEnd": end_conn, "idleFdsBefore": idle_before[name],
                             "idleFdsAfter": idle_after[name], "rssIdleBefore": rss_idle_before[name],
                             "rssIdleAfter": rss_idle_after[name], "connectionsAfter": gauges_after.get(name)}
        print(f"| {name} | {first / 2**20:.1f} MiB | {peak / 2**20:.1f} MiB | {100 * drift:+.2f} % | "
              f"{last / 2**20:.1f} MiB | {start_fds:.0f} / {end_fds:.0f} ({start_conn:.0f} / {end_conn:.0f} "
              f"connections) | {growth:+.0f} | {idle_before[name]} / {idle_after[name]} | "
              f"{rss_idle_before[name] / 2**20:.1f} / {rss_idle_after[name] / 2**20:.1f} MiB |")
    window_minutes = (args.duration - args.warmup) / 60
    summary_rows = [
        ("duration / warm-up left out", f"{args.duration / 60:.1f} min / {args.warmup / 60:.1f} min "
                                        f"(drift window {window_minutes:.1f} min, {args.interval:g} s samples)"),
        ("sessions (polling / WebSocket)", f"{totals['sessions']:,} ({totals['polling']:,} / {totals['websocket']:,}), "
                                           f"{totals['completed']:,} completed, ~{args.live} live"),
        ("connect / subscribe failures", f"{totals['connectFailures']} / {totals['subscribeFailures']}"),
        ("unexpected disconnects", f"{totals['unexpectedDisconnects']}"),
        ("events published / received / lost / duplicated",
         f"{totals['published']:,} / {totals['received']:,} / {totals['lost']} / {totals['duplicated']}"),
        ("latency p50 / p99 / max (whole run)",
         " / ".join(f"{percentile(latencies_all, q):.2f}" for q in (0.5, 0.99, 1.0)) + " ms"),
        ("RSS drift after warm-up <= 5 %", "**held**" if held_drift else "**missed**"),
        ("no fd growth (window end vs start)", "**held**" if held_fds else "**missed**"),
        ("idle fds after == before (+-2)", "**held**" if held_idle else "**missed**"),
        ("gateways crashed", ", ".join(crashed) or "none"),
    ]
    print()
    print("| figure | value |\n|---|---|")
    for key, value in summary_rows:
        print(f"| {key} | {value} |")
    if errors:
        print("errors:", json.dumps(dict(sorted(errors.items(), key=lambda kv: -kv[1])[:10])))
    print(f"samples: {csv_path}")
    print(json.dumps({"totals": totals, "gateways": per_gateway, "csv": csv_path, "crashed": crashed,
                      "targetsHeld": {"rssDrift": held_drift, "fds": held_fds, "idleFds": held_idle}}))
    sys.exit(0 if held_drift and held_fds and not crashed else 1)


if __name__ == "__main__":
    main()
