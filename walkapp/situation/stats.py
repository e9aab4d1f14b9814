"""Figures for the lägesbild, each computed by an aggregate query in the database.

The number of queries is fixed, whatever the number of observations. Each query is a scan of the
period's rows, so they are few, independent, and run side by side (parallel.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, case, func, literal, literal_column, select

from .. import grid
from ..i18n import local_zone
from ..extensions import db
from ..models import Category, Kind, Observation, Organisation, Status, Stop, Walk, unindexed
from ..observations.filters import inside
from ..workflow import UNRESOLVED, WORKING
from . import parallel, safety_index, summary_stats

LAT, LON = grid.LAT_CELLS, grid.LON_CELLS
PERIODS = ("90days", "week", "month", "tertial", "year", "custom")
DEFAULT_PERIOD = "90days"


@dataclass(frozen=True)
class Scope:
    start: date
    end: date  # inclusive
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    walk_id: int | None = None
    polygon: tuple[tuple[float, float], ...] | None = None  # (lon, lat) vertices of a drawn area
    night: bool | None = None  # True: 18–06 local time, False: 06–18
    weekday: int | None = None  # ISO 1..7
    share: float | None = None  # estimated share of all items made in the period: a planner hint for SQLite

    def previous(self) -> "Scope":
        length = (self.end - self.start).days + 1
        return replace(self, start=self.start - timedelta(days=length), end=self.start - timedelta(days=1))


def period_bounds(period: str, today: date, start: date | None = None, end: date | None = None) -> tuple[date, date]:
    if period == "90days":  # the last 90 days up to today
        return today - timedelta(days=89), today
    if period == "week":
        first = today - timedelta(days=today.weekday())
        return first, first + timedelta(days=6)
    if period == "month":
        first = today.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if period == "tertial":  # four-month periods: Jan–Apr, May–Aug, Sep–Dec
        first_month = (today.month - 1) // 4 * 4 + 1
        first = today.replace(month=first_month, day=1)
        next_first = date(first.year + (first_month + 4 > 12), (first_month + 4 - 1) % 12 + 1, 1)
        return first, next_first - timedelta(days=1)
    if period == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if start and end and start <= end:
        return start, end
    raise ValueError("custom period needs a start and an end")


def latest_day() -> date | None:
    """The local day of the newest item (one index lookup), for a default period that has data."""
    latest = db.session.scalar(select(func.max(Observation.created_at)).where(Observation.status != Status.duplicate))
    return latest.astimezone(local_zone()).date() if latest else None


def default_bounds(today: date) -> tuple[date, date]:
    """The last 90 days, or when nothing was reported in them, the 90 days up to the newest item."""
    first, last = period_bounds(DEFAULT_PERIOD, today)
    latest = latest_day()
    if latest is not None and latest < first:
        return period_bounds(DEFAULT_PERIOD, latest)
    return first, last


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, local_zone())


def _local(column):
    """Hour (0–23) and ISO weekday (1–7) of a timestamp in local time, per dialect."""
    if db.engine.dialect.name == "postgresql":
        local = func.timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"], column)
        return func.extract("hour", local), func.extract("isodow", local)
    # SQLite stores UTC text and knows no time zones: every timestamp is shifted by the offset the
    # zone has *now*, when the query runs. Timestamps from the other side of a daylight-saving change
    # are therefore an hour off (in winter an item made at 18:30 summer time counts as 17:30: day),
    # and so is the weekday of those within an hour of midnight. PostgreSQL converts each timestamp
    # with its own offset.
    hours = int(datetime.now(local_zone()).utcoffset().total_seconds() // 3600)
    # 'YYYY-MM-DD HH:MM:SS…': the hour is characters 12–13, far cheaper per row than strftime()
    hour = (func.cast(func.substr(column, 12, 2), db.Integer) + hours + 24) % 24
    modifier = f"{hours:+d} hours"
    weekday = case((func.strftime("%w", column, modifier) == "0", 7),
                   else_=func.cast(func.strftime("%w", column, modifier), db.Integer))
    return hour, weekday


def _days(later, earlier):
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def with_share(scope: Scope, today: date) -> Scope:
    """The scope with the share of all items its period likely holds, from how much of the time since
    the first item it covers (SQLite only; one index lookup)."""
    if db.engine.dialect.name != "sqlite":
        return scope
    first = db.session.scalar(select(func.min(Observation.created_at)))
    if first is None:
        return scope
    first_day = first.astimezone(local_zone()).date()
    span = max((today - first_day).days + 1, 1)
    covered = (min(scope.end, today) - max(scope.start, first_day)).days + 1
    return replace(scope, share=min(1.0, max(covered, 1) / span))


def _in_period(column, scope: Scope):
    """The column's time within the scope's dates.

    SQLite keeps no statistics of how dates spread, so it walks the created_at index even for a period
    holding most rows, which is 3–4 times slower than scanning the table. likelihood() tells it the share
    the two bounds select together.
    """
    bounds = [column >= _moment(scope.start), column < _moment(scope.end + timedelta(days=1))]
    if scope.share is None or db.engine.dialect.name != "sqlite":
        return and_(*bounds)
    hint = literal_column(f"{scope.share ** 0.5:.4f}")
    return and_(*(func.likelihood(bound, hint) for bound in bounds))


def _where(scope: Scope, column=Observation.created_at, dated: bool = True):
    conditions = [Observation.status != Status.duplicate]
    if dated:
        conditions.append(_in_period(column, scope))
    if scope.bbox:
        min_lon, min_lat, max_lon, max_lat = scope.bbox
        conditions += [Observation.lat.between(min_lat, max_lat), Observation.lon.between(min_lon, max_lon)]
    if scope.walk_id is not None:
        conditions.append(Observation.walk_id == scope.walk_id)
    if scope.polygon:
        conditions.append(inside(scope.polygon))
    if scope.night is not None or scope.weekday is not None:
        hour, weekday = _local(Observation.created_at)
        if scope.night is True:
            conditions.append((hour >= 18) | (hour < 6))
        elif scope.night is False:
            conditions.append(and_(hour >= 6, hour < 18))
        if scope.weekday is not None:
            conditions.append(weekday == scope.weekday)
    return and_(*conditions)


def made(scope: Scope) -> dict:
    """Items made in the period: how many, their ratings' count, sum and sum of squares, and their extent."""
    rating = Observation.safety_rating
    row = db.session.execute(select(
        func.count().label("new"), func.count(rating).label("rated"),
        func.coalesce(func.sum(rating), 0).label("rating_sum"),
        func.coalesce(func.sum(rating * rating), 0).label("rating_squares"),
        func.min(Observation.lat).label("south"), func.min(Observation.lon).label("west"),
        func.max(Observation.lat).label("north"), func.max(Observation.lon).label("east"),
    ).where(_where(scope)))
    return dict(row.one()._mapping)


