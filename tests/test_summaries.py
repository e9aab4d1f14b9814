"""The summary tables give the lägesbild and the inbox the same figures as counting item by item.

Several hundred items with random categories, sources, states, organisations, due dates, ratings and
times over two years (across daylight-saving changes and midnights) are made, then moved, edited,
marked duplicate and deleted through the ORM. Then:
- the summary tables equal a rebuild from the items (the flush hooks missed nothing);
- every figure of the lägesbild (and its report's extras) read from the summaries equals the same
  figure computed here from the items one by one, for several periods and filters;
- the inbox's counts per state and totals equal the per-item counts, for several filters.
"""
from __future__ import annotations

import math
import random
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from walkapp.extensions import db
from walkapp.i18n import local_today, local_zone
from walkapp.models import (Category, Kind, Observation, Organisation, Priority, Role, Source, Status, User, Walk,
                            utcnow)
from walkapp.observations.filters import ObservationFilter
from walkapp import summaries
from walkapp.situation import stats
from walkapp.situation.stats import Scope
from walkapp.triage import service as triage
from walkapp.workflow import UNRESOLVED, WORKING

ITEMS = 400


def random_item(rng, categories, organisations, walk, now) -> Observation:
    category = rng.choice(categories)
    created = now - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
    status = rng.choice(list(Status))
    fixed = created + timedelta(minutes=rng.randrange(0, 90 * 24 * 60)) if rng.random() < 0.45 else None
    return Observation(
        lat=62.6 + rng.random() / 20, lon=17.9 + rng.random() / 10, category=category, kind=category.kind,
        source=rng.choice(list(Source)), status=status, created_at=created, fixed_at=fixed,
        organisation=rng.choice(organisations + [None]), priority=rng.choice(list(Priority) + [None]),
        due_date=(created + timedelta(days=rng.randrange(-5, 60))).date() if rng.random() < 0.7 else None,
        safety_rating=rng.choice([None, *range(1, 11)]), walk=walk if rng.random() < 0.3 else None)


def move_some(rng, organisations, now) -> None:
    items = db.session.scalars(select(Observation).order_by(Observation.id)).all()
    for obs in rng.sample(items, 120):
        obs.status = rng.choice(list(Status))
        obs.organisation = rng.choice(organisations + [None])
        if rng.random() < 0.5:
            obs.fixed_at = obs.created_at + timedelta(hours=rng.randrange(1, 2000)) if rng.random() < 0.7 else None
        if rng.random() < 0.3:
            obs.due_date = now.date() + timedelta(days=rng.randrange(-30, 30))
        if rng.random() < 0.2:
            obs.safety_rating = rng.choice([None, 3, 9])
    db.session.flush()  # a second change to some in the same transaction
    for obs in rng.sample(items, 30):
        obs.status = Status.duplicate if rng.random() < 0.5 else Status.assigned
    for obs in rng.sample(items, 10):
        db.session.delete(obs)
    db.session.commit()
    obs = db.session.scalars(select(Observation).where(Observation.status != Status.duplicate).limit(1)).one()
    db.session.expire(obs)  # a change to an expired item: its old values come from the database
    obs.status = Status.in_progress
    db.session.commit()


@pytest.fixture
def filled(app):
    rng = random.Random(17)
    with app.app_context():
        organisations = [Organisation(name=f"Org {k}") for k in range(3)]
        walk = Walk(title="Kvällsvandring", starts_at=utcnow(), join_code="SUMM1")
        db.session.add_all([*organisations, walk])
        db.session.commit()
        categories = db.session.scalars(select(Category)).all()
        now = utcnow()
        for i in range(ITEMS):
            db.session.add(random_item(rng, categories, organisations, walk, now))
            if i % 50 == 49:
                db.session.commit()
        # at the daylight-saving changes and around local midnight
        for moment in (datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 1, 30), datetime(2025, 10, 26, 0, 30),
                       datetime(2025, 10, 26, 1, 30), datetime(2026, 6, 30, 22, 15), datetime(2026, 1, 31, 23, 5)):
            obs = random_item(rng, categories, organisations, walk, now)
            obs.created_at = moment.replace(tzinfo=timezone.utc)
            db.session.add(obs)
        db.session.commit()
        move_some(rng, organisations, now)
    return app


