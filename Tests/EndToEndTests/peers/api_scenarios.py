"""End-to-end scenarios of the points API (SPEC section 5) against a running `herald serve`:
plain HTTP with requests, events seen by python-socketio clients.
Usage: api_scenarios.py NAME --url URL --secret SECRET"""
import time

import requests

from herald_peer import Client, fresh_id, make_token
from scenarios import expect, main, scenario


class Api:
    def __init__(self, url, token=None):
        self.url = url + "/api"
        self.token = token

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        headers = dict(headers or {})
        token = token if token is not None else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if raw is not None:
            return requests.request(method, self.url + path, data=raw, headers=headers, timeout=10)
        return requests.request(method, self.url + path, json=body, headers=headers, timeout=10)


def staff(args, restaurant):
    return make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)


def expect_error(response, status, code=None):
    expect(response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}")
    body = response.json()
    expect(set(body) == {"error"} and set(body["error"]) == {"code", "message"}, f"error body shape: {body}")
    if code:
        expect(body["error"]["code"] == code, f"expected code {code}: {body}")


@scenario
def api_validation(args):
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    api = Api(args.url, staff(args, restaurant))
    good = {"guestId": guest, "restaurantId": restaurant, "amount": 10, "description": "lunch"}
    expect(api.call("POST", "/points/add", good).status_code == 201, "a good add")

    for bad_json in ["{", "[]", "null", "42", '"x"', "{\"amount\": }"]:
        expect_error(api.call("POST", "/points/add", raw=bad_json, headers={"Content-Type": "application/json"}), 400)
    for field in ["guestId", "restaurantId", "amount"]:
        body = dict(good)
        del body[field]
        expect_error(api.call("POST", "/points/add", body), 400)
    for field, value in [("guestId", 5), ("guestId", ""), ("guestId", "bad id"), ("restaurantId", ["r"]),
                         ("amount", "10"), ("amount", 0), ("amount", -5), ("amount", 1.5), ("amount", 1_000_001),
                         ("amount", True), ("amount", None), ("description", 7), ("description", "x" * 501)]:
        expect_error(api.call("POST", "/points/add", {**good, field: value}), 400)
    expect(api.call("POST", "/points/add", {**good, "amount": 1_000_000}).status_code == 201, "the largest amount")
    expect(api.call("POST", "/points/add", {k: v for k, v in good.items() if k != "description"}).status_code == 201,
           "description is optional")

    expect_error(api.call("POST", "/points/redeem", {**good, "guestId": fresh_id("nobody")}), 404, "not_found")
    poor = {**good, "guestId": fresh_id("poor"), "amount": 5}
    expect(api.call("POST", "/points/add", poor).status_code == 201, "add 5")
    expect_error(api.call("POST", "/points/redeem", {**poor, "amount": 6}), 409, "insufficient_points")

    expect_error(api.call("POST", "/points/add", good, token=""), 401)
    expect_error(api.call("POST", "/points/add", good, token="garbage"), 401)
    expect_error(api.call("POST", "/points/add", good, token=make_token("other-secret", "x", "admin")), 401)
    expect_error(api.call("POST", "/points/add", good, token=make_token(args.secret, "x", "admin", ttl=-10)), 401)
    expect_error(api.call("POST", "/points/add", good, token=make_token(args.secret, guest, "guest")), 403)
    expect_error(api.call("POST", "/points/add", {**good, "restaurantId": "someone-else"}), 403)
    expect_error(api.call("POST", "/alerts", {"level": "info", "message": "m"}), 403)
    # 403 before 400 (SPEC 5.1): another restaurant's write is refused whatever else the body holds.
    for path, body in [("/points/add", {**good, "restaurantId": "someone-else", "amount": -1}),
                       ("/points/redeem", {"restaurantId": "someone-else", "guestId": 5}),
                       ("/guests", {"restaurantId": "someone-else", "name": ""}),
                       ("/cards", {"restaurantId": "someone-else"})]:
        expect_error(api.call("POST", path, body), 403)

    # 413 comes first, before auth (SPEC 5.1).
    expect_error(api.call("POST", "/points/add", raw="x" * 70_000, token=""), 413)
    expect_error(api.call("GET", "/nowhere"), 404)
    expect_error(api.call("DELETE", "/points/add"), 404)

    admin = make_token(args.secret, fresh_id("admin"), "admin")
    for body in [{"level": "loud", "message": "m"}, {"level": "info"}, {"level": "info", "message": ""}, {}]:
        expect_error(api.call("POST", "/alerts", body, token=admin), 400)
    expect(api.call("POST", "/alerts", {"level": "critical", "message": "m"}, token=admin).status_code == 202, "alert")
    for body in [{"guestId": guest, "restaurantId": restaurant}, {"guestId": guest, "restaurantId": restaurant, "name": ""},
                 {"guestId": guest, "restaurantId": restaurant, "name": "x" * 201}]:
        expect_error(api.call("POST", "/guests", body), 400)
    expect_error(api.call("PUT", f"/restaurants/{restaurant}", {"name": 5}), 400)
    expect_error(api.call("PUT", "/restaurants/someone-else", {"name": "Mine"}), 403)

    # Reads.
    expect(api.call("GET", f"/guests/{guest}/balance").json() == {"guestId": guest, "balance": 1_000_020}, "balance")
    expect_error(api.call("GET", f"/guests/{fresh_id('nobody')}/balance"), 404, "not_found")
    expect_error(api.call("GET", f"/guests/{fresh_id('nobody')}/transactions"), 404, "not_found")
    expect(api.call("GET", f"/guests/{guest}/balance", token=make_token(args.secret, guest, "guest")).status_code == 200,
           "a guest reads its own balance")
    expect_error(api.call("GET", f"/guests/{guest}/balance", token=make_token(args.secret, "other", "guest")), 403)
    for query in ["limit=0", "limit=201", "limit=x", "cursor=garbage", "cursor="]:
        expect_error(api.call("GET", f"/guests/{guest}/transactions?{query}"), 400, "invalid_query")
    expect_error(api.call("GET", f"/presence/restaurant:{fresh_id('r')}"), 403)
    expect_error(api.call("GET", "/presence/not a room"), 400)


