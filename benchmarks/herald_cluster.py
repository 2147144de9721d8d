"""A loopback Herald cluster for the cluster benchmarks (reconnect-storm, soak): redis-server,
N `herald gateway` nodes and nginx in front, all on 127.0.0.1 under a temporary directory.

The same topology as `deploy/local-cluster up` (the routes are the repo's nginx/http.conf and
nginx/locations.conf), with an nginx sized for more clients than local-cluster's (two workers of
19,000 connections): each proxied client holds two descriptors in its worker and a process may
hold at most 20,000 files here, so `workers` workers of 19,000 connections hold about
workers * 9,500 clients. `listen ... reuseport` gives each worker its own accept queue (the
kernel spreads new connections evenly over them), and the upstreams live in shared zones so
that `least_conn` counts and failed servers are shared by every worker.

Every process is started here, its pid kept, and stopped by that pid (SIGTERM, then SIGKILL).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port_block(count):
    """A base port such that base .. base+count-1 are all free on 127.0.0.1 (bounded search)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count >= 60000:
            continue
        ok = True
        for port in range(base, base + count):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def _ready(url, timeout=0.5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


class Cluster:
    def __init__(self, herald, nodes=3, workers=4, worker_connections=19000, log_level="warning",
                 secret=None, directory=None, api=False, node_args=()):
        self.herald = os.path.abspath(herald)
        self.nodes = nodes
        self.workers = workers
        self.worker_connections = worker_connections
        self.log_level = log_level
        self.secret = secret or os.urandom(16).hex()
        self.directory = directory or tempfile.mkdtemp(prefix="herald-cluster-")
        self.keep_directory = directory is not None
        self.processes = {}
        self.api = api                        # also a points-api (SQLite) behind /api/
        self.node_args = list(node_args)      # extra flags of every node (--recovery-window 0, ...)
        base = free_port_block(nodes + 3)
        self.port = base                      # nginx
        self.redis_port = base + 1
        self.gateway_ports = [base + 2 + i for i in range(nodes)]
        self.api_port = base + 2 + nodes
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}"

    # -- processes ---------------------------------------------------------------------------
    def _spawn(self, name, arguments, env=None):
        log = open(os.path.join(self.directory, f"{name}.log"), "w")
        process = subprocess.Popen(arguments, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                   env=env, cwd=self.directory)
        log.close()
        self.processes[name] = process
        return process

    def gateway_name(self, index):
        return f"gateway-{index + 1}"

    def gateway_pid(self, index):
        return self.processes[self.gateway_name(index)].pid

    def nginx_worker_pids(self):
        master = self.processes["nginx"].pid
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                    if int(fields[1]) == master:
                        pids.append(int(entry))
                except OSError:
                    pass
        return sorted(pids)

    def start(self):
        os.makedirs(os.path.join(self.directory, "nginx-temp"), exist_ok=True)
        os.chmod(os.path.join(self.directory, "nginx-temp"), 0o777)  # nginx's workers drop root
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--maxclients", "1000"])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        for index in range(self.nodes):
            self.start_gateway(index)
        if self.api:
            env = dict(os.environ, HERALD_JWT_SECRET=self.secret)
            self._spawn("points-api", [
                self.herald, "points-api", "--host", "127.0.0.1", "--port", str(self.api_port), "--redis", self.redis_url,
                "--db", os.path.join(self.directory, "ledger.sqlite"), "--log-level", self.log_level] + self.node_args, env=env)
        self._write_nginx_conf()
        self._spawn("nginx", ["nginx", "-c", os.path.join(self.directory, "nginx.conf"), "-g", "daemon off;"])
        self.wait_ready()
        return self

    def start_gateway(self, index):
        env = dict(os.environ, HERALD_JWT_SECRET=self.secret)
        return self._spawn(self.gateway_name(index), [
            self.herald, "gateway", "--host", "127.0.0.1", "--port", str(self.gateway_ports[index]),
            "--redis", self.redis_url, "--node-id", self.gateway_name(index), "--log-level", self.log_level] + self.node_args,
            env=env)

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        ports = self.gateway_ports + ([self.api_port] if self.api else [])
        targets = [f"http://127.0.0.1:{port}/readyz" for port in ports] + [self.url + "/healthz"]
        for target in targets:
            while not _ready(target):
                if time.time() > deadline:
                    raise RuntimeError(f"{target} not ready within {timeout} s (logs in {self.directory})")
                for name, process in self.processes.items():
                    if process.poll() is not None and name != "killed":
                        raise RuntimeError(f"{name} exited with {process.returncode} (logs in {self.directory})")
                time.sleep(0.1)

    def _write_nginx_conf(self):
        servers = "".join(f"        server 127.0.0.1:{port};\n" for port in self.gateway_ports)
        temp = os.path.join(self.directory, "nginx-temp")
        conf = f"""# Written by benchmarks/herald_cluster.py; the routes are nginx/locations.conf.
worker_processes {self.workers};
worker_rlimit_nofile 19500;
pid {self.directory}/nginx.pid;
error_log {self.directory}/nginx-error.log warn;
events {{ worker_connections {self.worker_connections}; }}
http {{
    include {REPO}/nginx/http.conf;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    upstream herald_gateways_sticky {{
        zone herald_gateways_sticky 64k;
        hash $remote_addr consistent;
{servers}    }}
    upstream herald_gateways_spread {{
        zone herald_gateways_spread 64k;
        least_conn;
{servers}    }}
    upstream herald_api {{
        server 127.0.0.1:{self.api_port if self.api else 1};
    }}
    server {{
        listen 127.0.0.1:{self.port} reuseport backlog=4096;
        include {REPO}/nginx/locations.conf;
    }}
}}
"""
        with open(os.path.join(self.directory, "nginx.conf"), "w") as out:
            out.write(conf)

    def kill_gateway(self, index):
        """SIGKILL, no warning: the node's sockets are closed by the kernel."""
        process = self.processes[self.gateway_name(index)]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return process.pid

    def metrics(self, index):
        values = {}
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.gateway_ports[index]}/metrics", timeout=5) as response:
                for line in response.read().decode().splitlines():
                    if line and not line.startswith("#"):
                        name, _, value = line.rpartition(" ")
                        values[name] = float(value)
        except OSError:
            pass
        return values

    def stop(self):
        order = ["nginx", "points-api"] + [n for n in self.processes if n.startswith("gateway-")] + ["redis"]
        for name in order:
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if not self.keep_directory and os.environ.get("HERALD_BENCH_KEEP_LOGS") != "1":
            shutil.rmtree(self.directory, ignore_errors=True)


def proc_rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))
