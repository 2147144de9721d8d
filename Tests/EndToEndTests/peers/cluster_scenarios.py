"""End-to-end scenarios of the cluster: gateways on one Redis, a points-api publishing through
it, python-socketio clients on different gateways, and raw Redis (redis-py, msgpack) to speak
and read the @socket.io/redis-adapter wire format.
Usage: cluster_scenarios.py NAME --gateways URL,URL,.. --api URL --redis URL --secret S"""
import re
import time

import msgpack
import redis
import requests

from herald_peer import Client, fresh_id, make_token
from scenarios import expect, main, scenario


def gateways(args):
    return args.gateways.split(",")


def api_post(args, path, body, token):
    return requests.post(args.api + "/api" + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@scenario
def cluster_delivery(args):
    """Clients spread over every gateway all receive what points-api publishes; presence counts
    sockets and users over every gateway."""
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    staff_token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    staff, guests = [], []
    for url in gateways(args):
        staff.append(Client(url, staff_token, transports=["websocket"]).connect())
        guests.append(Client(url, make_token(args.secret, guest, "guest")).connect())
    nodes = {client.wait_for("connected")[0]["nodeId"] for client in staff}
    expect(len(nodes) == len(gateways(args)), f"one node id per gateway: {nodes}")
    other = Client(gateways(args)[0], make_token(args.secret, fresh_id("guest"), "guest")).connect()

    added = api_post(args, "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": 9}, staff_token)
    expect(added.status_code == 201, added.text)
    for client in staff + guests:
        events = client.wait_for("points_added")
        expect(events[0]["transactionId"] == added.json()["transaction"]["id"], events)
    time.sleep(0.5)
    for client in staff + guests:
        expect(len(client.received("points_added")) == 1, "one copy each")
    expect(other.received("points_added") == [], "another guest heard it")

    presence = requests.get(f"{args.api}/api/presence/restaurant:{restaurant}",
                            headers={"Authorization": f"Bearer {staff_token}"}, timeout=10).json()
    expect({k: presence[k] for k in ("room", "sockets", "users")} ==
           {"room": f"restaurant:{restaurant}", "sockets": len(staff), "users": 1}, presence)
    # One staff socket on each gateway, and every node of the cluster counted (gateways and the API).
    expect(sorted(presence["nodes"].values()) == [1] * len(staff) and len(presence["nodes"]) == len(staff), presence)
    expect(presence["servers"] >= len(staff), presence)
    guest_presence = requests.get(f"{args.api}/api/presence/guest:{guest}", timeout=10,
                                  headers={"Authorization": f"Bearer {make_token(args.secret, 'a', 'admin')}"}).json()
    expect(guest_presence["sockets"] == len(guests) and guest_presence["users"] == 1, guest_presence)

    # A change made on one gateway reaches the tabs on the others (the adapter's broadcast).
    guests[0].call("action", {"type": "mark_all_read"})
    for client in guests:
        client.wait_for("notification_updated")
    for client in staff + guests + [other]:
        client.disconnect()


@scenario
def cluster_notifications(args):
    """A guest's notification center lives in Redis: every gateway sees the same list and the
    same read state, and a change on one gateway reaches the tabs on the others."""
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    staff_token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    tabs = [Client(url, make_token(args.secret, guest, "guest"), transports=["websocket"]).connect()
            for url in gateways(args)]
    for tab in tabs:
        tab.wait_for("connected")
    for amount in (10, 20):
        expect(api_post(args, "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": amount},
                        staff_token).status_code == 201, "add")
    for tab in tabs:
        tab.wait_for("points_added", count=2)
    synced = tabs[1].call("sync", {})
    expect([n["payload"]["amount"] for n in synced["notifications"]] == [20, 10] and synced["unreadCount"] == 2, synced)
    first = synced["notifications"][0]["id"]
    expect(tabs[0].call("action", {"type": "mark_read", "id": first}) == {"ok": True, "unreadCount": 1}, "mark_read")
    for tab in tabs:
        expect(tab.wait_for("notification_updated")[0] == {"id": first, "read": True, "unreadCount": 1},
               tab.received("notification_updated"))
    again = tabs[2].call("sync", {})
    expect([n["read"] for n in again["notifications"]] == [True, False] and again["unreadCount"] == 1, again)
    missing = tabs[2].call("action", {"type": "delete", "id": "no-such-id"})
    expect(missing["ok"] is False and missing["error"]["code"] == "not_found", missing)
    expect(tabs[2].call("action", {"type": "delete", "id": first}) == {"ok": True, "unreadCount": 1}, "delete")
    expect(len(tabs[0].call("sync", {})["notifications"]) == 1, "deleted everywhere")
    staff = Client(gateways(args)[0], staff_token).connect()
    expect([n["event"] for n in staff.call("sync", {})["notifications"]] == ["points_added", "points_added"],
           "the restaurant's center")
    for tab in tabs + [staff]:
        tab.disconnect()


