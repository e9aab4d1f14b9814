"""The lägesbild's figures and the inbox's counts read from the summary tables (walkapp/summaries.py): rows per
day × group, so the time does not grow with the number of items.

They serve every view without a chosen map area or walk: a box, a drawn area or a walk is read item by
item (stats.py; a small part of the items, through the lat/lon and walk indexes).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select

from .. import grid, policy
from ..extensions import db
from ..models import Category, Kind, Source, Status
from ..workflow import UNRESOLVED, WORKING
from . import safety_index
from ..summaries import NO_ID, SummaryCell, SummaryDaily, SummaryFixed, SummaryOpen, SummaryStatus, enabled


def serves(scope) -> bool:
    """Whether the summaries can answer this scope (no map area, no walk)."""
    return enabled() and not scope.bbox and not scope.polygon and scope.walk_id is None


def _filters(table, scope):
    """The scope's night and weekday filters on a summary table."""
    conditions = []
    if scope.night is not None:
        conditions.append(table.night == scope.night)
    if scope.weekday is not None:
        conditions.append(table.weekday == scope.weekday)
    return conditions


def _daily(scope, first: date, last: date, *dims: str):
    return and_(SummaryDaily.dim.in_(dims), SummaryDaily.day >= first, SummaryDaily.day <= last,
                *_filters(SummaryDaily, scope))


def made(scope) -> dict:
    """As stats.made(), without the extent (the hotspot grid finds its own)."""
    t = SummaryDaily
    row = db.session.execute(select(
        func.coalesce(func.sum(t.n), 0), func.coalesce(func.sum(t.rated), 0),
        func.coalesce(func.sum(t.rating_sum), 0), func.coalesce(func.sum(t.rating_squares), 0),
    ).where(_daily(scope, scope.start, scope.end, "all"))).one()
    return {"new": int(row[0]), "rated": int(row[1]), "rating_sum": int(row[2]), "rating_squares": int(row[3])}


