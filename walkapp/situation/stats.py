"""Figures for the lägesbild, each computed by an aggregate query in the database.

The number of queries is fixed, whatever the number of observations.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, literal, select

from ..extensions import db
from ..models import Category, Kind, Observation, Organisation, Status, Stop, Walk, floor_nonnegative
from ..observations.filters import inside
from . import safety_index

CLOSED = (Status.verified, Status.wont_fix, Status.rejected, Status.duplicate)
DONE = (Status.fixed, Status.verified)
PERIODS = ("week", "month", "tertial", "year", "custom")


@dataclass(frozen=True)
class Scope:
    start: date
    end: date  # inclusive
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    walk_id: int | None = None
    polygon: tuple[tuple[float, float], ...] | None = None  # (lon, lat) vertices of a drawn area
    night: bool | None = None  # True: 18–06 local time, False: 06–18
    weekday: int | None = None  # ISO 1..7

    def previous(self) -> "Scope":
        length = (self.end - self.start).days + 1
        return replace(self, start=self.start - timedelta(days=length), end=self.start - timedelta(days=1))


def period_bounds(period: str, today: date, start: date | None = None, end: date | None = None) -> tuple[date, date]:
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


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, _zone())


def _local(column):
    """Hour (0–23) and ISO weekday (1–7) of a timestamp in local time, per dialect."""
    if db.engine.dialect.name == "postgresql":
        local = func.timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"], column)
        return func.extract("hour", local), func.extract("isodow", local)
    # SQLite stores UTC text; a fixed offset is close enough for day/night (and is documented)
    offset = f"+{int(datetime.now(_zone()).utcoffset().total_seconds() // 3600)} hours"
    hour = func.cast(func.strftime("%H", column, offset), db.Integer)
    weekday = case((func.strftime("%w", column, offset) == "0", 7),
                   else_=func.cast(func.strftime("%w", column, offset), db.Integer))
    return hour, weekday


def _days(later, earlier):
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _where(scope: Scope, column=Observation.created_at, dated: bool = True):
    conditions = [Observation.status != Status.duplicate]
    if dated:
        conditions += [column >= _moment(scope.start), column < _moment(scope.end + timedelta(days=1))]
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


def figures(scope: Scope, today: date, full: bool = True) -> dict:
    """The headline figures in one scan (FILTER aggregates); `full=False` gives only new and fixed."""
    problem = Observation.kind == Kind.problem
    fixed_in_period = and_(_where(scope, Observation.fixed_at), problem)
    working = Observation.status.in_((Status.assigned, Status.in_progress))
    columns = [func.count().filter(_where(scope)), func.count().filter(fixed_in_period)]
    if full:
        columns += [
            func.count().filter(and_(fixed_in_period, Observation.due_date.is_not(None),
                                     func.date(Observation.fixed_at) <= Observation.due_date)),
            func.count().filter(and_(fixed_in_period, Observation.due_date.is_not(None))),
            func.count().filter(and_(problem, Observation.status.not_in(CLOSED + (Status.fixed,)),
                                     Observation.created_at < _moment(scope.end + timedelta(days=1)))),
            func.count().filter(and_(problem, working, Observation.due_date < today)),
        ]
    row = db.session.execute(select(*columns).select_from(Observation).where(_where(scope, dated=False))).one()
    result = {"new": row[0], "fixed": row[1]}
    if full:
        on_time, with_due, open_now, overdue = row[2:]
        result.update(open=open_now, overdue=overdue, median_days=median_days_to_fix(scope),
                      on_time_share=round(100 * on_time / with_due) if with_due else None)
    return result


def median_days(scope: Scope, group=None) -> dict:
    """Median days from report to fix, per group (or overall under key 0).

    PostgreSQL has percentile_cont; on SQLite the middle rows are picked with window functions.
    """
    days = _days(Observation.fixed_at, Observation.created_at).label("days")
    key = (group if group is not None else literal(0)).label("key")
    where = and_(_where(scope, Observation.fixed_at), Observation.fixed_at.is_not(None))
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(select(key, func.percentile_cont(0.5).within_group(days)).where(where).group_by(key))
    else:
        ranked = (select(key, days,
                         func.row_number().over(partition_by=key, order_by=days).label("rn"),
                         func.count().over(partition_by=key).label("c"))
                  .where(where).subquery())
        rows = db.session.execute(
            select(ranked.c.key, func.avg(ranked.c.days))
            .where(ranked.c.rn.in_([(ranked.c.c + 1) / 2, (ranked.c.c + 2) / 2]))
            .group_by(ranked.c.key))
    return {k: round(float(v), 1) for k, v in rows}


def median_days_to_fix(scope: Scope) -> float | None:
    return median_days(scope).get(0)


def by_category(scope: Scope):
    return db.session.execute(
        select(Category.name_sv, Category.name_en, Category.colour, func.count())
        .join(Observation.category).where(_where(scope))
        .group_by(Category.id, Category.name_sv, Category.name_en, Category.colour)
        .order_by(func.count().desc())
    ).all()


def by_source(scope: Scope):
    return db.session.execute(
        select(Observation.source, func.count()).where(_where(scope))
        .group_by(Observation.source).order_by(func.count().desc())
    ).all()


def action_tracker(scope: Scope, today: date) -> list[tuple]:
    """Per organisation: open, overdue, fixed in the period, median days to fix."""
    working = Observation.status.in_((Status.assigned, Status.in_progress))
    rows = db.session.execute(
        select(Organisation.id, Organisation.name,
               func.count().filter(working),
               func.count().filter(and_(working, Observation.due_date < today)),
               func.count().filter(_where(scope, Observation.fixed_at)))
        .join(Observation.organisation).where(_where(scope, dated=False))
        .group_by(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    medians = median_days(scope, Observation.organisation_id)
    return [(name, open_, overdue, fixed, medians.get(org_id)) for org_id, name, open_, overdue, fixed in rows]


def safety(scope: Scope) -> safety_index.SafetyIndex:
    rating = Observation.safety_rating
    n, total, squares = db.session.execute(
        select(func.count(rating), func.coalesce(func.sum(rating), 0), func.coalesce(func.sum(rating * rating), 0))
        .where(_where(scope), rating.is_not(None))
    ).one()
    stop_n, stop_total, stop_squares = db.session.execute(
        select(func.count(Stop.safety_rating), func.coalesce(func.sum(Stop.safety_rating), 0),
               func.coalesce(func.sum(Stop.safety_rating * Stop.safety_rating), 0))
        .join(Walk, Stop.walk_id == Walk.id)
        .where(Walk.starts_at >= _moment(scope.start), Walk.starts_at < _moment(scope.end + timedelta(days=1)),
               Stop.safety_rating.is_not(None),
               *( [Walk.id == scope.walk_id] if scope.walk_id is not None else []))
    ).one()
    return safety_index.from_sums(n + stop_n, float(total + stop_total), float(squares + stop_squares))


def monthly_index(scope: Scope, months: int = 12) -> list[tuple[str, safety_index.SafetyIndex]]:
    """The index per calendar month up to the scope's end (one GROUP BY)."""
    first = (scope.end.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    trend_scope = replace(scope, start=first)
    if db.engine.dialect.name == "postgresql":
        month = func.to_char(func.date_trunc("month", func.timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"],
                                                                    Observation.created_at)), "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", Observation.created_at)
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


