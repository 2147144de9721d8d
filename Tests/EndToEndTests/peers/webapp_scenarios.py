"""The web app at `/` (web/) in headless Chromium, driven by selenium, against `herald serve --demo`
(or, for `webapp_recovers_through_nginx`, the local cluster): sign-in, toasts, the badge, the
notification center across two tabs, the sound setting, the connection indicator, and no console
errors. Screenshots go to $HERALD_SCREENSHOTS (default .build/screenshots).
Usage: webapp_scenarios.py NAME --url URL --secret S [--pids DIR]"""
import hashlib
import http.client
import os
import signal
import time
import urllib.parse

import requests
from selenium.webdriver.common.by import By

from browser_scenarios import PAGE, browser, serve_pages, wait_until
from herald_peer import fresh_id, make_token
from scenarios import expect, main, scenario

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SHOTS = os.environ.get("HERALD_SCREENSHOTS", os.path.join(ROOT, ".build", "screenshots"))


def configure(parser):
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--pids")


def sized_browser():
    driver = browser()
    driver.set_window_size(1280, 860)
    return driver


def screenshot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def console_errors(driver):
    """Console errors since the last call (selenium hands each entry out once)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def sign_in_demo(driver, url, role, sub, restaurant=None):
    driver.get(url + "/")
    wait_until(driver, "return !document.getElementById('sign-in').hidden && !document.getElementById('demo-fields').hidden")
    driver.find_element(By.CSS_SELECTOR, f'input[name="role"][value="{role}"]').click()
    field = driver.find_element(By.ID, "sub")
    field.clear()
    field.send_keys(sub)
    if restaurant:
        box = driver.find_element(By.ID, "restaurant-id")
        box.clear()
        box.send_keys(restaurant)
    driver.find_element(By.ID, "sign-in-button").click()
    wait_until(driver, "return document.getElementById('connection').dataset.state === 'connected'")


def post(args, path, body, token):
    answer = requests.post(args.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    expect(answer.status_code in (200, 201, 202), (path, answer.status_code, answer.text))
    return answer.json()


def badge(driver):
    return driver.execute_script(
        "const b = document.getElementById('badge'); return b.hidden ? 0 : Number(b.textContent)")


@scenario
def webapp_guest(args):
    """A guest signs in; points added through the API raise a toast and the badge; marking read in
    one tab clears the badge in the other; the sound setting survives a reload; no console errors."""
    guest = fresh_id("guest")
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    driver = sized_browser()
    try:
        sign_in_demo(driver, args.url, "guest", guest)
        expect(guest in driver.find_element(By.ID, "who").text, driver.find_element(By.ID, "who").text)
        post(args, "/api/points/add", {"guestId": guest, "restaurantId": "r-demo", "amount": 25, "description": "Dinner"}, admin)
        toast = wait_until(driver, "const t = document.querySelector('.toast'); return t && t.textContent")
        expect("+25 points" in toast, toast)
        wait_until(driver, "return document.getElementById('balance').textContent === '25'")
        expect(badge(driver) == 1, badge(driver))
        screenshot(driver, "guest-toast")

        # A second tab of the same guest: the session is in localStorage, the center comes by sync.
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(args.url + "/")
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'connected'")
        wait_until(driver, "const b = document.getElementById('badge'); return !b.hidden && b.textContent === '1'")
        second = driver.current_window_handle
        post(args, "/api/points/add", {"guestId": guest, "restaurantId": "r-demo", "amount": 5}, admin)
        wait_until(driver, "return document.getElementById('badge').textContent === '2'")
        driver.switch_to.window(first)
        wait_until(driver, "return document.getElementById('badge').textContent === '2'")
        driver.find_element(By.ID, "bell").click()
        wait_until(driver, "return !document.getElementById('center').hidden")
        items = driver.find_elements(By.CSS_SELECTOR, "#notifications li[data-id]")
        expect(len(items) == 2, len(items))
        screenshot(driver, "guest-center")
        items[0].find_element(By.CSS_SELECTOR, 'button[data-action="read"]').click()
        wait_until(driver, "return document.getElementById('badge').textContent === '1'")
        driver.switch_to.window(second)
        wait_until(driver, "return document.getElementById('badge').textContent === '1'")
        driver.switch_to.window(first)
        driver.find_element(By.ID, "mark-all").click()
        driver.switch_to.window(second)
        wait_until(driver, "return document.getElementById('badge').hidden")
        driver.find_element(By.ID, "bell").click()
        delete = driver.find_elements(By.CSS_SELECTOR, '#notifications button[data-action="delete"]')
        expect(len(delete) == 2, len(delete))
        delete[0].click()
        driver.switch_to.window(first)
        wait_until(driver, "return document.querySelectorAll('#notifications li[data-id]').length === 1")

        # The sound setting is kept across a reload.
        driver.find_element(By.ID, "close-center").click()
        expect(driver.find_element(By.ID, "sound").get_attribute("aria-pressed") == "true", "sound starts on")
        driver.find_element(By.ID, "sound").click()
        expect(driver.find_element(By.ID, "sound").get_attribute("aria-pressed") == "false", "sound switched off")
        driver.refresh()
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'connected'")
        expect(driver.find_element(By.ID, "sound").get_attribute("aria-pressed") == "false", "sound off after a reload")
        expect(badge(driver) == 0, badge(driver))

        errors = console_errors(driver)
        driver.switch_to.window(second)
        errors += console_errors(driver)
        expect(not errors, errors)
        print("webapp_guest: toast, badge, two tabs in step, sound kept, no console errors")
    finally:
        driver.quit()


@scenario
def webapp_staff(args):
    """A restaurant account adds points and registers a guest from its form and sees both in its
    feed; an admin sends a system alert from its view and gets it as a toast, and sees the
    cluster's rooms; no console errors."""
    restaurant = fresh_id("r")
    # The demo endpoint signs only what SPEC section 3 allows.
    for body in ({"role": "root", "sub": "x"}, {"role": "restaurant", "sub": "x"}, {"role": "guest", "sub": "a b"},
                 {"role": "guest"}, [1, 2]):
        refused = requests.post(args.url + "/demo/token", json=body, timeout=10)
        expect(refused.status_code == 400 and refused.json()["error"]["code"] == "bad_request", (body, refused.text))
    expect(requests.get(args.url + "/demo/token", timeout=10).status_code == 405, "GET /demo/token")
    driver = sized_browser()
    try:
        sign_in_demo(driver, args.url, "restaurant", fresh_id("staff"), restaurant=restaurant)
        guest = fresh_id("guest")
        form = driver.find_element(By.ID, "points-form")
        form.find_element(By.NAME, "guestId").send_keys(guest)
        form.find_element(By.CSS_SELECTOR, 'button[value="add"]').click()
        wait_until(driver, "return document.getElementById('staff-result').textContent.includes('now has 10')")
        wait_until(driver, "return document.querySelector('#feed li .what') !== null")
        form = driver.find_element(By.ID, "guest-form")
        form.find_element(By.NAME, "guestId").send_keys(guest)
        form.find_element(By.NAME, "name").send_keys("Ada Lovelace")
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait_until(driver, "return document.getElementById('feed').textContent.includes('Ada Lovelace')")
        expect(badge(driver) == 2, badge(driver))
        screenshot(driver, "restaurant")
        driver.set_window_size(390, 844)
        screenshot(driver, "restaurant-phone")
        driver.set_window_size(1280, 860)
        errors = console_errors(driver)

        driver.execute_script("localStorage.clear()")
        sign_in_demo(driver, args.url, "admin", fresh_id("admin"))
        form = driver.find_element(By.ID, "alert-form")
        form.find_element(By.NAME, "message").send_keys("Maintenance at 02:00")
        form.find_element(By.CSS_SELECTOR, "button").click()
        toast = wait_until(driver, "const t = document.querySelector('.toast[data-event=\"system_alert\"]'); return t && t.textContent")
        expect("Maintenance at 02:00" in toast, toast)
        rooms = wait_until(driver, "const r = document.querySelectorAll('#rooms tr'); return r.length >= 2 && document.getElementById('rooms').textContent")
        expect("admin" in rooms, rooms)
        nodes = wait_until(driver, "const r = document.querySelectorAll('#nodes tr'); return r.length >= 1 && document.getElementById('nodes').textContent")
        totals = driver.find_element(By.ID, "totals").text
        expect("connection" in totals and "node" in totals, totals)
        # Only admins see the whole cluster.
        staff = make_token(args.secret, fresh_id("staff"), "restaurant", restaurant)
        refused = requests.get(args.url + "/api/presence", headers={"Authorization": f"Bearer {staff}"}, timeout=10)
        expect(refused.status_code == 403, refused.status_code)
        admin = make_token(args.secret, fresh_id("admin"), "admin")
        everyone = requests.get(args.url + "/api/presence", headers={"Authorization": f"Bearer {admin}"}, timeout=10).json()
        expect(everyone["sockets"] >= 1 and everyone["rooms"] >= 2 and sum(everyone["nodes"].values()) == everyone["sockets"], everyone)
        screenshot(driver, "admin")
        errors += console_errors(driver)
        expect(not errors, errors)
        print("webapp_staff: restaurant form and feed, admin alert and rooms, no console errors")
    finally:
        driver.quit()


