"""Connection state recovery (SPEC section 4.1, issue 11), end to end with exact accounting: each
fault scenario prints its lost, duplicated and out-of-order counts, which must all be 0.
Usage: recovery_scenarios.py NAME --url URL --secret S [--api URL] [--urls URL,URL,...]
       [--redis URL --redis-pid PID] [...]"""
import json
import os
import signal
import subprocess
import threading
import time

import requests

from herald_peer import fresh_id, make_token
from recovering_client import RecoveringClient, account
from scenarios import expect, main, scenario


def configure(parser):
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--api")
    parser.add_argument("--urls")
    parser.add_argument("--redis")
    parser.add_argument("--redis-pid", type=int)
    parser.add_argument("--redis-restart")
    parser.add_argument("--gateway-pids")
    parser.add_argument("--api-restart")
    parser.add_argument("--api-pid", type=int)


class Stream:
    """Points added for one guest, one after another from a thread (so commit order is send
    order), each remembered by its transaction id in order."""

    def __init__(self, args, guest, restaurant, interval=0.01):
        self.api = args.api or args.url
        self.token = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant_id=restaurant)
        self.guest = guest
        self.restaurant = restaurant
        self.interval = interval
        self.sent = []
        self.failures = 0
        self.stop = threading.Event()
        self.thread = None

    def add(self, count):
        for _ in range(count):
            self._one()

    def _one(self):
        key = fresh_id("idem")
        for _ in range(200):
            try:
                response = requests.post(
                    self.api + "/api/points/add",
                    json={"guestId": self.guest, "restaurantId": self.restaurant, "amount": 1, "description": "stream"},
                    headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}, timeout=5)
                if response.status_code == 201:
                    self.sent.append(response.json()["transaction"]["id"])
                    return
            except requests.RequestException:
                pass
            # The API is down (killed, restarting): the same key, so a retry is no second event.
            self.failures += 1
            time.sleep(0.05)
        raise AssertionError("the points API never answered")

    def start(self):
        def run():
            while not self.stop.is_set():
                self._one()
                time.sleep(self.interval)
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def finish(self):
        self.stop.set()
        if self.thread:
            self.thread.join(30)


def points_ids(client):
    """Transaction ids and event ids of the `points_added` the client got, in arrival order."""
    payloads = client.received("points_added")
    return [p["transactionId"] for p in payloads], [p["eventId"] for p in payloads]


