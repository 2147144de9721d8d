"""The official socket.io-client (v4.8.1, the unmodified bundle) in headless Chromium, driven by
selenium, against the local cluster through nginx.
Usage: browser_scenarios.py NAME --url NGINX_URL --secret S --pids DIR"""
import functools
import http.server
import os
import signal
import threading
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from herald_peer import fresh_id, make_token
from recovering_client import account
from recovery_scenarios import Stream
from scenarios import expect, main, scenario

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PAGE = os.path.relpath(os.path.join(os.path.dirname(__file__), "browser"), ROOT)


def configure(parser):
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--pids", required=True)
    parser.add_argument("--api")


def serve_pages():
    """The test pages and the bundle, from the repository, on a free loopback port."""
    handler = functools.partial(QuietHandler, directory=ROOT)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_until(driver, script, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {script}")


@scenario
def gateway_killed_in_browser(args):
    """A guest's page streams points; its gateway gets SIGKILL; socket.io-client reconnects
    through nginx to another gateway with `socket.recovered` true, and every event arrives once,
    in order."""
    args.api = args.api or args.url
    guest = fresh_id("guest")
    pages = serve_pages()
    driver = browser()
    try:
        query = urllib.parse.urlencode({"url": args.url, "token": make_token(args.secret, guest, "guest")})
        driver.get(f"http://127.0.0.1:{pages.server_port}/{PAGE}/recovery.html?{query}")
        wait_until(driver, "return window.connects.length >= 1 && window.connectedInfo")
        node = driver.execute_script("return window.connectedInfo.nodeId")
        first = driver.execute_script("return window.connects[0]")
        stream = Stream(args, guest, fresh_id("rest"), interval=0.01).start()
        time.sleep(1)
        with open(os.path.join(args.pids, f"{node}.pid")) as pid_file:
            os.kill(int(pid_file.read()), signal.SIGKILL)
        wait_until(driver, "return window.connects.length >= 2", timeout=20)
        again = driver.execute_script("return window.connects[1]")
        info = driver.execute_script("return window.connectedInfo")
        time.sleep(1)
        stream.finish()
        deadline = time.time() + 10
        while time.time() < deadline:
            received = [pair[0] for pair in driver.execute_script("return window.received")]
            if set(stream.sent) <= set(received):
                break
            time.sleep(0.1)
        pairs = driver.execute_script("return window.received")
        received = [pair[0] for pair in pairs]
        counts = account(stream.sent, received)
        by_event = len(pairs) - len({pair[1] for pair in pairs})
        print(f"gateway_killed_in_browser: sent {len(stream.sent)}, received {len(received)}, lost {counts['lost']}, "
              f"duplicated {counts['duplicated']} (by eventId {by_event}), out of order {counts['outOfOrder']}, "
              f"recovered {again['recovered']}, killed {node}, back on {info.get('nodeId')}")
        expect(again["recovered"] is True and again["id"] == first["id"], (first, again))
        expect(info.get("recovered") is True and info.get("nodeId") != node, info)
        expect(counts["lost"] == 0 and counts["duplicated"] == 0 and counts["outOfOrder"] == 0 and by_event == 0, counts)
    finally:
        driver.quit()
        pages.shutdown()


if __name__ == "__main__":
    main(configure)
