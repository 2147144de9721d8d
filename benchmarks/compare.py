"""Herald against its baseline, python-socketio (benchmarks/baseline/server.py), in one run.

Each scenario runs the same `herald loadtest` command twice: once against Herald gateways, once
against the baseline, each time on freshly started servers and a fresh redis-server of their own
(loopback, free ports), stopped by PID afterwards (SIGTERM, then SIGKILL after 10 s):

  idle       one node, --idle-connections held --hold seconds: RSS per connection
  targeted   one node, --targeted-connections guests, --targeted-events at --targeted-rate,
             each event to one guest's room: events/s, latency, lost/duplicated
  fanout     one node, --fanout-connections staff of one restaurant, --fanout-events published
             as fast as --fanout-rate allows, each event to the whole room: deliveries per
             second = deliveries / (first publish to last receipt), the node's capacity
  cluster    --nodes nodes on one Redis behind nginx, targeted as above: Herald gateways
             (`herald gateway --redis`), or baseline servers with socketio.AsyncRedisManager of
             which exactly one bridges the emitter channel (--bridge), the others --no-bridge

Events always enter through Redis in the @socket.io/redis-emitter format (`herald loadtest
--redis`), as the points API publishes them. In the cluster the load generator connects through
nginx, configured as deploy/local-cluster configures it (nginx/http.conf and
nginx/locations.conf: WebSocket-only handshakes go to a least_conn pool, so the connections
split evenly over the nodes), so one load generator gives one report (one latency histogram,
one lost/duplicated count) for the whole cluster; RSS is summed over the nodes' PIDs.

Prints a table (figure, Herald, baseline, Herald / baseline) and the issue 5 targets; with
--json, one JSON object with every raw report on stdout instead (progress on stderr). Exits 1
when a run produced no report or Herald lost or duplicated anything, else 0.

Usage: compare.py --herald .build/release/herald [--only idle,fanout] [--json]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import redis

from herald_bench import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCENARIOS = ["idle", "targeted", "fanout", "cluster"]


def say(text):
    print(text, file=sys.stderr, flush=True)


class Stack:
    """The processes of one run, stopped by PID in reverse order of start."""

    def __init__(self, directory):
        self.directory = directory
        self.processes = []

    def start(self, name, arguments, **options):
        log = open(os.path.join(self.directory, f"{name}.log"), "w")
        process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   **options)
        self.processes.append((name, process))
        return process

    def stop(self):
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                say(f"compare: {name} (pid {process.pid}) ignored SIGTERM for 10 s; killing it")
                process.kill()
                process.wait(timeout=5)
        self.processes = []


def wait_port(port, process, name, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout} s")


def wait_until(predicate, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def start_redis(stack):
    port = free_port()
    process = stack.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no"])
    wait_port(port, process, "redis-server")
    url = f"redis://127.0.0.1:{port}"
    client = redis.Redis.from_url(url)
    wait_until(client.ping, "redis PING")
    return url, client


def start_nodes(stack, server, args, count, redis_url, redis_client):
    """`count` nodes of `server` ("herald" or "baseline") on one Redis, ready: listening, and
    subscribed to what they need (the emitter pattern; the manager's channel)."""
    ports, pids = [], []
    for index in range(count):
        port = free_port()
        if server == "herald":
            arguments = [args.herald, "gateway", "--host", "127.0.0.1", "--port", str(port), "--redis", redis_url,
                         "--jwt-secret", args.secret, "--node-id", f"gateway-{index + 1}", "--log-level", "warning"]
        else:
            arguments = [sys.executable, os.path.join(HERE, "baseline", "server.py"), "--port", str(port),
                         "--redis", redis_url, "--secret", args.secret, "--node-id", f"baseline-{index + 1}",
                         "--bridge" if index == 0 else "--no-bridge"] + (["--cluster"] if count > 1 else [])
        process = stack.start(f"{server}-{index + 1}", arguments)
        ports.append(port)
        pids.append(process.pid)
        wait_port(port, process, f"{server}-{index + 1}")
    if server == "herald":
        for port in ports:
            wait_until(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).status == 200,
                       f"herald on {port} /readyz")
    # Herald: every gateway PSUBSCRIBEs the emitter pattern; the baseline: the bridge does. (The
    # baseline's AsyncRedisManager subscribes to `socketio` lazily, when its node's first client
    # connects: python-socketio's behaviour, long before the load generator publishes.)
    pattern_subscribers = count if server == "herald" else 1
    wait_until(lambda: sum(1 for c in redis_client.client_list() if int(c.get("psub", 0)) > 0) >= pattern_subscribers,
               f"{pattern_subscribers} {server} subscriber(s) of the emitter channel")
    return ports, pids


