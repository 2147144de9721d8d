"""Hostile inputs that once stopped a node (issue 10), against `herald serve` or the cluster:
each must leave the node running and every other client served.
Usage: hostile_scenarios.py NAME --url URL --secret S [--redis URL --gateways URL,URL --api URL]"""
import base64
import json
import os
import socket
import time

import msgpack
import redis
import requests

from herald_peer import Client, RawSocket, fresh_id, healthy, make_token
from scenarios import expect, main, scenario


def configure(parser):
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--redis")
    parser.add_argument("--gateways")
    parser.add_argument("--api")
    parser.add_argument("--redis-pid")
    parser.add_argument("--pid", type=int)


def bystander(args, url=None):
    sub = fresh_id("guest")
    client = Client(url or args.url, make_token(args.secret, sub, "guest"), transports=["websocket"]).connect()
    client.wait_for("connected")
    return sub, client


def still_serving(args, client, sub, url=None):
    """The node is up and the bystander still gets answers."""
    expect(healthy(url or args.url), "the node is not healthy")
    expect(client.call("subscribe", {"channel": f"guest:{sub}"}) == {"ok": True, "channel": f"guest:{sub}"},
           "the bystander got no answer")


@scenario
def leave_while_answer_pending(args):
    """A client leaves (namespace disconnect, close frame, dropped TCP) while its `sync` or `action`
    answer is being computed; the late answer finds no socket and is dropped."""
    sub, other = bystander(args)
    for round_ in range(30):
        raw = RawSocket(args.url)
        raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
        raw.ws.send('421["sync",{}]')
        raw.ws.send('422["action",{"type":"mark_all_read"}]')
        raw.ws.send('423["action",{"type":"mark_read","id":"nope"}]')
        how = round_ % 3
        if how == 0:
            raw.ws.send("41")
            raw.ws.close()
        elif how == 1:
            raw.ws.close()
        else:
            raw.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            raw.ws.sock.close()
    time.sleep(1)
    still_serving(args, other, sub)


@scenario
def binary_after_refused_packet(args):
    """A binary event with attachments and an ack id after a refused one, then the client leaves."""
    sub, other = bystander(args)
    for _ in range(10):
        raw = RawSocket(args.url)
        raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
        raw.ws.send('4221["subscribe",{"channel":"admin"}]')
        raw.ws.send('451-7["subscribe",{"_placeholder":true,"num":0}]')
        raw.ws.send_binary(b"\x00\x01\x02")
        answers = [raw.recv() for _ in range(4)]
        expect(any(a.startswith("437[") and "binary_not_supported" in a for a in answers), answers)
        raw.ws.close()
    still_serving(args, other, sub)


@scenario
def wide_digits(args):
    """Text frames whose type is a digit outside ASCII (万 is 10,000 to Swift's Character)."""
    sub, other = bystander(args)
    for text in ["4万", "万", "4５", "4٢[\"a\"]", "45１-[\"a\"]", "4２１[\"a\"]", "4\u0660"]:
        raw = RawSocket(args.url)
        raw.ws.send(text)
        expect(raw.closed_within(3), f"{text!r}: the connection stayed open")
    still_serving(args, other, sub)


@scenario
def binary_events(args):
    """A client's binary event is reassembled and refused with a clear error on the ack and as
    an `error` event; bounds on the attachments close the connection."""
    sub, client = bystander(args)
    answer = client.call("subscribe", {"channel": f"guest:{sub}", "blob": b"\x00\xff"})
    expect(answer == {"ok": False, "error": {"code": "binary_not_supported",
                                              "message": "subscribe takes no binary arguments"}}, answer)
    client.wait_for("error")
    raw = RawSocket(args.url)
    raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
    raw.ws.send('4565-["x"]')
    expect(raw.closed_within(3), "65 attachments announced")
    still_serving(args, client, sub)


