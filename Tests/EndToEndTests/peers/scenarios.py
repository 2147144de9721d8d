"""End-to-end scenarios against a running Herald node, driven by python-socketio and raw
Engine.IO. Usage: scenarios.py NAME --url URL --secret SECRET. Exit 0 means the scenario held."""
import argparse
import json
import socket
import sys
import time

import requests
import socketio

from herald_peer import Client, RawSocket, fresh_id, healthy, make_token, metrics

SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def guest(args, sub=None):
    sub = sub or fresh_id("guest")
    return sub, make_token(args.secret, sub, "guest")


# Connection and transports

def check_connected(client, sub, role, rooms):
    connected = client.wait_for("connected")[0]
    expect(connected["userId"] == sub, connected)
    expect(connected["role"] == role, connected)
    expect(sorted(connected["rooms"]) == sorted(rooms), connected)
    expect(connected["socketId"] == client.sio.get_sid("/"), (connected, client.sio.get_sid("/")))
    expect(isinstance(connected["nodeId"], str) and connected["nodeId"], connected)


@scenario
def connect_default(args):
    """Default transports: polling first, then the upgrade to WebSocket."""
    sub, token = guest(args)
    client = Client(args.url, token).connect()
    check_connected(client, sub, "guest", [f"user:{sub}", f"guest:{sub}"])
    deadline = time.time() + 5
    while client.sio.transport() != "websocket" and time.time() < deadline:
        time.sleep(0.05)
    expect(client.sio.transport() == "websocket", "the session did not upgrade to websocket")
    expect(client.call("subscribe", {"channel": f"guest:{sub}"}) == {"ok": True, "channel": f"guest:{sub}"}, "ack")
    client.disconnect()


@scenario
def connect_websocket(args):
    sub, token = guest(args)
    client = Client(args.url, token, transports=["websocket"]).connect()
    expect(client.sio.transport() == "websocket", client.sio.transport())
    check_connected(client, sub, "guest", [f"user:{sub}", f"guest:{sub}"])
    expect(client.call("subscribe", {"channel": f"guest:{sub}"})["ok"] is True, "ack")
    client.disconnect()


@scenario
def connect_polling(args):
    sub, token = guest(args)
    client = Client(args.url, token, transports=["polling"]).connect()
    expect(client.sio.transport() == "polling", client.sio.transport())
    check_connected(client, sub, "guest", [f"user:{sub}", f"guest:{sub}"])
    for _ in range(3):
        expect(client.call("subscribe", {"channel": f"guest:{sub}"})["ok"] is True, "ack over polling")
    client.disconnect()


