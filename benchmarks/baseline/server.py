"""The baseline of benchmarks/compare: what a python-socketio user would run instead of Herald.

A python-socketio `AsyncServer` that does what a Herald gateway does in the load test's
scenarios (SPEC sections 3, 4 and 7):

- CONNECT carries `auth.token` (or `Authorization: Bearer` on the handshake): a JWT, HS256 with
  the shared secret, `exp` required, role guest/restaurant/admin (restaurant needs
  `restaurantId`). A bad one gets CONNECT_ERROR `44{"message": ...}` and joins nothing.
- A socket joins `user:<sub>` and its role room (`guest:<sub>`, `restaurant:<restaurantId>` or
  `admin`), then gets `connected {socketId, userId, role, rooms, nodeId}`.
- Events come the way they come to Herald: published into Redis by `@socket.io/redis-emitter`
  (or Herald's points API / `herald loadtest`, which write the same thing): PSUBSCRIBE
  `socket.io#/#*` (the emitter publishes a broadcast to one room on `socket.io#/#<room>#`, to
  several or none on `socket.io#/#`), MessagePack `[uid, {type: 2, data: [event, ...args],
  nsp: "/"}, {rooms, except, flags}]`, delivered with `sio.emit(event, args, to=rooms,
  skip_sid=<sockets in except>)`.
- `--cluster`: `socketio.AsyncRedisManager` carries emits between the server processes (its own
  JSON messages on the `socketio` channel). Exactly one process runs with `--bridge` (the
  default); the others with `--no-bridge`: the bridge turns each emitter message into one
  `sio.emit(...)`, which python-socketio delivers locally and publishes for the other nodes, so
  each event reaches each member once across the cluster. `except` rooms are resolved on the
  bridging node only (python-socketio's cross-node `skip_sid` takes socket ids, not rooms); the
  load test never uses them.

Not here (the load test does not use them): subscribe/unsubscribe/action/sync, the
notification center, connection state recovery, rate limits, presence, /api/.

Web server: aiohttp. python-socketio documents it first among its asyncio servers, it is one
dependency that brings its own HTTP and WebSocket implementation (`sio.attach(app)`,
`web.run_app`), and it is what python-socketio's own asyncio examples run on; uvicorn needs an
ASGI app plus a separate WebSocket library (websockets or wsproto) for the same job.

Usage: server.py --port 3100 --redis redis://127.0.0.1:6379 --secret S [--cluster] [--no-bridge]
"""
import argparse
import asyncio
import logging
import os
import signal
import sys

import jwt
import msgpack
import redis.asyncio as aioredis
import socketio
from aiohttp import web

ROLES = {"guest", "restaurant", "admin"}
EMITTER_PATTERN = "socket.io#/#*"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--redis", default=os.environ.get("HERALD_REDIS_URL", "redis://127.0.0.1:6379"),
                        help="Redis with the emitter channel (and, with --cluster, the manager's)")
    parser.add_argument("--secret", default=os.environ.get("HERALD_JWT_SECRET"), help="the JWT secret (HS256)")
    parser.add_argument("--bridge", action=argparse.BooleanOptionalAction, default=True,
                        help="deliver what the emitter publishes (one process per cluster)")
    parser.add_argument("--cluster", action="store_true", help="socketio.AsyncRedisManager between processes")
    parser.add_argument("--node-id", default=f"baseline-{os.getpid()}")
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or HERALD_JWT_SECRET) is required")
    return args


def claims_of(token, secret):
    """The verified claims, or raises ConnectionRefusedError with the reason."""
    if not isinstance(token, str) or not token:
        raise socketio.exceptions.ConnectionRefusedError("missing token")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise socketio.exceptions.ConnectionRefusedError("token expired")
    except jwt.InvalidTokenError as error:
        raise socketio.exceptions.ConnectionRefusedError(f"invalid token: {error}")
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims["sub"], str):
        raise socketio.exceptions.ConnectionRefusedError("unknown role")
    if role == "restaurant" and not isinstance(claims.get("restaurantId"), str):
        raise socketio.exceptions.ConnectionRefusedError("restaurant token without restaurantId")
    return claims


def rooms_of(claims):
    role = claims["role"]
    own = {"guest": f"guest:{claims['sub']}", "admin": "admin"}.get(role) or f"restaurant:{claims['restaurantId']}"
    return [f"user:{claims['sub']}", own]


def build(args):
    manager = socketio.AsyncRedisManager(args.redis) if args.cluster else None
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager, cors_allowed_origins="*",
                               logger=False, engineio_logger=False)

    @sio.event
    async def connect(sid, environ, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if token is None:
            header = environ.get("HTTP_AUTHORIZATION", "")
            token = header[7:] if header.lower().startswith("bearer ") else None
        claims = claims_of(token, args.secret)
        rooms = rooms_of(claims)
        for room in rooms:
            await sio.enter_room(sid, room)
        hello = {"socketId": sid, "userId": claims["sub"], "role": claims["role"], "rooms": rooms,
                 "nodeId": args.node_id}

        async def greet():
            # After CONNECT has been queued (the handler returns first). Local: the socket is here.
            await sio.emit("connected", hello, to=sid, ignore_queue=True)

        sio.start_background_task(greet)

    return sio


async def bridge(sio, url, logger):
    """The emitter channel into sio.emit, reconnecting (backoff up to 2 s) while Redis is away."""
    delay = 0.05
    while True:
        client = aioredis.Redis.from_url(url)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            await pubsub.psubscribe(EMITTER_PATTERN)
            delay = 0.05
            async for message in pubsub.listen():
                if message["type"] == "pmessage":
                    await deliver(sio, message["data"], logger)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # Redis down: log, wait, subscribe again
            logger.warning("bridge: %s; retrying in %.2f s", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        finally:
            await client.aclose()


async def deliver(sio, data, logger):
    try:
        _uid, packet, opts = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as error:
        logger.warning("bridge: unreadable message (%s)", error)
        return
    if not isinstance(packet, dict) or packet.get("nsp", "/") != "/" or packet.get("type") != 2:
        return
    event, *arguments = packet.get("data") or [None]
    if not isinstance(event, str):
        return
    opts = opts if isinstance(opts, dict) else {}
    rooms = list(opts.get("rooms") or [])
    skip = [sid for room in opts.get("except") or [] for sid, _ in sio.manager.get_participants("/", room)]
    await sio.emit(event, tuple(arguments), to=rooms or None, skip_sid=skip or None)


async def main():
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logger = logging.getLogger("baseline")
    sio = build(args)
    app = web.Application()
    sio.attach(app)
    app.router.add_get("/healthz", lambda request: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, backlog=4096)
    await site.start()
    bridging = asyncio.create_task(bridge(sio, args.redis, logger)) if args.bridge else None
    stopping = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(number, stopping.set)
    print(f"baseline: listening on {args.host}:{args.port} (cluster: {args.cluster}, bridge: {args.bridge})",
          file=sys.stderr, flush=True)
    await stopping.wait()
    if bridging:
        bridging.cancel()
    await asyncio.wait_for(runner.cleanup(), 10)


if __name__ == "__main__":
    asyncio.run(main())
