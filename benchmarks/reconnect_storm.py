"""Reconnect storm (issue 10, point 7): a loopback cluster (redis-server, 3 `herald gateway`
nodes, nginx in front; benchmarks/herald_cluster.py) holds --clients WebSocket Socket.IO
clients through nginx, spread over --workers processes and source addresses 127.0.0.2.. (fds and
ephemeral ports). Once all are connected, targeted `points_added` events are published into
Redis in the emitter format (as `herald loadtest --redis` does) to the clients that are NOT on
the victim gateway; then the victim gets SIGKILL. Its clients reconnect through nginx the way
socket.io-client does (delay = 1 s * 2^attempt, capped at 5 s, randomised by +-50 %; each
attempt bounded by --attempt-timeout, 20 s as in socket.io-client), landing on the other gateways.

Measured: time from the kill until every client is connected again (target <= 10 s), the
fraction of reconnect attempts that failed (target < 1 %), and the publish-to-receipt latency
of events to the clients that stayed connected, for events published during the storm (from
the kill until the last client is back; target p99 < 50 ms). Also events lost, the latency
before the kill, and the client processes' own event-loop lag (the load generator shares the
2 cores: its lag is in every latency figure). Prints a table and one JSON line; exits 1 when a
target is missed. Only 127.x addresses are contacted; every wait is bounded.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_bench import token as make_token  # noqa: E402
from herald_cluster import Cluster  # noqa: E402
from storm_client import open_socket  # noqa: E402


def backoff_delay(attempt, base=1.0, cap=5.0, jitter=0.5):
    """socket.io-client's Backoff: base * 2^attempt, +-jitter (random sign), capped."""
    delay = base * (2 ** attempt)
    deviation = random.random() * jitter * delay
    delay = delay - deviation if random.random() < 0.5 else delay + deviation
    return min(delay, cap)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


# ---------------------------------------------------------------------------------------------
# Worker process: holds its share of the clients.
# ---------------------------------------------------------------------------------------------
class StormClient:
    __slots__ = ("guest", "token", "protocol", "node", "connects", "attempts", "failures", "lost_at",
                 "back_at", "reconnecting", "reasons")

    def __init__(self, guest, token):
        self.guest, self.token = guest, token
        self.protocol = None
        self.node = None
        self.connects = 0
        self.attempts = 0        # reconnect attempts (after a lost connection)
        self.failures = 0        # of those, failed
        self.lost_at = []
        self.back_at = []
        self.reconnecting = False
        self.reasons = {}