@scenario
def cors(args):
    """The node runs with --cors-origin https://app.example: that origin is allowed, others refused."""
    base = args.url + "/socket.io/"
    query = {"EIO": "4", "transport": "polling"}
    preflight = requests.options(base, params=query, timeout=5, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    expect(preflight.status_code == 204, preflight.status_code)
    expect(preflight.headers.get("Access-Control-Allow-Origin") == "https://app.example", preflight.headers)
    expect("POST" in preflight.headers.get("Access-Control-Allow-Methods", ""), preflight.headers)
    allowed = requests.get(base, params=query, timeout=5, headers={"Origin": "https://app.example"})
    expect(allowed.status_code == 200 and allowed.headers.get("Access-Control-Allow-Origin") == "https://app.example",
           allowed.headers)
    foreign = requests.get(base, params=query, timeout=5, headers={"Origin": "https://evil.example"})
    expect(foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign.headers, foreign.headers)
    try:
        websocket_client = __import__("websocket")
        websocket_client.create_connection(args.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                                           timeout=5, origin="https://evil.example")
        raise AssertionError("a WebSocket from a foreign origin was accepted")
    except websocket_client.WebSocketBadStatusException as error:
        expect(error.status_code == 403, error.status_code)
    sub, token = guest(args)
    client = Client(args.url, token, headers={"Origin": "https://app.example"}).connect()
    check_connected(client, sub, "guest", [f"user:{sub}", f"guest:{sub}"])
    client.disconnect()


# Authentication

@scenario
def auth_header(args):
    """The token may come as Authorization: Bearer on the handshake request."""
    sub, token = guest(args)
    client = Client(args.url, headers={"Authorization": f"Bearer {token}"}, auth={}).connect()
    check_connected(client, sub, "guest", [f"user:{sub}", f"guest:{sub}"])
    client.disconnect()


@scenario
def auth_failures(args):
    sub = fresh_id("guest")
    cases = {
        "missing": ({}, "missing token"),
        "malformed": ({"token": "not.a.jwt"}, "malformed token"),
        "not a string": ({"token": 12345}, "malformed token"),
        "bad signature": ({"token": make_token("another-secret", sub, "guest")}, "invalid token signature"),
        "expired": ({"token": make_token(args.secret, sub, "guest", ttl=-60)}, "token expired"),
        "no expiry": ({"token": make_token(args.secret, sub, "guest", claims={"exp": None})}, "token has no expiry"),
        "unknown role": ({"token": make_token(args.secret, sub, "chef")}, "unknown role"),
        "restaurant without id": ({"token": make_token(args.secret, sub, "restaurant")}, "restaurantId"),
    }
    for name, (auth, message) in cases.items():
        client = Client(args.url, auth=auth, transports=["websocket"])
        try:
            client.connect()
            raise AssertionError(f"{name}: connected although it should not")
        except socketio.exceptions.ConnectionError:
            pass
        expect(client.connect_error is not None and message in client.connect_error.get("message", ""),
               f"{name}: connect_error was {client.connect_error!r}, expected {message!r}")
        expect(client.received("connected") == [], f"{name}: got connected")
        client.disconnect()
    values = metrics(args.url)
    expect(values.get("herald_connections", 0) == 0, f"refused sockets joined: {values}")


@scenario
def namespaces_and_order(args):
    """Only `/` exists; events before CONNECT or for a namespace the socket is not in are ignored."""
    sub, token = guest(args)
    raw = RawSocket(args.url)
    raw.ws.send('421["subscribe",{"channel":"guest:%s"}]' % sub)  # before CONNECT: ignored
    raw.ws.send("40/orders," + '{"token":"%s"}' % token)
    expect(raw.recv() == '44/orders,{"message":"Invalid namespace"}', "unknown namespace")
    raw.ws.send('42/orders,7["subscribe",{"channel":"guest:%s"}]' % sub)  # not in it: ignored
    expect(raw.connect(token).startswith('40{"sid":'), "CONNECT to / after the refusal")
    raw.ws.send('423["subscribe",{"channel":"guest:%s"}]' % sub)
    answers = []
    while not answers or not answers[-1].startswith("43"):
        answers.append(raw.recv())
    acks = [(a[:3], json.loads(a[3:])) for a in answers if a.startswith("43")]
    expect(acks == [("433", [{"ok": True, "channel": f"guest:{sub}"}])], f"only the ack of id 3: {answers}")
    client = Client(args.url, token)
    client.sio.connect(args.url, auth={"token": token}, namespaces=["/"], wait_timeout=5)
    try:
        other = Client(args.url, token)
        other.sio.connect(args.url, auth={"token": token}, namespaces=["/admin"], wait_timeout=5)
        raise AssertionError("connected to /admin")
    except socketio.exceptions.ConnectionError:
        pass
    client.disconnect()


# Rooms and authorization

@scenario
def automatic_rooms(args):
    sub, token = guest(args)
    restaurant = fresh_id("rest")
    staff = fresh_id("staff")
    admin = fresh_id("admin")
    cases = [
        (Client(args.url, token), sub, "guest", [f"user:{sub}", f"guest:{sub}"]),
        (Client(args.url, make_token(args.secret, staff, "restaurant", restaurant)), staff, "restaurant",
         [f"user:{staff}", f"restaurant:{restaurant}"]),
        (Client(args.url, make_token(args.secret, admin, "admin")), admin, "admin", [f"user:{admin}", "admin"]),
    ]
    for client, who, role, rooms in cases:
        client.connect()
        check_connected(client, who, role, rooms)
        client.disconnect()


def refused(client, event, channel, code):
    answer = client.call(event, {"channel": channel})
    expect(answer.get("ok") is False and answer["error"]["code"] == code,
           f"{event} {channel!r}: expected {code}, got {answer}")


@scenario
def subscribe_matrix(args):
    sub, token = guest(args)
    restaurant = fresh_id("rest")
    g = Client(args.url, token).connect()
    r = Client(args.url, make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)).connect()
    a = Client(args.url, make_token(args.secret, fresh_id("admin"), "admin")).connect()
    ok = lambda client, event, channel: expect(
        client.call(event, {"channel": channel}) == {"ok": True, "channel": channel}, f"{event} {channel}")

    ok(g, "subscribe", f"guest:{sub}")
    ok(g, "subscribe", f"guest:{sub}")  # already in: succeeds, changes nothing
    refused(g, "subscribe", "guest:someone-else", "forbidden")
    refused(g, "subscribe", f"restaurant:{restaurant}", "forbidden")
    refused(g, "subscribe", "admin", "forbidden")
    ok(r, "subscribe", f"restaurant:{restaurant}")
    refused(r, "subscribe", "restaurant:other", "forbidden")
    refused(r, "subscribe", f"guest:{sub}", "forbidden")
    for channel in [f"guest:{sub}", "restaurant:anything", "user:x", "admin"]:
        ok(a, "subscribe", channel)
    for bad in ["", "guest:", "guest", "chef:1", "guest:bad id", "guest:" + "x" * 129, "guest:é"]:
        refused(a, "subscribe", bad, "invalid_channel")
    for payload in [{"channel": 42}, {"channel": None}, {}, "guest:x", 7, None]:
        answer = a.call("subscribe", payload)
        expect(answer["ok"] is False and answer["error"]["code"] == "invalid_channel", f"{payload!r}: {answer}")
    expect(len(g.wait_for("error", 3)) >= 3, "refusals also emit error events")
    ok(a, "unsubscribe", "restaurant:anything")
    refused(g, "unsubscribe", "guest:someone-else", "forbidden")

    # At most 100 subscriptions besides the automatic rooms; admin holds 2 so far.
    for index in range(98):
        ok(a, "subscribe", f"guest:many-{index}")
    refused(a, "subscribe", "guest:one-too-many", "too_many_rooms")
    ok(a, "subscribe", "guest:many-0")  # already in: still fine at the limit
    ok(a, "unsubscribe", "guest:many-0")
    ok(a, "subscribe", "guest:one-too-many")

    answer = g.call("action", {"type": "dance"})
    expect(answer["ok"] is False and answer["error"]["code"] == "unknown_action", answer)
    for client in (g, r, a):
        client.disconnect()


