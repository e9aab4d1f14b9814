"""Summary tables: the lägesbild's and the inbox's counts kept per day × group, not per item.

Every change to an observation updates them in the same transaction, from one place: the session's
flush (before_flush reads the changed rows as the database has them, after_flush works out what to take
out of the summaries and what to put in) and its commit (before_commit writes it all, in key order, as
``INSERT … ON CONFLICT DO UPDATE SET n = n + delta``).
Bulk inserts that bypass the ORM (the CSV importer) call ``add_inserted()``; ``rebuild()`` recomputes
every table from the items (``walkapp rebuild-summaries``, and the migration that creates them).

The tables, each keyed so that its number of rows is bounded by days × groups, whatever the number of
items (items marked duplicate are left out of the first three, as the lägesbild leaves them out):

- ``summary_daily``: per local day of creation, day or night (18–06), and dimension ('all', 'category',
  'source', 'hour'): items, ratings given, their sum and sum of squares;
- ``summary_fixed``: problems per local day of their fix, day/night and weekday of their creation,
  organisation and days to fix in tenths of a day (the histogram the medians come from): how many,
  how many had a due date, and how many of those were fixed by it (local date);
- ``summary_open``: unresolved items per local day of creation, day/night, kind, status, organisation
  and due date (the due date only for items being worked on; it is what makes them overdue);
- ``summary_status``: every item per kind, status and dimension ('all', 'category', 'source',
  'organisation', 'priority', 'walk'), for the inbox's counts;
- ``summary_cell``: per local day of creation, day/night and map-grid cell at each of the grid's
  stored sizes (grid.LEVELS): items, for the lägesbild's hot spots (bounded by days × cells);
- ``summary_place``: every item per kind, status, dimension ('all', 'category') and map-grid cell at each
  stored size: how many and the sums of their coordinates (in millionths of a degree), for the maps'
  clusters (rows per cell × state, whatever the number of items).
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timezone

from flask import current_app
from sqlalchemy import BigInteger, Boolean, Date, Integer, SmallInteger, String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import grid
from .extensions import db
from .i18n import local_zone
from .models import Kind, Observation, Status
from .workflow import UNRESOLVED, WORKING

NO_DUE = date(9999, 12, 31)  # key for "no due date" (NULLs never match in a unique key)
NO_ID = 0  # key for "no organisation / walk"
MICRO = 1_000_000  # coordinates summed in millionths of a degree


class SummaryDaily(db.Model):
    __tablename__ = "summary_daily"
    # the key leads with the dimension, which every read fixes, so that a period of one dimension is one
    # range of the key (a dimension's days are not interleaved with the other dimensions')
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    night: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO 1..7 of day
    n: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_squares: Mapped[int] = mapped_column(Integer, default=0)


class SummaryFixed(db.Model):
    __tablename__ = "summary_fixed"
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local day of the fix
    night: Mapped[bool] = mapped_column(Boolean, primary_key=True)  # of the creation, as the filters
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # of the creation
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenths: Mapped[int] = mapped_column(Integer, primary_key=True)  # floor(days to fix × 10)
    n: Mapped[int] = mapped_column(Integer, default=0)
    with_due: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)


class SummaryOpen(db.Model):
    __tablename__ = "summary_open"
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local day of creation
    night: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SummaryStatus(db.Model):
    __tablename__ = "summary_status"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SummaryCell(db.Model):
    __tablename__ = "summary_cell"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # cell size, one of grid.LEVELS
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local day of creation
    night: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)  # grid.index() of the latitude
    x: Mapped[int] = mapped_column(Integer, primary_key=True)  # and of the longitude
    weekday: Mapped[int] = mapped_column(SmallInteger)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SummaryPlace(db.Model):
    __tablename__ = "summary_place"
    # key order: a map reads one level and dimension, then a range of cells
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)  # 'all' or 'category'
    value: Mapped[str] = mapped_column(String(40), primary_key=True)  # '' or the category's id
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    # sums of micro-degrees: whole numbers, so that adding and taking away leaves no rounding behind
    lat_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    lon_sum: Mapped[int] = mapped_column(BigInteger, default=0)


TABLES = (SummaryDaily, SummaryFixed, SummaryOpen, SummaryStatus, SummaryCell, SummaryPlace)
COUNTS = {SummaryDaily: ("n", "rated", "rating_sum", "rating_squares"), SummaryFixed: ("n", "with_due", "on_time"),
          SummaryOpen: ("n",), SummaryStatus: ("n",), SummaryCell: ("n",), SummaryPlace: ("n", "lat_sum", "lon_sum")}
KEYS = {table: tuple(c.name for c in table.__table__.primary_key.columns) for table in TABLES}
EXTRA = {SummaryDaily: "weekday", SummaryOpen: "weekday", SummaryCell: "weekday"}  # follows from the key's day
# The columns of an observation the summaries depend on.
COLUMNS = ("id", "created_at", "fixed_at", "status", "kind", "category_id", "source", "organisation_id",
           "priority", "walk_id", "due_date", "safety_rating", "lat", "lon")


def is_night(hour: int) -> bool:
    """The lägesbild's night: 18:00 to 06:00 local time."""
    return hour >= 18 or hour < 6


