#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (committed; fuzz/run copies them to a temporary
working corpus). Needs PyPI's msgpack: python3 -m venv /tmp/v && /tmp/v/bin/pip install msgpack."""
import base64, hashlib, hmac, json, os, struct
import msgpack

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def chunks(*messages):
    """The fuzzChunks form: per message a byte (length - 1, high bit for binary), then the bytes."""
    out = b""
    for binary, data in messages:
        data = data.encode() if isinstance(data, str) else data
        while True:
            part, data = data[:128], data[128:]
            out += bytes([(len(part) - 1) | (0x80 if binary else 0)]) + part
            if not data:
                break
    return out


OPEN = '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
SUBSCRIBE = '42["subscribe",{"channel":"guest:g1"}]'
UPLOAD = '451-["upload",{"_placeholder":true,"num":0}]'

# Engine.IO packets
for i, packet in enumerate([OPEN, "1", "2", "2probe", "3probe", "3", "4hello", "40", '40{"token":"abc"}',
                            SUBSCRIBE, UPLOAD, "5", "6", "4h\u00e9\u2603\U0001F600", "41", '44{"message":"unauthorized"}']):
    write("FuzzEnginePacket", f"packet-{i:02}", packet)

# Polling payloads
RS = "\x1e"
for i, body in enumerate([
    "40" + RS + SUBSCRIBE, "2" + RS + "3", "3", "6", "1",
    UPLOAD + RS + "b" + base64.b64encode(bytes(range(16))).decode(),
    "b" + base64.b64encode(b"\x00\xff\x10hello").decode(),
    "4hello" + RS + "4world" + RS + "4\u00e9",
    OPEN, "b",
]):
    write("FuzzPollingPayload", f"payload-{i:02}", body)

# Socket.IO packets: plain text (the whole input is one packet) and message sequences
texts = [
    "0", '0{"token":"eyJhbGciOiJIUzI1NiJ9.e30.x"}', '0/admin,{"token":"x"}', "1", "1/admin,",
    '2["points_added",{"guestId":"g1","amount":50,"newBalance":120}]', '2/admin,7["ping"]',
    '31[{"ok":true,"channel":"guest:g1"}]', "3/admin,12[]", '4{"message":"unauthorized"}', '4"plain"',
    '51-["upload",{"_placeholder":true,"num":0}]',
    '62-/admin,9[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
    '2["subscribe",{"channel":"guest:g1"}]', '21["unsubscribe",{"channel":"restaurant:r1"}]',
]
for i, text in enumerate(texts):
    write("FuzzSocketIOPacket", f"text-{i:02}", text)
write("FuzzSocketIOPacket", "binary-event", chunks((False, texts[11]), (True, b"\x01\x02\x03")))
write("FuzzSocketIOPacket", "binary-ack", chunks((False, texts[12]), (True, b"\xff" * 5), (True, b"\x00"), (False, "2[\"after\"]")))
write("FuzzSocketIOPacket", "unexpected-binary", chunks((True, b"\x00"), (False, texts[5])))
write("FuzzSocketIOPacket", "sequence", chunks((False, "0"), (False, texts[13]), (False, texts[7]), (False, "1")))

# JSON text
for i, doc in enumerate([
    '{"guestId":"g1","restaurantId":"r1","amount":50,"description":"lunch"}',
    '["points_added",{"transaction":{"id":"t1","amount":-20.5,"createdAt":"2026-01-01T00:00:00Z"},"newBalance":30}]',
    '"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/\\b\\f\\r"', '[1e300,-0,0.1,123456789012345678,1E-7,2.5e+3,true,false,null]',
    "{}", "[]", '[[[[{"a":[{}]}]]]]', " 12 ", '{"a":1,"a":2}', '"h\u00e9llo \u2603"',
]):
    write("FuzzJSONText", f"doc-{i:02}", doc)

# MessagePack values and redis-adapter broadcasts
points = ["points_added", {"guestId": "g1", "restaurantId": "r1", "amount": 50, "newBalance": 120,
                           "transaction": {"id": "t1", "amount": 50.5, "description": "lunch"}}]