# Broadcast

@scenario
def broadcast_once(args):
    """A change in a notification center is broadcast to its room: every tab of the user hears
    it exactly once, nobody else does."""
    sub, token = guest(args)
    tab_ws = Client(args.url, token, transports=["websocket"]).connect()
    tab_polling = Client(args.url, token, transports=["polling"]).connect()
    tab_default = Client(args.url, token).connect()
    other = Client(args.url, guest(args)[1]).connect()
    admin = Client(args.url, make_token(args.secret, fresh_id("admin"), "admin")).connect()
    # Being in the target room twice over (automatic + subscribed) still means one copy.
    tab_ws.call("subscribe", {"channel": f"guest:{sub}"})
    answer = tab_ws.call("action", {"type": "mark_all_read"})
    expect(answer == {"ok": True, "unreadCount": 0}, answer)
    for tab in (tab_ws, tab_polling, tab_default):
        tab.wait_for("notification_updated")
    time.sleep(1.0)
    for tab in (tab_ws, tab_polling, tab_default):
        updates = tab.received("notification_updated")
        expect(updates == [{"read": True, "unreadCount": 0}], f"one copy per socket, got {updates}")
    expect(other.received("notification_updated") == [], "another guest heard it")
    expect(admin.received("notification_updated") == [], "the admin heard it")
    for client in (tab_ws, tab_polling, tab_default, other, admin):
        client.disconnect()


