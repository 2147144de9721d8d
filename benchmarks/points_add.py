"""POST /api/points/add under load (wrk) against `herald serve` on SQLite (or PostgreSQL with
--postgres), with a connected restaurant client that must receive every committed event.

Starts the given herald binary on a free loopback port with a fresh SQLite file (or a fresh
PostgreSQL cluster of Debian's server, started here on another free port), connects a raw
Engine.IO WebSocket client to the restaurant room, runs wrk for --duration seconds with
--connections connections, then waits (at most 15 s) for the client to have every event and
prints a table and one JSON line. Only 127.0.0.1 is contacted.

Usage: points_add.py --herald .build/release/herald [--duration 20] [--connections 32] [--postgres]
"""
import argparse
import base64
import glob
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


from herald_bench import free_port, start_herald, stop, token


class Listener(threading.Thread):
    """Counts points_added frames (and distinct eventIds) on one Engine.IO WebSocket.

    The WebSocket is spoken here over a plain socket, reading 64 KiB at a time: websocket-client
    reads each frame with several small recv calls and took half a core at 3,000 frames a
    second, which the server it measures then did not have (2 cores for wrk, herald and this)."""

    def __init__(self, port, jwt):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = bytearray()
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536) or b""
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buffer = bytearray(rest)
        self.wait_for(b"0{")
        self.send_text("40" + json.dumps({"token": jwt}))
        self.wait_for(b'42["connected"')
        self.count = 0
        self.event_ids = set()
        self.stopped = False

    def send_text(self, text):
        """One masked text frame (a client must mask, RFC 6455 5.3)."""
        payload, mask = text.encode(), os.urandom(4)
        length = len(payload)
        header = bytes([0x81, 0x80 | length]) if length < 126 else bytes([0x81, 0xFE]) + length.to_bytes(2, "big")
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def frames(self):
        """The complete frames in the buffer, as (opcode, payload); the rest stays buffered."""
        buffer, offset, frames = self.buffer, 0, []
        while len(buffer) - offset >= 2:
            opcode, length, start = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F, offset + 2
            if length == 126:
                length, start = int.from_bytes(buffer[start:start + 2], "big"), start + 2
            elif length == 127:
                length, start = int.from_bytes(buffer[start:start + 8], "big"), start + 8
            if len(buffer) < start + length:
                break
            frames.append((opcode, bytes(buffer[start:start + length])))
            offset = start + length
        del buffer[:offset]
        return frames

    def wait_for(self, prefix):
        """Reads until a text frame starting with PREFIX came; it and the frames before it are
        consumed (the handshake's: the open packet, the CONNECT reply, `connected`)."""
        while True:
            if any(opcode == 1 and payload.startswith(prefix) for opcode, payload in self.frames()):
                return
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk

    def run(self):
        pattern = re.compile(rb'"eventId":"([^"]+)"')
        self.sock.settimeout(None)
        while not self.stopped:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            self.buffer += chunk
            for opcode, payload in self.frames():
                if opcode != 1:
                    continue
                if payload == b"2":
                    self.send_text("3")
                elif payload.startswith(b'42["points_added"'):
                    self.count += 1
                    match = pattern.search(payload)
                    if match:
                        self.event_ids.add(match.group(1))


class Postgres:
    """A throw-away PostgreSQL cluster on a free loopback port (as the postgres user when root:
    the server refuses to run as root), with its defaults: every commit is flushed to disk."""

    def __init__(self, directory):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.port, self.data = free_port(), os.path.join(directory, "pg")
        self.prefix = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] if os.getuid() == 0 else []
        if self.prefix:
            shutil.chown(directory, "postgres", "postgres")
        subprocess.run(self.prefix + [f"{binaries}/initdb", "-D", self.data, "-U", "herald", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        self.log = open(os.path.join(directory, "postgres.log"), "w")
        self.process = subprocess.Popen(self.prefix + [f"{binaries}/postgres", "-D", self.data, "-p", str(self.port),
                                                       "-k", directory, "-c", "listen_addresses=127.0.0.1"],
                                        stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while subprocess.run([f"{binaries}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                             capture_output=True).returncode != 0:
            if time.time() > deadline:
                raise RuntimeError("PostgreSQL did not start")
            time.sleep(0.2)
        self.url = f"postgres://herald@127.0.0.1:{self.port}/postgres"

    def count(self, table):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "herald", "-d", "postgres",
                              "-Atc", f"SELECT COUNT(*) FROM {table}"], capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip() or -1)

    def stop(self):
        stop(self.process)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herald", default=".build/release/herald")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="the ledger on PostgreSQL instead of SQLite")
    args = parser.parse_args()

    secret, restaurant, port = "bench-" + os.urandom(8).hex(), "r-bench", free_port()
    directory = tempfile.mkdtemp(prefix="herald-bench-")
    postgres = Postgres(directory) if args.postgres else None
    database = postgres.url if postgres else os.path.join(directory, "ledger.sqlite")
    log = open(os.path.join(directory, "herald.log"), "w")
    herald = start_herald([args.herald, "serve", "--host", "127.0.0.1", "--port", str(port), "--jwt-secret", secret,
                           "--db", database, "--log-level", "warning"], log, port)
    try:
        listener = Listener(port, token(secret, "bench-staff", "restaurant", restaurant))
        listener.start()
        env = dict(os.environ, HERALD_BENCH_TOKEN=token(secret, "bench-staff", "restaurant", restaurant),
                   HERALD_BENCH_RESTAURANT=restaurant)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "points_add.lua")
        wrk = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                              "-s", script, f"http://127.0.0.1:{port}"],
                             env=env, capture_output=True, text=True, timeout=args.duration + 60)
        print(wrk.stdout, file=sys.stderr)
        stats = json.loads(next(line[5:] for line in wrk.stdout.splitlines() if line.startswith("JSON ")))
        # What the ledger committed, read from the database itself once the requests still in
        # flight when wrk stopped are done, and the client has had time to hear every event.
        def committed_count():
            if postgres:
                return postgres.count("transactions")
            with sqlite3.connect(os.path.join(directory, "ledger.sqlite")) as db:
                return db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0]
        deadline, committed, settled = time.time() + 15, -1, 0
        while time.time() < deadline and settled < 5:
            time.sleep(0.2)
            current = committed_count()
            settled = settled + 1 if current == committed and len(listener.event_ids) >= current else 0
            committed = current
        listener.stopped = True
        result = {
            "scenario": "points-add-postgres" if postgres else "points-add-sqlite",
            "committed": committed,
            "perSecond": round(stats["requests"] / stats["seconds"]),
            "latencyMs": {"p50": stats["p50ms"], "p90": stats["p90ms"], "p99": stats["p99ms"], "max": stats["maxms"]},
            "errors": stats["errors"],
            "delivered": listener.count,
            "lost": committed - len(listener.event_ids),
            "duplicated": listener.count - len(listener.event_ids),
        }
        print(f"| committed | {committed} in {stats['seconds']:.1f} s |\n| per second | {result['perSecond']} |\n"
              f"| latency p50 / p90 / p99 / max | {stats['p50ms']:.2f} / {stats['p90ms']:.2f} / {stats['p99ms']:.2f} / "
              f"{stats['maxms']:.2f} ms |\n| errors | {stats['errors']} |\n"
              f"| delivered to the restaurant client | {listener.count}, lost {result['lost']}, "
              f"duplicated {result['duplicated']} |",
              file=sys.stderr)
        print(json.dumps(result))
        sys.exit(0 if result["lost"] == result["duplicated"] == stats["errors"] == 0 else 1)
    finally:
        stop(herald)
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
