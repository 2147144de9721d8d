"""Connects, prints `ready`, and reports how the connection ends when the node stops.
Usage: shutdown_watch.py --url URL --secret SECRET"""
import argparse
import sys
import time

from herald_peer import Client, fresh_id, make_token

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--secret", required=True)
args = parser.parse_args()
clients = [Client(args.url, make_token(args.secret, fresh_id("g"), "guest"), transports=transports).connect()
           for transports in (["websocket"], ["polling"], None)]
print("ready", flush=True)
started = time.time()
while any(client.sio.connected for client in clients) and time.time() - started < 15:
    time.sleep(0.02)
still = [client for client in clients if client.sio.connected]
if still:
    print("FAILED: still connected after 15 s", flush=True)
    sys.exit(1)
print(f"disconnected after {time.time() - started:.2f}s", flush=True)
