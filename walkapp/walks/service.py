"""Walks: creation, joining (guests included) and status."""
from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import limits, policy
from ..extensions import db
from ..models import Observation, Participant, Role, Stop, User, Walk, WalkStatus

# No 0/O, 1/I/L: a code read aloud or from paper must be typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_join_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(db.select(Walk.id).filter_by(join_code=code)) is None:
            return code


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def find_by_code(code: str) -> Walk | None:
    return db.session.scalar(db.select(Walk).filter_by(join_code=normalise_code(code)))


def find_by_code_limited(code: str) -> Walk | None:
    """find_by_code(), unless this client address guessed wrong too often (LimitReached); a wrong
    code is counted, so that codes cannot be guessed."""
    limits.check_code_lookup()
    walk = find_by_code(code)
    if walk is None:
        limits.count_code_failure()
        db.session.commit()
    return walk


def save_walk(walk: Walk | None, form, user) -> Walk:
    if walk is None:
        walk = Walk(join_code=new_join_code(), created_by=user)
        db.session.add(walk)
    walk.title = form.title.data.strip()
    walk.area = (form.area.data or "").strip()
    walk.starts_at = form.starts_at_utc()
    walk.meeting_point = (form.meeting_point.data or "").strip()
    walk.meeting_lat, walk.meeting_lon = form.meeting_lat.data, form.meeting_lon.data
    if walk.meeting_lat is None or walk.meeting_lon is None:
        walk.meeting_lat = walk.meeting_lon = None
    walk.status = WalkStatus(form.status.data)
    walk.follow_up_of_id = form.follow_up_of.data or None
    walk.meeting_summary = (form.meeting_summary.data or "").strip()
    stops = form.cleaned_stops
    walk.stops.clear()
    db.session.flush()  # old stops go before new ones reuse their numbers
    walk.stops.extend(
        Stop(number=n, name=s["name"], lat=s["lat"], lon=s["lon"]) for n, s in enumerate(stops, start=1)
    )
    walk.route = (
        {"type": "LineString", "coordinates": [[s["lon"], s["lat"]] for s in stops]}
        if len(stops) >= 2 else None
    )
    db.session.commit()
    return walk


class JoinRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def join(walk: Walk, user, form) -> User:
    """Add the person to the walk; someone not signed in becomes a guest walker."""
    if walk.status is WalkStatus.done:
        raise JoinRefused(_("This walk is finished."))
    if not user.is_authenticated:
        name = (form.name.data or "").strip()
        if not name:
            raise JoinRefused(_("Write your name so the others know who reported what."))
        user = User(name=name, role=Role.walker, is_guest=True)
        db.session.add(user)
    existing = db.session.scalar(db.select(Participant).filter_by(walk_id=walk.id, user_id=user.id)) if user.id else None
    if existing is None:
        db.session.add(Participant(walk=walk, user=user, role_label=form.role_label.data,
                                   email=(form.email.data or "").strip().lower() or None))
    else:
        existing.role_label = form.role_label.data
    try:
        db.session.commit()
    except IntegrityError:  # joined twice at once from two tabs
        db.session.rollback()
    return user


def has_public_items(walk: Walk) -> bool:
    """Whether the walk's public feedback page shows anything yet (a finished walk's code then leads there)."""
    return db.session.scalar(
        db.select(Observation.id).where(Observation.walk_id == walk.id, policy.shown_publicly_sql()).limit(1)
    ) is not None