def start_nginx(stack, ports):
    """nginx in front of the nodes, configured as deploy/local-cluster configures it."""
    directory = os.path.join(stack.directory, "nginx")
    os.makedirs(os.path.join(directory, "temp"), exist_ok=True)
    os.chmod(os.path.join(directory, "temp"), 0o777)
    port = free_port()
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in ports)
    temp = os.path.join(directory, "temp")
    config = f"""# Written by benchmarks/compare.py like deploy/local-cluster's; routes: nginx/locations.conf.
worker_processes 2;
worker_rlimit_nofile 19500;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 19000; }}
http {{
    include {ROOT}/nginx/http.conf;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    upstream herald_gateways_sticky {{
        hash $remote_addr consistent;
{servers}    }}
    upstream herald_gateways_spread {{
        least_conn;
{servers}    }}
    upstream herald_api {{
        server 127.0.0.1:{free_port()};
    }}
    server {{
        listen 127.0.0.1:{port};
        include {ROOT}/nginx/locations.conf;
    }}
}}
"""
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w") as file:
        file.write(config)
    process = stack.start("nginx", ["nginx", "-c", path, "-g", "daemon off;"])
    wait_port(port, process, "nginx")
    wait_until(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200,
               "nginx /healthz")
    return port


def loadtest_arguments(args, scenario):
    sources = ["--source", args.source] if args.source else []
    common = ["--jwt-secret", args.secret, "--ramp", str(args.ramp), "--json"] + sources
    if scenario == "idle":
        return ["--scenario", "idle", "--connections", str(args.idle_connections), "--hold", str(args.hold)] + common
    if scenario == "fanout":
        return ["--scenario", "fanout", "--connections", str(args.fanout_connections),
                "--events", str(args.fanout_events), "--rate", str(args.fanout_rate)] + common
    return ["--scenario", "targeted", "--connections", str(args.targeted_connections),
            "--events", str(args.targeted_events), "--rate", str(args.targeted_rate)] + common


def cpu_seconds(pid):
    """utime + stime of a process, from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run_loadtest(command, pids, log_path, timeout):
    """Runs the loadtest (bounded), its progress into log_path; notes the servers' and its own CPU
    time once its connections are up ("connected N/N" on stderr) and again at its end, so the CPU
    spent delivering is told apart from the CPU of the handshakes. (stdout, exit code, CPU
    seconds after connect {servers, loadGenerator}) or None on timeout."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True)
    marks = {}

    def follow():
        with open(log_path, "w") as log:
            for line in process.stderr:
                log.write(line)
                if "connected" not in marks and line.startswith("loadtest: connected "):
                    marks["connected"] = (sum(cpu_seconds(pid) for pid in pids), cpu_seconds(process.pid))

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    output = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()), daemon=True)
    reader.start()
    deadline = time.time() + timeout
    while process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
        # The last figures before the process ends: sampled continuously, the last one stays.
        marks["end"] = (sum(cpu_seconds(pid) for pid in pids), cpu_seconds(process.pid))
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
        return None
    reader.join(timeout=10)
    follower.join(timeout=10)
    servers, client = marks.get("connected", (0.0, 0.0))
    end_servers, end_client = marks.get("end", (servers, client))
    cpu = {"servers": round(end_servers - servers, 2), "loadGenerator": round(end_client - client, 2)}
    return "".join(output), process.returncode, cpu


