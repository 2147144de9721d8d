"""Connects as a guest and checks what its notification center holds (newest first), waiting up
to 10 s for it. Usage: sync_check.py --url URL --secret S --guest G --expect event:amount,..."""
import argparse
import sys
import time

from herald_peer import Client, make_token

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--secret", required=True)
parser.add_argument("--guest", required=True)
parser.add_argument("--expect", required=True)
args = parser.parse_args()
expected = [(item.split(":")[0], int(item.split(":")[1])) for item in args.expect.split(",")]
client = Client(args.url, make_token(args.secret, args.guest, "guest")).connect()
deadline, found = time.time() + 10, []
while time.time() < deadline:
    notifications = client.call("sync", {})["notifications"]
    found = [(n["event"], n["payload"]["amount"]) for n in notifications]
    if found == expected:
        print("ok")
        client.disconnect()
        sys.exit(0)
    time.sleep(0.2)
print(f"FAILED: the center holds {found}, expected {expected}")
client.disconnect()
sys.exit(1)