@scenario
def emitter_format(args):
    """A publisher speaking @socket.io/redis-emitter's format reaches Herald's clients."""
    restaurant = fresh_id("rest")
    token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    clients = [Client(url, token).connect() for url in gateways(args)]
    for client in clients:
        client.wait_for("connected")
    store = redis.Redis.from_url(args.redis)
    packet = {"type": 2, "data": ["menu_changed", {"dish": "soup", "price": 4.5}], "nsp": "/"}
    # One room: its own channel, as the emitter does.
    message = msgpack.packb(["emitter", packet, {"rooms": [f"restaurant:{restaurant}"], "flags": {}, "except": []}])
    receivers = store.publish(f"socket.io#/#restaurant:{restaurant}#", message)
    expect(receivers >= len(clients), f"{receivers} subscribers")
    # Several rooms, and except: the namespace channel.
    packet2 = {"type": 2, "data": ["to_all", 1], "nsp": "/"}
    store.publish("socket.io#/#", msgpack.packb(["emitter", packet2, {"rooms": [], "flags": {}, "except": ["admin"]}]))
    # Another namespace and garbage are ignored without harm.
    store.publish("socket.io#/#", msgpack.packb(["emitter", {"type": 2, "data": ["x"], "nsp": "/other"}, {"rooms": []}]))
    store.publish("socket.io#/#", b"\xc1 not msgpack")
    for client in clients:
        expect(client.wait_for("menu_changed")[0] == {"dish": "soup", "price": 4.5}, client.received("menu_changed"))
        expect(client.wait_for("to_all")[0] == 1, client.received("to_all"))
    time.sleep(0.3)
    for client in clients:
        expect(client.received("x") == [], "another namespace leaked")
        client.disconnect()


@scenario
def burst_in_order(args):
    """A burst published in one round trip queues up on the gateways, which write each member's
    run of broadcasts as one buffer: over WebSocket and over long-polling every event arrives
    once, in order, and an event for another room in the middle of the burst stays out."""
    restaurant, other = fresh_id("rest"), fresh_id("rest")
    token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    clients = [Client(url, token, transports=transports).connect()
               for url in gateways(args) for transports in (["websocket"], ["polling"])]
    for client in clients:
        client.wait_for("connected")
    store = redis.Redis.from_url(args.redis)
    pipe = store.pipeline(transaction=False)
    count = 300
    for index in range(count):
        room = other if index == count // 2 else restaurant
        packet = {"type": 2, "data": ["tick", {"n": index}], "nsp": "/"}
        pipe.publish(f"socket.io#/#restaurant:{room}#",
                     msgpack.packb(["emitter", packet, {"rooms": [f"restaurant:{room}"], "flags": {}, "except": []}]))
    pipe.execute()
    expected = [{"n": index} for index in range(count) if index != count // 2]
    for client in clients:
        got = client.wait_for("tick", count=len(expected), timeout=20)
        time.sleep(0.2)
        got = client.received("tick")
        expect(got == expected, f"{client.transports}: {len(got)} ticks, first out of place: "
               f"{next((g for g, e in zip(got, expected) if g != e), None)}")
        client.disconnect()


@scenario
def published_layout(args):
    """What Herald publishes decodes (msgpack) to the adapter's exact layout."""
    store = redis.Redis.from_url(args.redis)
    listener = store.pubsub()
    listener.psubscribe("socket.io#/*")
    deadline = time.time() + 5
    while time.time() < deadline and listener.get_message(timeout=0.2) is None:
        pass
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    added = api_post(args, "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": 3}, token)
    expect(added.status_code == 201, added.text)
    tab = Client(gateways(args)[0], make_token(args.secret, guest, "guest")).connect()
    tab.wait_for("connected")
    tab.call("action", {"type": "mark_all_read"})
    seen = {}
    deadline = time.time() + 5
    while time.time() < deadline and len(seen) < 2:
        message = listener.get_message(timeout=0.5)
        if message and message["type"] == "pmessage":
            uid, packet, opts = msgpack.unpackb(message["data"])
            # Byte for byte what PyPI's msgpack makes of the same value (maps in wire order).
            expect(msgpack.packb([uid, packet, opts]) == message["data"], message["data"])
            seen[packet["data"][0]] = (message["channel"].decode(), uid, packet, opts)
    channel, uid, packet, opts = seen["points_added"]
    expect(channel == "socket.io#/#", channel)
    expect(uid == "emitter", uid)
    expect(list(packet) == ["type", "data", "nsp"] and packet["type"] == 2 and packet["nsp"] == "/", packet)
    expect(packet["data"][1]["amount"] == 3 and packet["data"][1]["guestId"] == guest, packet)
    # The recovery offset (SPEC 4.1) travels in the options, which Node's adapter does not read
    # past rooms, except and flags; the data stays exactly [event, payload].
    expect(list(opts) == ["rooms", "flags", "except", "offset"], opts)
    expect(re.fullmatch(r"[0-9]+-[0-9]+", opts["offset"]) is not None, opts)
    expect(len(packet["data"]) == 2, packet)
    expect(sorted(opts["rooms"]) == [f"guest:{guest}", f"restaurant:{restaurant}"] and opts["except"] == []
           and opts["flags"] == {}, opts)
    channel, uid, packet, opts = seen["notification_updated"]
    expect(channel == f"socket.io#/#user:{guest}#", channel)
    expect(isinstance(uid, str) and len(uid) == 6 and uid != "emitter", uid)
    expect(list(opts) == ["rooms", "except", "flags", "offset"] and opts["rooms"] == [f"user:{guest}"], opts)
    expect(len(packet["data"]) == 2, packet)
    tab.disconnect()