class Worker:
    def __init__(self, args, index, first, count, source, secret, pipe):
        self.args, self.index, self.source, self.pipe = args, index, source, pipe
        self.clients = [StormClient(f"storm-{i}", make_token(secret, f"storm-{i}", ttl=4 * 3600))
                        for i in range(first, first + count)]
        self.latencies = []      # (receipt time s, latency µs, seq)
        self.lags = []           # (time s, event-loop lag s)
        self.phases = []         # each reconnect's handshake steps (storm_client.SocketIOProtocol.phases)
        self.stopping = False
        self.initial_failures = 0
        self.host, self.port = "127.0.0.1", args.port

    def connected(self):
        return sum(1 for c in self.clients if c.protocol is not None)

    def on_event(self, text):
        now = time.time()
        if text.startswith('42["points_added"'):
            at = text.find('"sentAt":')
            if at < 0:
                return
            end = at + 9
            while end < len(text) and (text[end].isdigit() or text[end] in ".e+"):
                end += 1
            sent = float(text[at + 9:end])
            seq_at = text.find('"seq":')
            seq = -1
            if seq_at >= 0:
                stop = seq_at + 6
                while stop < len(text) and text[stop].isdigit():
                    stop += 1
                seq = int(text[seq_at + 6:stop])
            self.latencies.append((now, now * 1e6 - sent, seq))

    def lost(self, client, protocol):
        if client.protocol is not protocol:
            return              # a failed attempt's socket; its attempt counts it
        client.protocol = None
        client.lost_at.append(time.time())
        if not self.stopping and not client.reconnecting:
            client.reconnecting = True
            asyncio.get_running_loop().create_task(self.reconnect(client))

    async def attempt(self, client):
        protocol, info = await open_socket(
            self.host, self.port, self.source, client.token, self.on_event,
            lambda p, c=client: self.lost(c, p), self.args.attempt_timeout)
        client.protocol = protocol
        client.node = info.get("nodeId")
        if client.lost_at:
            self.phases.append(protocol.phases)
        client.connects += 1

    async def initial(self, client, gate):
        tries = 0
        while not self.stopping:
            async with gate:
                try:
                    await self.attempt(client)
                    return
                except Exception as error:  # noqa: BLE001 - counted, retried
                    self.initial_failures += 1
                    key = type(error).__name__ + ": " + str(error)[:80]
                    client.reasons[key] = client.reasons.get(key, 0) + 1
            await asyncio.sleep(backoff_delay(tries))
            tries += 1

    async def reconnect(self, client):
        tries = 0
        try:
            while not self.stopping:
                await asyncio.sleep(backoff_delay(tries, self.args.backoff_base, self.args.backoff_max))
                tries += 1
                client.attempts += 1
                try:
                    await self.attempt(client)
                    client.back_at.append(time.time())
                    return
                except Exception as error:  # noqa: BLE001 - counted, retried
                    client.failures += 1
                    key = type(error).__name__ + ": " + str(error)[:80]
                    client.reasons[key] = client.reasons.get(key, 0) + 1
        finally:
            client.reconnecting = False

    async def lag_monitor(self):
        loop = asyncio.get_running_loop()
        while not self.stopping:
            before = loop.time()
            await asyncio.sleep(0.02)
            self.lags.append((time.time(), loop.time() - before - 0.02))

    def status(self):
        by_node = {}
        for c in self.clients:
            if c.protocol is not None:
                by_node[c.node] = by_node.get(c.node, 0) + 1
        return {"connected": self.connected(), "byNode": by_node, "initialFailures": self.initial_failures}

    def result(self):
        reasons = {}
        records = []
        for c in self.clients:
            for key, n in c.reasons.items():
                reasons[key] = reasons.get(key, 0) + n
            if c.lost_at:
                records.append({"guest": c.guest, "lost": c.lost_at, "back": c.back_at, "attempts": c.attempts,
                                "failures": c.failures, "node": c.node, "connected": c.protocol is not None})
        return {"records": records, "reasons": reasons, "latencies": self.latencies, "lags": self.lags,
                "phases": self.phases,
                "status": self.status()}

    async def run(self):
        gate = asyncio.Semaphore(self.args.concurrency)
        lag = asyncio.create_task(self.lag_monitor())
        connecting = [asyncio.create_task(self.initial(c, gate)) for c in self.clients]
        while True:
            if self.pipe.poll():
                command = self.pipe.recv()
                if command == "status":
                    self.pipe.send(self.status())
                elif command == "nodes":
                    self.pipe.send([(c.guest, c.node) for c in self.clients])
                elif command == "stop":
                    self.stopping = True
                    break
            await asyncio.sleep(0.05)
        for task in connecting:
            task.cancel()
        lag.cancel()
        self.pipe.send(self.result())
        for c in self.clients:
            if c.protocol is not None:
                c.protocol.close()
        await asyncio.sleep(0.5)