@scenario
def webapp_recovers_through_nginx(args):
    """The page through nginx with a pasted token (the cluster has no demo endpoint); its gateway
    gets SIGKILL: the indicator shows reconnecting, then connected on another gateway, recovered,
    and an event sent meanwhile arrives once."""
    guest = fresh_id("guest")
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    driver = sized_browser()
    try:
        driver.get(args.url + "/")
        wait_until(driver, "return !document.getElementById('token-field').hidden")
        driver.find_element(By.ID, "token").send_keys(make_token(args.secret, guest, "guest"))
        driver.find_element(By.ID, "sign-in-button").click()
        wait_until(driver, "return window.herald && window.herald.info && window.herald.state === 'connected'")
        node = driver.execute_script("return window.herald.info.nodeId")
        driver.execute_script("""
            window.states = [];
            window.herald.on('state', (s) => window.states.push(s));""")
        with open(os.path.join(args.pids, f"{node}.pid")) as pid_file:
            os.kill(int(pid_file.read()), signal.SIGKILL)
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'reconnecting'", timeout=10)
        screenshot(driver, "reconnecting")
        post(args, "/api/points/add", {"guestId": guest, "restaurantId": "r-demo", "amount": 7}, admin)
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'connected'", timeout=20)
        wait_until(driver, "return document.querySelectorAll('.toast').length === 1")
        info = driver.execute_script("return [window.herald.info, window.herald.recovered, window.states]")
        expect(info[0]["nodeId"] != node and info[1] is True, info)
        time.sleep(0.5)
        expect(badge(driver) == 1, badge(driver))
        errors = [e for e in console_errors(driver) if "socket.io" not in e["message"]]
        expect(not errors, errors)
        print(f"webapp_recovers_through_nginx: states {info[2]}, back on {info[0]['nodeId']} (killed {node}), recovered {info[1]}")
    finally:
        driver.quit()


