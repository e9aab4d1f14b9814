"""Dashboards at scale: the inbox, the lägesbild, a street and the whole town at 10k … 1M items.

Run from the repository root:

    .venv/bin/python bench/scale_bench.py --db sqlite --sizes 10000,100000
    .venv/bin/python bench/scale_bench.py --db postgresql --sizes 10000,100000,1000000 \\
        [--pg postgresql://postgres@127.0.0.1/test] [--runs 7]

One database grows from size to size (the items of bench/situation_bench.py: a year of items from nine
sources, a third fixed, ratings, due dates, 15 organisations; bulk INSERTs on SQLite, COPY on
PostgreSQL), then `walkapp rebuild-summaries`' code counts them into the summary tables (timed). Then,
through the Flask test client as a coordinator, the median of --runs requests of:
  - the inbox page (/inbox: 50 rows, the counts per state, the safe places' count),
  - the lägesbild page (/lagesbild: its default period, the last 90 days),
  - a street bbox (/api/v1/observations, about 200 × 220 m at Stora torget),
  - the whole-town map (the same API for the whole town: grid clusters),
and, in the same run, the naive baseline: the inbox and the lägesbild with the summaries off
(SUMMARIES=False: every count per item, as before them). QUERY_WORKERS is 1 throughout.

The last line printed is one JSON object: {"sizes", "inbox_ms", "lagesbild_ms", "street_ms", "town_ms",
"naive_inbox_ms", "naive_lagesbild_ms", "rebuild_s", "load"}.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import insert, text  # noqa: E402

from map_bench import PASSWORD, STREET, TOWN, database_urls, fresh_database  # noqa: E402
from situation_bench import ORGANISATIONS, year_row  # noqa: E402
from walkapp import create_app  # noqa: E402
from walkapp.extensions import db  # noqa: E402
from walkapp.models import Observation, utcnow  # noqa: E402
from walkapp import summaries  # noqa: E402

COLUMNS = ("lat", "lon", "category_id", "kind", "status", "organisation_id", "description", "version",
           "created_at", "updated_at", "fixed_at", "due_date", "safety_rating", "source", "source_detail",
           "is_public", "address")
URLS = {"inbox": "/inbox", "lagesbild": "/lagesbild",
        "street": "/api/v1/observations?bbox=" + ",".join(map(str, STREET)),
        "town": "/api/v1/observations?bbox=" + ",".join(map(str, TOWN))}


def setup(app) -> list:
    return fresh_database(app, ORGANISATIONS)


def rows(first: int, last: int, rng, categories, now):
    for i in range(first, last):
        row = year_row(i, rng, categories[i % len(categories)], now)
        row["address"] = ""
        yield row


def plain(value):
    return getattr(value, "value", value)


def fill(app, first: int, last: int, rng, categories, now) -> None:
    """Items first..last-1: COPY on PostgreSQL, INSERTs of 5000 rows on SQLite."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            raw = db.engine.raw_connection()
            try:
                with raw.driver_connection.cursor() as cursor:
                    with cursor.copy(f"COPY observation ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                        for row in rows(first, last, rng, categories, now):
                            copy.write_row([plain(row[c]) for c in COLUMNS])
                raw.driver_connection.commit()
            finally:
                raw.close()
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
            return
        batch = []
        for row in rows(first, last, rng, categories, now):
            batch.append(row)
            if len(batch) == 5000:
                db.session.execute(insert(Observation), batch)
                batch = []
        if batch:
            db.session.execute(insert(Observation), batch)
        db.session.commit()


def rebuild(app) -> float:
    start = time.perf_counter()
    with app.app_context():
        summaries.rebuild()
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - start


def median_ms(client, url: str, runs: int) -> float:
    assert client.get(url).status_code == 200, url  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"# {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    result = {"sizes": sizes, **{f"{k}_ms": [] for k in URLS}, "naive_inbox_ms": [], "naive_lagesbild_ms": [],
              "rebuild_s": [], "load": []}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WALKAPP_INSTANCE_PATH"] = tmp
        urls = database_urls(argparse.Namespace(pg=args.pg if args.db == "postgresql" else None), Path(tmp))
        if args.db == "postgresql":
            next(urls)  # skip SQLite
        label, url, _ = next(urls)
        app = create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-0123456789", "QUERY_WORKERS": 1,
                          "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
        logging.getLogger("walkapp.requests").setLevel(logging.WARNING)  # a line per request drowns the table
        categories, rng, now, filled = setup(app), random.Random(7), utcnow(), 0
        print(f"db | N | inbox ms | lägesbild ms | street ms | town ms | naive inbox ms | naive lägesbild ms "
              f"| rebuild s | load", flush=True)
        for n in sizes:
            fill(app, filled, n, rng, categories, now)
            filled = n
            result["rebuild_s"].append(round(rebuild(app), 1))
            client = app.test_client()
            client.post("/login", data={"email": "bench@example.se", "password": PASSWORD})
            for key, path in URLS.items():
                result[f"{key}_ms"].append(round(median_ms(client, path, args.runs), 1))
            app.config["SUMMARIES"] = False
            for key in ("inbox", "lagesbild"):
                result[f"naive_{key}_ms"].append(round(median_ms(client, URLS[key], args.runs), 1))
            app.config["SUMMARIES"] = True
            result["load"].append(round(os.getloadavg()[0], 1))
            print(f"{label} | {n:,} | " + " | ".join(str(result[k][-1]) for k in (
                "inbox_ms", "lagesbild_ms", "street_ms", "town_ms", "naive_inbox_ms", "naive_lagesbild_ms",
                "rebuild_s", "load")), flush=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        for _ in urls:  # drops the PostgreSQL database
            pass
    print(json.dumps(result))


if __name__ == "__main__":
    main()
