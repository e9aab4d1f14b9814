"""The field-ready app (issue #14) through the Flask test client: hashed, compressed, immutable static
files; the manifest in the person's language; the service worker and its precache list; the offline
page; which pages the phone may keep; the tiles of a walk's area."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from walkapp import assets, maps
from walkapp.extensions import db
from walkapp.models import Role, Walk, WalkStatus
from walkapp.security_headers import policy

from .factories import HERE, make_walk

STATIC_URL = re.compile(r'(?:src|href)="(/static/[^"#]+)')
ROUTE = {"type": "LineString", "coordinates": [[17.9379, 62.6323], [17.9352, 62.6312], [17.9330, 62.6298]]}


def static_urls(client, path="/") -> list[str]:
    return sorted(set(STATIC_URL.findall(client.get(path).get_data(as_text=True))))


def test_pages_link_content_hashed_static_files_served_compressed_and_immutable(client):
    urls = static_urls(client)
    assert any("/vendor/leaflet/leaflet." in u for u in urls) and any("/css/walkapp." in u for u in urls)
    for url in urls:
        assert assets.HASHED_NAME.search(url), url
        for encoding in ("br", "gzip"):
            response = client.get(url, headers={"Accept-Encoding": encoding})
            assert response.status_code == 200
            cache = response.headers["Cache-Control"]
            assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache)[1]) >= 365 * 86400, url
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            if url.endswith((".js", ".css", ".svg")):
                assert response.headers.get("Content-Encoding") == encoding, url
    leaflet = next(u for u in urls if u.endswith(".js") and "/leaflet/" in u)
    plain = client.get(leaflet, headers={"Accept-Encoding": "identity"})
    brotli = client.get(leaflet, headers={"Accept-Encoding": "br"})
    assert len(brotli.data) < len(plain.data) / 3
    # a file by its plain name (a stylesheet's relative images) is cached briefly, never immutable
    response = client.get("/static/vendor/leaflet/images/layers.png")
    assert response.status_code == 200 and "immutable" not in response.headers["Cache-Control"]


def test_the_build_is_made_once_per_content_and_a_changed_file_gets_a_new_url(tmp_path):
    source = tmp_path / "static"
    (source / "js").mkdir(parents=True)
    (source / "js" / "a.js").write_text("console.log('one');\n" * 100)
    target = tmp_path / "build"
    names = assets.manifest(source)
    first = assets.build(source, target, names)
    assert (first / names["js/a.js"]).read_text() == (source / "js" / "a.js").read_text()
    assert (first / (names["js/a.js"] + ".gz")).exists() and (first / (names["js/a.js"] + ".br")).exists()
    made = first.stat().st_mtime
    time.sleep(0.01)
    assert assets.build(source, target, names) == first and first.stat().st_mtime == made  # reused
    (source / "js" / "a.js").write_text("console.log('two');\n" * 100)
    changed = assets.manifest(source)
    assert changed["js/a.js"] != names["js/a.js"]
    second = assets.build(source, target, changed)
    assert second != first and (second / changed["js/a.js"]).exists()
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == []  # no half-written build left


def test_manifest_in_swedish_and_in_english_when_chosen(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert (manifest["name"], manifest["short_name"], manifest["lang"]) == (
        "walkapp – trygghetsvandringar", "Trygghetsvandring", "sv")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).mimetype == "image/png"
    client.post("/language", data={"lang": "en", "next": "/"})
    manifest = client.get("/manifest.webmanifest").get_json()
    assert (manifest["name"], manifest["lang"]) == ("walkapp – safety walks", "en")


def test_base_layout_links_manifest_and_ios_icons(client):
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(r'<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon\.[0-9a-f]{12}\.png">', html)
    assert 'name="apple-mobile-web-app-capable" content="yes"' in html
    assert 'name="theme-color" content="#0b2a2b" media="(prefers-color-scheme: dark)"' in html


def test_service_worker_is_served_uncached_from_the_root_with_this_deploys_shell(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    body = response.get_data(as_text=True)
    version = assets.tree_hash(app.extensions["static_manifest"])
    assert f'var VERSION = "{version}";' in body
    precache = re.search(r"var PRECACHE = (\[.*?\]);", body)[1]
    for url in static_urls(client):
        assert f'"{url}"' in precache, url
    assert "LICENSE" not in precache
    assert '"/offline?lang=sv"' in body and '"/offline?lang=en"' in body


def test_offline_page_is_translated_and_holds_nothing_personal(client, users, auth):
    auth.login_as(Role.walker)
    for lang, heading in (("sv", "Ingen uppkoppling"), ("en", "No connection")):
        html = client.get(f"/offline?lang={lang}").get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in html and f'<html lang="{lang}">' in html
        assert "csrf" not in html and "Walker" not in html  # the walker's name


def test_phone_keeps_the_pages_of_walks_one_may_report_on_and_nothing_else(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(participants=[users[Role.walker]], route=ROUTE).id
        other_id = make_walk(code="OTHER1").id
    auth.login_as(Role.walker)
    kept = lambda path: client.get(path).headers.get("X-Walkapp-Offline")  # noqa: E731
    me = str(users[Role.walker])
    assert kept(f"/walks/{walk_id}") == me
    assert kept(f"/report?walk={walk_id}") == me
    assert kept(f"/api/v1/observations?walk={walk_id}") == me
    assert kept("/walks") is None and kept("/") is None and kept(f"/walks/{other_id}") is None
    assert kept(f"/walks/{walk_id}/offline-tiles") is None
    with app.app_context():
        db.session.get(Walk, walk_id).status = WalkStatus.done
        db.session.commit()
    assert kept(f"/walks/{walk_id}") is None  # a finished walk takes no reports: not kept


def test_tiles_of_a_walk_are_listed_only_when_the_setting_allows(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(participants=[users[Role.walker]], route=ROUTE).id
        bare = db.session.get(Walk, make_walk(participants=[users[Role.walker]], code="BARE01").id)
        bare.meeting_lat = bare.meeting_lon = None
        db.session.commit()
        bare_id = bare.id
    auth.login_as(Role.walker)
    assert client.get(f"/walks/{walk_id}/offline-tiles").get_json() == {"tiles": []}  # off by default

    app.config.update(OFFLINE_TILES=True, OFFLINE_TILE_BUDGET=60,
                      TILE_URL="https://tiles.example.se/{z}/{x}/{y}.png")
    tiles = client.get(f"/walks/{walk_id}/offline-tiles").get_json()["tiles"]
    assert 0 < len(tiles) <= 60
    zooms = sorted({int(t.split("/")[3]) for t in tiles})
    assert zooms[0] == 15 and zooms == list(range(15, zooms[-1] + 1))
    assert all(re.fullmatch(r"https://tiles\.example\.se/\d+/\d+/\d+\.png", t) for t in tiles)
    assert client.get(f"/walks/{bare_id}/offline-tiles").get_json() == {"tiles": []}  # no place to cover


def test_tile_urls_cover_the_area_zoom_by_zoom_within_the_budget():
    area = (62.629, 17.932, 62.633, 17.939)
    everything = maps.tile_urls("https://{s}.t.se/{z}/{x}/{y}{r}.png", area, budget=10_000)
    per_zoom = {z: sum(f"/{z}/" in u for u in everything) for z in range(15, 19)}
    assert all(per_zoom[z] < per_zoom[z + 1] for z in (15, 16, 17))  # deeper zooms need more tiles
    assert everything[0].startswith("https://a.t.se/15/")
    x, y = maps.tile_xy(HERE[0], HERE[1], 15)
    assert f"https://a.t.se/15/{x}/{y}.png" in everything
    cut = maps.tile_urls("https://{s}.t.se/{z}/{x}/{y}.png", area, budget=per_zoom[15] + per_zoom[16])
    assert len(cut) == per_zoom[15] + per_zoom[16]  # whole zooms only
    assert maps.tile_urls("https://t.se/{z}/{x}/{y}.png", None, budget=500) == []


def test_csp_lets_the_service_worker_fetch_tiles_only_when_they_are_kept(app):
    assert policy(app)["connect-src"] == "'self'"
    app.config["OFFLINE_TILES"] = True
    assert policy(app)["connect-src"] == "'self' https://tile.openstreetmap.org"


@pytest.mark.parametrize("name", ["icon-192.png", "icon-512.png", "maskable-512.png", "apple-touch-icon.png"])
def test_icons_are_real_pngs_of_their_size(name):
    from PIL import Image

    path = Path(__file__).resolve().parents[1] / "static" / "icons" / name
    with Image.open(path) as image:
        size = int(re.search(r"(\d+)", name)[1]) if "touch" not in name else 180
        assert image.format == "PNG" and image.size == (size, size)


def test_the_service_workers_own_fetches_leave_a_message_for_the_next_page(app, client, users, auth):
    """Keeping a walk's report form in the background must not use up the "Tack!" that the walk page,
    the person's next page, shows after a report."""
    with app.app_context():
        walk_id = make_walk(participants=[users[Role.walker]]).id
    auth.login_as(Role.walker)
    sent = client.post("/report", data={"walk": str(walk_id), "category": "belysning",
                                        "lat": str(HERE[0]), "lon": str(HERE[1])})
    assert sent.status_code == 302
    thanks = "Tack! Din observation är sparad."
    background = client.get(f"/report?walk={walk_id}", headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"})
    assert background.headers.get("X-Walkapp-Offline") and thanks not in background.get_data(as_text=True)
    page = client.get(f"/walks/{walk_id}", headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
    assert thanks in page.get_data(as_text=True)