def hotspots(scope: Scope, grid: int = 24) -> list[dict]:
    """Counts on a grid over the scope's area (or the items' extent)."""
    if scope.bbox:
        min_lon, min_lat, max_lon, max_lat = scope.bbox
    else:
        extent = db.session.execute(select(func.min(Observation.lon), func.min(Observation.lat),
                                           func.max(Observation.lon), func.max(Observation.lat))
                                    .where(_where(scope))).one()
        if extent[0] is None:
            return []
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in extent)
    cell_lat = max((max_lat - min_lat) / grid, 0.0005)
    cell_lon = max((max_lon - min_lon) / grid, 0.001)
    gy = floor_nonnegative((Observation.lat - min_lat) / cell_lat)
    gx = floor_nonnegative((Observation.lon - min_lon) / cell_lon)
    rows = db.session.execute(select(gy, gx, func.count()).where(_where(scope)).group_by(gy, gx))
    return [{"south": min_lat + int(y) * cell_lat, "west": min_lon + int(x) * cell_lon,
             "north": min_lat + (int(y) + 1) * cell_lat, "east": min_lon + (int(x) + 1) * cell_lon, "n": n}
            for y, x, n in rows]


def lagesbild(scope: Scope, today: date) -> dict:
    current = figures(scope, today)
    before = figures(scope.previous(), today, full=False)
    return {
        "figures": current,
        "previous": before,
        "categories": by_category(scope),
        "sources": by_source(scope),
        "organisations": action_tracker(scope, today),
        "index": safety(scope),
        "trend": monthly_index(scope),
        "hotspots": hotspots(scope),
    }


