"""Coordinator triage: the inbox query, moves from forms, bulk moves, edits, conflicts."""
from __future__ import annotations

from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import case, func, nulls_last, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import photos, policy, workflow
from ..extensions import db
from ..models import Category, Event, Observation, Organisation, PhotoStage, Priority, Status
from ..observations.service import distance_m
from ..situation import summary_stats
from ..workflow import OPEN, Action, MoveInput, WorkflowError

PAGE_SIZE = 50
SORTS = {
    "newest": (Observation.created_at.desc(), Observation.id.desc()),
    "oldest": (Observation.created_at.asc(), Observation.id.asc()),
    "due": (nulls_last(Observation.due_date.asc()), Observation.id.asc()),
    "priority": (case({Priority.high: 0, Priority.normal: 1, Priority.low: 2},
                      value=Observation.priority, else_=3), Observation.id.asc()),
    "status": (Observation.status.asc(), Observation.id.asc()),
}


class Conflict(Exception):
    """The item changed since the user loaded it."""

    def __init__(self, obs: Observation):
        super().__init__(obs.id)
        self.obs = obs


def inbox(user, filters, sort: str, page: int):
    base = filters.apply(select(Observation).where(policy.visible_observations(user)))
    query = (base.options(db.joinedload(Observation.category), db.joinedload(Observation.organisation),
                          db.joinedload(Observation.walk), db.selectinload(Observation.photos))
             .order_by(*SORTS.get(sort, SORTS["newest"]))
             .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return db.session.scalars(query).unique().all(), count(user, filters)


def count(user, filters) -> int:
    dimension = summary_stats.inbox_dimension(user, filters)
    if dimension is not None:
        return summary_stats.count(filters, dimension)
    return db.session.scalar(filters.apply(
        select(func.count()).select_from(Observation).where(policy.visible_observations(user))))


def status_counts(user, filters) -> dict[Status, int]:
    """Counts per state for the current filters (ignoring the status filter itself): from the summary
    tables when they can answer (summary_stats.inbox_dimension), else per item."""
    dimension = summary_stats.inbox_dimension(user, filters)
    if dimension is not None:
        return summary_stats.status_counts(filters, dimension)
    query = filters.apply(
        select(Observation.status, func.count()).where(policy.visible_observations(user)), with_status=False
    ).group_by(Observation.status)
    counts = dict(db.session.execute(query).all())
    return {status: counts.get(status, 0) for status in Status}


def check_version(obs: Observation, version: int | None) -> None:
    if version is None or version != obs.version:
        raise Conflict(obs)


def last_change(obs: Observation) -> Event | None:
    return db.session.scalar(
        select(Event).where(Event.observation_id == obs.id).order_by(Event.created_at.desc(), Event.id.desc()).limit(1)
    )


@contextmanager
def conflicts_as_409(obs: Observation):
    """A concurrent write that slipped in between the version check and this request's own write
    (seen at any flush inside the block: the move's notifications flush early, or at commit) is
    rolled back and becomes a Conflict, shown as the 409 page with the user's input kept.

    IntegrityError counts too: two requests adding the same unique row at once (a follower carried
    over by two duplicate merges) is the same race seen from another side.
    """
    obs_id = obs.id
    try:
        yield
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise Conflict(db.session.get(Observation, obs_id)) from None


def commit_or_conflict(obs: Observation) -> None:
    """Commit; a concurrent write that slipped in between becomes a Conflict."""
    with conflicts_as_409(obs):
        db.session.commit()


def move_input(form) -> MoveInput:
    organisation = db.session.get(Organisation, form.organisation_id.data) if form.organisation_id.data else None
    priority = Priority(form.priority.data) if form.priority.data else None
    due = form.due_date.data or (workflow.default_due_date(priority) if priority else None)
    duplicate_of = None
    if getattr(form, "duplicate_of", None) is not None and form.duplicate_of.data:
        duplicate_of = db.session.get(Observation, form.duplicate_of.data)
    return MoveInput(
        reason=form.reason.data or "", comment=getattr(form, "comment", None) and form.comment.data or "",
        public=bool(getattr(form, "public", None) and form.public.data),
        organisation=organisation, priority=priority, due_date=due, duplicate_of=duplicate_of,
    )


def move_from_form(user, obs: Observation, form, after_photos=()) -> Event:
    """One move from the item page; an after-photo is stored with a 'fix' in the same commit."""
    check_version(obs, form.version.data)
    data = move_input(form)
    if data.duplicate_of is not None and not policy.can_view_observation(user, data.duplicate_of):
        raise WorkflowError({"duplicate_of": [_("Unknown item.")]})
    if form.duplicate_of.data and data.duplicate_of is None:
        raise WorkflowError({"duplicate_of": [_("Unknown item.")]})
    with conflicts_as_409(obs):
        event = workflow.move(user, obs, Action(form.action.data), data)
        if after_photos:
            photos.save_photos(obs, list(after_photos), user, stage=PhotoStage.after)
        else:
            db.session.commit()
    return event


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


def set_public(user, obs: Observation, public: bool) -> Event | None:
    """Show or hide the item on the public pages: sets (never flips) the wanted state, so two
    coordinators pressing "Hide" at once both hide it. A change is recorded in the history; a
    press that finds the item already so changes nothing. A concurrent change of the item is
    read again and the wanted state set on top of it."""
    for attempt in range(3):
        event = workflow.set_public(user, obs, public)
        try:
            db.session.commit()
            return event
        except StaleDataError:
            db.session.rollback()
            obs = db.session.get(Observation, obs.id, populate_existing=True)
    raise Conflict(obs)


def set_photo_public(user, photo, public: bool) -> Event | None:
    event = workflow.set_photo_public(user, photo, public)
    db.session.commit()
    return event


def edit_from_form(user, obs: Observation, form) -> Event | None:
    """A coordinator's edit of category, place or description, recorded as an Event."""
    check_version(obs, form.version.data)
    category = db.session.scalar(select(Category).filter_by(code=form.category.data))
    changes = {}
    new = {"category": category.code, "lat": form.lat.data, "lon": form.lon.data,
           "description": (form.description.data or "").strip()}
    old = {"category": obs.category.code, "lat": obs.lat, "lon": obs.lon, "description": obs.description}
    for key in new:
        if new[key] != old[key]:
            changes[key] = [old[key], new[key]]
    if not changes:
        return None
    obs.category, obs.kind = category, category.kind
    obs.lat, obs.lon, obs.description = form.lat.data, form.lon.data, new["description"]
    event = Event(observation=obs, actor=user, action="edited", data=changes)
    db.session.add(event)
    commit_or_conflict(obs)
    return event


def duplicate_candidates(obs: Observation, radius_m: float = 150, limit: int = 10):
    """Open items near this one (any category), nearest first, for 'mark as duplicate'."""
    dlat = radius_m / 111_320
    dlon = radius_m / 55_000  # generous at Swedish latitudes
    rows = db.session.scalars(
        select(Observation).where(
            Observation.id != obs.id, Observation.status.in_(OPEN),
            Observation.lat.between(obs.lat - dlat, obs.lat + dlat),
            Observation.lon.between(obs.lon - dlon, obs.lon + dlon),
        ).options(db.joinedload(Observation.category))
    ).unique().all()
    found = sorted(((o, distance_m(obs.lat, obs.lon, o.lat, o.lon)) for o in rows), key=lambda p: p[1])
    return [(o, d) for o, d in found if d <= radius_m][:limit]