def settle(client, stream, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        received, _ = points_ids(client)
        if set(stream.sent) <= set(received):
            return
        time.sleep(0.05)


def report(name, client, stream):
    received, event_ids = points_ids(client)
    counts = account(stream.sent, received)
    by_event = len(event_ids) - len(set(event_ids))
    print(f"{name}: sent {len(stream.sent)}, received {len(received)}, lost {counts['lost']}, "
          f"duplicated {counts['duplicated']} (by eventId {by_event}), out of order {counts['outOfOrder']}")
    if counts["duplicated"] or by_event:
        # Where each copy came, and what the client presented at each CONNECT, to tell a replay
        # of what it had from a second live delivery.
        with client.lock:
            events = [(index, payload["transactionId"], offset) for index, (name, payload, offset)
                      in enumerate(client.events) if name == "points_added"]
        twice = {tid for _, tid, _ in events if [t for _, t, _ in events].count(tid) > 1}
        print("duplicates:", [(index, tid, offset) for index, tid, offset in events if tid in twice])
        print("connects (index, offset presented):", client.connects)
    expect(counts["lost"] == 0 and counts["duplicated"] == 0 and counts["outOfOrder"] == 0 and by_event == 0, counts)
    expect(counts["strangers"] == 0, f"{counts['strangers']} events that were not this guest's")


def guest_client(args, url=None):
    guest = fresh_id("guest")
    client = RecoveringClient(url or args.url, make_token(args.secret, guest, "guest"))
    return guest, client


@scenario
def network_cut(args):
    """Events stream to a guest; its TCP connection is dropped (no close frame) mid-stream, it
    reconnects with its pid and offset, and has every event once, in order."""
    guest, client = guest_client(args)
    connected = client.connect()
    expect(client.pid and connected.get("recovered") is False, ("pid and recovered false on a new session", connected))
    stream = Stream(args, guest, fresh_id("rest")).start()
    time.sleep(0.5)
    sid = client.sid
    client.cut()
    time.sleep(0.5)
    again = client.connect()
    expect(client.recovered and again["recovered"] is True, ("recovered", again))
    expect(client.sid == sid and again["socketId"] == sid, "the same socket id after recovery")
    time.sleep(0.5)
    stream.finish()
    settle(client, stream)
    report("network_cut", client, stream)


def drop_recover_cycles(args, name, targets):
    """Ten drop/recover cycles with events before, during and after each, reconnecting to the
    next of `targets` each time: every event once, in order."""
    guest, client = guest_client(args, targets[0])
    client.connect()
    stream = Stream(args, guest, fresh_id("rest"), interval=0.005).start()
    for cycle in range(10):
        time.sleep(0.2)
        client.cut()
        time.sleep(0.2)
        connected = client.connect(targets[(cycle + 1) % len(targets)])
        expect(connected["recovered"] is True, (cycle, connected))
    stream.finish()
    settle(client, stream)
    report(name, client, stream)


@scenario
def ten_cycles(args):
    drop_recover_cycles(args, "ten_cycles", [args.url])


@scenario
def no_offset_yet(args):
    """A client that never got an event (a pid without an offset) gets what was sent after its
    session began, and nothing from before."""
    guest, client = guest_client(args)
    stream = Stream(args, guest, fresh_id("rest"))
    stream.add(3)  # before the session: not for it
    before = list(stream.sent)
    client.connect()
    client.cut()
    stream.add(5)
    connected = client.connect()
    expect(connected["recovered"] is True, connected)
    stream.add(2)
    stream.sent = stream.sent[len(before):]
    settle(client, stream)
    received, _ = points_ids(client)
    expect(not set(before) & set(received), "events from before the session were replayed")
    report("no_offset_yet", client, stream)


@scenario
def fresh_sessions(args):
    """An unknown pid, or another user's token with a real pid, gets a fresh session
    (`recovered: false`, a new socket id) that sees nobody else's events."""
    guest, client = guest_client(args)
    client.connect()
    stream = Stream(args, guest, fresh_id("rest"))
    stream.add(2)
    client.wait_for("points_added", 2)
    client.cut()
    stream.add(3)
    # Someone else presenting that pid.
    other = RecoveringClient(args.url, make_token(args.secret, fresh_id("intruder"), "guest"))
    other.pid, other.offset = client.pid, None
    connected = other.connect()
    expect(connected["recovered"] is False and other.sid != client.sid, ("another sub must not recover", connected))
    time.sleep(0.3)
    expect(other.received("points_added") == [], "the intruder got the guest's events")
    # A pid nobody has.
    stranger = RecoveringClient(args.url, make_token(args.secret, guest, "guest"))
    stranger.pid = "no-such-session-" + fresh_id("x")
    connected = stranger.connect()
    expect(connected["recovered"] is False, connected)
    # An offset that is not one of Herald's.
    odd = RecoveringClient(args.url, make_token(args.secret, guest, "guest"))
    odd.pid, odd.offset = client.pid, "not-an-offset"
    expect(odd.connect()["recovered"] is False, "a foreign offset cannot be placed")
    # The guest itself still recovers (the refused attempts did not spend its session).
    connected = client.connect()
    expect(connected["recovered"] is True, connected)
    settle(client, stream)
    report("fresh_sessions", client, stream)


@scenario
def subscriptions_restored(args):
    """An admin subscribed to a restaurant gets that subscription back with what it missed."""
    restaurant = fresh_id("rest")
    admin = RecoveringClient(args.url, make_token(args.secret, fresh_id("admin"), "admin"))
    admin.connect()
    admin.emit("subscribe", {"channel": f"restaurant:{restaurant}"}, ack_id=1)
    time.sleep(0.3)
    stream = Stream(args, fresh_id("guest"), restaurant)
    stream.add(2)
    admin.wait_for("points_added", 2)
    admin.cut()
    stream.add(4)
    connected = admin.connect()
    expect(connected["recovered"] is True, connected)
    stream.add(2)
    settle(admin, stream)
    report("subscriptions_restored", admin, stream)


@scenario
def trimmed_log(args):
    """The node keeps 5 events per room (--recovery-events-per-room 5): a client that missed 8
    cannot be made whole, and gets a fresh session that says so."""
    guest, client = guest_client(args)
    client.connect()
    stream = Stream(args, guest, fresh_id("rest"))
    stream.add(1)
    client.wait_for("points_added", 1)
    client.cut()
    stream.add(8)
    connected = client.connect()
    expect(connected["recovered"] is False, ("a trimmed log must not claim recovery", connected))
    expect(client.received("points_added")[1:] == [], "a fresh session got a partial replay")


@scenario
def expired(args):
    """The node's window is 1 s: a client back after 2.5 s gets a fresh session."""
    guest, client = guest_client(args)
    client.connect()
    client.cut()
    time.sleep(2.5)
    connected = client.connect()
    expect(connected["recovered"] is False, connected)


@scenario
def recovery_off(args):
    """--recovery-window 0: no pid, no offsets, no `recovered` (clients that cannot take the
    extra argument)."""
    guest, client = guest_client(args)
    connected = client.connect()
    expect(client.pid is None and "recovered" not in connected, (client.pid, connected))
    Stream(args, guest, fresh_id("rest")).add(1)
    client.wait_for("points_added", 1)
    expect(client.arities == [1, 1], ("every event has exactly its payload", client.arities, client.events))


# The cluster: sessions and logs in Redis, any gateway restores any session.

def urls(args):
    return args.urls.split(",")


@scenario
def cluster_cycles(args):
    """The ten cycles, each time to the next gateway."""
    drop_recover_cycles(args, "cluster_cycles", urls(args))


@scenario
def gateway_killed(args):
    """The guest's gateway gets SIGKILL mid-stream; the guest comes back on another gateway with
    its session (saved at connect, not at close) and every event once, in order."""
    pids = [int(pid) for pid in args.gateway_pids.split(",")]
    guest, client = guest_client(args, urls(args)[0])
    admin = RecoveringClient(urls(args)[0], make_token(args.secret, fresh_id("admin"), "admin"))
    client.connect()
    restaurant = fresh_id("rest")
    admin.connect()
    admin.emit("subscribe", {"channel": f"restaurant:{restaurant}"}, ack_id=1)
    time.sleep(0.3)
    stream = Stream(args, guest, restaurant, interval=0.005).start()
    time.sleep(0.5)
    os.kill(pids[0], signal.SIGKILL)
    client.closed.wait(5)
    admin.closed.wait(5)
    time.sleep(0.3)
    connected = client.connect(urls(args)[1])
    expect(connected["recovered"] is True and connected["nodeId"] != "gateway-1", connected)
    connected = admin.connect(urls(args)[2])
    expect(connected["recovered"] is True, connected)
    time.sleep(0.5)
    stream.finish()
    settle(client, stream)
    settle(admin, stream)
    report("gateway_killed (guest)", client, stream)
    report("gateway_killed (admin, subscribed)", admin, stream)


@scenario
def redis_restart_mid_stream(args):
    """Redis is killed and started again mid-stream: the guest stays connected, the outbox
    publishes what was committed meanwhile, every event once, in order."""
    guest, client = guest_client(args, urls(args)[0])
    client.connect()
    stream = Stream(args, guest, fresh_id("rest"), interval=0.005).start()
    time.sleep(0.5)
    os.kill(args.redis_pid, signal.SIGKILL)
    time.sleep(1)
    restarted = subprocess.Popen(json.loads(args.redis_restart), stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        stream.finish()
        settle(client, stream, timeout=15)
        report("redis_restart_mid_stream", client, stream)
    finally:
        restarted.kill()
        restarted.wait(10)


@scenario
def points_api_killed(args):
    """Redis is held (SIGSTOP) so the relay cannot publish, points are committed, the points-api
    gets SIGKILL with rows unpublished (and maybe a batch in Redis' input), Redis goes on and the
    API is started again: the outbox publishes the rest once; every event once, in order."""
    guest, client = guest_client(args, urls(args)[0])
    client.connect()
    stream = Stream(args, guest, fresh_id("rest"), interval=0.005)
    stream.add(5)
    os.kill(args.redis_pid, signal.SIGSTOP)
    try:
        stream.add(20)
        os.kill(args.api_pid, signal.SIGKILL)
    finally:
        os.kill(args.redis_pid, signal.SIGCONT)
    restarted = subprocess.Popen(json.loads(args.api_restart), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        stream.add(5)
        settle(client, stream, timeout=15)
        report("points_api_killed", client, stream)
    finally:
        restarted.kill()
        restarted.wait(10)


if __name__ == "__main__":
    main(configure)
