"""One way in: every new observation (report page, JSON API, Open311, import) is checked and written here.

Each way in turns its request into :class:`NewObservation` values and shows :func:`problems` in its own
format (form messages, JSON errors, Open311 <errors>, import row errors); the rules and the limits
(walkapp/inputs.py) are the same for all. :func:`create` writes the items, their first history entry,
followers and photos; the caller commits.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import insert

from .. import inputs, personal_data, photos, summaries
from ..extensions import db
from ..models import (
    Category, Event, EventKind, Follower, Kind, Observation, Organisation, Priority, Source, Status, User, Walk, utcnow,
)


class InvalidInput(Exception):
    """Field errors, as {field: [messages]}; nothing has been written."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class NewObservation:
    """An observation to be made, in plain values (None where the sender gave nothing usable)."""

    category: Category | None
    lat: float | None
    lon: float | None
    source: Source
    description: str = ""
    kind: Kind | None = None  # the category's kind when not given
    reporter: User | None = None
    actor: User | None = None  # who the first history entry names (the reporter, the importer, nobody)
    walk: Walk | None = None
    accuracy_m: float | None = None
    safety_rating: int | None = None
    address: str = ""
    source_detail: str = ""
    external_id: str | None = None
    client_key: str | None = None
    organisation: Organisation | None = None
    priority: Priority | None = None
    due_date: date | None = None
    created_at: datetime | None = None  # when it was seen, if earlier than now (imports)
    action: EventKind = EventKind.reported
    event_data: dict | None = None
    follower_email: str | None = None
    follower_locale: str = "sv"
    photos: list[photos.ProcessedPhoto] = field(default_factory=list)

    def __post_init__(self):
        self.description = (self.description or "").strip()
        self.address = (self.address or "").strip()


def _on_globe(value: float | None, bound: int) -> bool:
    return value is not None and math.isfinite(value) and -bound <= value <= bound


def problems(new: NewObservation) -> dict[str, list[str]]:
    """What is wrong with the item, as {field: [messages]}; empty when it may be created."""
    found: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        found.setdefault(name, []).append(message)

    if new.category is None:
        refuse("category", _("Choose a category."))
    if new.lat is None or new.lon is None:
        refuse("lat", _("Choose a place on the map."))
    else:
        if not _on_globe(new.lat, 90):
            refuse("lat", _("The latitude must be a number between -90 and 90."))
        if not _on_globe(new.lon, 180):
            refuse("lon", _("The longitude must be a number between -180 and 180."))
    if new.accuracy_m is not None and not 0 <= new.accuracy_m <= inputs.ACCURACY_MAX_M:
        refuse("accuracy", _("The value is out of range."))
    if new.safety_rating is not None and not inputs.RATING_MIN <= new.safety_rating <= inputs.RATING_MAX:
        refuse("rating", _("Choose 1–10."))
    for name, text, limit in (("description", new.description, inputs.DESCRIPTION_MAX),
                              ("address", new.address, inputs.ADDRESS_MAX),
                              ("source_detail", new.source_detail, inputs.SOURCE_DETAIL_MAX),
                              ("external_id", new.external_id or "", inputs.EXTERNAL_ID_MAX)):
        if len(text) > limit:
            refuse(name, _("The text is longer than %(n)d characters.", n=limit))
    return found


def _row(new: NewObservation, now: datetime) -> dict:
    return {
        "lat": new.lat, "lon": new.lon, "accuracy_m": new.accuracy_m, "category_id": new.category.id,
        "kind": new.kind or new.category.kind, "description": new.description, "address": new.address,
        "may_hold_personal_data": personal_data.looks_personal(new.description),
        "source": new.source, "source_detail": new.source_detail, "external_id": new.external_id or None,
        "client_key": new.client_key or None, "reporter_id": new.reporter.id if new.reporter else None,
        "walk_id": new.walk.id if new.walk else None, "safety_rating": new.safety_rating,
        "status": Status.new, "organisation_id": new.organisation.id if new.organisation else None,
        "priority": new.priority, "due_date": new.due_date, "is_public": False, "version": 1,
        "created_at": new.created_at or now, "updated_at": now,
    }


def _first_event(obs_id: int, new: NewObservation, now: datetime) -> dict:
    return {
        "observation_id": obs_id, "actor_id": new.actor.id if new.actor else None, "created_at": now,
        "action": EventKind(new.action).value, "from_status": None, "to_status": Status.new, "comment": "",
        "data": new.event_data,
    }


def create(items: Sequence[NewObservation]) -> list[int]:
    """Check every item, then write them, their first history entries, followers and photos.

    All rows go in a few bulk INSERTs (an import of ten thousand rows takes about a second). The
    caller commits; photo files written here are removed if the transaction does not commit
    (photos.save_photos). Raises InvalidInput for the first item with problems, before writing.
    """
    for new in items:
        found = problems(new)
        if found:
            raise InvalidInput(found)
    if not items:
        return []
    now = utcnow()
    ids = db.session.scalars(insert(Observation).returning(Observation.id, sort_by_parameter_order=True),
                             [_row(new, now) for new in items]).all()
    db.session.execute(insert(Event), [_first_event(obs_id, new, now) for obs_id, new in zip(ids, items)])
    followers = [{"observation_id": obs_id, "email": new.follower_email, "locale": new.follower_locale,
                  "created_at": now} for obs_id, new in zip(ids, items) if new.follower_email]
    if followers:
        db.session.execute(insert(Follower), followers)
    summaries.add_inserted(ids)  # the bulk INSERT bypassed the session's flush hooks
    for obs_id, new in zip(ids, items):
        if new.photos:
            photos.save_photos(db.session.get(Observation, obs_id), new.photos, new.reporter)
    return ids