def backlog(scope: Scope, today: date) -> dict:
    """Open and overdue problems at the period's end, and the previous period's new and fixed."""
    problem = Observation.kind == Kind.problem
    before = scope.previous()
    row = db.session.execute(select(
        func.count().filter(and_(problem, Observation.status.in_(UNRESOLVED),
                                 Observation.created_at < _moment(scope.end + timedelta(days=1)))).label("open"),
        func.count().filter(and_(problem, _overdue(today))).label("overdue"),
        func.count().filter(_in_period(Observation.created_at, before)).label("previous_new"),
        func.count().filter(and_(problem, _in_period(Observation.fixed_at, before))).label("previous_fixed"),
    ).where(_where(scope, dated=False)))
    return dict(row.one()._mapping)


def _working():
    return Observation.status.in_(WORKING)


def _overdue(today: date):
    return and_(_working(), Observation.due_date < today)


def figures(made_: dict, fixes_: dict, backlog_: dict) -> dict:
    """The headline figures."""
    with_due = fixes_["with_due"]
    return {"new": made_["new"], "open": backlog_["open"], "fixed": fixes_["fixed"], "overdue": backlog_["overdue"],
            "median_days": fixes_["median_days"],
            "on_time_share": round(100 * fixes_["on_time"] / with_due) if with_due else None}


