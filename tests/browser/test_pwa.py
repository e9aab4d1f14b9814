"""The field-ready app (issue #14) in real Chromium at iPhone 13 size: installable, opens a joined
walk and its report form without signal, queues and sends once, shows the offline page elsewhere,
forgets personal pages at sign-out, keeps the walk's tiles when allowed, and lets a one-finger swipe
on the report map scroll the page.

Playwright bypasses service workers in a context that routes requests, so these pages are made
without the `pages` fixture's route; the map tiles come from a tile server on 127.0.0.1 instead,
and nothing here asks any other host for anything.
"""
from __future__ import annotations

import io
import re
import threading
from urllib.parse import urlsplit

import pytest
from PIL import Image
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from walkapp.demo import ONGOING_WALK_CODE, ROUTE
from walkapp.extensions import db
from walkapp.models import Observation, Walk, WalkStatus

from ..factories import make_observation
from ..photo_samples import jpeg_with_orientation_and_gps
from .conftest import CHROMIUM, serving, shot, wait_until

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

HERE = {"latitude": ROUTE[2][0], "longitude": ROUTE[2][1], "accuracy": 6}
TILE_BUDGET = 40


class TileServer:
    """A tile server on 127.0.0.1 that allows CORS, as a municipality's own would."""

    def __init__(self):
        buffer = io.BytesIO()
        Image.new("RGB", (256, 256), (200, 220, 200)).save(buffer, "PNG")
        self.png = buffer.getvalue()
        self.requests: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @Request.application
    def app(self, request):
        self.requests.append(request.path)
        return Response(self.png, mimetype="image/png", headers={"Access-Control-Allow-Origin": "*"})


@pytest.fixture
def tiles():
    server = TileServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.thread.join(5)


@pytest.fixture
def live(tmp_path, shared_pg_url, tiles):
    with serving(tmp_path, shared_pg_url, TILE_URL=tiles.url + "/{z}/{x}/{y}.png",
                 TILE_ATTRIBUTION="test tiles", OFFLINE_TILES=True,
                 OFFLINE_TILE_BUDGET=TILE_BUDGET) as server:
        yield server


