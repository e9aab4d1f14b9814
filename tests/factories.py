"""Small builders for test data (inside an app context)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from walkapp.config import Defaults

from walkapp.extensions import db
from walkapp.models import Category, Observation, Participant, User, Walk, WalkStatus

HERE = (62.6323, 17.9379)  # Stora torget, Härnösand


def local_today() -> date:
    """The app's today (a local day in the municipality), which is not UTC's after midnight."""
    return datetime.now(ZoneInfo(Defaults.BABEL_DEFAULT_TIMEZONE)).date()


def make_walk(status=WalkStatus.ongoing, participants=(), code=None, **fields) -> Walk:
    walk = Walk(title=fields.pop("title", "Kvällsvandring"), starts_at=datetime.now(timezone.utc),
                status=status, join_code=code or f"W{db.session.scalar(db.select(db.func.count(Walk.id))) + 1}ABCD"[:6],
                meeting_lat=HERE[0], meeting_lon=HERE[1], **fields)
    for user_id in participants:
        walk.participants.append(Participant(user=db.session.get(User, user_id), role_label="resident"))
    db.session.add(walk)
    db.session.commit()
    db.session.refresh(walk)  # loaded, so its columns stay readable after the context ends
    return walk


def make_observation(reporter_id: int | None, walk: Walk | None = None, code="belysning",
                     lat=HERE[0], lon=HERE[1], **fields) -> Observation:
    category = db.session.scalar(db.select(Category).filter_by(code=code))
    obs = Observation(lat=lat, lon=lon, category=category, kind=category.kind,
                      reporter=db.session.get(User, reporter_id) if reporter_id else None,
                      walk=walk, **fields)
    db.session.add(obs)
    db.session.commit()
    db.session.refresh(obs)
    return obs


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def count_statements(app, func) -> int:
    """How many SQL statements func() runs (to show a page's query count does not grow)."""
    from sqlalchemy import event

    seen = []
    with app.app_context():
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            func()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)