# Lifecycle

@scenario
def disconnect_cleanup(args):
    clients = []
    for _ in range(3):
        sub, token = guest(args)
        client = Client(args.url, token).connect()
        client.call("subscribe", {"channel": f"guest:{sub}"})
        clients.append(client)
    admin = Client(args.url, make_token(args.secret, fresh_id("admin"), "admin")).connect()
    for index in range(10):
        admin.call("subscribe", {"channel": f"restaurant:r{index}"})
    clients.append(admin)
    values = metrics(args.url)
    expect(values["herald_connections"] == 4, values)
    expect(values["herald_rooms"] == 3 * 2 + 2 + 10, values)
    for client in clients:
        client.disconnect()
    deadline = time.time() + 5
    while time.time() < deadline:
        values = metrics(args.url)
        if values["herald_connections"] == 0 and values["herald_rooms"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"sockets or rooms left behind: {values}")


@scenario
def heartbeat_timeout(args):
    """The node runs with short ping settings; a client that stops answering pings is closed
    after pingInterval + pingTimeout, a client that answers stays."""
    _, token = guest(args)
    alive = Client(args.url, guest(args)[1], transports=["websocket"]).connect()
    raw = RawSocket(args.url)
    interval = raw.handshake["pingInterval"] / 1000
    timeout = raw.handshake["pingTimeout"] / 1000
    expect(interval + timeout <= 5, f"start the node with short pings: {raw.handshake}")
    expect(raw.connect(token).startswith("40"), "raw connect")
    started = time.time()
    expect(raw.closed_within(interval + timeout + 2), "a silent client was not closed")
    elapsed = time.time() - started
    expect(elapsed >= interval + timeout - 0.3, f"closed too early: {elapsed:.2f}s")
    time.sleep(max(0.0, 2 * (interval + timeout) - elapsed))
    expect(alive.sio.connected, "a client answering pings was dropped")
    expect(alive.call("subscribe", {"channel": alive.received("connected")[0]["rooms"][1]})["ok"], "alive call")
    alive.disconnect()


# Bad input

def expect_closed(raw, what):
    expect(raw.closed_within(3), f"{what}: the connection stayed open")


def http_status(method, url, **kwargs):
    return requests.request(method, url, timeout=5, **kwargs).status_code