@pytest.fixture
def phone(browser, live, request, tmp_path):
    """iPhone 13 pages, in Swedish, with the position granted; service workers allowed (no routing),
    so every request a page makes is checked to be for 127.0.0.1 afterwards."""
    made = []

    def new_page(context=None, color_scheme="light"):
        if context is None:
            # a persistent profile, as a phone's browser has: Chromium does not install apps from
            # incognito-like contexts ("in-incognito")
            options = dict(browser.iphone)
            options.pop("default_browser_type", None)
            options.update(locale="sv-SE", timezone_id="Europe/Stockholm", geolocation=HERE, color_scheme=color_scheme,
                           permissions=["geolocation"], service_workers="allow")
            context = browser.browser_type.launch_persistent_context(
                str(tmp_path / f"profile-{len(made)}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **options)
            context.foreign = []
            context.on("request", lambda r: context.foreign.append(r.url)
                       if urlsplit(r.url).hostname not in ("127.0.0.1", None) and
                       not r.url.startswith(("data:", "blob:")) else None)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        page.csp_refusals = []
        page.on("console", lambda m: page.csp_refusals.append(m.text)
                if m.type == "error" and "Content Security Policy" in m.text else None)
        made.append(page)
        return page

    yield new_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    contexts = []
    for n, page in enumerate(made):
        if failed:
            shot(page, f"failed-{request.node.name}-{n}.png")
        if page.context not in contexts:
            contexts.append(page.context)
    for context in contexts:
        context.close()
    assert failed or [p.csp_refusals for p in made if p.csp_refusals] == []
    assert failed or [c.foreign for c in contexts if c.foreign] == []


def join_by_code(page, base: str, name: str) -> int:
    page.goto(f"{base}/join")
    page.get_by_label("Kod").fill(ONGOING_WALK_CODE)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Ditt namn").fill(name)
    page.get_by_label("Boende", exact=True).click()
    page.get_by_role("button", name="Gå med i vandringen").click()
    page.wait_for_url(re.compile(r"/walks/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def controlled(page) -> None:
    """Wait until the service worker is active and controls the page."""
    wait_until(page, "navigator.serviceWorker.controller !== null")


def cached_paths(page) -> dict[str, list[str]]:
    """Every cache and the paths (with query) it holds."""
    return page.evaluate("""async () => {
        const out = {};
        for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            out[name] = (await cache.keys()).map(r => { const u = new URL(r.url); return u.origin === location.origin ? u.pathname + u.search : u.href; });
        }
        return out;
    }""")


def kept(page) -> list[str]:
    return cached_paths(page).get("walkapp-pages", [])


def wait_kept(page, *paths: str) -> None:
    wait_until(page, f"""caches.has('walkapp-pages').then(async has => {{
        if (!has) return false;
        const keys = (await (await caches.open('walkapp-pages')).keys()).map(r => {{ const u = new URL(r.url); return u.pathname + u.search; }});
        return {list(paths)!r}.every(p => keys.includes(p));
    }})""")


def test_installable_without_installability_errors(phone, live):
    page = phone()
    page.goto(live.url + "/")
    controlled(page)
    cdp = page.context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = page.request.get(live.url + "/manifest.webmanifest").json()
    assert manifest["name"] == "walkapp – trygghetsvandringar" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert page.request.get(live.url + icon["src"]).ok
    assert {i["purpose"] for i in manifest["icons"]} == {"any", "maskable"}
    assert page.locator('link[rel="apple-touch-icon"]').count() == 1
    # the shell is precached: every static file the page loaded is in this deploy's shell cache
    shell = next(v for k, v in cached_paths(page).items() if k.startswith("walkapp-shell-"))
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)"
                           ".filter(p => p.startsWith('/static/'))")
    assert loaded and set(loaded) <= set(shell)
    assert page.js_errors == []


def test_joined_walk_opens_and_reports_without_signal_and_is_sent_once(phone, live, tiles):
    page = phone()
    walk_id = join_by_code(page, live.url, "Tunnelgångare")
    controlled(page)
    with live.app.app_context():  # another participant's item, shown as a pin on the walk map
        walk = db.session.get(Walk, walk_id)
        walk.route = {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in ROUTE]}
        db.session.commit()
        make_observation(None, walk, description="Mörk passage")
    page.reload()  # now through the service worker, which keeps the walk's page and report form
    wait_kept(page, f"/walks/{walk_id}", f"/report?walk={walk_id}")
    # the walk's area at zooms 15-18, within the budget, fetched once by the service worker
    wait_until(page, "caches.open('walkapp-tiles').then(c => c.keys()).then(k => k.length > 0)")
    tile_count = len(cached_paths(page)["walkapp-tiles"])
    assert 0 < tile_count <= TILE_BUDGET
    assert {p.split("/")[1] for p in tiles.requests if p.count("/") == 3} >= {"15"}

    page.wait_for_load_state("networkidle")
    markers = "document.querySelectorAll('.leaflet-marker-icon').length"
    online_markers = page.evaluate(markers)
    assert online_markers > 0

    page.context.set_offline(True)
    page.reload()  # no signal: the walk page still opens, with its map, items and tiles
    assert page.locator(".page-head h1").is_visible()
    wait_until(page, f"{markers} === {online_markers}")  # the pin, from the kept items
    assert page.evaluate("document.querySelectorAll('path.leaflet-interactive').length") > 0  # route and stops
    wait_until(page, "[...document.querySelectorAll('img.leaflet-tile')].some(i => i.complete && i.naturalWidth > 0)")
    page.get_by_role("link", name="Rapportera en observation").click()
    page.wait_for_url(re.compile(r"/report\?walk=\d+$"))
    wait_until(page, "document.getElementById('lat').value !== ''")
    page.locator("#photos").set_input_files([{"name": "x.jpg", "mimeType": "image/jpeg",
                                              "buffer": jpeg_with_orientation_and_gps(800, 600)}])
    page.locator("#thumbs li img").wait_for()
    page.get_by_label("Belysning", exact=True).click()
    page.locator("#description").fill("Trasig lampa i gångtunneln under järnvägen vid stationen")
    page.get_by_role("button", name="Skicka").click()
    page.locator("#queued").wait_for()
    assert page.locator("#outbox").inner_text().startswith("1 observation är sparad på den här telefonen")
    persisted = page.evaluate("navigator.storage.persisted()")
    assert persisted or "kan den radera dem" in page.locator("#outbox").inner_text()
    page.reload()  # the report form opens again offline; the report still waits
    page.locator("#outbox .flash").first.wait_for()
    with live.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Observation)
                                 .where(Observation.walk_id == walk_id)) == 1  # only the other one

    page.context.set_offline(False)
    page.locator("#outbox .flash.success").wait_for()
    assert page.locator("#queued").is_hidden()  # no "saved on this phone" beside "sent"
    page.goto(f"{live.url}/walks/{walk_id}")
    page.wait_for_load_state("networkidle")
    with live.app.app_context():
        rows = db.session.scalars(db.select(Observation).where(Observation.walk_id == walk_id)).all()
        assert sorted((o.description[:12], len(o.photos)) for o in rows) == [("Mörk passage", 0), ("Trasig lampa", 1)]
    assert page.js_errors == []