@scenario
def api_paging(args):
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    api = Api(args.url, staff(args, restaurant))
    for amount in range(1, 8):
        api.call("POST", "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": amount})
    seen, cursor = [], None
    while True:
        page = api.call("GET", f"/guests/{guest}/transactions?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        expect(set(page) == {"guestId", "transactions", "nextCursor"}, page)
        seen += [t["amount"] for t in page["transactions"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    expect(seen == [7, 6, 5, 4, 3, 2, 1], f"newest first over pages: {seen}")
    first = api.call("GET", f"/guests/{guest}/transactions").json()["transactions"][0]
    expect(set(first) == {"id", "type", "guestId", "restaurantId", "cardId", "amount", "balanceAfter", "description",
                          "timestamp"}, first)
    expect(first["type"] == "add" and first["balanceAfter"] == 28, first)


POINTS_KEYS = {"transactionId", "guestId", "cardId", "amount", "newBalance", "restaurantId", "restaurantName",
               "description", "timestamp", "eventId"}


@scenario
def api_events(args):
    """Each API call reaches exactly the right clients once, with exactly the SPEC payload."""
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    staff_token = staff(args, restaurant)
    api = Api(args.url, staff_token)
    guest_client = Client(args.url, make_token(args.secret, guest, "guest")).connect()
    staff_client = Client(args.url, staff_token, transports=["websocket"]).connect()
    admin_client = Client(args.url, make_token(args.secret, fresh_id("admin"), "admin")).connect()
    bystander = Client(args.url, make_token(args.secret, fresh_id("guest"), "guest")).connect()
    for client in (guest_client, staff_client, admin_client, bystander):
        client.wait_for("connected")

    expect(api.call("PUT", f"/restaurants/{restaurant}", {"name": "Chez Herald"}).status_code == 200, "name")
    registered = api.call("POST", "/guests", {"guestId": guest, "name": "Ann", "restaurantId": restaurant})
    expect(registered.status_code == 201, registered.text)
    again = api.call("POST", "/guests", {"guestId": guest, "name": "Anna", "restaurantId": restaurant})
    expect(again.status_code == 200 and again.json()["guest"]["name"] == "Anna", again.text)
    card = api.call("POST", "/cards", {"guestId": guest, "restaurantId": restaurant})
    expect(card.status_code == 201, card.text)
    card_id = card.json()["cardId"]
    expect_error(api.call("POST", "/cards", {"guestId": guest, "restaurantId": restaurant}), 409, "card_exists")
    added = api.call("POST", "/points/add", {"guestId": guest, "restaurantId": restaurant, "amount": 120,
                                             "description": "dinner"})
    expect(added.status_code == 201, added.text)
    redeemed = api.call("POST", "/points/redeem", {"guestId": guest, "restaurantId": restaurant, "amount": 20})
    expect(redeemed.status_code == 201 and redeemed.json()["newBalance"] == 100, redeemed.text)
    admin_token = make_token(args.secret, fresh_id("admin"), "admin")
    expect(api.call("POST", "/alerts", {"level": "warning", "message": "disk"}, token=admin_token).json() ==
           {"accepted": True}, "alert")

    for client in (guest_client, staff_client):
        client.wait_for("points_redeemed")
    admin_client.wait_for("system_alert")
    time.sleep(0.5)

    tx = added.json()["transaction"]
    expected_added = {"transactionId": tx["id"], "guestId": guest, "cardId": card_id, "amount": 120, "newBalance": 120,
                      "restaurantId": restaurant, "restaurantName": "Chez Herald", "description": "dinner",
                      "timestamp": tx["timestamp"]}
    for client in (guest_client, staff_client):
        events = client.received("points_added")
        expect(len(events) == 1, f"one points_added: {events}")
        expect(set(events[0]) == POINTS_KEYS, events[0])
        expect({k: v for k, v in events[0].items() if k != "eventId"} == expected_added, events[0])
        redeemed_events = client.received("points_redeemed")
        expect(len(redeemed_events) == 1 and redeemed_events[0]["amount"] == 20 and redeemed_events[0]["newBalance"] == 100,
               redeemed_events)
        cards = client.received("card_created")
        expect(len(cards) == 1 and set(cards[0]) == {"cardId", "guestId", "restaurantId", "timestamp", "eventId"}
               and cards[0]["cardId"] == card_id, cards)
    registrations = staff_client.received("guest_registered")
    expect(len(registrations) == 1 and registrations[0]["name"] == "Ann" and
           set(registrations[0]) == {"guestId", "name", "restaurantId", "timestamp", "eventId"}, registrations)
    expect(guest_client.received("guest_registered") == [], "guest_registered goes to the restaurant only")
    alerts = admin_client.received("system_alert")
    expect(len(alerts) == 1 and {k: v for k, v in alerts[0].items() if k not in ("timestamp", "eventId")} ==
           {"level": "warning", "message": "disk"}, alerts)
    expect(all(isinstance(a["timestamp"], int) for a in alerts), alerts)
    expect(admin_client.received("points_added") == [] and bystander.events == [("connected", bystander.events[0][1])],
           f"nobody else hears anything: {bystander.events}")
    event_ids = [e["eventId"] for c in (guest_client,) for name in ("points_added", "points_redeemed", "card_created")
                 for e in c.received(name)]
    expect(len(set(event_ids)) == 3, event_ids)

    # The notification center kept them: newest first, and changes reach every tab.
    synced = guest_client.call("sync", {})
    names = [n["event"] for n in synced["notifications"]]
    expect(names == ["points_redeemed", "points_added", "card_created"], names)
    expect(synced["unreadCount"] == 3, synced)
    second_tab = Client(args.url, make_token(args.secret, guest, "guest"), transports=["websocket"]).connect()
    answer = guest_client.call("action", {"type": "mark_read", "id": synced["notifications"][0]["id"]})
    expect(answer == {"ok": True, "unreadCount": 2}, answer)
    update = second_tab.wait_for("notification_updated")[0]
    expect(update == {"id": synced["notifications"][0]["id"], "read": True, "unreadCount": 2}, update)
    missing = guest_client.call("action", {"type": "delete", "id": "no-such-id"})
    expect(missing["ok"] is False and missing["error"]["code"] == "not_found", missing)
    staff_sync = staff_client.call("sync", {})
    expect([n["event"] for n in staff_sync["notifications"]] ==
           ["points_redeemed", "points_added", "card_created", "guest_registered"], staff_sync)

    presence = api.call("GET", f"/presence/restaurant:{restaurant}").json()
    expect({k: presence[k] for k in ("room", "sockets", "users")} == {"room": f"restaurant:{restaurant}", "sockets": 1, "users": 1}, presence)
    expect(sum(presence["nodes"].values()) == 1 and presence["servers"] >= 1, presence)
    encoded = api.call("GET", f"/presence/restaurant%3A{restaurant}").json()
    expect(encoded["sockets"] == 1, encoded)
    for client in (guest_client, staff_client, admin_client, bystander, second_tab):
        client.disconnect()


@scenario
def api_idempotency(args):
    """A retried POST answers the first result byte for byte: one transaction, one event."""
    restaurant, guest = fresh_id("rest"), fresh_id("guest")
    api = Api(args.url, staff(args, restaurant))
    listener = Client(args.url, make_token(args.secret, guest, "guest")).connect()
    listener.wait_for("connected")
    body = {"guestId": guest, "restaurantId": restaurant, "amount": 15}
    key = {"Idempotency-Key": fresh_id("key")}
    first = api.call("POST", "/points/add", body, headers=key)
    second = api.call("POST", "/points/add", body, headers=key)
    expect(first.status_code == second.status_code == 201, (first.status_code, second.status_code))
    expect(first.content == second.content, "the replay differs from the first answer")
    reused = api.call("POST", "/points/add", {**body, "amount": 16}, headers=key)
    expect_error(reused, 422, "idempotency_key_reused")
    expect_error(api.call("POST", "/points/add", body, headers={"Idempotency-Key": "x" * 201}), 400)
    listener.wait_for("points_added")
    time.sleep(1.0)
    expect(len(listener.received("points_added")) == 1, listener.received("points_added"))
    transactions = api.call("GET", f"/guests/{guest}/transactions").json()["transactions"]
    expect(len(transactions) == 1, transactions)
    expect(api.call("GET", f"/guests/{guest}/balance").json()["balance"] == 15, "balance")
    listener.disconnect()


if __name__ == "__main__":
    main()