emitter = ["emitter", {"type": 2, "data": points, "nsp": "/"}, {"rooms": ["guest:g1"], "flags": {}, "except": []}]
adapter = ["Xy12Ab", {"type": 2, "data": ["card_created", {"id": "c1"}], "nsp": "/"},
           {"rooms": ["restaurant:r1", "admin"], "except": ["user:u9"], "flags": {"volatile": True, "compress": False}}]
numeric_rooms = ["emitter", {"type": 2.0, "data": ["e", 1, -1, 1.5, None, True], "nsp": "/"},
                 {"rooms": [7, "x"], "flags": {"local": True}, "except": [-3]}]
pack = lambda value: msgpack.packb(value, use_bin_type=True)
broadcasts = [emitter, adapter, numeric_rooms,
              ["emitter", {"type": 2, "data": ["admin_notice", "text"], "nsp": "/admin"}, {"rooms": [], "flags": {}, "except": []}],
              ["emitter", {"type": 5, "data": ["bin", b"\x00\x01"], "nsp": "/"}, {"rooms": [], "flags": {}, "except": []}]]
for i, value in enumerate(broadcasts):
    write("FuzzRedisBroadcast", f"broadcast-{i:02}", pack(value))
    write("FuzzMessagePack", f"broadcast-{i:02}", pack(value))
undefined = pack(["emitter", {"type": 2, "data": ["e", {"gone": msgpack.ExtType(0, b"\x00"), "kept": 1}], "nsp": "/"}, {}])
write("FuzzRedisBroadcast", "undefined-member", undefined)
for i, value in enumerate([None, True, -1, -129, 2**63 - 1, 2**64 - 1, 1.5, "x" * 40, b"\x00" * 300, list(range(20)),
                           {str(k): k for k in range(17)}, msgpack.ExtType(5, b"abcd"), msgpack.ExtType(100, b"abc")]):
    write("FuzzMessagePack", f"value-{i:02}", pack(value))
write("FuzzMessagePack", "float32", b"\xca" + struct.pack(">f", 3.25))
write("FuzzMessagePack", "negative-ext", b"\xc7\x03\xff" + b"abc")

# RESP replies (as hiredis reads them from Redis)
payload = pack(emitter)
def bulk(b): return b"$%d\r\n%s\r\n" % (len(b), b)
for i, reply in enumerate([
    b"+OK\r\n", b"-ERR unknown command 'FOO'\r\n", b":42\r\n", b":-7\r\n", bulk(b"hello"), b"$-1\r\n", b"*-1\r\n", b"*0\r\n",
    b"*3\r\n" + bulk(b"message") + bulk(b"socket.io#/#") + bulk(payload),
    b"*4\r\n" + bulk(b"pmessage") + bulk(b"socket.io#/#*") + bulk(b"socket.io#/#guest:g1#") + bulk(payload),
    b"*3\r\n" + bulk(b"subscribe") + bulk(b"socket.io-request#/#") + b":1\r\n",
    b"*2\r\n" + bulk(b"socket.io-request#/#") + b":3\r\n",
    b"+PONG\r\n:1\r\n" + bulk(b"") + b"*2\r\n*1\r\n:1\r\n$-1\r\n",
]):
    write("FuzzRESP", f"reply-{i:02}", reply)

# Cluster requests (JSON on the request channel)
for i, request in enumerate([
    {"uid": "abc123", "type": 5, "requestId": "x", "opts": {"rooms": ["r"], "except": []}},
    {"uid": "abc123", "type": 0, "requestId": "req1", "rooms": ["guest:g1"]},
    {"uid": "abc123", "type": 1, "requestId": "req2"},
    {"uid": "abc123", "type": 2, "opts": {"rooms": ["restaurant:r1"], "except": ["user:u1"]}, "rooms": ["admin"]},
    {"uid": "abc123", "type": 3, "opts": {"rooms": [1, 2.5], "except": []}, "rooms": ["x"]},
    {"uid": "abc123", "type": 4, "opts": {"rooms": ["guest:g1"], "except": []}, "close": True},
    {"uid": "abc123", "type": 6, "data": ["hello", {"a": 1}], "requestId": "r6"},
    {"type": 6, "data": ["from-emitter"]},
    {"uid": "abc123", "type": 7, "requestId": "r7", "packet": {"type": 2, "data": ["e"], "nsp": "/"}},
    {"requestId": "x", "sockets": [{"id": "s1", "rooms": ["s1", "guest:g1"], "data": {}, "handshake": {}}]},
]):
    write("FuzzClusterRequest", f"request-{i:02}", json.dumps(request, separators=(",", ":")))