def fixes(scope: Scope, by_organisation: bool = False):
    """Problems fixed in the period: how many, how many of them had a due date and were fixed by it, and
    the median days from report to fix. Overall as a dict, or per organisation as {id: dict}.

    Each fix is ranked within its group; the median is the mean of the one or two middle rows.
    """
    group = unindexed(Observation.organisation_id) if by_organisation else literal(0)
    fixed = (select(group.label("key"), _days(Observation.fixed_at, Observation.created_at).label("days"),
                    Observation.due_date,
                    case((func.date(Observation.fixed_at) <= Observation.due_date, 1), else_=0).label("on_time"))
             .where(_where(scope, Observation.fixed_at), Observation.kind == Kind.problem)
             .subquery())  # days computed once per row, not again for the ranking
    ranked = select(fixed, func.row_number().over(partition_by=fixed.c.key, order_by=fixed.c.days).label("rank"),
                    func.count().over(partition_by=fixed.c.key).label("n")).subquery()
    middle = ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    rows = db.session.execute(
        select(ranked.c.key, func.count().label("fixed"), func.count(ranked.c.due_date).label("with_due"),
               func.coalesce(func.sum(ranked.c.on_time), 0).label("on_time"),
               func.avg(ranked.c.days).filter(middle).label("median_days"))
        .group_by(ranked.c.key)).all()
    groups = {row.key: {"fixed": row.fixed, "with_due": row.with_due, "on_time": row.on_time,
                        "median_days": round(float(row.median_days), 1)} for row in rows}
    if by_organisation:
        groups.pop(None, None)
        return groups
    return groups.get(0, {"fixed": 0, "with_due": 0, "on_time": 0, "median_days": None})


def breakdown(scope: Scope) -> tuple[list, list]:
    """Items made in the period by category and by source, from one GROUP BY over both.

    Categories come as (name_sv, name_en, colour, n), sources as (source, n), largest first."""
    category, source = unindexed(Observation.category_id), unindexed(Observation.source)
    counts = (select(category.label("category_id"), source.label("source"), func.count().label("n"))
              .where(_where(scope)).group_by(category, source).subquery())
    rows = db.session.execute(
        select(Category.id, Category.name_sv, Category.name_en, Category.colour, counts.c.source, counts.c.n)
        .join(counts, counts.c.category_id == Category.id)
    ).all()
    categories, sources = {}, {}
    for category_id, name_sv, name_en, colour, source_, n in rows:
        name_n = categories.setdefault(category_id, [name_sv, name_en, colour, 0])
        name_n[3] += n
        sources[source_] = sources.get(source_, 0) + n
    largest_first = lambda row: (-row[-1], row[0])  # noqa: E731
    return (sorted(map(tuple, categories.values()), key=largest_first), sorted(sources.items(), key=largest_first))


def workload(scope: Scope, today: date) -> dict:
    """Per organisation id: (open, overdue) of its items being worked on now."""
    organisation = unindexed(Observation.organisation_id)
    rows = db.session.execute(
        select(organisation, func.count(), func.count().filter(Observation.due_date < today))
        .where(_where(scope, dated=False), _working(), Observation.organisation_id.is_not(None))
        .group_by(organisation))
    return {org_id: (open_, overdue) for org_id, open_, overdue in rows}


def action_tracker(workload_: dict, fixes_by_organisation: dict) -> list[tuple]:
    """Per organisation, by name: open, overdue, fixed in the period, median days to fix."""
    ids = set(workload_) | set(fixes_by_organisation)
    names = db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()
    rows = []
    for org_id, name in sorted(names, key=lambda row: row[1]):
        open_, overdue = workload_.get(org_id, (0, 0))
        fixed = fixes_by_organisation.get(org_id, {"fixed": 0, "median_days": None})
        rows.append((name, open_, overdue, fixed["fixed"], fixed["median_days"]))
    return rows