def hotspots(scope) -> list[dict]:
    """As stats.hotspots(): the extent from the largest cells, then the counts from the largest stored cells
    that divide the grid's, folded into the grid's cells (at most (GRID × 4)² rows per day)."""
    t = SummaryCell
    in_period = and_(t.day >= scope.start, t.day <= scope.end, t.n > 0, *_filters(t, scope))
    south, west, north, east = db.session.execute(
        select(func.min(t.y), func.min(t.x), func.max(t.y), func.max(t.x))
        .where(in_period, t.level == grid.EXTENT_LEVEL)).one()
    if south is None:
        return []
    k = grid.size_for_extent(south, west, north, east)
    level = grid.level_for(k)
    fold = k // level
    counts: dict[tuple[int, int], int] = {}
    for y, x, n in db.session.execute(select(t.y, t.x, func.sum(t.n)).where(in_period, t.level == level)
                                      .group_by(t.y, t.x)):
        cell = (y // fold, x // fold)
        counts[cell] = counts.get(cell, 0) + int(n)
    return grid.cells(k, counts)


def _by_group(scope, first: date, last: date) -> dict[str, dict[str, int]]:
    """Items by category and by source from `first` to `last`: {"category": {value: n}, "source": {...}}."""
    t = SummaryDaily
    rows = db.session.execute(
        select(t.dim, t.value, func.sum(t.n)).where(_daily(scope, first, last, "category", "source"))
        .group_by(t.dim, t.value).having(func.sum(t.n) > 0))
    result = {"category": {}, "source": {}}
    for dim, value, n in rows:
        result[dim][value] = int(n)
    return result


def _breakdown(groups: dict[str, dict[str, int]]) -> tuple[list, list]:
    """As stats.breakdown(): categories as (name_sv, name_en, colour, n), sources as (source, n)."""
    by_category, by_source = groups["category"], groups["source"]
    names = db.session.execute(select(Category.id, Category.name_sv, Category.name_en, Category.colour)
                               .where(Category.id.in_([int(k) for k in by_category]))).all()
    largest_first = lambda row: (-row[-1], row[0])  # noqa: E731
    categories = sorted(((sv, en, colour, by_category[str(id_)]) for id_, sv, en, colour in names), key=largest_first)
    sources = sorted(((Source(k), n) for k, n in by_source.items()), key=largest_first)
    return categories, sources


def breakdown(scope) -> tuple[list, list]:
    """As stats.breakdown()."""
    return _breakdown(_by_group(scope, scope.start, scope.end))


def _compared(groups: dict[str, dict[str, int]], period: tuple[date, date]) -> dict:
    categories = {int(value): n for value, n in groups["category"].items()}
    return {"categories": categories, "sources": {Source(value): n for value, n in groups["source"].items()},
            "total": sum(categories.values()), "period": period}


def breakdown_and_comparison(scope, year) -> tuple[tuple[list, list], dict]:
    """breakdown() and stats.comparison() (`year` is the same period a year earlier): the report's pass.
    One read per period, each one range of the key (a read of several periods at once, with a filtered sum
    per period, costs more on SQLite than the reads apart); a year's previous period is the year earlier."""
    before = scope.previous()
    periods = {"previous": (before.start, before.end), "year_earlier": (year.start, year.end)}
    read = {period: _by_group(scope, *period) for period in set(periods.values())}
    return breakdown(scope), {name: _compared(read[period], period) for name, period in periods.items()}


def _median_tenths(histogram: list[tuple[int, int]]) -> float | None:
    """The median of a histogram of (tenths, count): the mean of the one or two middle values."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    wanted, seen, middle = {(total + 1) // 2, (total + 2) // 2}, 0, []
    for tenths, n in sorted(histogram):
        for rank in sorted(wanted):
            if seen < rank <= seen + n:
                middle.append(tenths)
        seen += n
    return round(sum(middle) / len(middle) / 10, 1)


def fixes(scope) -> tuple[dict, dict]:
    """As stats.fixes() for all and by organisation, from one read of the histogram of tenths of days
    (the whole's histogram is the organisations' added up)."""
    t = SummaryFixed
    query = (select(t.organisation_id, t.tenths, func.sum(t.n), func.sum(t.with_due), func.sum(t.on_time))
             .where(t.day >= scope.start, t.day <= scope.end, *_filters(t, scope))
             .group_by(t.organisation_id, t.tenths))
    groups: dict = {}
    whole = {"fixed": 0, "with_due": 0, "on_time": 0, "histogram": {}}
    for organisation_id, tenths, n, with_due, on_time in db.session.execute(query):
        if not n:
            continue
        for g in (groups.setdefault(organisation_id, {"fixed": 0, "with_due": 0, "on_time": 0, "histogram": {}}), whole):
            g["fixed"] += int(n)
            g["with_due"] += int(with_due)
            g["on_time"] += int(on_time)
            g["histogram"][tenths] = g["histogram"].get(tenths, 0) + int(n)
    for g in [*groups.values(), whole]:
        g["median_days"] = _median_tenths(sorted(g.pop("histogram").items()))
    groups.pop(NO_ID, None)
    return whole, groups


def _fixed_count(scope) -> int:
    t = SummaryFixed
    return int(db.session.scalar(select(func.coalesce(func.sum(t.n), 0))
                                 .where(t.day >= scope.start, t.day <= scope.end, *_filters(t, scope))))


def backlog(scope, today: date, previous: bool = True) -> dict:
    """As stats.backlog(); without the previous period's new and fixed items when not `previous`."""
    t = SummaryOpen
    problem = t.kind == Kind.problem.value
    row = db.session.execute(select(
        func.coalesce(func.sum(t.n).filter(and_(t.status.in_([s.value for s in UNRESOLVED]), t.day <= scope.end)), 0),
        func.coalesce(func.sum(t.n).filter(and_(t.status.in_([s.value for s in WORKING]), t.due_date < today)), 0),
    ).where(problem, *_filters(t, scope))).one()
    before = scope.previous()
    result = {"open": int(row[0]), "overdue": int(row[1])}
    if previous:
        result |= {"previous_new": made(before)["new"], "previous_fixed": _fixed_count(before)}
    return result


def workload(scope, today: date) -> dict:
    """As stats.workload(): per organisation id, (open, overdue) of its items being worked on now."""
    t = SummaryOpen
    rows = db.session.execute(
        select(t.organisation_id, func.sum(t.n), func.coalesce(func.sum(t.n).filter(t.due_date < today), 0))
        .where(t.status.in_([s.value for s in WORKING]), t.organisation_id != NO_ID, *_filters(t, scope))
        .group_by(t.organisation_id).having(func.sum(t.n) > 0))
    return {org_id: (int(open_), int(overdue)) for org_id, open_, overdue in rows}


def _months(scope, first: date) -> list[str]:
    keys, cursor = [], first
    while cursor <= scope.end:
        keys.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return keys


def monthly_index(scope, first: date) -> list:
    """As stats.monthly_index(): the index per local month from `first` to the scope's end."""
    t = SummaryDaily
    sums: dict[str, list[int]] = {}
    for day, rated, total, squares in db.session.execute(
            select(t.day, t.rated, t.rating_sum, t.rating_squares).where(_daily(scope, first, scope.end, "all"))):
        month = sums.setdefault(day.strftime("%Y-%m"), [0, 0, 0])
        month[0] += rated
        month[1] += total
        month[2] += squares
    return [(key, safety_index.from_sums(*(lambda s: (s[0], float(s[1]), float(s[2])))(sums.get(key, [0, 0, 0]))))
            for key in _months(scope, first)]


def clock_and_made(scope) -> tuple[dict, tuple[list[int], list[int]]]:
    """made() and stats.clock() (items by local hour and ISO weekday) from one read: every item is counted
    under exactly one hour, so the hours add up to the period's counts and ratings."""
    t = SummaryDaily
    hours, weekdays = [0] * 24, [0] * 7
    made_ = {"new": 0, "rated": 0, "rating_sum": 0, "rating_squares": 0}
    for value, weekday, n, rated, total, squares in db.session.execute(
            select(t.value, t.weekday, func.sum(t.n), func.sum(t.rated), func.sum(t.rating_sum),
                   func.sum(t.rating_squares))
            .where(_daily(scope, scope.start, scope.end, "hour")).group_by(t.value, t.weekday)):
        hours[int(value)] += int(n)
        weekdays[weekday - 1] += int(n)
        for key, add in zip(made_, (n, rated, total, squares)):
            made_[key] += int(add)
    return made_, (hours, weekdays)


# --- the inbox ---------------------------------------------------------------------------------

_DIMENSIONS = (("categories", "category"), ("sources", "source"), ("organisation_id", "organisation"),
               ("priority", "priority"), ("walk_id", "walk"))


def inbox_dimension(user, filters):
    """(dim, values) when the summaries can count the inbox for these filters, else None: a user who
    sees every item, and filters on at most one summarised dimension (besides kind and status)."""
    if not enabled() or not policy.is_staff(user):
        return None
    if (filters.overdue or filters.date_from or filters.date_to or filters.text or filters.bbox or filters.area
            or filters.since is not None):
        return None
    chosen = [(dim, getattr(filters, attr)) for attr, dim in _DIMENSIONS if getattr(filters, attr) not in (None, [])]
    if len(chosen) > 1:
        return None
    if not chosen:
        return ("all", [""])
    dim, value = chosen[0]
    if dim == "category":
        ids = db.session.scalars(select(Category.id).where(Category.code.in_(value))).all()
        return dim, [str(i) for i in ids]
    values = value if isinstance(value, list) else [value]
    return dim, [str(getattr(v, "value", v)) for v in values]


def status_counts(filters, dimension) -> dict[Status, int]:
    """Items per state for the filters (the status filter itself ignored)."""
    dim, values = dimension
    t = SummaryStatus
    query = select(t.status, func.sum(t.n)).where(t.dim == dim, t.value.in_(values))
    if filters.kind is not None:
        query = query.where(t.kind == filters.kind.value)
    counts = {Status(s): int(n) for s, n in db.session.execute(query.group_by(t.status))}
    return {status: counts.get(status, 0) for status in Status}


def count(filters, dimension) -> int:
    return filters.matching(status_counts(filters, dimension))