@scenario
def http_abuse(args):
    """Garbage gets 400 and a closed connection; a silent connection is closed after the idle
    deadline (the node runs with --http-idle-timeout 2)."""
    host, port = args.url.replace("http://", "").split(":")
    garbage = socket.create_connection((host, int(port)), timeout=5)
    garbage.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    reply = garbage.recv(4096)
    expect(reply.startswith(b"HTTP/1.1 400"), reply)
    garbage.settimeout(3)
    expect(garbage.recv(4096) == b"", "the connection stayed open after the 400")
    silent = socket.create_connection((host, int(port)), timeout=10)
    started = time.time()
    expect(silent.recv(4096) == b"", "the silent connection got bytes")
    expect(time.time() - started < 8, "the silent connection was not closed by the idle deadline")
    slow = socket.create_connection((host, int(port)), timeout=10)
    slow.sendall(b"GET /healthz HTTP/1.1\r\n")
    started = time.time()
    try:
        for _ in range(20):
            slow.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.5)
    except OSError:
        pass
    expect(time.time() - started < 9, "slowloris was not cut off by the head deadline")
    sub, other = bystander(args)
    still_serving(args, other, sub)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def silent_websocket(url, token):
    """A WebSocket client that connects its Socket.IO socket, then never reads again, with a
    small receive buffer so that the server's queue is what fills up."""
    host, port = url.replace("http://", "").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    payload = ("40" + json.dumps({"token": token})).encode()
    mask = os.urandom(4)
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return sock


@scenario
def slow_reader(args):
    """A socket that never reads while its room gets megabytes is cut off past 1 MiB queued; the
    node's memory stays bounded and another member of the room gets every event on time."""
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    reader = Client(args.url, admin, transports=["websocket"]).connect()
    reader.wait_for("connected")
    silent = silent_websocket(args.url, make_token(args.secret, fresh_id("admin"), "admin"))
    time.sleep(0.5)
    before = rss_bytes(args.pid)
    session = requests.Session()
    message = "x" * 1000
    count = 4000
    for index in range(count):
        sent = session.post(args.url + "/api/alerts", json={"level": "info", "message": message},
                            headers={"Authorization": f"Bearer {admin}"}, timeout=10)
        expect(sent.status_code == 202, sent.text)
    last_sent = time.time()
    reader.wait_for("system_alert", count=count, timeout=20)
    lag = time.time() - last_sent
    expect(lag < 2, f"the reader got the last alert {lag:.2f} s after it was sent")
    grown = rss_bytes(args.pid) - before
    expect(grown < 64 * 1024 * 1024, f"the node grew by {grown} bytes")
    # The silent socket was closed: what the kernel held drains, then the connection ends.
    silent.settimeout(5)
    received = 0
    deadline = time.time() + 10
    while time.time() < deadline:
        chunk = silent.recv(65536)
        if not chunk:
            break
        received += len(chunk)
    else:
        raise AssertionError("the slow reader was never disconnected")
    expect(received < count * len(message), f"the slow reader got everything ({received} bytes)")
    expect(healthy(args.url), "the node is not healthy")
    reader.disconnect()


@scenario
def connections_per_address(args):
    """One address may hold at most --max-connections-per-address connections (the node runs with
    40); past it a connection is closed at once, while other addresses are served."""
    host, port = args.url.replace("http://", "").split(":")
    held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(40)]
    extra = socket.create_connection((host, int(port)), timeout=5)
    extra.settimeout(3)
    try:
        closed = extra.recv(1) == b""
    except ConnectionResetError:
        closed = True
    expect(closed, "the 41st connection from one address stayed open")
    other = socket.create_connection((host, int(port)), timeout=5, source_address=("127.0.0.2", 0))
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(other.recv(4096).startswith(b"HTTP/1.1 200"), "another address was refused")
    for sock in held[:5]:
        sock.close()
    time.sleep(0.5)
    again = socket.create_connection((host, int(port)), timeout=5)
    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(again.recv(4096).startswith(b"HTTP/1.1 200"), "a freed place was not given back")


# Cluster: what anyone with access to Redis can publish.

def emitter_broadcast(rooms, event, payload, nsp="/", uid="nodeUid", opts=None):
    packet = {"type": 2, "data": [event, payload], "nsp": nsp}
    return msgpack.packb([uid, packet, opts if opts is not None else {"rooms": rooms, "except": [], "flags": {}}])