def test_offline_navigation_elsewhere_shows_the_offline_page(phone, live):
    page = phone()
    walk_id = join_by_code(page, live.url, "Vandrare")
    controlled(page)
    page.reload()
    wait_kept(page, f"/walks/{walk_id}", f"/report?walk={walk_id}")
    wait_until(page, "caches.open('walkapp-pages').then(c => c.keys())"  # and the walk's map items
               ".then(k => k.some(r => new URL(r.url).pathname.startsWith('/api/')))")
    page.context.set_offline(True)
    page.goto(live.url + "/walks")  # not kept
    assert page.locator("h1").inner_text() == "Ingen uppkoppling"
    assert page.get_by_role("button", name="Gå tillbaka").is_visible()
    page.get_by_role("link", name=re.compile("Trygghetsvandring")).first.wait_for()  # the kept pages are offered
    # only pages a person would open: the walk and its report form, not the map items' API address
    offered = page.locator("#kept-list a").evaluate_all("as => as.map(a => new URL(a.href).pathname + new URL(a.href).search)")
    assert sorted(offered) == sorted([f"/walks/{walk_id}", f"/report?walk={walk_id}"])
    assert all("/api/" not in text for text in page.locator("#kept-list").all_inner_texts())
    page.get_by_role("button", name="Gå tillbaka").click()
    page.wait_for_url(re.compile(rf"/walks/{walk_id}$"))
    assert page.locator(".page-head h1").is_visible()
    shot(page, "pwa-offline-back.png", full_page=False)


def test_sign_out_leaves_no_personal_page_in_any_cache(phone, live):
    page = phone()
    walk_id = join_by_code(page, live.url, "Lånad Telefon")
    controlled(page)
    page.reload()
    wait_kept(page, f"/walks/{walk_id}", f"/report?walk={walk_id}")
    page.locator("summary").click()
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state("networkidle")
    wait_until(page, "caches.has('walkapp-pages').then(h => !h)")
    personal = [(name, path) for name, paths in cached_paths(page).items() for path in paths
                if re.match(r"/(walks|report|api|photos|observations)", path)]
    assert personal == []
    assert "walkapp-tiles" not in cached_paths(page)
    # offline, the walk page is gone too: the offline page instead
    page.context.set_offline(True)
    page.goto(f"{live.url}/walks/{walk_id}")
    assert page.locator("h1").inner_text() == "Ingen uppkoppling"


def test_a_second_tab_follows_the_outbox_and_a_refusal_names_the_report(phone, live):
    first = phone()
    walk_id = join_by_code(first, live.url, "Två Flikar")
    second = phone(first.context)
    second.goto(f"{live.url}/walks/{walk_id}")
    first.goto(f"{live.url}/report?walk={walk_id}")
    wait_until(first, "document.getElementById('lat').value !== ''")
    first.get_by_label("Klotter", exact=True).click()
    first.locator("#description").fill("Tagg på elskåpet")
    first.context.set_offline(True)
    first.get_by_role("button", name="Skicka").click()
    first.locator("#queued").wait_for()
    second.locator("#outbox .flash").first.wait_for()  # told by the first tab, not by a reload
    assert second.locator("#outbox").inner_text().startswith("1 observation är sparad")
    with live.app.app_context():
        db.session.get(Walk, walk_id).status = WalkStatus.done
        db.session.commit()
    first.context.set_offline(False)
    refused = second.locator("#outbox .flash.error")
    refused.wait_for()
    text = refused.inner_text()
    assert "togs inte emot" in text and "Klotter kl. " in text and "”Tagg på elskåpet”" in text, text
    assert "sparad på den här telefonen och väntar" not in second.locator("#outbox").inner_text()
    assert first.locator("#queued").is_hidden()


