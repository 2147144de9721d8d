"""Memory of `herald serve` holding N idle Socket.IO WebSocket connections.

Starts the given herald binary on a free loopback port, reads its RSS from /proc, opens N
Engine.IO v4 WebSocket connections that each CONNECT with their own token (and answer pings),
reads the RSS again once they are all held, and prints a table and one JSON line.
Only 127.0.0.1 is contacted; every wait is bounded.

Usage: idle_connections.py --herald .build/release/herald --connections 10000
"""
import argparse
import asyncio
import json
import os
import sys
import time

import websockets

from herald_bench import free_port, rss_bytes, start_herald, stop as stop_herald, token


async def hold(url, secret, index, connected, stop, failures, gate):
    try:
        async with gate:
            ws = await asyncio.wait_for(websockets.connect(url, compression=None, ping_interval=None,
                                                           max_size=None, open_timeout=20), 30)
            opened = await asyncio.wait_for(ws.recv(), 20)
            assert opened.startswith("0{"), opened
            await ws.send("40" + json.dumps({"token": token(secret, f"idle-{index}")}))
            while True:
                message = await asyncio.wait_for(ws.recv(), 20)
                if message == "2":
                    await ws.send("3")
                elif message.startswith("40"):
                    break
                elif message.startswith("44"):
                    raise RuntimeError(message)
        connected.append(index)
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 1)
            except asyncio.TimeoutError:
                continue
            if message == "2":
                await ws.send("3")
        await ws.close()
    except Exception as error:  # counted and reported, never fatal to the others
        failures.append(repr(error))


async def run(args):
    secret = "bench-" + os.urandom(8).hex()
    port = free_port()
    log = open(args.log, "w")
    herald = start_herald([args.herald, "serve", "--host", "127.0.0.1", "--port", str(port), "--jwt-secret", secret,
                           "--log-level", "warning"], log, port)
    try:
        time.sleep(1)
        before = rss_bytes(herald.pid)
        url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        connected, failures, stop = [], [], asyncio.Event()
        gate = asyncio.Semaphore(args.concurrency)
        started = time.time()
        tasks = [asyncio.create_task(hold(url, secret, index, connected, stop, failures, gate))
                 for index in range(args.connections)]
        deadline = time.time() + args.timeout
        while len(connected) + len(failures) < args.connections and time.time() < deadline:
            await asyncio.sleep(0.5)
            print(f"\rconnected {len(connected)}/{args.connections}, failed {len(failures)}",
                  end="", file=sys.stderr, flush=True)
        connect_seconds = time.time() - started
        print(file=sys.stderr)
        await asyncio.sleep(args.settle)
        after = rss_bytes(herald.pid)
        held = len(connected) - len([f for f in failures])  # failures after connect lower the count
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        result = {
            "scenario": "idle-hold",
            "connections": {"requested": args.connections, "held": held, "connectSeconds": round(connect_seconds, 2)},
            "rssBeforeBytes": before,
            "rssAfterBytes": after,
            "rssPerConnectionBytes": round((after - before) / max(held, 1)),
            "failures": failures[:5],
        }
        print(f"| connections held | {held} / {args.connections} |\n| connect time | {connect_seconds:.1f} s |\n"
              f"| RSS before | {before / 2**20:.1f} MiB |\n| RSS after | {after / 2**20:.1f} MiB |\n"
              f"| RSS per connection | {result['rssPerConnectionBytes']} B |", file=sys.stderr)
        print(json.dumps(result))
        return 0 if held == args.connections else 1
    finally:
        stop_herald(herald)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herald", default=".build/release/herald")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes in flight at once")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait before reading RSS")
    parser.add_argument("--timeout", type=float, default=180, help="seconds allowed for connecting")
    parser.add_argument("--log", default="/tmp/herald-idle-bench.log")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
