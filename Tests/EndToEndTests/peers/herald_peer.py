"""Shared helpers of the Python peers: tokens signed here (HS256 by hand, an implementation
independent of Herald's), clients with bounded waits, and a raw Engine.IO WebSocket."""
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid

import requests
import socketio
import websocket


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(secret, sub, role, restaurant_id=None, ttl=3600, claims=None):
    payload = {"sub": sub, "role": role, "exp": int(time.time()) + ttl}
    if restaurant_id is not None:
        payload["restaurantId"] = restaurant_id
    if claims:
        payload.update(claims)
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(signature)}"


def fresh_id(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self, url, token=None, transports=None, headers=None, auth=None, http_session=None):
        self.sio = socketio.Client(reconnection=False, http_session=http_session)
        self.events = []
        self.lock = threading.Lock()
        self.connect_error = None
        self.sio.on("*", self._record)

        @self.sio.event
        def connect_error(data):
            self.connect_error = data

        self.url = url
        self.token = token
        self.transports = transports
        self.headers = headers or {}
        self.auth = auth if auth is not None else ({"token": token} if token else None)

    def _record(self, event, *args):
        with self.lock:
            self.events.append((event, args[0] if args else None))

    def connect(self):
        self.sio.connect(self.url, auth=self.auth, transports=self.transports, headers=self.headers, wait_timeout=5)
        return self

    def call(self, event, data, timeout=5):
        return self.sio.call(event, data, timeout=timeout)

    def received(self, name):
        with self.lock:
            return [payload for event, payload in self.events if event == name]

    def wait_for(self, name, count=1, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.received(name)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {name!r} event(s) within {timeout}s, got {self.received(name)}")

    def disconnect(self):
        if self.sio.connected:
            self.sio.disconnect()


def ws_url(url):
    return url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


class RawSocket:
    """Engine.IO over a plain WebSocket, to send what a well-behaved client never would."""

    def __init__(self, url, timeout=5):
        self.ws = websocket.create_connection(ws_url(url), timeout=timeout)
        opened = self.ws.recv()
        assert opened.startswith("0{"), opened
        self.handshake = json.loads(opened[1:])

    def connect(self, token):
        self.ws.send("40" + json.dumps({"token": token}))
        while True:
            message = self.recv()
            if message.startswith("40") or message.startswith("44"):
                return message

    def recv(self):
        message = self.ws.recv()
        if message == "2":
            self.ws.send("3")
            return self.recv()
        return message

    def closed_within(self, seconds):
        """True when the server closes the connection within `seconds` (pings left unanswered)."""
        self.ws.settimeout(seconds)
        deadline = time.time() + seconds
        try:
            while time.time() < deadline:
                frame = self.ws.recv()
                if frame in ("", None):
                    return True
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return True
        except websocket.WebSocketTimeoutException:
            return False
        return False


def metrics(url):
    values = {}
    for line in requests.get(url + "/metrics", timeout=5).text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def healthy(url):
    return requests.get(url + "/healthz", timeout=5).json() == {"status": "ok"}
