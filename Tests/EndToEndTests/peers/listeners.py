"""Connects a fixed cast of clients, prints `ready`, collects events until each hears `done`,
then prints one JSON line: {client: [event names in order]}.
Usage: listeners.py --url URL --secret SECRET --prefix P"""
import argparse
import json
import sys

from herald_peer import Client, make_token

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--secret", required=True)
parser.add_argument("--prefix", required=True)
args = parser.parse_args()
p, secret = args.prefix, args.secret

cast = {
    "g1_websocket": Client(args.url, make_token(secret, f"{p}-g1", "guest"), transports=["websocket"]),
    "g1_polling": Client(args.url, make_token(secret, f"{p}-g1", "guest"), transports=["polling"]),
    "g2": Client(args.url, make_token(secret, f"{p}-g2", "guest")),
    "staff": Client(args.url, make_token(secret, f"{p}-s1", "restaurant", f"{p}-r1")),
    "admin": Client(args.url, make_token(secret, f"{p}-a", "admin")),
}
for client in cast.values():
    client.connect()
    client.wait_for("connected")
print("ready", flush=True)
for client in cast.values():
    client.wait_for("done", timeout=15)
result = {name: [event for event, _ in client.events if event not in ("connected", "done")]
          for name, client in cast.items()}
for client in cast.values():
    client.disconnect()
print(json.dumps(result, sort_keys=True), flush=True)
sys.exit(0)