def stop_ratings(scope: Scope) -> tuple:
    """Count, sum and sum of squares of the ratings given at the stops of the period's walks."""
    return tuple(db.session.execute(
        select(func.count(Stop.safety_rating), func.coalesce(func.sum(Stop.safety_rating), 0),
               func.coalesce(func.sum(Stop.safety_rating * Stop.safety_rating), 0))
        .join(Walk, Stop.walk_id == Walk.id)
        .where(Walk.starts_at >= _moment(scope.start), Walk.starts_at < _moment(scope.end + timedelta(days=1)),
               Stop.safety_rating.is_not(None),
               *( [Walk.id == scope.walk_id] if scope.walk_id is not None else []))
    ).one())


def safety(made_: dict, stops: tuple) -> safety_index.SafetyIndex:
    """The index from the ratings at observations (made()) and at stops (stop_ratings())."""
    stop_n, stop_total, stop_squares = stops
    return safety_index.from_sums(made_["rated"] + stop_n, float(made_["rating_sum"] + stop_total),
                                  float(made_["rating_squares"] + stop_squares))


def monthly_index(scope: Scope, months: int = 12) -> list[tuple[str, safety_index.SafetyIndex]]:
    """The index per calendar month up to the scope's end (one GROUP BY)."""
    first = _months_back(scope, months)
    trend_scope = replace(scope, start=first)
    if db.engine.dialect.name == "postgresql":
        month = func.to_char(func.date_trunc("month", func.timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"],
                                                                    Observation.created_at)), "YYYY-MM")
    else:  # SQLite stores 'YYYY-MM-DD HH:MM:SS' in UTC; the month is its first 7 characters
        month = func.substr(Observation.created_at, 1, 7)
    rating = Observation.safety_rating
    rows = dict((m, (n, t, s)) for m, n, t, s in db.session.execute(
        select(month, func.count(rating), func.sum(rating), func.sum(rating * rating))
        .where(_where(trend_scope), rating.is_not(None)).group_by(month)))
    result, cursor = [], first
    while cursor <= scope.end:
        key = cursor.strftime("%Y-%m")
        n, t, s = rows.get(key, (0, 0, 0))
        result.append((key, safety_index.from_sums(n, float(t or 0), float(s or 0))))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return result


def hotspots(scope: Scope, made_: dict) -> list[dict]:
    """Counts on the hotspot grid (grid.py) over the scope's area, or over the extent of its items
    (from made())."""
    dialect = db.engine.dialect.name
    if scope.bbox:
        k = grid.size_for_box(scope.bbox)
    elif made_["south"] is None:
        return []
    else:
        extent = [grid.index(made_[key], per_degree, grid.EXTENT_LEVEL) for key, per_degree in
                  (("south", LAT), ("west", LON), ("north", LAT), ("east", LON))]
        k = grid.size_for_extent(*extent)
    gy = grid.index_sql(Observation.lat, LAT, k, dialect)
    gx = grid.index_sql(Observation.lon, LON, k, dialect)
    rows = db.session.execute(select(gy, gx, func.count()).where(_where(scope)).group_by(gy, gx))
    return grid.cells(k, {(int(y), int(x)): n for y, x, n in rows})


def year_earlier(scope: Scope) -> Scope:
    """The same dates a year before (29 February falls back to the 28th)."""
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)
    return replace(scope, start=back(scope.start), end=back(scope.end), share=None)


def _counted(scope: Scope, period: Scope) -> dict:
    """Items made in `period` (within the scope's area and filters) by category and by source: one
    range, with the planner hint scaled from the scope's share to the period's length."""
    share = None if scope.share is None else min(1.0, scope.share * ((period.end - period.start).days + 1)
                                                  / ((scope.end - scope.start).days + 1))
    period = replace(scope, start=period.start, end=period.end, share=share)
    category, source = unindexed(Observation.category_id), unindexed(Observation.source)
    result = {"categories": {}, "sources": {}, "total": 0}
    for category_id, source_, n in db.session.execute(
            select(category, source, func.count()).where(_where(period)).group_by(category, source)):
        result["categories"][category_id] = result["categories"].get(category_id, 0) + n
        result["sources"][source_] = result["sources"].get(source_, 0) + n
        result["total"] += n
    return result


