"""What the benchmark scripts share: tokens signed here, a free loopback port, a herald node
started on it and waited for, and a process's RSS."""
import base64
import hashlib
import hmac
import json
import socket
import subprocess
import time


def token(secret, sub, role="guest", restaurant=None, ttl=3600):
    enc = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    claims = {"sub": sub, "role": role, "exp": int(time.time()) + ttl}
    if restaurant:
        claims["restaurantId"] = restaurant
    head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = enc(json.dumps(claims).encode())
    return f"{head}.{body}.{enc(hmac.new(secret.encode(), f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_herald(arguments, log, port, timeout=20):
    """Starts `herald ARGUMENTS` and waits (bounded) until its port accepts connections."""
    process = subprocess.Popen(arguments, stdout=log, stderr=log)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"herald did not listen on {port} within {timeout} s")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
