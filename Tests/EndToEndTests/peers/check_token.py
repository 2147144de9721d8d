"""Checks a token made by `herald token` with an HS256 implementation of our own: signature,
claims and an integral expiry. Usage: check_token.py TOKEN SECRET"""
import base64
import hashlib
import hmac
import json
import sys
import time

token, secret = sys.argv[1], sys.argv[2]
header, payload, signature = token.split(".")
pad = lambda part: part + "=" * (-len(part) % 4)
expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
assert base64.urlsafe_b64decode(pad(signature)) == expected, "bad signature"
assert json.loads(base64.urlsafe_b64decode(pad(header)))["alg"] == "HS256"
claims = json.loads(base64.urlsafe_b64decode(pad(payload)))
assert claims["sub"] == "staff-1" and claims["role"] == "restaurant" and claims["restaurantId"] == "r-1", claims
assert isinstance(claims["exp"], int) and 0 < claims["exp"] - time.time() <= 61, claims
print("ok")