@scenario
def webapp_gives_up_and_reconnects(args):
    """Driven with WebAppTests.givesUpThenReconnects, which stops the node when this prints
    `signed-in` and starts it again on the same port when this prints `gave-up`: the indicator
    goes reconnecting, then gave up after the seed's 5 attempts (Reconnect shown); Reconnect
    connects to the new node, which did not keep the session (recovered false), and the center
    comes back by sync."""
    guest = fresh_id("guest")
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    driver = sized_browser()
    try:
        sign_in_demo(driver, args.url, "guest", guest)
        post(args, "/api/points/add", {"guestId": guest, "restaurantId": "r-demo", "amount": 4}, admin)
        wait_until(driver, "return document.getElementById('badge').textContent === '1'")
        driver.execute_script("window.states = []; window.herald.on('state', (s) => window.states.push(s));")
        print("signed-in", flush=True)
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'reconnecting'", timeout=20)
        # 5 attempts, 1 s backing off to 5 s, each randomised by +-50 %: at most about 25 s.
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'gave_up'", timeout=45)
        expect(driver.execute_script("return !document.getElementById('reconnect').hidden"), "Reconnect is offered")
        screenshot(driver, "gave-up")
        print("gave-up", flush=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(args.url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        driver.find_element(By.ID, "reconnect").click()
        wait_until(driver, "return document.getElementById('connection').dataset.state === 'connected'", timeout=20)
        recovered = driver.execute_script("return window.herald.recovered")
        expect(recovered is False, "a new process has no session to recover")
        # The embedded notification center went with the old process: sync gives the new one's.
        wait_until(driver, "return document.getElementById('badge').hidden")
        states = driver.execute_script("return window.states")
        expect(states[:1] == ["reconnecting"] and "gave_up" in states and states[-1] == "connected", states)
        errors = [e for e in console_errors(driver) if "socket.io" not in e["message"]]
        expect(not errors, errors)
        print(f"webapp_gives_up_and_reconnects: states {states}")
    finally:
        driver.quit()


@scenario
def library_from_another_origin(args):
    """An app on another origin imports /client/herald-notifications.js from the node (a module
    loaded with CORS, and the bundle it imports too), connects, and its store gets an event."""
    guest = fresh_id("guest")
    admin = make_token(args.secret, fresh_id("admin"), "admin")
    pages = serve_pages()
    driver = sized_browser()
    try:
        query = urllib.parse.urlencode({"url": args.url, "token": make_token(args.secret, guest, "guest")})
        driver.get(f"http://127.0.0.1:{pages.server_port}/{PAGE}/library.html?{query}")
        wait_until(driver, "return window.result && window.result.connected")
        post(args, "/api/points/add", {"guestId": guest, "restaurantId": "r-demo", "amount": 2}, admin)
        wait_until(driver, "return window.result.events.length === 1 && window.result.unreadCount === 1")
        result = driver.execute_script("return window.result")
        expect(result["states"][-1] == "connected" and result["toasts"] == 1, result)
        errors = console_errors(driver)
        expect(not errors, errors)
        print(f"library_from_another_origin: {result['states']}, 1 event, unread 1")
    finally:
        driver.quit()
        pages.shutdown()


@scenario
def webapp_files_without_demo(args):
    """Without --demo no endpoint mints tokens (and /demo says so); the page, the library and the
    unmodified socket.io-client bundle are served; nothing outside the web root is."""
    demo = requests.get(args.url + "/demo", timeout=10)
    expect(demo.status_code == 200 and demo.json() == {"demo": False}, demo.text)
    token = requests.post(args.url + "/demo/token", json={"role": "admin", "sub": "x"}, timeout=10)
    expect(token.status_code == 404, token.status_code)
    page = requests.get(args.url + "/", timeout=10)
    expect(page.status_code == 200 and "Herald" in page.text and page.headers["content-type"].startswith("text/html"), page.status_code)
    library = requests.get(args.url + "/client/herald-notifications.js", timeout=10)
    expect(library.status_code == 200 and "export function connect" in library.text, library.status_code)
    expect(library.headers["content-type"].startswith("text/javascript"), library.headers["content-type"])
    bundle = requests.get(args.url + "/vendor/socket.io.min.js", timeout=10)
    digest = hashlib.sha256(bundle.content).hexdigest()
    expect(digest == "b0e735814f8dcfecd6cdb8a7ce95a297a7e1e5f2727a29e6f5901801d52fa0c5", digest)
    again = requests.get(args.url + "/", headers={"If-None-Match": page.headers["etag"]}, timeout=10)
    expect(again.status_code == 304 and not again.content, again.status_code)
    target = urllib.parse.urlsplit(args.url)
    for path in ("/../Package.swift", "/%2e%2e/Package.swift", "/client/../../Package.swift", "/.gitignore"):
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read()
        expect(answer.status == 404 and b"swift-tools-version" not in body, (path, answer.status))
        connection.close()
    print("webapp_files_without_demo: no token endpoint, page, library and bundle served, nothing outside")


if __name__ == "__main__":
    main(configure)