def _value(x) -> str:
    return "" if x is None else str(getattr(x, "value", x))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def contributions(row, zone) -> list[tuple]:
    """What one item adds to the summaries: (table, key, counts) tuples. `row` has COLUMNS."""
    status, kind = Status(row.status), Kind(row.kind)
    out = [(SummaryStatus, (kind.value, status.value, "all", ""), (1,))]
    for dim, value in (("category", row.category_id), ("source", row.source), ("organisation", row.organisation_id),
                       ("priority", row.priority), ("walk", row.walk_id)):
        if value is not None:
            out.append((SummaryStatus, (kind.value, status.value, dim, _value(value)), (1,)))
    micro = (1, round(row.lat * MICRO), round(row.lon * MICRO))
    for level in grid.LEVELS:
        y, x = grid.index(row.lat, grid.LAT_CELLS, level), grid.index(row.lon, grid.LON_CELLS, level)
        out.append((SummaryPlace, (level, "all", "", y, x, kind.value, status.value), micro))
        if row.category_id is not None:
            out.append((SummaryPlace, (level, "category", str(row.category_id), y, x, kind.value, status.value), micro))
    if status is Status.duplicate:
        return out
    created = _aware(row.created_at).astimezone(zone)
    day, night = created.date(), is_night(created.hour)
    rating = row.safety_rating
    rated = (1, 1, rating, rating * rating) if rating is not None else (1, 0, 0, 0)
    for dim, value in (("all", ""), ("category", row.category_id), ("source", _value(row.source)),
                       ("hour", created.hour)):
        out.append((SummaryDaily, (dim, day, night, str(value)), rated))
    for level in grid.LEVELS:
        out.append((SummaryCell, (level, day, night, grid.index(row.lat, grid.LAT_CELLS, level),
                                  grid.index(row.lon, grid.LON_CELLS, level)), (1,)))
    if kind is Kind.problem and row.fixed_at is not None:
        fixed = _aware(row.fixed_at)
        days = (fixed - _aware(row.created_at)).total_seconds() / 86400
        due = row.due_date
        out.append((SummaryFixed, (fixed.astimezone(zone).date(), night, created.isoweekday(),
                                   row.organisation_id or NO_ID, math.floor(days * 10)),
                    (1, int(due is not None), int(due is not None and fixed.astimezone(zone).date() <= due))))
    if status in UNRESOLVED:
        working = status in WORKING
        out.append((SummaryOpen, (day, night, kind.value, status.value, row.organisation_id or NO_ID,
                                  (row.due_date or NO_DUE) if working else NO_DUE), (1,)))
    return out


def _collect(rows, sign: int, deltas: dict, zone) -> None:
    for row in rows:
        for table, key, counts in contributions(row, zone):
            current = deltas[table].get(key)
            signed = tuple(sign * c for c in counts)
            deltas[table][key] = signed if current is None else tuple(a + b for a, b in zip(current, signed))


