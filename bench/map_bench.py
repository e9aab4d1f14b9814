"""Map at scale: our map page and bbox API against a naive folium page of markers.

Run from the repository root (PostgreSQL optional):

    .venv/bin/python bench/map_bench.py [--sizes 10000 100000] [--pg postgresql://postgres@127.0.0.1/test]
        [--naive-max 100000] [--runs 21]

For each database and size it generates N observations spread over Härnösand
(about 8 x 6 km), then measures, through the Flask test client as a signed-in
coordinator:
  - the map shell alone (folium: tiles and controls; items come from the API) build time and size;
  - the inbox page (map shell + a page of 50 list rows + counts per state) build time and HTML size;
  - a street-level bbox request (about 200 x 200 m) to /api/v1/observations, median;
  - a whole-town bbox request: time and response size (server-side clusters above MAP_MAX_POINTS);
and, in the same run, the naive page: folium.Map with every item a Marker with a Popup, rendered to HTML.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import folium  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from walkapp import create_app, maps  # noqa: E402
from walkapp.categories import seed_default_categories  # noqa: E402
from walkapp.config import normalise_db_url  # noqa: E402
from walkapp.extensions import db  # noqa: E402
from walkapp.models import Category, Observation, Organisation, Role, Status, User, utcnow  # noqa: E402
from walkapp import summaries  # noqa: E402

TOWN = (17.88, 62.60, 18.00, 62.66)  # min_lon, min_lat, max_lon, max_lat
STREET = (17.935, 62.631, 17.939, 62.633)  # about 200 x 220 m at Stora torget
PASSWORD = "bench-password-123"


def timed(func, runs):
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def map_row(i: int, rng: random.Random, category, now) -> dict:
    """Observations spread evenly over the town, all made now."""
    category_id, kind = category
    return {
        "lat": rng.uniform(TOWN[1], TOWN[3]), "lon": rng.uniform(TOWN[0], TOWN[2]),
        "category_id": category_id, "kind": kind, "status": list(Status)[i % len(Status)],
        "description": f"Observation {i}: trasig belysning vid gångvägen", "version": 1,
        "created_at": now, "updated_at": now, "source": "walk", "source_detail": "", "is_public": False,
    }


def fresh_database(app, organisations: int) -> list:
    """Empty tables, the default categories, a coordinator and organisations 1..organisations;
    returns the categories as (id, kind)."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_default_categories()
        user = User(email="bench@example.se", name="Bench", role=Role.coordinator)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.add_all(Organisation(name=f"Organisation {k}") for k in range(1, organisations + 1))
        db.session.commit()
        return [(c.id, c.kind) for c in db.session.scalars(db.select(Category))]


def populate(app, n: int, make_row=map_row, seed: int = 42, organisations: int = 0) -> None:
    """A fresh database with a signed-up coordinator, organisations with ids 1..organisations,
    and n observations (bulk inserts)."""
    rng = random.Random(seed)
    categories = fresh_database(app, organisations)
    with app.app_context():
        now = utcnow()
        rows = []
        for i in range(n):
            rows.append(make_row(i, rng, categories[i % len(categories)], now))
            if len(rows) == 5000:
                db.session.execute(insert(Observation), rows)
                rows = []
        if rows:
            db.session.execute(insert(Observation), rows)
        summaries.rebuild()  # the bulk INSERTs bypass the session's hooks that keep the summary tables
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                # steady state, as autovacuum leaves it: statistics and a visibility map
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def naive_page(app, n: int) -> tuple[float, int]:
    """Every item a folium Marker with a Popup, rendered to one HTML page."""
    with app.app_context():
        rows = db.session.execute(db.select(Observation.lat, Observation.lon, Observation.description)).all()
    start = time.perf_counter()
    m = folium.Map(location=[62.63, 17.94], zoom_start=13)
    for lat, lon, description in rows:
        folium.Marker([lat, lon], popup=folium.Popup(description)).add_to(m)
    html = m.get_root().render()
    return (time.perf_counter() - start) * 1000, len(html.encode())


def map_shell(app) -> tuple[float, int]:
    """Our folium shell alone (tiles, controls; items come later from the API)."""
    with app.test_request_context():
        ms, parts = timed(lambda: maps.embed(maps.base_map(app.config)), 9)
    return ms, sum(len(str(part).encode()) for part in parts.values())


def measure(app, n: int, runs: int, naive_max: int) -> dict:
    shell_ms, shell_bytes = map_shell(app)
    client = signed_in(app)
    page_ms, page = timed(lambda: client.get("/inbox"), max(5, runs // 3))
    assert page.status_code == 200
    street_url = "/api/v1/observations?bbox=" + ",".join(map(str, STREET))
    town_url = "/api/v1/observations?bbox=" + ",".join(map(str, TOWN))
    street_ms, street = timed(lambda: client.get(street_url), runs)
    town_ms, town = timed(lambda: client.get(town_url), max(5, runs // 3))
    result = {
        "shell_ms": shell_ms, "shell_kb": shell_bytes / 1024,
        "page_ms": page_ms, "page_kb": len(page.data) / 1024,
        "street_ms": street_ms, "street_items": len(street.get_json()["features"]),
        "town_ms": town_ms, "town_kb": len(town.data) / 1024,
        "town_clustered": bool(town.get_json().get("clustered")),
    }
    if n <= naive_max:
        naive_ms, naive_bytes = naive_page(app, n)
        result.update(naive_ms=naive_ms, naive_kb=naive_bytes / 1024)
    return result


def database_urls(args, tmp: Path):
    yield "SQLite", f"sqlite:///{tmp / 'bench.sqlite'}", None
    if args.pg:
        base = make_url(normalise_db_url(args.pg))
        name = f"walkapp_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield "PostgreSQL", base.set(database=name).render_as_string(hide_password=False), None
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def bench_apps(args):
    """(label, app) for SQLite and, with --pg, a fresh PostgreSQL database: one instance folder, the
    same configuration, and the connections closed after each."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WALKAPP_INSTANCE_PATH"] = tmp
        for label, url, _ in database_urls(args, Path(tmp)):
            app = create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-0123456789",
                              "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
            try:
                yield label, app
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()


def signed_in(app):
    """A test client signed in as the bench's coordinator (see populate)."""
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.se", "password": PASSWORD})
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--naive-max", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, folium {folium.__version__}")
    header = ("db", "N", "map shell ms", "shell KB", "inbox page ms", "page KB", "street ms", "street n", "town ms", "town KB", "naive ms", "naive KB")
    print(" | ".join(header))
    for label, app in bench_apps(args):
        for n in args.sizes:
            start = time.perf_counter()
            populate(app, n)
            fill_s = time.perf_counter() - start
            r = measure(app, n, args.runs, args.naive_max)
            print(" | ".join([
                label, f"{n:,}", f"{r['shell_ms']:.1f}", f"{r['shell_kb']:.1f}", f"{r['page_ms']:.1f}", f"{r['page_kb']:.1f}", f"{r['street_ms']:.1f}",
                str(r["street_items"]), f"{r['town_ms']:.1f}", f"{r['town_kb']:.1f}"
                + (" (clusters)" if r["town_clustered"] else ""),
                f"{r['naive_ms']:.0f}" if "naive_ms" in r else "–",
                f"{r['naive_kb']:.0f}" if "naive_kb" in r else "–",
            ]) + f"   (generated in {fill_s:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
