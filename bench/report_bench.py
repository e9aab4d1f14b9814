"""The lägesbild report against the dashboard, at 100,000 observations.

Run from the repository root (PostgreSQL optional):

    .venv/bin/python bench/report_bench.py [--sizes 100000] [--period year] [--pg postgresql://postgres@127.0.0.1/test]

Observations are spread over the past two years (so that the previous period and the same period a
year earlier hold data), as bench/situation_bench.py makes them. Measured through the Flask test client
as a coordinator, in the same run and interleaved: the dashboard for the period, creating the report
for the same period (its figures computed and frozen, the row saved; the redirect not followed), and
opening the saved report as a page and as a PDF. Medians of --runs requests each, and the SQL statements
of one dashboard and one report creation.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import map_bench  # noqa: E402
from map_bench import bench_apps, signed_in  # noqa: E402
from tests.factories import count_statements as statements  # noqa: E402
from situation_bench import ORGANISATIONS, year_row  # noqa: E402

REPORT = {"title": "Bench", "analysis": "Analys.", "sources_used": ["walk", "police"], "sources_not_used": ""}


def two_years_row(i, rng, category, now):
    """situation_bench's year, every other item moved a year back."""
    row = year_row(i, rng, category, now)
    if i % 2:
        shift = timedelta(days=365)
        for key in ("created_at", "updated_at", "fixed_at", "due_date"):
            if row[key] is not None:
                row[key] -= shift
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--period", default="year")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"# {os.cpu_count()} CPUs, period={args.period}, medians of {args.runs}")
    print("db | N | dashboard ms | report created ms | report/dashboard | report page ms | report PDF ms | "
          "SQL dashboard | SQL report")
    for label, app in bench_apps(args):
        for n in args.sizes:
            map_bench.populate(app, n, make_row=two_years_row, seed=7, organisations=ORGANISATIONS)
            client = signed_in(app)
            query = f"period={args.period}"
            timings = {"dashboard": [], "create": [], "page": [], "pdf": []}
            location = None

            def dashboard():
                assert client.get(f"/lagesbild?{query}").status_code == 200

            def create():
                nonlocal location
                response = client.post(f"/lagesbild/reports/new?{query}", data=REPORT)
                assert response.status_code == 302
                location = response.headers["Location"]

            dashboard(), create()  # warm-up
            for _ in range(args.runs):  # interleaved, so that both see the same machine
                for name, call in (("dashboard", dashboard), ("create", create),
                                   ("page", lambda: client.get(location)),
                                   ("pdf", lambda: client.get(f"{location}.pdf"))):
                    start = time.perf_counter()
                    call()
                    timings[name].append((time.perf_counter() - start) * 1000)
            ms = {name: statistics.median(values) for name, values in timings.items()}
            print(f"{label} | {n:,} | {ms['dashboard']:.0f} | {ms['create']:.0f} | "
                  f"{ms['create'] / ms['dashboard']:.2f} | {ms['page']:.0f} | {ms['pdf']:.0f} | "
                  f"{statements(app, dashboard)} | {statements(app, create)}", flush=True)

if __name__ == "__main__":
    main()