# JWTs: mode byte 0 = a token as sent, 1 = header and payload JSON that the harness signs
secret = b"fuzz-secret".ljust(32, b"\x00")
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def token(payload, header={"alg": "HS256", "typ": "JWT"}):
    message = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return message + "." + b64(hmac.new(secret, message.encode(), hashlib.sha256).digest())
FAR = 4102444800  # 2100-01-01
claims = [
    {"sub": "g1", "role": "guest", "exp": FAR},
    {"sub": "u7", "role": "restaurant", "restaurantId": "r1", "exp": FAR},
    {"sub": "admin", "role": "admin", "exp": FAR},
    {"sub": "g2", "role": "guest", "exp": 1000000000},
    {"sub": "u8", "role": "restaurant", "exp": FAR},
    {"sub": "c", "role": "chef", "exp": FAR},
    {"sub": "g3", "role": "guest"},
]
for i, c in enumerate(claims):
    write("FuzzJWT", f"token-{i:02}", b"\x00" + token(c).encode())
    write("FuzzJWT", f"claims-{i:02}", b"\x01" + json.dumps({"alg": "HS256", "typ": "JWT"}).encode() + b"\n" + json.dumps(c).encode())
write("FuzzJWT", "foreign-signature", b"\x00" + token(claims[0])[:-4].encode() + b"AAAA")
write("FuzzJWT", "alg-none", b"\x01" + b'{"alg":"none"}\n' + json.dumps(claims[2]).encode())
write("FuzzJWT", "bearer", b"\x02Bearer   " + token(claims[0]).encode())
write("FuzzJWT", "channel", b"\x02guest:g1")
write("FuzzJWT", "admin-channel", b"\x02admin")

# HTTP requests (a client's bytes; @SID@ becomes a live polling session's id)
def request(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: herald.test"] + list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
def ws_frame(text, opcode=1, mask=b"\x01\x02\x03\x04"):
    data = text.encode() if isinstance(text, str) else text
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return bytes([0x80 | opcode, 0x80 | len(data)]) + mask + masked
upgrade = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
add = json.dumps({"guestId": "g1", "restaurantId": "r1", "amount": 50, "description": "lunch"}).encode()
for i, data in enumerate([
    request("GET", "/socket.io/?EIO=4&transport=polling"),
    request("GET", "/socket.io/?EIO=4&transport=polling&t=N8hyd6w", ["Origin: http://localhost:8080", "Authorization: Bearer abc"]),
    request("POST", "/socket.io/?EIO=4&transport=polling&sid=@SID@", ["Content-Type: text/plain;charset=UTF-8"],
            ('40{"token":"abc"}' + RS + "2probe" + RS + "3").encode()),
    request("GET", "/socket.io/?EIO=4&transport=polling&sid=@SID@"),
    request("POST", "/socket.io/?EIO=4&transport=polling&sid=@SID@", [], b"1"),
    request("POST", "/api/points/add", ["Authorization: Bearer t", "Idempotency-Key: till-7-receipt-1042",
                                        "Content-Type: application/json"], add),
    request("OPTIONS", "/socket.io/?EIO=4&transport=polling", ["Origin: http://a.test", "Access-Control-Request-Method: POST"]),
    request("GET", "/healthz") + request("GET", "/api/me"),
    request("GET", "/socket.io/?EIO=3&transport=polling"),
    request("GET", "/socket.io/?EIO=4&transport=websocket", upgrade) + ws_frame("40") + ws_frame(SUBSCRIBE[1:]) + ws_frame("3"),
    request("GET", "/socket.io/?EIO=4&transport=websocket&sid=@SID@", upgrade) + ws_frame("2probe") + ws_frame("5")
        + ws_frame(b"\x01\x02", opcode=2) + ws_frame(b"", opcode=8),
    b"POST /api/points/add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n",
    request("POST", "/api/points/add", ["Content-Length: 999999"]),
]):
    write("FuzzHTTPRequest", f"request-{i:02}", data)
