"""End-to-end scenarios through nginx in front of the cluster (deploy/local-cluster).
Usage: nginx_scenarios.py NAME --url NGINX_URL --secret S --pids DIR"""
import collections
import os
import signal
import time

import requests
import socketio

from herald_peer import Client, fresh_id, make_token
from scenarios import expect, main, scenario


def post(args, path, body, token):
    return requests.post(args.url + "/api" + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@scenario
def nginx_transports(args):
    """Default socket.io clients (polling, then upgrade) and WebSocket-only ones work through
    nginx; WebSocket-only clients from one address spread evenly over the gateways."""
    restaurant = fresh_id("rest")
    token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    defaults = [Client(args.url, token).connect() for _ in range(6)]
    for client in defaults:
        client.wait_for("connected")
    deadline = time.time() + 5
    while time.time() < deadline and any(c.sio.transport() != "websocket" for c in defaults):
        time.sleep(0.05)
    expect(all(c.sio.transport() == "websocket" for c in defaults), "a session did not upgrade through nginx")
    spread = [Client(args.url, token, transports=["websocket"]).connect() for _ in range(30)]
    nodes = collections.Counter(c.wait_for("connected")[0]["nodeId"] for c in spread)
    expect(len(nodes) == 3 and min(nodes.values()) >= 8, f"uneven spread: {dict(nodes)}")
    added = post(args, "/points/add", {"guestId": fresh_id("g"), "restaurantId": restaurant, "amount": 2}, token)
    expect(added.status_code == 201, added.text)
    for client in defaults + spread:
        client.wait_for("points_added")
    expect(requests.get(args.url + "/api/openapi.yaml", timeout=5).status_code == 200, "API through nginx")
    for client in defaults + spread:
        client.disconnect()


@scenario
def gateway_killed(args):
    """A gateway dies (SIGKILL): its clients reconnect through nginx to the others and receive
    what is published after."""
    restaurant = fresh_id("rest")
    token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    clients = []
    for _ in range(12):
        client = Client(args.url, token, transports=["websocket"])
        client.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        client.sio.on("*", client._record)
        clients.append(client.connect())
    by_node = collections.defaultdict(list)
    for client in clients:
        by_node[client.wait_for("connected")[0]["nodeId"]].append(client)
    victim = sorted(by_node)[0]
    expect(by_node[victim], "no client on the gateway to kill")
    with open(os.path.join(args.pids, f"{victim}.pid")) as pid_file:
        os.kill(int(pid_file.read()), signal.SIGKILL)
    deadline = time.time() + 15
    while time.time() < deadline:
        if all(len(c.received("connected")) >= 2 for c in by_node[victim]):
            break
        time.sleep(0.1)
    for client in by_node[victim]:
        connected = client.received("connected")
        expect(len(connected) >= 2 and connected[-1]["nodeId"] != victim, f"did not reconnect elsewhere: {connected}")
    added = post(args, "/points/add", {"guestId": fresh_id("g"), "restaurantId": restaurant, "amount": 3}, token)
    expect(added.status_code == 201, added.text)
    for client in clients:
        event = client.wait_for("points_added", timeout=10)[-1]
        expect(event["transactionId"] == added.json()["transaction"]["id"], event)
    for client in clients:
        client.disconnect()


def arguments(parser):
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--pids", required=True)


if __name__ == "__main__":
    main(arguments)