@scenario
def redis_restart(args):
    """Redis goes away: /readyz says so, a gateway still delivers to its own sockets, the API
    still commits; Redis comes back: everyone reconnects, delivery resumes, the outbox catches up."""
    import signal
    import os
    import subprocess
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
    listeners = [Client(url, make_token(args.secret, guest, "guest"), transports=["websocket"]).connect()
                 for url in gateways(args)]
    for client in listeners:
        client.wait_for("connected")
    os.kill(args.redis_pid, signal.SIGKILL)
    deadline = time.time() + 5
    while time.time() < deadline and requests.get(gateways(args)[0] + "/readyz", timeout=5).status_code == 200:
        time.sleep(0.1)
    expect(requests.get(gateways(args)[0] + "/readyz", timeout=5).status_code == 503, "gateway still ready")
    expect(requests.get(args.api + "/readyz", timeout=5).status_code == 503, "points-api still ready")
    # The gateways keep their sockets and answer what needs no Redis at once; what does (the
    # notification center) answers a clear `unavailable`, not a hang.
    for client in listeners:
        expect(client.sio.connected, "a socket was dropped when Redis went away")
        answer = client.call("subscribe", {"channel": f"guest:{guest}"}, timeout=3)
        expect(answer == {"ok": True, "channel": f"guest:{guest}"}, answer)
    answer = listeners[0].call("action", {"type": "mark_all_read"}, timeout=5)
    expect(answer["ok"] is False and answer["error"]["code"] == "unavailable", answer)
    # The API commits while Redis is down.
    committed = api_post(args, "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": 4}, token)
    expect(committed.status_code == 201, committed.text)
    port = int(args.redis.rsplit(":", 1)[1])
    restarted = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        started = time.time()
        for client in listeners:
            event = client.wait_for("points_added", timeout=5)[0]
            expect(event["transactionId"] == committed.json()["transaction"]["id"], event)
        # SPEC 5.2 and the cluster issue: delivery resumes within 5 s of Redis coming back.
        expect(time.time() - started < 5, f"delivery resumed after {time.time() - started:.1f} s")
        deadline = time.time() + 5
        while time.time() < deadline and requests.get(gateways(args)[0] + "/readyz", timeout=5).status_code != 200:
            time.sleep(0.1)
        expect(requests.get(gateways(args)[0] + "/readyz", timeout=5).status_code == 200, "gateway not ready again")
        # And new events flow as before.
        again = api_post(args, "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": 5}, token)
        for client in listeners:
            expect(len(client.wait_for("points_added", count=2, timeout=5)) == 2, "after the restart")
        expect(again.status_code == 201, again.text)
    finally:
        for client in listeners:
            client.disconnect()
        restarted.kill()  # a throwaway server: nothing to save, no reason to wait
        restarted.wait(timeout=10)


def arguments(parser):
    parser.add_argument("--gateways", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--redis-pid", type=int, default=0)
    parser.add_argument("--secret", required=True)


if __name__ == "__main__":
    main(arguments)
