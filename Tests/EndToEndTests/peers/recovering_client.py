"""socket.io-client's connection state recovery (v4.6+), spoken over a raw Engine.IO WebSocket
by a client written here from the protocol, independent of Herald: it keeps the `pid` of the
CONNECT reply and the last argument of each event when that is a string (the offset), and
reconnects with auth `{token, pid, offset}`, as socket.io-client's Socket does."""
import json
import socket
import threading
import time

import websocket

from herald_peer import ws_url


class RecoveringClient:
    def __init__(self, url, token, timeout=5):
        self.url = url
        self.token = token
        self.timeout = timeout
        self.pid = None
        self.offset = None
        self.sid = None
        self.recovered = None
        self.events = []  # (name, payload, offset) in arrival order
        self.connects = []  # (index in events, offset presented) of each CONNECT, for reports
        self.arities = []  # how many arguments each event had
        self.lock = threading.Lock()
        self.ws = None
        self.reader = None
        self.closed = threading.Event()

    # Connecting

    def connect(self, url=None):
        """Opens a session (recovering when it holds a pid) and returns the `connected` payload."""
        if url:
            self.url = url
        deadline = time.time() + self.timeout
        while True:
            try:
                self.ws = websocket.create_connection(ws_url(self.url), timeout=self.timeout)
                break
            except (OSError, websocket.WebSocketException):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        opened = self.ws.recv()
        assert opened.startswith("0{"), opened
        auth = {"token": self.token}
        if self.pid:
            auth["pid"] = self.pid
            if self.offset is not None:
                auth["offset"] = self.offset
        self.ws.send("40" + json.dumps(auth))
        while True:
            message = self._next()
            if message.startswith("40"):
                reply = json.loads(message[2:])
                # socket.io-client: recovered when the server answers with the pid it had.
                self.recovered = self.pid is not None and reply.get("pid") == self.pid
                self.pid = reply.get("pid")
                self.sid = reply["sid"]
                break
            if message.startswith("44"):
                raise AssertionError(f"connect refused: {message}")
        self.closed.clear()
        # What follows the CONNECT reply (replayed events, `connected`) is read by the thread.
        mark = len(self.events)
        self.connects.append((mark, auth.get("offset")))
        self.reader = threading.Thread(target=self._read, args=(self.ws,), daemon=True)
        self.reader.start()
        return self.wait_for("connected", since=mark)[-1]

    def _next(self):
        while True:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
                continue
            return message

    def _read(self, ws):
        try:
            while True:
                message = ws.recv()
                if message in ("", None):
                    break
                if message == "2":
                    ws.send("3")
                elif message.startswith("42"):
                    self._event(json.loads(message[2:]))
                elif message == "1" or message.startswith("41"):
                    break
        except (OSError, websocket.WebSocketException, ValueError):
            pass
        self.closed.set()

    def _event(self, args):
        name = args[0]
        payload = args[1] if len(args) > 1 else None
        offset = None
        if self.pid and len(args) > 1 and isinstance(args[-1], str):
            offset = args[-1]
            self.offset = offset
        with self.lock:
            self.events.append((name, payload, offset))
            self.arities.append(len(args) - 1)

    # Dropping

    def cut(self):
        """Drops the TCP connection with no close frame (RST), as a network cut looks."""
        try:
            self.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.ws.sock.close()
        except OSError:
            pass
        self.closed.wait(self.timeout)

    def emit(self, name, payload, ack_id=None):
        self.ws.send("42" + (str(ack_id) if ack_id is not None else "") + json.dumps([name, payload]))

    # Reading

    def received(self, name, since=0):
        with self.lock:
            return [payload for event, payload, _ in self.events[since:] if event == name]

    def wait_for(self, name, count=1, since=0, timeout=None):
        deadline = time.time() + (timeout or self.timeout)
        while time.time() < deadline:
            found = self.received(name, since)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {count} {name!r} within {timeout or self.timeout}s, got {len(self.received(name, since))}")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def account(expected, received):
    """Lost, duplicated and out-of-order counts of `received` against `expected` (both lists of
    event ids, `expected` in publish order)."""
    position = {event_id: index for index, event_id in enumerate(expected)}
    seen = set()
    duplicated = 0
    out_of_order = 0
    last = -1
    for event_id in received:
        if event_id in seen:
            duplicated += 1
            continue
        seen.add(event_id)
        index = position.get(event_id)
        if index is None:
            continue
        if index < last:
            out_of_order += 1
        last = max(last, index)
    lost = len([event_id for event_id in expected if event_id not in seen])
    strangers = len([event_id for event_id in seen if event_id not in position])
    return {"lost": lost, "duplicated": duplicated, "outOfOrder": out_of_order, "strangers": strangers}