def snapshot() -> dict:
    """Every summary row with a non-zero count."""
    result = {}
    for table in summaries.TABLES:
        counts = summaries.COUNTS[table]
        for row in db.session.scalars(select(table)):
            values = tuple(getattr(row, c) for c in counts)
            if any(values):
                result[(table.__tablename__, tuple(getattr(row, k) for k in summaries.KEYS[table]))] = values
    return result


def test_flush_hooks_keep_the_summaries_equal_to_a_rebuild(filled, runner):
    with filled.app_context():
        kept = snapshot()
        assert len(kept) > 400
    result = runner.invoke(args=["rebuild-summaries"])
    assert result.exit_code == 0 and "Summaries rebuilt from 396 items." in result.output
    with filled.app_context():
        assert snapshot() == kept


# --- the lägesbild, item by item ---------------------------------------------------------------

def median(values: list[int]):
    if not values:
        return None
    values = sorted(values)
    return round((values[(len(values) - 1) // 2] + values[len(values) // 2]) / 2 / 10, 1)


def fix_figures(rows, zone) -> dict:
    with_due = [r for r in rows if r.due_date is not None]
    return {"fixed": len(rows), "with_due": len(with_due),
            "on_time": sum(r.fixed_at.astimezone(zone).date() <= r.due_date for r in with_due),
            "median_days": median([math.floor((r.fixed_at - r.created_at).total_seconds() / 86400 * 10)
                                   for r in rows])}


class Items:
    """The live items with their local creation time, filtered as the scope's night and weekday ask."""

    def __init__(self, scope: Scope):
        self.zone = local_zone()
        rows = db.session.scalars(select(Observation).where(Observation.status != Status.duplicate)).all()
        self.rows = [r for r in rows if self.passes(scope, r.created_at.astimezone(self.zone))]

    @staticmethod
    def passes(scope, local) -> bool:
        night = local.hour >= 18 or local.hour < 6
        return ((scope.night is None or night == scope.night)
                and (scope.weekday is None or local.isoweekday() == scope.weekday))

    def made(self, first: date, last: date) -> list:
        return [r for r in self.rows if first <= r.created_at.astimezone(self.zone).date() <= last]

    def fixed(self, first: date, last: date) -> list:
        return [r for r in self.rows if r.kind is Kind.problem and r.fixed_at is not None
                and first <= r.fixed_at.astimezone(self.zone).date() <= last]


def counted(rows) -> dict:
    return {"categories": dict(Counter(r.category_id for r in rows)), "sources": dict(Counter(r.source for r in rows)),
            "total": len(rows)}


def reference(scope: Scope, today: date) -> dict:
    """Every figure of lagesbild(report=True) except the hotspots, computed from the items one by one."""
    items, zone = Items(scope), local_zone()
    made = items.made(scope.start, scope.end)
    fixed = items.fixed(scope.start, scope.end)
    before, year = scope.previous(), stats.year_earlier(scope)
    working = [r for r in items.rows if r.status in WORKING]
    problems = [r for r in items.rows if r.kind is Kind.problem]
    rated = [r.safety_rating for r in made if r.safety_rating is not None]
    made_ = {"new": len(made), "rated": len(rated), "rating_sum": sum(rated), "rating_squares": sum(x * x for x in rated)}
    backlog = {"open": sum(r.status in UNRESOLVED and r.created_at.astimezone(zone).date() <= scope.end for r in problems),
               "overdue": sum(r.status in WORKING and r.due_date is not None and r.due_date < today for r in problems),
               "previous_new": len(items.made(before.start, before.end)),
               "previous_fixed": len(items.fixed(before.start, before.end))}
    workload = {}
    for r in working:
        if r.organisation_id is not None:
            open_, overdue = workload.get(r.organisation_id, (0, 0))
            workload[r.organisation_id] = (open_ + 1, overdue + (r.due_date is not None and r.due_date < today))
    by_org = {}
    for r in fixed:
        by_org.setdefault(r.organisation_id, []).append(r)
    fixes_by_org = {org: fix_figures(rows, zone) for org, rows in by_org.items() if org is not None}
    names = {c.id: c for c in db.session.scalars(select(Category))}
    largest_first = lambda row: (-row[-1], row[0])  # noqa: E731
    categories = sorted(((names[k].name_sv, names[k].name_en, names[k].colour, n)
                         for k, n in Counter(r.category_id for r in made).items()), key=largest_first)
    sources = sorted(Counter(r.source for r in made).items(), key=largest_first)
    first = stats._months_back(scope)
    months = {}
    for r in items.made(first, scope.end):
        if r.safety_rating is not None:
            sums = months.setdefault(r.created_at.astimezone(zone).strftime("%Y-%m"), [0, 0, 0])
            sums[0], sums[1], sums[2] = sums[0] + 1, sums[1] + r.safety_rating, sums[2] + r.safety_rating ** 2
    trend = [(key, stats.safety_index.from_sums(n, float(t), float(s))) for key, (n, t, s) in
             ((key, months.get(key, (0, 0, 0))) for key, _ in stats.monthly_index(scope))]
    hours, weekdays = [0] * 24, [0] * 7
    for r in made:
        local = r.created_at.astimezone(zone)
        hours[local.hour] += 1
        weekdays[local.isoweekday() - 1] += 1
    return {
        "figures": stats.figures(made_, fix_figures(fixed, zone), backlog),
        "previous": {"new": backlog["previous_new"], "fixed": backlog["previous_fixed"]},
        "categories": categories, "sources": sources,
        "organisations": stats.action_tracker(workload, fixes_by_org),
        "index": stats.safety(made_, stats.stop_ratings(scope)),
        "trend": trend, "clock": (hours, weekdays),
        "comparison": {"previous": counted(items.made(before.start, before.end)) | {"period": (before.start, before.end)},
                       "year_earlier": counted(items.made(year.start, year.end)) | {"period": (year.start, year.end)}},
    }


@pytest.mark.parametrize("period", ["year", "90days", "month", "tertial"])
def test_lagesbild_from_summaries_equals_counting_item_by_item(filled, period):
    with filled.test_request_context():
        today = local_today()
        first, last = stats.period_bounds(period, today)
        for scope in (Scope(first, last), Scope(first, last, night=True), Scope(first, last, night=False),
                      Scope(first, last, weekday=today.isoweekday()), Scope(first, last, weekday=7, night=True)):
            assert stats.summary_stats.serves(scope)
            expected = reference(scope, today)
            # the report's pass and the dashboard's read the summaries differently; both agree with the items
            report, dashboard = stats.from_summaries(scope, today, report=True), stats.from_summaries(scope, today)
            assert report["figures"]["new"] > 0 or scope.weekday or period == "month"
            for key, value in expected.items():
                assert report.get(key, value) == value, (scope, key)
                assert dashboard.get(key, value) == value, (scope, key)
            assert report.keys() == expected.keys() - {"previous"} | {"hotspots"}
            assert dashboard.keys() == expected.keys() - {"clock", "comparison"} | {"hotspots"}


def reference_hotspots(scope: Scope) -> list[dict]:
    """The hot spots counted here item by item: cells of k × k base cells (1/2000° × 1/1000°), k the smallest
    power of two that covers the items' extent (in cells of 16 base cells) or the box in 24 cells each way."""
    rows = Items(scope).made(scope.start, scope.end)
    if scope.bbox:
        min_lon, min_lat, max_lon, max_lat = scope.bbox
        rows = [r for r in rows if min_lat <= r.lat <= max_lat and min_lon <= r.lon <= max_lon]
        spans = ((max_lat - min_lat) * 2000, (max_lon - min_lon) * 1000)
    elif not rows:
        return []
    else:
        lats, lons = [math.floor(r.lat * 2000 / 16) for r in rows], [math.floor(r.lon * 1000 / 16) for r in rows]
        spans = ((max(lats) - min(lats) + 1) * 16, (max(lons) - min(lons) + 1) * 16)
    k = 1
    while spans[0] / k > 24 or spans[1] / k > 24:
        k *= 2
    counts = Counter((math.floor(r.lat * 2000 / k), math.floor(r.lon * 1000 / k)) for r in rows)
    return [{"south": y * k / 2000, "west": x * k / 1000, "north": (y + 1) * k / 2000, "east": (x + 1) * k / 1000,
             "n": n} for (y, x), n in sorted(counts.items())]


@pytest.mark.parametrize("period", ["year", "90days", "month"])
def test_hotspots_from_summaries_equal_counting_item_by_item(filled, period):
    """The summaries' grid, the per-item query's grid and cells counted here agree, for the whole town and
    for a box (read item by item), day and night."""
    with filled.test_request_context():
        today = local_today()
        first, last = stats.period_bounds(period, today)
        for scope in (Scope(first, last), Scope(first, last, night=True), Scope(first, last, weekday=3)):
            expected = reference_hotspots(scope)
            assert stats.from_summaries(scope, today)["hotspots"] == expected, scope
            if scope.night is None and scope.weekday is None:  # (SQLite's per-item night is an hour off over DST)
                assert stats.hotspots(scope, stats.made(scope)) == expected, scope
                assert sum(cell["n"] for cell in expected) == stats.made(scope)["new"]
        assert len(reference_hotspots(Scope(first, last))) > 5 or period == "month"
        boxed = Scope(first, last, bbox=(17.92, 62.61, 17.97, 62.64))
        assert not stats.summary_stats.serves(boxed)
        assert stats.lagesbild(boxed, today)["hotspots"] == reference_hotspots(boxed)


MAP_FILTERS = ["", "kind=problem", "status=new,assigned", "category=belysning,klotter", "kind=positive&status=new",
               "status=duplicate"]


def test_map_clusters_from_summaries_equal_counting_item_by_item(filled, users):
    """A coordinator's town map read from the summary of places gives the clusters counted item by item
    (the box holds every item, so no cell is cut by its edge), for each filter the summary serves."""
    from werkzeug.datastructures import MultiDict
    from walkapp.observations import clusters

    town = "&bbox=17.89,62.59,18.01,62.66"
    with filled.test_request_context():
        coordinator = db.session.get(User, users[Role.coordinator])
        for query in MAP_FILTERS:
            filters = ObservationFilter.from_args(MultiDict(
                [tuple(pair.split("=")) for pair in (query + town).strip("&").split("&")]))
            assert clusters.from_summary(coordinator, filters), query
            summed = clusters.summary_cells(filters)
            expected = clusters.item_cells(coordinator, filters)
            assert sorted(summed) == sorted(expected), query
            for cell, (n, lat, lon) in expected.items():
                got = clusters.summary_mean(summed[cell])
                assert got[0] == n and got[1:] == pytest.approx((lat, lon), abs=2e-6), (query, cell)
        assert sum(v[0] for v in expected.values()) > 0


def test_map_clusters_stay_put_when_the_map_pans(filled, client, users, auth):
    """Clusters are drawn on cells fixed to the ground: panning the map by less than a cell keeps the
    clusters that are in view in both, at the same places with the same counts."""
    auth.login_as(Role.coordinator)
    filled.config["MAP_MAX_POINTS"] = 10

    def clusters_in(bbox):
        data = client.get(f"/api/v1/observations?bbox={bbox}").get_json()
        assert data["clustered"] is True
        return {tuple(f["geometry"]["coordinates"]): f["properties"]["count"] for f in data["features"]}

    first, panned = clusters_in("17.89,62.59,18.01,62.66"), clusters_in("17.891,62.591,18.011,62.661")
    shared = set(first) & set(panned)
    assert len(shared) > 10
    assert all(first[p] == panned[p] for p in shared)


def headline(page: bytes) -> list[str]:
    return re.findall(r'<span class="figure">([^<]*)</span>', page.decode())


def test_lagesbild_page_reads_the_summaries(filled, client, users, auth):
    """The dashboard through the app shows the figures of the summaries."""
    auth.login_as(Role.coordinator)
    with filled.test_request_context():
        today = local_today()
        expected = reference(Scope(*stats.period_bounds("year", today)), today)["figures"]
    shown = headline(client.get("/lagesbild?period=year").data)
    assert shown[:4] == [str(expected[k]) for k in ("new", "open", "fixed", "overdue")]
    with filled.app_context():
        db.session.execute(db.delete(summaries.SummaryDaily))  # wiped: the page shows no new items
        db.session.commit()
    assert headline(client.get("/lagesbild?period=year").data)[0] == "0" != shown[0]
    assert client.get("/lagesbild?period=year&bbox=17.9,62.6,18.0,62.65").status_code == 200  # per item


# --- the inbox ---------------------------------------------------------------------------------

FILTERS = ["", "kind=problem", "kind=positive", "status=new", "status=new,assigned&kind=problem",
           "category=belysning", "category=belysning,klotter&kind=problem", "source=walk", "source=school,police",
           "priority=high", "organisation=1", "organisation=2&status=assigned", "walk=1", "kind=problem&walk=1",
           "category=belysning&source=walk", "overdue=1", "q=x"]


def test_inbox_counts_from_summaries_equal_the_per_item_counts(filled, users):
    from werkzeug.datastructures import MultiDict

    with filled.test_request_context():
        coordinator = db.session.scalar(select(User).filter_by(role=Role.coordinator))
        for args in FILTERS:
            filters = ObservationFilter.from_args(MultiDict([p.split("=") for p in args.split("&") if p]))
            served = stats.summary_stats.inbox_dimension(coordinator, filters) is not None
            rows, total, counts = triage.inbox(coordinator, filters, "newest", 1)
            assert triage.count(coordinator, filters) == total, args  # the page's total is its chosen states' counts
            filled.config["SUMMARIES"] = False
            assert stats.summary_stats.inbox_dimension(coordinator, filters) is None
            assert triage.inbox(coordinator, filters, "newest", 1) == (rows, total, counts), args
            assert triage.count(coordinator, filters) == total, args
            filled.config["SUMMARIES"] = True
            assert served is (args not in ("category=belysning&source=walk", "overdue=1", "q=x")), args


def chips(page: bytes) -> list[str]:
    """The counts on the inbox's state chips."""
    nav = page.decode().split('<nav class="chips"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<span>(\d*)</span>", nav)


def test_inbox_page_shows_the_summarised_counts(filled, client, users, auth):
    auth.login_as(Role.coordinator)
    filled.config["SUMMARIES"] = False
    per_item = chips(client.get("/inbox?source=walk").data)
    filled.config["SUMMARIES"] = True
    assert chips(client.get("/inbox?source=walk").data) == per_item and sum(map(int, per_item)) > 20
    with filled.app_context():
        db.session.execute(db.delete(summaries.SummaryStatus))  # the page reads them: it shows zeros now
        db.session.commit()
    assert set(chips(client.get("/inbox?source=walk").data)) == {"0"}


def test_import_counts_its_items(app, client, users, auth):
    """The CSV import inserts in bulk, past the flush hooks: it adds its items itself."""
    from .test_exchange import csv_file, import_file

    auth.login_as(Role.coordinator)
    rows = [["externt_id", "kategori", "beskrivning", "lat", "lon"]] + [
        [f"R-{n}", "belysning", f"rad {n}", "62.6323", "17.9379"] for n in range(3)]
    assert import_file(client, csv_file(rows), sender="Polisen").status_code == 302
    with app.app_context():
        imported = snapshot()
        assert imported[("summary_status", ("problem", "new", "source", "police"))] == (3,)
        summaries.rebuild()
        assert snapshot() == imported



def test_concurrent_saves_that_flush_twice_do_not_deadlock(app):
    """Two coordinators' saves, each flushing twice, touch each other's summary rows in the second flush.
    Had each flush written its summary rows, each would hold rows the other needs (PostgreSQL refuses one
    save as a deadlock); written at commit in key order, both saves go through and the summaries stay exact."""
    import threading

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite lets one writer in at a time")
        category = db.session.scalar(select(Category))
        items = [Observation(lat=62.63, lon=17.94, category=category, kind=category.kind, status=status)
                 for status in (Status.new, Status.in_progress, Status.in_progress, Status.new)]
        db.session.add_all(items)
        db.session.commit()
        a, b, c, d = (o.id for o in items)
    barrier, errors = threading.Barrier(2, timeout=30), []

    def save(first, first_status, second, second_status):
        with app.app_context():
            try:
                db.session.get(Observation, first).status = first_status
                db.session.flush()
                barrier.wait()  # both have flushed once
                db.session.get(Observation, second).status = second_status
                db.session.flush()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(type(exc).__name__)
                db.session.rollback()
                barrier.abort()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(a, Status.assigned, c, Status.fixed)),
               threading.Thread(target=save, args=(b, Status.fixed, d, Status.assigned))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        assert [db.session.get(Observation, i).status for i in (a, b, c, d)] == [
            Status.assigned, Status.fixed, Status.fixed, Status.assigned]
        kept = snapshot()
        summaries.rebuild()
        assert snapshot() == kept
        db.session.rollback()
