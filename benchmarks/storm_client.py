"""A minimal Engine.IO v4 / Socket.IO v5 client over WebSocket on asyncio's Protocol (no
library): light enough for several thousand connections per Python process. It binds a given
loopback source address (with IP_BIND_ADDRESS_NO_PORT, so that the kernel picks the port at
connect time, per destination), CONNECTs with its token, answers pings, and hands every text
message to its owner. Reconnection is the owner's job (see reconnect_storm.py).

Frames from the server are unmasked; ours are masked with a zero key (valid, and costs nothing).
"""
import asyncio
import base64
import json
import os
import socket
import time

IP_BIND_ADDRESS_NO_PORT = 24


class HandshakeError(Exception):
    pass


class ConnectError(Exception):
    pass


def _frame(opcode, payload):
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


class SocketIOProtocol(asyncio.Protocol):
    """One connection. `on_event(name_prefix_text)` gets every Socket.IO EVENT packet's text;
    `ready` resolves with the `connected` event's payload, or fails."""

    def __init__(self, host, port, token, on_event, on_lost, auth=None):
        self.host, self.port, self.token = host, port, token
        # What CONNECT carries: {token} by default; a recovering client adds {pid, offset}.
        self.auth = auth or {"token": token}
        self.connect_reply = None
        self.on_event, self.on_lost = on_event, on_lost
        self.buffer = bytearray()
        self.upgraded = False
        self.transport = None
        self.fragments = None
        self.lost = False
        self.phases = {}         # when each step of the handshake completed (time.time())
        self.ready = asyncio.get_running_loop().create_future()
        # A failure after the opener gave up (timeout) is nobody's to retrieve.
        self.ready.add_done_callback(lambda future: future.cancelled() or future.exception())

    # -- transport ---------------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                         f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                         f"Sec-WebSocket-Version: 13\r\n\r\n").encode())

    def connection_lost(self, exc):
        self.lost = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before CONNECT: {exc!r}"))
        self.on_lost(self)

    def close(self):
        if self.transport is not None:
            self.transport.close()

    def send(self, text):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(0x1, text.encode()))

    def data_received(self, data):
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > 16384:
                    self._fail(HandshakeError("oversized handshake response"))
                return
            head = bytes(buffer[:end])
            del buffer[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self._fail(HandshakeError(head.split(b"\r\n", 1)[0].decode(errors="replace")))
                return
            self.upgraded = True
            self.phases["upgraded"] = time.time()
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            mask = None
            if second & 0x80:
                if len(buffer) < offset + 4:
                    return
                mask, offset = bytes(buffer[offset:offset + 4]), offset + 4
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset:offset + length])
            del buffer[:offset + length]
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode, fin = first & 0x0F, first & 0x80
            if opcode in (0x1, 0x2, 0x0):
                if opcode != 0x0:
                    self.fragments = [payload]
                elif self.fragments is not None:
                    self.fragments.append(payload)
                if fin and self.fragments is not None:
                    message = b"".join(self.fragments)
                    self.fragments = None
                    self._message(message.decode(errors="replace"))
            elif opcode == 0x8:
                self.transport.write(_frame(0x8, payload[:2]))
                self.transport.close()
                return
            elif opcode == 0x9:
                self.transport.write(_frame(0xA, payload))

    def _fail(self, error):
        if not self.ready.done():
            self.ready.set_exception(error)
        self.transport.close()

    # -- Engine.IO / Socket.IO ---------------------------------------------------------------
    def _message(self, text):
        if text == "2":
            self.send("3")
        elif text.startswith("42"):
            if text.startswith('42["connected"'):
                if not self.ready.done():
                    self.phases["connected"] = time.time()
                    self.ready.set_result(json.loads(text[2:])[1])
            else:
                self.on_event(text)
        elif text.startswith("0{"):
            self.phases["open"] = time.time()
            self.send("40" + json.dumps(self.auth))
        elif text.startswith("40"):
            self.connect_reply = json.loads(text[2:])
        elif text.startswith("44"):
            self._fail(ConnectError(text[2:200]))
        elif text.startswith("41") or text == "1":
            self.transport.close()


async def open_socket(host, port, source, token, on_event, on_lost, timeout, auth=None):
    """Connects from `source` to host:port and waits (bounded) for the `connected` event.
    Returns (protocol, connected payload); raises on any failure (the socket is closed)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    protocol = None
    try:
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((source, 0))
        sock.setblocking(False)

        async def establish():
            nonlocal protocol
            started = time.time()
            await loop.sock_connect(sock, (host, port))
            established = time.time()
            _, protocol = await loop.create_connection(
                lambda: SocketIOProtocol(host, port, token, on_event, on_lost, auth), sock=sock)
            protocol.phases.update(start=started, tcp=established)
            return await protocol.ready

        info = await asyncio.wait_for(establish(), timeout)
        if protocol.lost:
            raise ConnectionError("closed right after CONNECT")
        return protocol, info
    except BaseException:
        if protocol is not None:
            protocol.close()
        else:
            sock.close()
        raise
