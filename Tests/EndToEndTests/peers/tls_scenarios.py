"""Herald over TLS with a self-signed certificate: `herald serve --tls-cert --tls-key`, or nginx
terminating TLS in front of the local cluster. python-socketio over WSS and over HTTPS
long-polling, the points API over HTTPS, each event received once.
Usage: tls_scenarios.py NAME --url https://127.0.0.1:PORT --secret S --ca CERT.pem"""
import socket
import ssl
import time
import urllib.parse

import requests

from herald_peer import Client, fresh_id, make_token
from scenarios import expect, main, scenario



def configure(parser):
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--ca", required=True, help="the self-signed certificate, trusted for this run only")


def trusting(ca):
    """A requests session that trusts `ca` and nothing from the environment (REQUESTS_CA_BUNDLE
    would otherwise replace it on every request)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    return session


@scenario
def tls_transports(args):
    """WSS and HTTPS long-polling (with and without the upgrade) each connect, subscribe and get a
    points event posted over HTTPS; the TLS port refuses plain HTTP; the certificate is the one given (verified, not skipped)."""
    target = urllib.parse.urlsplit(args.url)
    expect(target.scheme == "https", args.url)
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    for transports in (["websocket"], ["polling"], None):
        sub = fresh_id("guest")
        client = Client(args.url, make_token(args.secret, sub, "guest"), transports=transports, http_session=trusting(args.ca)).connect()
        connected = client.wait_for("connected")[0]
        expect(connected["userId"] == sub, connected)
        expect(client.call("subscribe", {"channel": f"guest:{sub}"}) == {"ok": True, "channel": f"guest:{sub}"}, transports)
        answer = trusting(args.ca).post(
            args.url + "/api/points/add", json={"guestId": sub, "restaurantId": "r-tls", "amount": 3},
            headers={"Authorization": f"Bearer {admin}"}, timeout=10,
        )
        expect(answer.status_code == 201, (answer.status_code, answer.text))
        event = client.wait_for("points_added")[0]
        expect(event["guestId"] == sub and event["amount"] == 3, event)
        time.sleep(0.2)
        expect(len(client.received("points_added")) == 1, client.received("points_added"))
        print(f"tls_transports: {transports or 'polling then websocket'} over TLS via {client.sio.transport()}")
        client.disconnect()

    # The TLS port speaks only TLS: a plain HTTP request gets no HTTP answer.
    with socket.create_connection((target.hostname, target.port), timeout=5) as plain:
        plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            reply = plain.recv(64)
        except (ConnectionResetError, socket.timeout):
            reply = b""
        expect(not reply.startswith(b"HTTP/1.1 200"), reply)

    context = ssl.create_default_context(cafile=args.ca)
    with socket.create_connection((target.hostname, target.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=target.hostname) as tls:
            expect(tls.version() in ("TLSv1.2", "TLSv1.3"), tls.version())
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            expect(tls.recv(64).startswith(b"HTTP/1.1 200"), "healthz over TLS")
    print("tls_transports: plain HTTP refused on the TLS port, healthz over", tls.version())


if __name__ == "__main__":
    main(configure)
