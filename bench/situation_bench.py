"""The lägesbild dashboard for a year at 10,000 and 100,000 observations.

Run from the repository root (PostgreSQL optional):

    .venv/bin/python bench/situation_bench.py [--sizes 10000 100000] [--pg postgresql://postgres@127.0.0.1/test]

Observations are spread over the past year with ratings, fixes and due dates.
Measured through the Flask test client as a coordinator: the dashboard for this
year (median of several requests), with its queries side by side (QUERY_WORKERS,
the default) and one after another (QUERY_WORKERS=1), and the number of SQL
statements per request.
The naive baseline in the same run loads every observation of the year as ORM
objects and computes the same headline figures in Python.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import map_bench  # noqa: E402
from map_bench import TOWN, bench_apps, signed_in  # noqa: E402
from tests.factories import count_statements as statements  # noqa: E402
from walkapp.extensions import db  # noqa: E402
from walkapp.models import Observation, Status, utcnow  # noqa: E402


ORGANISATIONS = 15
SOURCES = ["walk", "walk", "walk", "field_group", "school", "social_services", "police", "resident", "open311"]


def year_row(i: int, rng: random.Random, category, now) -> dict:
    """Observations over the past year from several sources, a third of them fixed, with ratings and
    due dates; every item past triage has one of the organisations."""
    category_id, kind = category
    created = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
    fixed = created + timedelta(days=rng.randrange(1, 60)) if i % 3 == 0 else None
    fixed = fixed if fixed and fixed < now else None
    status = Status.fixed if fixed else [Status.new, Status.accepted, Status.assigned][i % 3]
    return {
        "lat": rng.uniform(TOWN[1], TOWN[3]), "lon": rng.uniform(TOWN[0], TOWN[2]),
        "category_id": category_id, "kind": kind,
        "status": status,
        "organisation_id": 1 + rng.randrange(ORGANISATIONS) if status in (Status.fixed, Status.assigned) else None,
        "description": f"Observation {i}", "version": 1, "created_at": created, "updated_at": created,
        "fixed_at": fixed, "due_date": (created + timedelta(days=30)).date(), "safety_rating": 1 + i % 10,
        "source": SOURCES[i % len(SOURCES)], "source_detail": "", "is_public": False,
    }


def populate(app, n: int) -> None:
    map_bench.populate(app, n, make_row=year_row, seed=7, organisations=ORGANISATIONS)


def naive(app) -> float:
    """Every observation of the year as objects, figures in Python."""
    start = time.perf_counter()
    with app.app_context():
        first = date(utcnow().year, 1, 1)
        rows = db.session.scalars(db.select(Observation)).all()
        year = [o for o in rows if o.created_at.date() >= first]
        fixed = [o for o in year if o.fixed_at]
        days = sorted((o.fixed_at - o.created_at).total_seconds() / 86400 for o in fixed)
        ratings = [o.safety_rating for o in year if o.safety_rating]
        _ = (len(year), len(fixed), days[len(days) // 2] if days else None, sum(ratings) / max(len(ratings), 1))
        by_category = {}
        for o in year:
            by_category[o.category.name_sv] = by_category.get(o.category.name_sv, 0) + 1
    return (time.perf_counter() - start) * 1000


def dashboard_ms(client, runs: int) -> float:
    """Median time of the year's dashboard."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert client.get("/lagesbild?period=year").status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"# {os.cpu_count()} CPUs")
    print("db | N | dashboard ms (median) | same, queries one after another | SQL statements | naive ms")
    for label, app in bench_apps(args):
        workers = app.config["QUERY_WORKERS"]
        for n in args.sizes:
            populate(app, n)
            client = signed_in(app)
            side_by_side = dashboard_ms(client, args.runs)
            app.config["QUERY_WORKERS"] = 1
            one_by_one = dashboard_ms(client, args.runs)
            app.config["QUERY_WORKERS"] = workers
            count = statements(app, lambda: client.get("/lagesbild?period=year"))
            print(f"{label} | {n:,} | {side_by_side:.0f} | {one_by_one:.0f} | {count} | {naive(app):.0f}",
                  flush=True)

if __name__ == "__main__":
    main()