def test_swipe_on_the_report_map_scrolls_and_the_crosshair_is_in_the_first_screen(phone, live):
    page = phone()
    walk_id = join_by_code(page, live.url, "Svepare")
    page.goto(f"{live.url}/report?walk={walk_id}")
    wait_until(page, "document.getElementById('lat').value !== ''")
    page.wait_for_load_state("networkidle")
    # the whole crosshair is visible on the first screen, above the sticky send bar
    box = page.evaluate("""() => {
        const c = document.querySelector('.crosshair').getBoundingClientRect();
        const bar = document.querySelector('.submit-bar').getBoundingClientRect();
        const head = document.querySelector('.site-header').getBoundingClientRect();
        return {top: c.top, bottom: c.bottom, barTop: bar.top, headBottom: head.bottom, scroll: scrollY};
    }""")
    assert box["scroll"] == 0 and box["headBottom"] <= box["top"] and box["bottom"] <= box["barTop"], box
    shot(page, "pwa-report-first-screen.png", full_page=False)
    place = (page.locator("#lat").input_value(), page.locator("#lon").input_value())
    frame = page.locator(".report-map").bounding_box()
    x, y = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] * 0.75
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - 15 * step}]})
    assert page.locator(".map-hint").inner_text() == "Använd två fingrar för att flytta kartan."
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    # the fling may glide on after the finger lifts: wait until the page is at rest before measuring
    last = None
    while (now := page.evaluate("scrollY")) != last:
        last = now
        page.wait_for_timeout(150)
    assert last > 50  # the page scrolled
    assert (page.locator("#lat").input_value(), page.locator("#lon").input_value()) == place  # the pin did not move
    # a tap still places the pin (the locator's click checks that the map, not the sticky header, gets it)
    frame = page.locator(".report-map").bounding_box()
    page.locator(".report-map").click(position={"x": frame["width"] * 0.3, "y": frame["height"] * 0.5})
    wait_until(page, f"document.getElementById('lon').value !== {place[1]!r}")
    assert page.js_errors == []

    dark = phone(color_scheme="dark")
    join_by_code(dark, live.url, "Nattvandrare")
    dark.goto(f"{live.url}/report?walk={walk_id}")
    wait_until(dark, "document.getElementById('lat').value !== ''")
    dark.wait_for_load_state("networkidle")
    shot(dark, "pwa-report-first-screen-dark.png", full_page=False)


def test_a_try_later_answer_keeps_the_report_queued_until_it_can_be_sent(phone, live):
    """The server's rate limit ("429 try later") is no refusal: the report waits like one made without
    signal, and the outbox sends it, once, when the server takes it again."""
    busy = {"on": False}

    @live.app.before_request
    def try_later():  # as the server's rate limit answers when it is busy
        from flask import request
        if busy["on"] and request.method == "POST" and request.path == "/api/v1/observations":
            return {"errors": [{"field": None, "message": "Försök igen senare."}]}, 429

    page = phone()
    walk_id = join_by_code(page, live.url, "Tålmodig")
    page.goto(f"{live.url}/report?walk={walk_id}")
    wait_until(page, "document.getElementById('lat').value !== ''")
    page.get_by_label("Skadegörelse", exact=True).click()
    page.locator("#description").fill("Krossad ruta i väntkuren")
    busy["on"] = True
    page.get_by_role("button", name="Skicka").click()
    page.locator("#queued").wait_for()
    assert page.locator("#outbox").inner_text().startswith("1 observation är sparad")
    assert page.locator("#form-error").is_hidden()
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the outbox tries now: still busy
    page.wait_for_timeout(1000)
    assert page.locator("#outbox .flash.error").count() == 0  # not refused, still waiting
    busy["on"] = False
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#outbox .flash.success").wait_for()
    with live.app.app_context():
        rows = db.session.scalars(db.select(Observation).where(Observation.walk_id == walk_id)).all()
        assert [o.description for o in rows] == ["Krossad ruta i väntkuren"]