def comparison(scope: Scope) -> dict:
    """Items made in the previous period and in the same period a year earlier, by category and by
    source: {"previous"|"year_earlier": {"categories": {id: n}, "sources": {source: n}, "total": n,
    "period": (first, last)}}. A year's period has the same dates for both: counted once."""
    before, year = scope.previous(), year_earlier(scope)
    previous = _counted(scope, before)
    earlier = dict(previous) if (year.start, year.end) == (before.start, before.end) else _counted(scope, year)
    return {"previous": previous | {"period": (before.start, before.end)},
            "year_earlier": earlier | {"period": (year.start, year.end)}}


def clock(scope: Scope) -> tuple[list[int], list[int]]:
    """Items made in the period by local hour (24 counts) and ISO weekday (7 counts, Monday first).

    The database groups by the UTC hour (at most 24 × days groups, one scan, no date parsing per row);
    each group's local hour and weekday follow in Python, with the zone's own daylight saving time."""
    if db.engine.dialect.name == "postgresql":
        hour = func.date_trunc("hour", Observation.created_at)
    else:  # 'YYYY-MM-DD HH' of the stored UTC text
        hour = func.substr(Observation.created_at, 1, 13)
    hours, weekdays = [0] * 24, [0] * 7
    zone = local_zone()
    for at, n in db.session.execute(select(hour, func.count()).where(_where(scope)).group_by(hour)):
        if isinstance(at, str):
            at = datetime.fromisoformat(at + ":00").replace(tzinfo=timezone.utc)
        elif at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        local = at.astimezone(zone)
        hours[local.hour] += n
        weekdays[local.isoweekday() - 1] += n
    return hours, weekdays


def _months_back(scope: Scope, months: int = 12) -> date:
    return (scope.end.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)


def made_and_breakdown(scope: Scope) -> tuple[dict, tuple[list, list]]:
    """made() and breakdown() from breakdown's one GROUP BY (the report's pass): each group's count,
    ratings and extent, summed here over the few groups."""
    category, source = unindexed(Observation.category_id), unindexed(Observation.source)
    rating = Observation.safety_rating
    counts = (select(category.label("category_id"), source.label("source"), func.count().label("n"),
                     func.count(rating).label("rated"), func.coalesce(func.sum(rating), 0).label("total"),
                     func.coalesce(func.sum(rating * rating), 0).label("squares"),
                     func.min(Observation.lat).label("south"), func.min(Observation.lon).label("west"),
                     func.max(Observation.lat).label("north"), func.max(Observation.lon).label("east"))
              .where(_where(scope)).group_by(category, source).subquery())
    rows = db.session.execute(
        select(Category.id, Category.name_sv, Category.name_en, Category.colour, counts.c.source, counts.c.n,
               counts.c.rated, counts.c.total, counts.c.squares, counts.c.south, counts.c.west, counts.c.north,
               counts.c.east)
        .join(counts, counts.c.category_id == Category.id)
    ).all()
    made_ = {"new": 0, "rated": 0, "rating_sum": 0, "rating_squares": 0,
             "south": None, "west": None, "north": None, "east": None}
    categories, sources = {}, {}
    for (category_id, name_sv, name_en, colour, source_, n, rated, total, squares,
         south, west, north, east) in rows:
        made_["new"] += n
        made_["rated"] += rated
        made_["rating_sum"] += total
        made_["rating_squares"] += squares
        for key, value, pick in (("south", south, min), ("west", west, min), ("north", north, max), ("east", east, max)):
            made_[key] = value if made_[key] is None else pick(made_[key], value)
        categories.setdefault(category_id, [name_sv, name_en, colour, 0])[3] += n
        sources[source_] = sources.get(source_, 0) + n
    largest_first = lambda row: (-row[-1], row[0])  # noqa: E731
    return made_, (sorted(map(tuple, categories.values()), key=largest_first),
                   sorted(sources.items(), key=largest_first))