def run_loop(main):
    """uvloop when installed (requirements-cluster.txt): the client processes were the largest
    CPU user of the storm window on 2 cores, and their own event-loop lag the largest part of
    the latency the stayed clients saw; asyncio's own loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def worker_main(args, index, first, count, source, secret, pipe):
    run_loop(Worker(args, index, first, count, source, secret, pipe).run())


# ---------------------------------------------------------------------------------------------
# Publisher process: targeted events into Redis in the emitter format.
# ---------------------------------------------------------------------------------------------
def publisher_main(redis_port, guests, probes, rate, stop, pipe):
    import msgpack
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_port)
    published = []             # (seq, publish time s)
    started = time.perf_counter()
    seq = 0
    while not stop.is_set():
        due = started + seq / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(min(due - now, 0.01))
            continue
        if probes and seq % 10 == 0:
            guest = random.choice(probes)          # a tenth of the events to the probe clients
        else:
            guest = guests[seq % len(guests)] if seq < len(guests) else random.choice(guests)
        room = f"guest:{guest}"
        sent = time.time()
        payload = {"eventId": f"storm-e{seq}", "sentAt": int(sent * 1e6), "seq": seq}
        message = msgpack.packb(["emitter", {"type": 2, "data": ["points_added", payload], "nsp": "/"},
                                 {"rooms": [room], "flags": {}, "except": []}])
        client.publish(f"socket.io#/#{room}#", message)
        published.append((seq, sent))
        seq += 1
    pipe.send(published)


# ---------------------------------------------------------------------------------------------
# Parent: the cluster, the run, the report.
# ---------------------------------------------------------------------------------------------
def cpu_seconds(pids):
    """utime + stime of these processes, in seconds (/proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds():
    """Busy CPU seconds of the whole machine (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_delay_seconds(pids):
    """Time these processes' threads spent runnable but waiting for a CPU (schedstat's run_delay)."""
    total = 0
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                    total += int(stat.read().split()[1])
        except OSError:
            pass
    return total / 1e9


def tcp_counters():
    """The kernel's listen-queue and SYN counters (/proc/net/netstat TcpExt), machine-wide."""
    with open("/proc/net/netstat") as netstat:
        lines = netstat.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], map(int, values.split()[1:])))
            return {k: table.get(k, 0) for k in ("ListenOverflows", "ListenDrops", "TCPSynRetrans", "SyncookiesSent")}
    return {}


