"""Changes made from an item's page: workflow moves, showing it or a photo publicly, a coordinator's
edit; each checked against the version the user saw, so that a concurrent change becomes a Conflict
shown with the user's input kept. The inbox's bulk moves (triage) build their moves with move_input."""
from __future__ import annotations

from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import photos, policy, workflow
from ..extensions import db
from ..models import Category, Event, EventKind, Observation, Organisation, PhotoStage, Priority
from ..workflow import Action, MoveInput, WorkflowError
from .service import nearby


class Conflict(Exception):
    """The item changed since the user loaded it."""

    def __init__(self, obs: Observation):
        super().__init__(obs.id)
        self.obs = obs


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
        photos.save_photos(obs, list(after_photos), user, stage=PhotoStage.after)
        db.session.commit()
    return event


def set_public(user, obs: Observation, public: bool, with_photos: bool = False) -> Event | None:
    """Show or hide the item on the public pages: sets (never flips) the wanted state, so two
    coordinators pressing "Hide" at once both hide it. A change is recorded in the history; a
    press that finds the item already so changes nothing. A concurrent change of the item is
    read again and the wanted state set on top of it."""
    for attempt in range(3):
        shown = [p for p in obs.photos if policy.can_publish_photo(p)] if with_photos else []
        event = workflow.set_public(user, obs, public, shown)
        try:
            db.session.commit()
            return event
        except StaleDataError:
            db.session.rollback()
            obs = db.session.get(Observation, obs.id, populate_existing=True)
    raise Conflict(obs)


class PhotoNeedsReview(Exception):
    """The photo may show people (or is still being checked) and no one has reviewed it."""

    def __init__(self, photo):
        super().__init__(photo.id)
        self.message = (_("This photo may show people: redact it, or confirm that no person can be "
                          "identified, before making it public.") if photo.faces_checked_at is not None
                        else _("The photo is still being checked for people; try again in a moment."))


def set_photo_public(user, photo, public: bool) -> Event | None:
    if public and not policy.can_publish_photo(photo):
        raise PhotoNeedsReview(photo)
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
    event = Event(observation=obs, actor=user, action=EventKind.edited, data=changes)
    db.session.add(event)
    commit_or_conflict(obs)
    return event


def duplicate_candidates(obs: Observation, radius_m: float = 150, limit: int = 10):
    """Open items near this one (any category), nearest first, for 'mark as duplicate'."""
    return nearby(obs.lat, obs.lon, radius_m, Observation.id != obs.id)[:limit]