def backlog_and_compared(scope: Scope, today: date) -> tuple[dict, dict]:
    """backlog() and comparison() from backlog's own scan (the report's pass on PostgreSQL, whose hash
    aggregation groups every item by category and source at little more than backlog's cost; SQLite
    sorts them all, which costs more than the separate comparison)."""
    problem = Observation.kind == Kind.problem
    before, year = replace(scope.previous(), share=None), year_earlier(scope)
    category, source = unindexed(Observation.category_id), unindexed(Observation.source)
    rows = db.session.execute(select(
        category, source,
        func.count().filter(and_(problem, Observation.status.in_(UNRESOLVED),
                                 Observation.created_at < _moment(scope.end + timedelta(days=1)))),
        func.count().filter(and_(problem, _overdue(today))),
        func.count().filter(_in_period(Observation.created_at, before)),
        func.count().filter(and_(problem, _in_period(Observation.fixed_at, before))),
        func.count().filter(_in_period(Observation.created_at, year)),
    ).where(_where(scope, dated=False)).group_by(category, source))
    backlog_ = {"open": 0, "overdue": 0, "previous_new": 0, "previous_fixed": 0}
    comparison_ = {k: {"categories": {}, "sources": {}, "total": 0} for k in ("previous", "year_earlier")}
    for category_id, source_, open_, overdue, n_before, fixed_before, n_year in rows:
        for k, n in (("open", open_), ("overdue", overdue), ("previous_new", n_before), ("previous_fixed", fixed_before)):
            backlog_[k] += n
        for k, n in (("previous", n_before), ("year_earlier", n_year)):
            if n:
                part = comparison_[k]
                part["categories"][category_id] = part["categories"].get(category_id, 0) + n
                part["sources"][source_] = part["sources"].get(source_, 0) + n
                part["total"] += n
    comparison_["previous"]["period"] = (before.start, before.end)
    comparison_["year_earlier"]["period"] = (year.start, year.end)
    return backlog_, comparison_


def hourly(scope: Scope, months: int = 12) -> tuple[list, tuple[list[int], list[int]]]:
    """monthly_index() and clock() from one scan grouped by the UTC hour (the report's pass): each
    group's local month, hour and weekday follow in Python, with the zone's daylight saving time."""
    first = _months_back(scope, months)
    wide = replace(scope, start=min(first, scope.start))
    if db.engine.dialect.name == "postgresql":
        hour = func.date_trunc("hour", Observation.created_at)
    else:
        hour = func.substr(Observation.created_at, 1, 13)
    rating = Observation.safety_rating
    zone = local_zone()
    months_ = {}
    hours, weekdays = [0] * 24, [0] * 7
    start, end = _moment(scope.start), _moment(scope.end + timedelta(days=1))
    for at, n, rated, total, squares in db.session.execute(
            select(hour, func.count(), func.count(rating), func.sum(rating), func.sum(rating * rating))
            .where(_where(wide)).group_by(hour)):
        if isinstance(at, str):
            at = datetime.fromisoformat(at + ":00").replace(tzinfo=timezone.utc)
        elif at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        local = at.astimezone(zone)
        if local.date() >= first and rated:
            sums = months_.setdefault(local.strftime("%Y-%m"), [0, 0, 0])
            sums[0] += rated
            sums[1] += total or 0
            sums[2] += squares or 0
        if start <= at < end:
            hours[local.hour] += n
            weekdays[local.isoweekday() - 1] += n
    trend, cursor = [], first
    while cursor <= scope.end:
        n, t, sq = months_.get(cursor.strftime("%Y-%m"), (0, 0, 0))
        trend.append((cursor.strftime("%Y-%m"), safety_index.from_sums(n, float(t), float(sq))))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return trend, (hours, weekdays)