def _apply(connection, deltas: dict) -> None:
    """Add the deltas to the tables, in key order (so that concurrent writers lock rows in one order)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    for table in TABLES:
        # an edit that moves nothing between groups (a description, a photo) cancels out: no write
        changes = {key: counts for key, counts in deltas.get(table, {}).items() if any(counts)}
        if not changes:
            continue
        keys, counts = KEYS[table], COUNTS[table]
        rows = []
        for key in sorted(changes):
            row = dict(zip(keys, key)) | dict(zip(counts, changes[key]))
            if table in EXTRA:
                row[EXTRA[table]] = row["day"].isoweekday()
            rows.append(row)
        statement = insert(table.__table__)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: table.__table__.c[c] + statement.excluded[c] for c in counts})
        connection.execute(statement, rows)


def _rows(connection, ids) -> list:
    columns = [Observation.__table__.c[c] for c in COLUMNS]
    rows = []
    ids = sorted(ids)
    for start in range(0, len(ids), 500):
        rows += connection.execute(select(*columns).where(Observation.__table__.c.id.in_(ids[start:start + 500]))).all()
    return rows


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances) -> None:
    """Read the rows about to change as the database has them (what the summaries hold for them)."""
    changed = [o.id for o in session.dirty if isinstance(o, Observation) and o.id is not None
               and session.is_modified(o, include_collections=False)]
    changed += [o.id for o in session.deleted if isinstance(o, Observation) and o.id is not None]
    if changed:
        session.info.setdefault("summary_old", []).extend(_rows(session.connection(), changed))


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context) -> None:
    old = session.info.pop("summary_old", [])
    new = [o for o in list(session.new) + list(session.dirty)
           if isinstance(o, Observation) and o not in session.deleted]
    if not old and not new:
        return
    zone = local_zone()
    deltas = session.info.setdefault("summary_deltas", defaultdict(dict))
    _collect(old, -1, deltas, zone)
    seen = {row.id for row in old}
    # a new item, or a changed one whose old values were taken out above
    _collect([o for o in new if o in session.new or o.id in seen], 1, deltas, zone)


@event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    """Write the transaction's summary changes at its end, all at once and in key order.

    Written at each flush instead, two transactions that flush twice could each hold summary rows the
    other needs next (a deadlock on PostgreSQL, one save refused). Written here, a transaction takes
    its summary rows last, in one sorted batch, and waits for nothing else while holding them.
    (A savepoint's commit writes them too; no code rolls back a savepoint holding item changes.)
    """
    session.flush()  # the final flush comes after this event; its changes belong in the batch
    deltas = session.info.pop("summary_deltas", None)
    if deltas:
        _apply(session.connection(), deltas)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop("summary_old", None)
    session.info.pop("summary_deltas", None)


def add_inserted(ids) -> None:
    """Count items inserted without the ORM (bulk INSERTs), written with the transaction's other changes."""
    session = db.session()
    deltas = session.info.setdefault("summary_deltas", defaultdict(dict))
    _collect(_rows(session.connection(), ids), 1, deltas, local_zone())


def rebuild(connection=None, batch: int = 20_000) -> int:
    """Recompute every summary table from the items (in the caller's transaction: the session's, or
    the given connection's). Returns the number of items counted."""
    connection = connection if connection is not None else db.session.connection()
    for table in TABLES:
        connection.execute(table.__table__.delete())
    zone = local_zone()
    columns = [Observation.__table__.c[c] for c in COLUMNS]
    counted, last_id = 0, 0
    deltas = defaultdict(dict)  # as many entries as summary rows: bounded by days × groups
    while True:
        rows = connection.execute(select(*columns).where(Observation.__table__.c.id > last_id)
                                  .order_by(Observation.__table__.c.id).limit(batch)).all()
        if not rows:
            break
        _collect(rows, 1, deltas, zone)
        counted += len(rows)
        last_id = rows[-1].id
    _apply(connection, deltas)
    return counted


def enabled() -> bool:
    return current_app.config.get("SUMMARIES", True)
