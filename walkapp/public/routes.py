"""The public feedback page of a walk: no login, an unguessable link.

Shows only what coordinators marked public: items, their public comments and
public photos; never reporters' names or internal notes.
"""
from __future__ import annotations

from flask import abort, current_app, render_template
from sqlalchemy import func, select

from .. import maps, photos, policy
from ..access import ANYONE, allow
from ..extensions import db
from ..i18n import current_language
from ..labels import STATUS
from ..models import Category, Event, Kind, Observation, Photo, Status, Visibility, Walk
from . import bp


def walk_or_404(token: str) -> Walk:
    walk = db.session.scalar(select(Walk).filter_by(public_token=token))
    if walk is None:
        abort(404)
    return walk


@bp.get("/f/<token>")
@allow(ANYONE)
def walk(token: str):
    walk = walk_or_404(token)
    counts = db.session.execute(
        select(Category, func.count(Observation.id)).join(Observation.category)
        .where(Observation.walk_id == walk.id, Observation.status.not_in(policy.NOT_SHOWN_PUBLICLY))
        .group_by(Category.id).order_by(func.count(Observation.id).desc())
    ).all()
    items = db.session.scalars(
        select(Observation).where(Observation.walk_id == walk.id, policy.shown_publicly_sql())
        .options(db.joinedload(Observation.category), db.selectinload(Observation.photos))
        .order_by(Observation.id)
    ).unique().all()
    public_events = db.session.scalars(
        select(Event).where(Event.observation_id.in_([o.id for o in items]),
                            Event.visibility == Visibility.public, Event.comment != "")
        .order_by(Event.created_at)
    ).all()
    comments: dict[int, list[Event]] = {}
    for event in public_events:
        comments.setdefault(event.observation_id, []).append(event)
    shown_photos = {o.id: [p for p in o.photos if policy.photo_shown_publicly(p)] for o in items}
    lang = current_language()
    problems = [o for o in items if o.kind is Kind.problem and o.status is not Status.wont_fix]
    data = [maps.pin(o, category=o.category.name(lang), status=str(STATUS[o.status])) for o in items]
    centre = [walk.meeting_lat, walk.meeting_lon] if walk.meeting_lat else None
    return render_template(
        "public/walk.html", walk=walk, counts=counts, problems=problems,
        wont_fix=[o for o in items if o.status is Status.wont_fix],
        positive=[o for o in items if o.kind is Kind.positive], comments=comments, shown_photos=shown_photos,
        status_labels=STATUS, data=data,
        map=maps.embed(maps.base_map(current_app.config, location=centre, zoom=15)),
    )


@bp.get("/f/<token>/photos/<int:photo_id>/<any(display, thumb):rendition>.jpg")
@allow(ANYONE)
def photo(token: str, photo_id: int, rendition: str):
    walk = walk_or_404(token)
    photo = db.get_or_404(Photo, photo_id)
    if not (policy.photo_shown_publicly(photo) and photo.observation.walk_id == walk.id):
        abort(404)
    return photos.send(photo, rendition)