def lagesbild(scope: Scope, today: date, report: bool = False) -> dict:
    """Every figure of the dashboard. The queries are independent and run side by side; only the
    hotspot grid waits, for the extent of the period's items.

    With `report`, also what the lägesbild report adds (the previous period and the same period a year
    earlier by category and source, in place of the dashboard's "previous"; time of day and weekday) in
    the same pass, with as many scans of the period as the dashboard: the period's counts and ratings
    come from the breakdown's GROUP BY, the monthly index and the clock from one GROUP BY by hour, which
    frees a scan for the earlier periods."""
    if summary_stats.serves(scope):
        return from_summaries(scope, today, report)
    scope = with_share(scope, today)
    parallel.release_connection()
    queries = [
        ("fixes", fixes, scope), ("fixes_by_organisation", fixes, scope, True),
        ("backlog", backlog, scope, today), ("workload", workload, scope, today), ("stops", stop_ratings, scope),
    ]
    if report:
        queries = [("made_and_breakdown", made_and_breakdown, scope)] + queries + [("hourly", hourly, scope)]
        if db.engine.dialect.name == "postgresql":
            queries = [q for q in queries if q[0] != "backlog"] + [("backlog", backlog_and_compared, scope, today)]
        else:
            queries.append(("comparison", comparison, scope))
    else:
        queries = [("made", made, scope), ("breakdown", breakdown, scope)] + queries + [
            ("trend", monthly_index, scope)]
    pending = {name: parallel.submit(function, *args) for name, function, *args in queries}
    if report:
        made_, done_breakdown = pending.pop("made_and_breakdown").result()
    else:
        made_ = pending.pop("made").result()
    grid = parallel.submit(hotspots, scope, made_)
    done = {name: future.result() for name, future in pending.items()}
    if report:
        if isinstance(done["backlog"], tuple):
            done["backlog"], done["comparison"] = done["backlog"]
        done["breakdown"] = done_breakdown
        done["trend"], clock_ = done.pop("hourly")
        extra = {"comparison": done["comparison"], "clock": clock_}
    else:
        extra = {"previous": {"new": done["backlog"]["previous_new"], "fixed": done["backlog"]["previous_fixed"]}}
    categories, sources = done["breakdown"]
    return extra | {
        "figures": figures(made_, done["fixes"], done["backlog"]),
        "categories": categories,
        "sources": sources,
        "organisations": action_tracker(done["workload"], done["fixes_by_organisation"]),
        "index": safety(made_, done["stops"]),
        "trend": done["trend"],
        "hotspots": grid.result(),
    }


def from_summaries(scope: Scope, today: date, report: bool = False) -> dict:
    """lagesbild() from the summary tables (summary_stats.py): the same figures, read per day × group.
    The stops' ratings (a few per walk) are read as in lagesbild().

    The report reads each number once: the period's counts come with the clock, its categories and
    sources with the earlier periods'; it has no "previous" (its comparison says more)."""
    queries = [("fixes", summary_stats.fixes, scope), ("workload", summary_stats.workload, scope, today),
               ("stops", stop_ratings, scope), ("trend", summary_stats.monthly_index, scope, _months_back(scope)),
               ("hotspots", summary_stats.hotspots, scope), ("backlog", summary_stats.backlog, scope, today, not report)]
    if report:
        queries += [("made_and_clock", summary_stats.clock_and_made, scope),
                    ("groups", summary_stats.breakdown_and_comparison, scope, year_earlier(scope))]
    else:
        queries += [("made", summary_stats.made, scope), ("breakdown", summary_stats.breakdown, scope)]
    parallel.release_connection()
    pending = {name: parallel.submit(function, *args) for name, function, *args in queries}
    done = {name: future.result() for name, future in pending.items()}
    if report:
        done["made"], clock_ = done.pop("made_and_clock")
        done["breakdown"], comparison_ = done.pop("groups")
        extra = {"comparison": comparison_, "clock": clock_}
    else:
        extra = {"previous": {"new": done["backlog"]["previous_new"], "fixed": done["backlog"]["previous_fixed"]}}
    done["fixes"], done["fixes_by_organisation"] = done["fixes"]
    categories, sources = done["breakdown"]
    return extra | {
        "figures": figures(done["made"], done["fixes"], done["backlog"]),
        "categories": categories,
        "sources": sources,
        "organisations": action_tracker(done["workload"], done["fixes_by_organisation"]),
        "index": safety(done["made"], done["stops"]),
        "trend": done["trend"],
        "hotspots": done["hotspots"],
    }