def run_one(args, server, scenario, directory):
    """Fresh Redis and node(s), one `herald loadtest`, everything stopped: the loadtest's report."""
    stack = Stack(directory)
    nodes = args.nodes if scenario == "cluster" else 1
    try:
        redis_url, redis_client = start_redis(stack)
        ports, pids = start_nodes(stack, server, args, nodes, redis_url, redis_client)
        port = start_nginx(stack, ports) if scenario == "cluster" else ports[0]
        time.sleep(args.settle)  # let the fresh processes finish starting before RSS is read
        command = [args.herald, "loadtest", "--url", f"http://127.0.0.1:{port}", "--redis", redis_url,
                   "--pids", ",".join(map(str, pids))] + loadtest_arguments(args, scenario)
        say(f"compare: {scenario} against {server} ({nodes} node(s)): {' '.join(command)}")
        done = run_loadtest(command, pids, os.path.join(directory, "loadtest.log"), args.loadtest_timeout)
        if done is None:
            say(f"compare: the loadtest took over {args.loadtest_timeout} s; see {directory}/loadtest.log")
            return None
        for name, process in stack.processes:
            if process.poll() is not None:
                say(f"compare: {name} exited ({process.returncode}) during the run; see {directory}/{name}.log")
        stdout, returncode, cpu = done
        try:
            report = json.loads(stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            say(f"compare: no report (exit {returncode}); see {directory}/loadtest.log")
            return None
        report["command"] = " ".join(command)
        report["cpuSecondsAfterConnect"] = cpu
        d = report["deliveries"]
        say(f"compare:   held {report['connections']['held']}/{report['connections']['requested']}, "
            f"received {d['received']}/{d['expected']}, lost {d['lost']}, duplicated {d['duplicated']}, "
            f"{d['perSecond']:.0f}/s, p99 {report['latencyMs']['p99']} ms, "
            f"RSS/connection {report['rssPerConnectionBytes']} B")
        return report
    finally:
        stack.stop()


def ratio(herald, baseline):
    return f"{herald / baseline:.2f}" if baseline else "-"


def number(value, digits=0):
    return f"{value:,.{digits}f}"


def table(args, results):
    rows = []

    def row(figure, h, b, format_, r=True):
        rows.append((figure, format_(h), format_(b), ratio(h, b) if r else ""))

    def both(scenario):
        pair = results.get(scenario, {})
        return pair.get("herald"), pair.get("baseline")

    def connections(report):
        c = report["connections"]
        return f"{c['held']:,} / {c['requested']:,} in {c['connectSeconds']:.1f} s"

    def losses(report):
        d = report["deliveries"]
        return f"{d['received']:,} / {d['expected']:,}, {d['lost']:,} lost, {d['duplicated']:,} dup."

    missing = lambda report: report is None
    for scenario in SCENARIOS:
        h, b = both(scenario)
        if scenario not in results:
            continue
        if missing(h) or missing(b):
            rows.append((f"{scenario}: no report", "-" if missing(h) else "ok", "-" if missing(b) else "ok", ""))
            continue
        if scenario == "idle":
            rows.append(("idle: connections held", connections(h), connections(b), ""))
            row("idle: RSS per connection (B)", h["rssPerConnectionBytes"], b["rssPerConnectionBytes"], number)
            continue
        label = {"targeted": "targeted", "fanout": "fanout", "cluster": f"cluster targeted ({args.nodes} nodes)"}[scenario]
        rows.append((f"{label}: connections held", connections(h), connections(b), ""))
        rows.append((f"{label}: received / expected", losses(h), losses(b), ""))
        per_second = "deliveries per second" if scenario == "fanout" else "events delivered per second"
        row(f"{label}: {per_second}", h["deliveries"]["perSecond"], b["deliveries"]["perSecond"], number)
        cpu_h, cpu_b = h["cpuSecondsAfterConnect"]["servers"], b["cpuSecondsAfterConnect"]["servers"]
        if scenario == "fanout":
            row(f"{label}: deliveries per server CPU-second", h["deliveries"]["received"] / cpu_h if cpu_h else 0,
                b["deliveries"]["received"] / cpu_b if cpu_b else 0, number)
        else:
            row(f"{label}: server CPU per event (ms)", 1000 * cpu_h / max(h["deliveries"]["received"], 1),
                1000 * cpu_b / max(b["deliveries"]["received"], 1), lambda v: number(v, 3))
        for percentile in ("p50", "p99"):
            row(f"{label}: latency {percentile} (ms)", h["latencyMs"][percentile], b["latencyMs"][percentile],
                lambda v: number(v, 2))
        if scenario == "cluster":
            row(f"{label}: RSS per connection (B)", h["rssPerConnectionBytes"], b["rssPerConnectionBytes"], number)
    widths = [max(len(r[i]) for r in rows + [("figure", "Herald", "baseline", "Herald / baseline")]) for i in range(4)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(("figure", "Herald", "baseline", "Herald / baseline"), widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines)


def targets(results):
    lines = []
    fanout = results.get("fanout", {})
    if fanout.get("herald") and fanout.get("baseline") and fanout["baseline"]["deliveries"]["perSecond"]:
        value = fanout["herald"]["deliveries"]["perSecond"] / fanout["baseline"]["deliveries"]["perSecond"]
        lines.append(f"target: fan-out deliveries per second >= 10x the baseline: {value:.1f}x, "
                     f"{'met' if value >= 10 else 'NOT met'}")
    idle = results.get("idle", {})
    if idle.get("herald") and idle.get("baseline") and idle["baseline"]["rssPerConnectionBytes"]:
        value = idle["herald"]["rssPerConnectionBytes"] / idle["baseline"]["rssPerConnectionBytes"]
        lines.append(f"target: idle RSS per connection <= 1/4 of the baseline's: {value:.2f}, "
                     f"{'met' if value <= 0.25 else 'NOT met'}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herald", default=os.path.join(ROOT, ".build/release/herald"))
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios to run, comma-separated")
    parser.add_argument("--idle-connections", type=int, default=5000)
    parser.add_argument("--hold", type=int, default=5, help="seconds the idle connections are held")
    parser.add_argument("--targeted-connections", type=int, default=2000)
    parser.add_argument("--targeted-events", type=int, default=3000)
    parser.add_argument("--targeted-rate", type=int, default=500)
    parser.add_argument("--fanout-connections", type=int, default=2000)
    # 60 x 2,000 = 120,000 deliveries: about 10 s for the baseline (~12,000/s), inside the 15 s
    # the load generator waits after its last publish; more would count the baseline's backlog
    # as lost. Herald is done in a fraction of a second.
    parser.add_argument("--fanout-events", type=int, default=60)
    parser.add_argument("--fanout-rate", type=int, default=100_000, help="events per second: as fast as it goes")
    parser.add_argument("--nodes", type=int, default=3, help="nodes in the cluster scenario")
    parser.add_argument("--ramp", type=int, default=200, help="handshakes in flight (loadtest --ramp)")
    parser.add_argument("--source", default="127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4",
                        help="loadtest --source: local addresses to connect from")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between start and load")
    parser.add_argument("--loadtest-timeout", type=float, default=120, help="bound on one loadtest run")
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs directory even on success")
    parser.add_argument("--json", action="store_true", help="every raw report as one JSON object on stdout")
    args = parser.parse_args()
    scenarios = [s for s in args.only.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if not os.access(args.herald, os.X_OK):
        parser.error(f"no herald binary at {args.herald}")
    for tool in ("redis-server", "nginx") if "cluster" in scenarios else ("redis-server",):
        if not shutil.which(tool):
            parser.error(f"{tool} is not installed (scripts/bootstrap installs it)")
    args.secret = "compare-" + os.urandom(12).hex()

    logs = tempfile.mkdtemp(prefix="herald-compare-")
    started = time.time()
    results, failed = {}, False
    for scenario in scenarios:
        results[scenario] = {}
        for server in ("herald", "baseline"):
            directory = os.path.join(logs, f"{scenario}-{server}")
            os.makedirs(directory)
            try:
                report = run_one(args, server, scenario, directory)
            except Exception as error:  # one line, the run's logs kept
                say(f"compare: {scenario} against {server} failed: {error}; see {directory}")
                report = None
            results[scenario][server] = report
            if report is None:
                failed = True
            elif server == "herald" and (report["deliveries"]["lost"] or report["deliveries"]["duplicated"]
                                         or report["connections"]["held"] < report["connections"]["requested"]):
                failed = True
    kept = failed or args.keep_logs
    say(f"compare: done in {time.time() - started:.0f} s" + (f"; logs in {logs}" if kept else ""))
    if args.json:
        print(json.dumps({"elapsedSeconds": round(time.time() - started, 1), "results": results}))
    else:
        print(table(args, results))
        print()
        print(targets(results))
    if not kept:
        shutil.rmtree(logs, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
