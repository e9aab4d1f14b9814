"""Coordinator triage: the inbox query and bulk moves (an item's own page is observations')."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, func, nulls_last, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import policy, workflow
from ..extensions import db
from ..models import Observation, Priority, Status
from ..observations.changes import move_input
from ..observations.filters import ObservationFilter
from ..situation import summary_stats
from ..workflow import Action, WorkflowError

PAGE_SIZE = 50
SORTS = {
    "newest": (Observation.created_at.desc(), Observation.id.desc()),
    "oldest": (Observation.created_at.asc(), Observation.id.asc()),
    "due": (nulls_last(Observation.due_date.asc()), Observation.id.asc()),
    "priority": (case({Priority.high: 0, Priority.normal: 1, Priority.low: 2},
                      value=Observation.priority, else_=3), Observation.id.asc()),
    "status": (Observation.status.asc(), Observation.id.asc()),
}


# A page sorted by time whose filters match at least this share of all items is read along the time
# index (see _by_time); below it, the status index and a sort of the few rows is faster.
TIME_INDEX_SHARE = 0.05


def inbox(user, filters, sort: str, page: int):
    """A page of items, how many match, and the counts per state the tabs show (the status filter
    aside): the total is the counts of the chosen states, so the items are counted once."""
    dimension = summary_stats.inbox_dimension(user, filters)
    counts = _status_counts(user, filters, dimension)
    total = filters.matching(counts)
    by_time = sort in ("newest", "oldest") and _by_time(dimension, total)
    base = filters.apply(select(Observation).where(policy.visible_observations(user)), status_index=not by_time)
    query = (base.options(db.joinedload(Observation.category), db.joinedload(Observation.organisation),
                          db.joinedload(Observation.walk), db.selectinload(Observation.photos))
             .order_by(*SORTS.get(sort, SORTS["newest"]))
             .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return db.session.scalars(query).unique().all(), total, counts


def _by_time(dimension, matching: int) -> bool:
    """Whether SQLite should walk the created_at index for this page, not the status index.

    SQLite keeps no statistics of how states spread, so for "the open items, newest first" it picks the
    status index and sorts every open item (65 ms at 100k), where walking the time index stops after a
    page (1 ms). That is right only when the filters match a fair share of the items; the counts from the
    summary tables (`dimension` is how they can count these filters, None when they cannot) say whether
    they do. (PostgreSQL's planner knows this from its statistics.)"""
    if db.engine.dialect.name != "sqlite" or dimension is None:
        return False
    everything = sum(summary_stats.status_counts(ObservationFilter(), ("all", [""])).values())
    return everything > 0 and matching >= TIME_INDEX_SHARE * everything


def count(user, filters) -> int:
    dimension = summary_stats.inbox_dimension(user, filters)
    if dimension is not None:
        return summary_stats.count(filters, dimension)
    return db.session.scalar(filters.apply(
        select(func.count()).select_from(Observation).where(policy.visible_observations(user))))


def _status_counts(user, filters, dimension) -> dict[Status, int]:
    """Counts per state for the filters (ignoring the status filter itself): from the summary tables when
    they can answer (`dimension` from summary_stats.inbox_dimension), else per item."""
    if dimension is not None:
        return summary_stats.status_counts(filters, dimension)
    query = filters.apply(
        select(Observation.status, func.count()).where(policy.visible_observations(user)), with_status=False
    ).group_by(Observation.status)
    counts = dict(db.session.execute(query).all())
    return {status: counts.get(status, 0) for status in Status}


def bulk_move(user, ids: list[int], form) -> int:
    """All or nothing: every selected item gets its own Event, or none changes."""
    action = Action(form.action.data)
    items = db.session.scalars(
        select(Observation).where(Observation.id.in_(ids), policy.visible_observations(user))
        .options(db.joinedload(Observation.category))
    ).unique().all()
    if not items:
        raise WorkflowError({"ids": [_("Select at least one item.")]})
    refused = []
    try:
        for obs in items:
            try:
                workflow.move(user, obs, action, move_input(form))
            except WorkflowError as exc:
                if set(exc.errors) - {"action"}:  # a missing field: the same for every item
                    db.session.rollback()
                    raise
                refused.append(obs.id)
        if refused:
            db.session.rollback()
            raise WorkflowError({"ids": [_("Not possible for item(s) %(ids)s in their current state; nothing was changed.",
                                           ids=", ".join(f"#{i}" for i in refused))]})
        db.session.commit()
    except (StaleDataError, IntegrityError):  # someone moved one of them at the same moment
        db.session.rollback()
        raise WorkflowError({"ids": [_("Someone changed some of these items meanwhile; nothing was changed. "
                                       "Check the list and try again.")]}) from None
    return len(items)