def gather(pipes, command):
    for pipe in pipes:
        pipe.send(command)
    return [pipe.recv() for pipe in pipes]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herald", default=".build-bench/release/herald")
    parser.add_argument("--clients", type=int, default=15000, help="WebSocket clients in all (default 15,000)")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--sources", type=int, default=4, help="source addresses 127.0.0.2 .. (default 4)")
    parser.add_argument("--nginx-workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=100, help="initial handshakes in flight per worker")
    parser.add_argument("--probes", type=int, default=50,
                        help="of the clients, this many in a process of their own (their latency is the cluster's, "
                             "not the busy load generator's)")
    parser.add_argument("--rate", type=float, default=1000, help="targeted events per second (default 1,000)")
    parser.add_argument("--before", type=float, default=5, help="seconds of events before the kill")
    parser.add_argument("--after", type=float, default=5, help="seconds of events after the last client is back")
    parser.add_argument("--storm-timeout", type=float, default=60, help="give up waiting for reconnects after this")
    parser.add_argument("--attempt-timeout", type=float, default=20,
                        help="one attempt's bound (s; socket.io-client's `timeout`, default 20)")
    parser.add_argument("--backoff-base", type=float, default=1.0)
    parser.add_argument("--backoff-max", type=float, default=5.0)
    parser.add_argument("--victim", type=int, default=1, help="which gateway gets SIGKILL (1-based)")
    parser.add_argument("--log-level", default="warning", help="the gateways' --log-level")
    parser.add_argument("--target-seconds", type=float, default=10)
    parser.add_argument("--target-failed", type=float, default=0.01)
    parser.add_argument("--target-p99-ms", type=float, default=50)
    args = parser.parse_args()

    cluster = Cluster(args.herald, nodes=args.nodes, workers=args.nginx_workers, log_level=args.log_level)
    cluster.start()
    args.port = cluster.port
    print(f"cluster up: nginx {cluster.url}, redis {cluster.redis_url}, gateways {cluster.gateway_ports}, "
          f"logs {cluster.directory}", file=sys.stderr)
    context = multiprocessing.get_context("fork")
    processes, pipes = [], []
    publisher = None
    try:
        bulk = args.clients - args.probes
        per = -(-bulk // args.workers)
        shares = [(w * per, max(0, min(per, bulk - w * per)), f"127.0.0.{2 + w % args.sources}")
                  for w in range(args.workers)]
        if args.probes:
            shares.append((bulk, args.probes, f"127.0.0.{2 + args.workers % args.sources}"))
        for w, (first, count, source) in enumerate(shares):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=worker_main, args=(args, w, first, count, source, cluster.secret, child_end),
                                      daemon=True)
            process.start()
            processes.append(process)
            pipes.append(parent_end)

        started = time.time()
        deadline = started + max(120, args.clients / 50)
        while True:
            statuses = gather(pipes, "status")
            held = sum(s["connected"] for s in statuses)
            print(f"\rconnected {held}/{args.clients}", end="", file=sys.stderr, flush=True)
            if held == args.clients:
                break
            if time.time() > deadline:
                raise SystemExit(f"\nonly {held}/{args.clients} connected within {deadline - started:.0f} s")
            time.sleep(0.5)
        connect_seconds = time.time() - started
        print(f"\nall {args.clients} connected in {connect_seconds:.1f} s", file=sys.stderr)
        time.sleep(2)

        victim_node = cluster.gateway_name(args.victim - 1)
        nodes = [pair for listing in gather(pipes, "nodes") for pair in listing]
        before_by_node = {}
        for _, node in nodes:
            before_by_node[node] = before_by_node.get(node, 0) + 1
        stayed = [guest for guest, node in nodes if node != victim_node]
        victims = len(nodes) - len(stayed)
        probe_guests = {f"storm-{i}" for i in range(args.clients - args.probes, args.clients)}
        stayed_probes = [guest for guest in stayed if guest in probe_guests]
        print(f"per gateway: {dict(sorted(before_by_node.items()))}; {victims} on {victim_node}", file=sys.stderr)

        stop = context.Event()
        publisher_end, publisher_child = context.Pipe()
        publisher = context.Process(target=publisher_main,
                                    args=(cluster.redis_port, stayed, stayed_probes, args.rate, stop, publisher_child),
                                    daemon=True)
        publisher.start()
        time.sleep(args.before)

        components = {cluster.gateway_name(i): [cluster.gateway_pid(i)] for i in range(args.nodes)
                      if i != args.victim - 1}
        components["nginx workers"] = cluster.nginx_worker_pids()
        components["redis"] = [cluster.processes["redis"].pid]
        components["client processes"] = [p.pid for p in processes]
        components["publisher"] = [publisher.pid]
        cpu_at_kill = {name: cpu_seconds(pids) for name, pids in components.items()}
        machine_at_kill = machine_cpu_seconds()
        wait_at_kill = {name: run_delay_seconds(pids) for name, pids in components.items()}
        tcp_at_kill = tcp_counters()
        killed_at = time.time()
        killed_pid = cluster.kill_gateway(args.victim - 1)
        print(f"SIGKILL {victim_node} (pid {killed_pid})", file=sys.stderr)
        all_back_seen = None
        while time.time() < killed_at + args.storm_timeout:
            statuses = gather(pipes, "status")
            held = sum(s["connected"] for s in statuses)
            print(f"\r{time.time() - killed_at:5.1f} s: connected {held}/{args.clients}", end="", file=sys.stderr,
                  flush=True)
            if held == args.clients and time.time() > killed_at + 0.5:
                all_back_seen = time.time()
                break
            cpu_at_back = {name: cpu_seconds(pids) for name, pids in components.items()}
            machine_at_back = machine_cpu_seconds()
            wait_at_back = {name: run_delay_seconds(pids) for name, pids in components.items()}
            cpu_window = time.time() - killed_at
            time.sleep(0.1)
        print(file=sys.stderr)
        tcp_after = tcp_counters()
        time.sleep(args.after)
        stop.set()
        published = publisher_end.recv()
        publisher.join(timeout=30)
        time.sleep(1)                                  # the last events in flight
        after_by_node = {}
        for s in gather(pipes, "status"):
            for node, n in s["byNode"].items():
                after_by_node[node] = after_by_node.get(node, 0) + n
        gauges = {cluster.gateway_name(i): cluster.metrics(i).get("herald_connections")
                  for i in range(args.nodes) if i != args.victim - 1}
        results = gather(pipes, "stop")
    finally:
        if publisher is not None and publisher.is_alive():
            publisher.kill()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        cluster.stop()

    # -- analysis -------------------------------------------------------------------------------
    records = [r for res in results for r in res["records"]]
    reasons = {}
    for res in results:
        for key, n in res["reasons"].items():
            reasons[key] = reasons.get(key, 0) + n
    victim_guests = {guest for guest, node in nodes if node == victim_node}
    victim_records = [r for r in records if r["guest"] in victim_guests]
    unexpected = [r for r in records if r["guest"] not in victim_guests]
    back_times = sorted(r["back"][-1] - killed_at for r in victim_records if r["back"] and r["connected"])
    not_back = len([r for r in victim_records if not r["connected"]])
    lost_to_back = sorted(r["back"][-1] - r["lost"][0] for r in victim_records if r["back"] and r["connected"])
    attempts = sum(r["attempts"] for r in victim_records)
    failures = sum(r["failures"] for r in victim_records)
    failed_fraction = failures / attempts if attempts else float("nan")
    all_back = back_times[-1] if back_times and not not_back and len(back_times) >= victims else float("inf")
    storm_end = killed_at + (all_back if all_back != float("inf") else args.storm_timeout)

    published_at = {seq: at for seq, at in published}
    samples = [(published_at.get(seq, now - lat / 1e6), lat / 1000) for res in results
               for now, lat, seq in res["latencies"]]
    during = sorted(ms for at, ms in samples if killed_at <= at <= storm_end)
    before = sorted(ms for at, ms in samples if at < killed_at)
    first10 = sorted(ms for at, ms in samples if killed_at <= at <= killed_at + 10)
    probe_during = sorted(lat / 1000 for now, lat, seq in (results[-1]["latencies"] if args.probes else [])
                          if killed_at <= published_at.get(seq, now) <= storm_end)
    probe_before = sorted(lat / 1000 for now, lat, seq in (results[-1]["latencies"] if args.probes else [])
                          if published_at.get(seq, now) < killed_at)
    probe_lags = sorted(lag * 1000 for at, lag in (results[-1]["lags"] if args.probes else [])
                        if killed_at <= at <= storm_end)
    cpu = {name: (cpu_at_back[name] - cpu_at_kill[name]) for name in cpu_at_kill}
    cpu["everything else on the machine"] = machine_at_back - machine_at_kill - sum(cpu.values())
    waits = {name: wait_at_back[name] - wait_at_kill[name] for name in wait_at_kill}
    steps = {"tcp": "start", "upgraded": "tcp", "open": "upgraded", "connected": "open"}
    phase_ms = {step: sorted(1000 * (p[step] - p[previous]) for res in results for p in res["phases"]
                             if step in p and previous in p) for step, previous in steps.items()}
    received = {seq for res in results for _, _, seq in res["latencies"]}
    settled = max(at for _, at in published) - 0.5 if published else 0
    expected = [seq for seq, at in published if at < settled]
    lost = sum(1 for seq in expected if seq not in received)
    duplicates = sum(len(res["latencies"]) for res in results) - len(received)
    lags = sorted(lag * 1000 for res in results for at, lag in res["lags"] if killed_at <= at <= storm_end)

    storm_events = sum(1 for _, at in published if killed_at <= at <= storm_end)
    ok_time = all_back <= args.target_seconds
    ok_failed = failed_fraction < args.target_failed
    ok_p99 = bool(during) and percentile(during, 0.99) < args.target_p99_ms
    mark = lambda ok: "**held**" if ok else "**missed**"
    fmt = lambda v: f"{v:.2f}"
    rows = [
        ("clients connected before the kill", f"{args.clients:,} in {connect_seconds:.1f} s, per gateway "
         + " / ".join(f"{before_by_node.get(cluster.gateway_name(i), 0):,}" for i in range(args.nodes))),
        (f"clients of the killed {victim_node}", f"{victims:,}; lost their connection: {len(victim_records):,}"),
        ("all back (kill to last `connected`)", f"{all_back:.2f} s (target <= {args.target_seconds:g} s: {mark(ok_time)})"),
        ("per client, kill to back: p50 / p99 / max",
         " / ".join(fmt(percentile(back_times, q)) for q in (0.5, 0.99, 1.0)) + " s"),
        ("per client, disconnect to back: p50 / max",
         " / ".join(fmt(percentile(lost_to_back, q)) for q in (0.5, 1.0)) + " s"),
        ("not back within the storm timeout", f"{not_back}"),
        ("reconnect attempts / failed", f"{attempts:,} / {failures:,} = {100 * failed_fraction:.2f} % "
         f"(target < {100 * args.target_failed:g} %: {mark(ok_failed)})"),
        ("after: per gateway (clients' view)", " / ".join(f"{after_by_node.get(cluster.gateway_name(i), 0):,}"
                                                        for i in range(args.nodes))),
        ("after: herald_connections of the survivors", ", ".join(f"{k} {v:,.0f}" for k, v in gauges.items() if v is not None)),
        (f"events to stayed clients, {args.rate:g}/s", f"{len(published):,} published, {lost} lost, {duplicates} duplicated"),
        ("latency before the kill: p50 / p99 / max",
         " / ".join(fmt(percentile(before, q)) for q in (0.5, 0.99, 1.0)) + f" ms ({len(before):,} events)"),
        ("latency during the storm: p50 / p99 / max",
         " / ".join(fmt(percentile(during, q)) for q in (0.5, 0.99, 1.0)) + f" ms ({len(during):,} of {storm_events:,} events; "
         f"target p99 < {args.target_p99_ms:g} ms: {mark(ok_p99)})"),
        ("latency, first 10 s after the kill: p50 / p99 / max",
         " / ".join(fmt(percentile(first10, q)) for q in (0.5, 0.99, 1.0)) + f" ms ({len(first10):,} events)"),
        (f"  at the {args.probes} probe clients (own process): p50 / p99 / max",
         " / ".join(fmt(percentile(probe_during, q)) for q in (0.5, 0.99, 1.0))
         + f" ms ({len(probe_during):,} events; before the kill p99 {percentile(probe_before, 0.99):.2f} ms; "
           f"that process's loop lag max {percentile(probe_lags, 1.0):.1f} ms)"),
        (f"CPU seconds in the first {cpu_window:.1f} s after the kill",
         ", ".join(f"{name} {value:.1f}" for name, value in cpu.items())),
        ("their threads' time waiting for a CPU (run queue), same window",
         ", ".join(f"{name} {value:.1f}" for name, value in waits.items())),
        ("reconnect handshake steps, p50 / max ms: TCP to nginx, 101 Switching Protocols, Engine.IO open, "
         "`connected`", "; ".join(f"{percentile(v, 0.5):.0f} / {percentile(v, 1.0):.0f}" for v in phase_ms.values())),
        ("kernel TCP counters during the storm (machine-wide)",
         ", ".join(f"{k} +{tcp_after[k] - tcp_at_kill[k]:,}" for k in tcp_at_kill)),
        ("client event-loop lag during the storm: p99 / max",
         " / ".join(fmt(percentile(lags, q)) for q in (0.99, 1.0)) + " ms"),
        ("stayed clients that lost their connection", f"{len(unexpected)}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"| {'figure'.ljust(width)} | value |\n|{'-' * (width + 2)}|---|")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value} |")
    if reasons:
        print("failure reasons:", json.dumps(dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:8])))
    summary = {
        "clients": args.clients, "victims": victims, "allBackSeconds": all_back, "attempts": attempts,
        "failedAttempts": failures, "failedFraction": failed_fraction,
        "stormLatencyMs": {"p50": percentile(during, 0.5), "p99": percentile(during, 0.99), "max": percentile(during, 1.0),
                           "count": len(during)},
        "beforeLatencyMs": {"p50": percentile(before, 0.5), "p99": percentile(before, 0.99)},
        "probeStormLatencyMs": {"p50": percentile(probe_during, 0.5), "p99": percentile(probe_during, 0.99),
                                "max": percentile(probe_during, 1.0), "count": len(probe_during)},
        "cpuSecondsDuringStorm": cpu, "runQueueSecondsDuringStorm": waits,
        "tcpCountersDuringStorm": {k: tcp_after[k] - tcp_at_kill[k] for k in tcp_at_kill},
        "handshakeStepsMs": {k: {"p50": percentile(v, 0.5), "p99": percentile(v, 0.99), "max": percentile(v, 1.0)}
                             for k, v in phase_ms.items()}, "cpuWindowSeconds": cpu_window,
        "published": len(published), "lost": lost, "duplicated": duplicates, "notBack": not_back,
        "targetsHeld": {"allBack": ok_time, "failedFraction": ok_failed, "p99": ok_p99},
    }
    print(json.dumps(summary))
    sys.exit(0 if ok_time and ok_failed and ok_p99 else 1)


if __name__ == "__main__":
    main()
