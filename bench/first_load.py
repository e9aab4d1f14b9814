"""First-load bytes and repeat-load static requests for /report, /inbox and /walks/<id> (issue #14).

Serves the demo data on 127.0.0.1 (a throwaway SQLite database and instance folder) and opens each
page in Debian's Chromium at iPhone 13 size, in a fresh browser profile, signed in through an HTTP
request so that no page has filled the cache before the one measured. It prints, per page:

- first load: bytes transferred for the page and everything it loads (Chrome DevTools Protocol
  ``Network.loadingFinished`` encodedDataLength: headers plus the body as sent, compressed or not),
  and the number of requests;
- all bytes the server sent during that first load, service worker precache included (counted in
  a WSGI wrapper around the app);
- repeat load: requests for static files that reached the server when the page is opened again
  (a link followed, not a forced reload).

    .venv/bin/python bench/first_load.py
    .venv/bin/python bench/first_load.py --app-root ../some-checkout   # the same pages, other code
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = os.environ.get("WALKAPP_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-password-123"
PAGES = [("walker", "/report"), ("coordinator", "/inbox"), ("walker", "/walks/{walk}")]


class Counter:
    """WSGI wrapper: bytes of every response body, and the paths asked for."""

    def __init__(self, app):
        self.app, self.bytes, self.paths = app, 0, []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.paths.append(environ["PATH_INFO"])
        for chunk in self.app(environ, start_response):
            with self.lock:
                self.bytes += len(chunk)
            yield chunk

    def reset(self):
        with self.lock:
            self.bytes, self.paths = 0, []


def make_app(tmp: Path):
    os.environ["WALKAPP_INSTANCE_PATH"] = str(tmp / "instance")
    from walkapp import create_app, demo
    from walkapp.extensions import db
    from walkapp.models import Walk

    app = create_app({
        "SECRET_KEY": "bench-secret-key-0123456789", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite'}",
        "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "STATIC_BUILD_PATH": str(tmp / "static"),
    })
    with app.app_context():
        db.create_all()
        logins = dict(demo.seed(PASSWORD))
        walk = db.session.scalar(db.select(Walk).filter_by(join_code=demo.ONGOING_WALK_CODE))
        walk_id = walk.id
    return app, logins, walk_id


def sign_in(context, base: str, email: str) -> None:
    html = context.request.get(f"{base}/login").text()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    response = context.request.post(f"{base}/login", form={
        "csrf_token": token[1], "email": email, "password": PASSWORD}, max_redirects=0)
    assert response.status in (302, 303), f"sign-in failed: {response.status}"


def measure(browser_type, iphone, base: str, counter: Counter, email: str, path: str, profile: Path) -> dict:
    options = dict(iphone)
    options.pop("default_browser_type", None)
    context = browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, locale="sv-SE", timezone_id="Europe/Stockholm",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run"], **options)
    try:
        sign_in(context, base, email)
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        sizes: dict[str, int] = {}
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        counter.reset()
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)  # the service worker's install (precache) finishes
        first = {"bytes": sum(sizes.values()), "requests": len(sizes), "server_bytes": counter.bytes}
        counter.reset()
        page.goto(base + "/")  # away, then back by following a link as a person would
        page.wait_for_load_state("networkidle")
        counter.reset()
        page.evaluate(f"location.href = {path!r}")
        page.wait_for_url(base + path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        first["repeat_static"] = sum(p.startswith("/static/") for p in counter.paths)
        return first
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app-root", help="measure the walkapp checked out here instead")
    args = parser.parse_args()
    if args.app_root:
        sys.path.insert(0, str(Path(args.app_root).resolve()))
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        app, logins, walk_id = make_app(Path(tmp))
        counter = Counter(app)
        server = make_server("127.0.0.1", 0, counter, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        email = {role: address for role, address in logins.items()}
        print(f"walkapp from {Path(sys.modules['walkapp'].__file__).parent.parent}")
        print("| page | first load: transferred | requests | server sent (incl. service worker) | "
              "repeat load: static requests |")
        print("|---|---|---|---|---|")
        with sync_playwright() as playwright:
            iphone = playwright.devices["iPhone 13"]
            for n, (role, path) in enumerate(PAGES):
                path = path.format(walk=walk_id)
                result = measure(playwright.chromium, iphone, base, counter, email[role], path, Path(tmp) / f"p{n}")
                label = re.sub(r"/\d+$", "/<id>", path)
                print(f"| {label} ({role}) | {result['bytes'] / 1024:.0f} KB | {result['requests']} | "
                      f"{result['server_bytes'] / 1024:.0f} KB | {result['repeat_static']} |", flush=True)
        server.shutdown()
        time.sleep(0.2)


if __name__ == "__main__":
    main()
