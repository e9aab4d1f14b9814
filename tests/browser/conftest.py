"""Playwright against a live server in a thread, on an iPhone 13 sized screen.

Debian's Chromium (/usr/bin/chromium) is used; Playwright's own browser
download cannot work here. Without Chromium the tests skip locally and fail
under CI=true. Every request to a host other than 127.0.0.1 is aborted, so a
page that needs the internet fails visibly.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from walkapp import demo, faces, mail
from walkapp.categories import seed_default_categories
from walkapp.extensions import db

from ..conftest import make_test_app, reset_database

CHROMIUM = os.environ.get("WALKAPP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "demo-password-123"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    for item in items:
        if "browser" in str(item.fspath):
            if os.environ.get("CI") == "true":
                item.add_marker(pytest.mark.xfail(reason=reason, run=False, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        playwright.iphone = playwright.devices["iPhone 13"]
        browser.iphone = playwright.devices["iPhone 13"]
        yield browser
        browser.close()


@contextmanager
def serving(tmp_path, database_url, **config):
    """The app with demo data, served on 127.0.0.1 in a thread."""
    app = make_test_app(tmp_path, database_url, WTF_CSRF_ENABLED=True, TESTING=False, **config)
    with app.app_context():
        db.create_all()
        seed_default_categories()
        demo.seed(DEMO_PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = server.url  # as `walkapp demo` does: mails link to this server
    server.app = app
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)
        mail.wait_idle()  # the mail thread is done with the database before it is reset
        faces.wait_idle()  # and so is face detection
        reset_database(app)


@pytest.fixture
def live_server(tmp_path, shared_pg_url):
    with serving(tmp_path, shared_pg_url) as server:
        yield server


LAPTOP = {"viewport": {"width": 1366, "height": 900}, "device_scale_factor": 1, "is_mobile": False,
          "has_touch": False}


@pytest.fixture
def pages(browser, live_server, request):
    """Makes pages, one browser context (one person) each: an iPhone 13 or a laptop,
    in Swedish, able to reach 127.0.0.1 only, recording JavaScript errors, dialogs
    (an alert() is an XSS that worked) and the foreign requests it refused.
    Anything the Content-Security-Policy refuses fails the test."""
    made = []

    def new_page(device="phone", geolocation=None, color_scheme="light", **extra):
        options = dict(browser.iphone if device == "phone" else LAPTOP)
        options.update(locale="sv-SE", timezone_id="Europe/Stockholm", color_scheme=color_scheme, **extra)
        if geolocation:
            options.update(geolocation=geolocation, permissions=["geolocation"])
        context = browser.new_context(**options)
        blocked: list[str] = []

        def only_local(route):
            url = route.request.url
            if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        page.blocked = blocked
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        page.csp_refusals = []
        page.on("console", lambda message: page.csp_refusals.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text else None)
        page.dialogs = []

        def on_dialog(dialog):
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        made.append(page)
        return page

    yield new_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for n, page in enumerate(made):
        if failed:
            shot(page, f"failed-{request.node.name}-{n}.png")
        page.context.close()
    assert failed or [page.csp_refusals for page in made if page.csp_refusals] == []


@pytest.fixture
def page(pages):
    """A phone page (see `pages`)."""
    return pages("phone")


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def wait_until(page, predicate: str, timeout: float = 30) -> None:
    """Poll a JavaScript predicate until it is truthy.

    Playwright's wait_for_function compiles its predicate inside the page with eval, which our
    Content-Security-Policy refuses (no 'unsafe-eval'), so it fails at random; evaluate() goes
    through the DevTools protocol, which the policy does not govern.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate}")
        page.wait_for_timeout(50)


def map_settled(page, within: str = "") -> None:
    """Wait until Leaflet's zoom and pan animations (in the element `within`, a CSS selector) have ended."""
    busy = f"{within} .leaflet-zoom-anim, {within} .leaflet-pan-anim".strip()
    wait_until(page, f"() => !document.querySelector({busy!r})")


def login(page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