@scenario
def malformed_input(args):
    sub, token = guest(args)
    bystander = Client(args.url, token, transports=["websocket"]).connect()

    for garbage in ["garbage", "4", "42[", "4{\"not\":\"an array\"}", "42[\"connect\"]", "49", "4x", "7", ""]:
        raw = RawSocket(args.url)
        raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
        raw.ws.send(garbage)
        expect_closed(raw, f"text {garbage!r}")

    raw = RawSocket(args.url)
    raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
    raw.ws.send_binary(b"\x00\x01 no attachment announced")
    expect_closed(raw, "stray binary")

    raw = RawSocket(args.url)
    raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
    raw.ws.send('451-["subscribe",{"_placeholder":true,"num":0}]')
    raw.ws.send("40")
    expect_closed(raw, "text while attachments are awaited")

    raw = RawSocket(args.url)
    try:
        raw.ws.send("4" + "x" * 1_100_000)
        expect_closed(raw, "oversized frame")
    except ConnectionError:
        pass  # closed by the server before the frame was even sent whole

    # A binary event with its attachment is parsed without harm and ignored.
    raw = RawSocket(args.url)
    raw.connect(make_token(args.secret, fresh_id("g"), "guest"))
    raw.ws.send('451-["upload",{"_placeholder":true,"num":0}]')
    raw.ws.send_binary(b"\x01\x02\x03")
    raw.ws.send('4221["subscribe",{"channel":"admin"}]')
    answer = raw.recv()
    while answer.startswith("42"):  # the `connected` event, and the `error` event of the refusal
        answer = raw.recv()
    expect(answer.startswith("4321[") and "forbidden" in answer, answer)

    base = args.url + "/socket.io/"
    expect(http_status("GET", base, params={"EIO": "4", "transport": "polling", "sid": "nope"}) == 400, "unknown sid")
    expect(http_status("GET", base, params={"EIO": "4", "transport": "carrier-pigeon"}) == 400, "unknown transport")
    expect(http_status("POST", base, params={"EIO": "4", "transport": "polling"}) == 400, "POST handshake")
    opened = requests.get(base, params={"EIO": "4", "transport": "polling"}, timeout=5).text
    sid = opened.split('"sid":"')[1].split('"')[0]
    expect(http_status("POST", base, params={"EIO": "4", "transport": "polling", "sid": sid},
                       data="b!!!not base64") == 400, "bad polling payload")
    opened = requests.get(base, params={"EIO": "4", "transport": "polling"}, timeout=5).text
    sid = opened.split('"sid":"')[1].split('"')[0]
    expect(http_status("POST", base, params={"EIO": "4", "transport": "polling", "sid": sid},
                       data="4" * 1_100_000) == 413, "oversized polling body")
    expect(http_status("POST", args.url + "/healthz", data="x" * 100_000) == 413, "oversized body")

    with socket.create_connection(("127.0.0.1", int(args.url.rsplit(":", 1)[1])), timeout=5) as tcp:
        tcp.sendall(b"GARBAGE \x00\x01\x02 NOT HTTP\r\n\r\n")
        reply = tcp.recv(1024)
        expect(reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply)

    expect(healthy(args.url), "the node is not healthy")
    expect(bystander.sio.connected, "the bystander was disconnected")
    expect(bystander.call("subscribe", {"channel": f"guest:{sub}"})["ok"] is True, "the bystander is stuck")
    bystander.disconnect()


@scenario
def event_flood(args):
    """A flooding socket gets rate_limited and loses its excess events; others never notice."""
    sub, token = guest(args)
    bystander = Client(args.url, guest(args)[1], transports=["websocket"]).connect()
    flooder = Client(args.url, token, transports=["websocket"]).connect()
    for _ in range(2000):
        flooder.sio.emit("subscribe", {"channel": f"guest:{sub}"})
    errors = flooder.wait_for("error", timeout=5)
    expect(errors[0]["code"] == "rate_limited", errors)
    started = time.time()
    expect(bystander.call("subscribe", {"channel": bystander.received("connected")[0]["rooms"][1]})["ok"], "bystander")
    expect(time.time() - started < 2, "the bystander waited on the flood")
    time.sleep(2.5)  # the budget refills
    expect(flooder.call("subscribe", {"channel": f"guest:{sub}"})["ok"] is True, "the flooder recovers")
    expect(healthy(args.url), "unhealthy")
    for client in (bystander, flooder):
        client.disconnect()


@scenario
def flood_disconnect(args):
    """Ten seconds over the limit ends the connection."""
    sub, token = guest(args)
    flooder = Client(args.url, token, transports=["websocket"]).connect()
    started = time.time()
    while flooder.sio.connected and time.time() - started < 15:
        for _ in range(30):
            if flooder.sio.connected:
                flooder.sio.emit("subscribe", {"channel": f"guest:{sub}"})
        time.sleep(0.1)
    elapsed = time.time() - started
    expect(not flooder.sio.connected, "still connected after 15 s of flooding")
    expect(9 <= elapsed <= 14, f"disconnected after {elapsed:.1f}s")
    expect(healthy(args.url), "unhealthy")


def main(configure=None):
    """Runs the scenario named on the command line; `configure` adds the arguments it needs
    (default: --url and --secret)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=sorted(SCENARIOS))
    if configure:
        configure(parser)
    else:
        parser.add_argument("--url", required=True)
        parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    try:
        SCENARIOS[args.name](args)
    except AssertionError as error:
        print(f"FAILED {args.name}: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"ok {args.name}")


if __name__ == "__main__":
    main()