@scenario
def hostile_redis(args):
    """Malformed and wrong-typed messages on Redis are dropped; no gateway dies and nobody is
    selected by a field of the wrong type; delivery goes on."""
    gateways = args.gateways.split(",")
    r = redis.Redis.from_url(args.redis)
    guests = []
    for url in gateways:
        sub = fresh_id("guest")
        client = Client(url, make_token(args.secret, sub, "guest"), transports=["websocket"]).connect()
        client.wait_for("connected")
        guests.append((sub, client))
    for text in ['{"type":1e20}', '{"type":-1}', '{"type":2.5,"uid":"x"}', '{"type":"5"}', '{',
                 '{"type":2,"uid":"x","opts":{"rooms":"admin","except":[]},"rooms":["admin"]}',
                 '{"type":2,"uid":"x","opts":{"rooms":5},"rooms":["admin"]}',
                 '{"type":2,"uid":"x","opts":{"rooms":{"a":1}},"rooms":["admin"]}',
                 '{"type":4,"uid":"x","opts":{"rooms":"guest"},"close":true}',
                 '{"type":4,"uid":"x","opts":{"rooms":[{}]},"close":true}',
                 '{"type":5,"uid":"x","requestId":"r","opts":{"rooms":[' + "[" * 500 + "]" * 500 + ']}}',
                 '{"type":99,"uid":"x"}']:
        r.publish("socket.io-request#/#", text)
    for opts in [{"rooms": "admin", "except": []}, {"rooms": 5}, {"rooms": {"admin": True}}, 7, None,
                 {"rooms": [], "except": "x"}, {"rooms": [{}]}]:
        r.publish("socket.io#/#", msgpack.packb(["nodeUid", {"type": 2, "data": ["system_alert", {"level": "critical"}],
                                                             "nsp": "/"}, opts]))
    r.publish("socket.io#/#", b"\x93\xa3abc\xdd\xff\xff\xff\xff")  # an array claiming 4 billion items
    r.publish("socket.io#/#", b"\x91" * 10_000)  # nested past any bound
    r.publish("socket.io#/#", emitter_broadcast([], "system_alert", {}, nsp=5))
    time.sleep(1)
    for sub, client in guests:
        expect(client.received("system_alert") == [], f"a guest got an alert: {client.received('system_alert')}")
        expect(client.sio.connected, "a guest was disconnected")
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    sent = requests.post(args.api + "/api/alerts", json={"level": "info", "message": "hi"},
                         headers={"Authorization": f"Bearer {admin}"}, timeout=10)
    expect(sent.status_code == 202, sent.text)
    for sub, client in guests:
        r.publish(f"socket.io#/#guest:{sub}#", emitter_broadcast([f"guest:{sub}"], "points_added", {"eventId": sub}))
    for url, (sub, client) in zip(gateways, guests):
        expect(client.wait_for("points_added")[0]["eventId"] == sub, "delivery stopped")
        expect(client.received("system_alert") == [], "the admin alert reached a guest")
        still_serving(args, client, sub, url)
        client.disconnect()


@scenario
def binary_from_node(args):
    """A Node socket.io server on the same Redis broadcasts a `Buffer`: the msgpack `bin` reaches
    Herald's clients intact, over WebSocket and over long-polling."""
    gateways = args.gateways.split(",")
    r = redis.Redis.from_url(args.redis)
    sub = fresh_id("guest")
    token = make_token(args.secret, sub, "guest")
    clients = [Client(gateways[0], token, transports=["websocket"]).connect(),
               Client(gateways[-1], token, transports=["polling"]).connect()]
    for client in clients:
        client.wait_for("connected")
    image = bytes(range(256)) * 40
    # What @socket.io/redis-adapter publishes for io.to(room).emit("image", {png: Buffer, parts: [Buffer]}).
    r.publish(f"socket.io#/#guest:{sub}#", msgpack.packb(
        ["nodeUid", {"type": 2, "data": ["image", {"png": image, "parts": [b"\x00", b""]}], "nsp": "/"},
         {"rooms": [f"guest:{sub}"], "except": [], "flags": {}}], use_bin_type=True))
    for client in clients:
        got = client.wait_for("image")[0]
        expect(got == {"png": image, "parts": [b"\x00", b""]}, f"{client.transports}: {str(got)[:200]}")
        client.disconnect()


if __name__ == "__main__":
    main(configure)
