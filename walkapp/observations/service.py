"""Reporting observations: create, add to, edit, find nearby, and show as GeoJSON.

Views (pages and API) parse the request into an ObservationForm and call these functions; a new
item is made by intake.create (the one way in, shared with Open311 and the importer), its GeoJSON
Feature by geojson.py (the one way out, shared with the export); permission rules come from policy.py.
"""
from __future__ import annotations

import math
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import limits, photos, policy, workflow
from . import clusters, geojson, intake
from ..extensions import db
from ..i18n import current_language, local_zone
from .intake import InvalidInput
from ..models import (
    Category,
    Event,
    EventKind,
    Observation,
    Participant,
    Visibility,
    Walk,
)

EARTH_RADIUS_M = 6_371_000
MAX_FEATURES = 2000


class Forbidden(Exception):
    pass


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def read_photos(files, already: int = 0) -> list[photos.ProcessedPhoto]:
    """Run every uploaded file through the pipeline; all must pass."""
    files = [f for f in files if f and f.filename]
    limit = current_app.config["PHOTOS_PER_OBSERVATION"]
    if already + len(files) > limit:
        raise InvalidInput({"photos": [ngettext(
            "At most %(num)d photo per observation.", "At most %(num)d photos per observation.", limit)]})
    processed, errors = [], []
    for upload in files:
        try:
            processed.append(photos.process(
                upload.read(),
                max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
            ))
        except photos.PhotoError as exc:
            errors.append(f"{upload.filename}: {exc.message}")
    if errors:
        raise InvalidInput({"photos": errors})
    return processed


def _walk_for(user, form) -> Walk | None:
    if not form.walk.data:
        if not policy.can_report_without_walk(user):
            raise InvalidInput({"walk": [_("Join a walk to report.")]})
        return None
    walk = db.session.get(Walk, form.walk.data)
    if walk is None or not policy.can_view_walk(user, walk):
        raise InvalidInput({"walk": [_("Unknown walk.")]})
    if not policy.can_report_on_walk(user, walk):
        raise InvalidInput({"walk": [_("This walk is finished; new observations can no longer be added.")]})
    return walk


def already_sent(user, client_key: str | None) -> Observation | None:
    """The item this user's phone already sent under this key (an outbox retry), if any."""
    if not client_key or not user.is_authenticated:
        return None
    return db.session.scalar(select(Observation).filter_by(reporter_id=user.id, client_key=client_key))


def create_observation(user, form) -> Observation:
    """Validate everything first, then write the item, its event and photos together (intake.create).

    A report sent again under the same client key (callers look first with already_sent()) hits
    the unique key if both sends race, and returns the item made the first time.
    """
    errors = {} if form.validate() else dict(form.errors)
    walk = None
    try:
        walk = _walk_for(user, form) if "walk" not in errors else None
    except InvalidInput as exc:
        errors.update(exc.errors)
    sent_bytes = limits.upload_bytes(form.photos.data)
    limits.check_guest_upload(user, walk, reports=1, photo_bytes=sent_bytes)  # before any photo is decoded
    processed = []
    try:
        processed = read_photos(form.photos.data or [])
    except InvalidInput as exc:
        errors.update(exc.errors)
    new = new_from_form(user, walk, form, processed)
    for name, messages in intake.problems(new).items():
        errors.setdefault(name, messages)
    if errors:
        raise InvalidInput(errors)
    try:
        [obs_id] = intake.create([new])
    except IntegrityError:  # the same report, sent twice at once: the other request made it
        db.session.rollback()
        earlier = already_sent(user, form.client_key.data)
        if earlier is None:
            raise
        return earlier
    limits.count_guest_upload(user, walk, reports=1, photo_bytes=sent_bytes)
    db.session.commit()
    return db.session.get(Observation, obs_id)


def new_from_form(user, walk: Walk | None, form, processed) -> intake.NewObservation:
    """The form's values as intake takes them (after form.validate(); a refused choice counts as none)."""
    chosen = form.source.data if "source" not in form.errors else None
    return intake.NewObservation(
        category=form.selected_category(), lat=form.lat.data, lon=form.lon.data, accuracy_m=form.accuracy.data,
        description=form.description.data or "", source=policy.report_source(user, walk, chosen),
        reporter=user, actor=user, walk=walk, safety_rating=form.rating.data, client_key=form.client_key.data,
        follower_email=follow_email(user, walk, form.follow.data),
        follower_locale=user.locale or current_language(), photos=processed,
    )


def follow_email(user, walk: Walk | None, asked: bool) -> str | None:
    """Guests opted in by leaving an e-mail when they joined; others tick the box."""
    if user.is_guest and walk is not None:
        return db.session.scalar(select(Participant.email).filter_by(walk_id=walk.id, user_id=user.id))
    return user.email if asked and user.email else None


def contribute(user, obs: Observation, comment: str, files) -> None:
    """Add a photo and/or comment to an item already reported, instead of a duplicate."""
    if not policy.can_contribute(user, obs):
        raise Forbidden()
    comment = (comment or "").strip()
    sent_bytes = limits.upload_bytes(files)
    limits.check_guest_upload(user, obs.walk, reports=1, photo_bytes=sent_bytes)
    processed = read_photos(files, already=len(obs.photos))
    if not comment and not processed:
        raise InvalidInput({"comment": [_("Add a photo or a comment.")]})
    limits.count_guest_upload(user, obs.walk, reports=1, photo_bytes=sent_bytes)
    db.session.add(Event(
        observation=obs, actor=user, action=EventKind.contribution, comment=comment,
        visibility=Visibility.internal,
        data={"photos": len(processed)} if processed else None,
    ))
    photos.save_photos(obs, processed, user)
    db.session.commit()


def update_observation(user, obs: Observation, form, version: int | None) -> None:
    """The reporter's own edit during the walk; added photos come along."""
    if not policy.can_edit_observation(user, obs):
        raise Forbidden()
    errors = {} if form.validate() else dict(form.errors)
    errors.pop("walk", None)
    for name, messages in intake.problems(new_from_form(user, obs.walk, form, [])).items():
        errors.setdefault(name, messages)
    if version is not None and version != obs.version:
        errors.setdefault("form", []).append(_("Someone changed this observation meanwhile; check and save again."))
    sent_bytes = limits.upload_bytes(form.photos.data)
    limits.check_guest_upload(user, obs.walk, photo_bytes=sent_bytes)
    processed = []
    try:
        processed = read_photos(form.photos.data or [], already=len(obs.photos))
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    limits.count_guest_upload(user, obs.walk, photo_bytes=sent_bytes)
    category = form.selected_category()
    changes = {}
    for name, value in (("category", category.code), ("lat", form.lat.data), ("lon", form.lon.data),
                        ("description", (form.description.data or "").strip()), ("rating", form.rating.data)):
        old = obs.category.code if name == "category" else getattr(obs, "safety_rating" if name == "rating" else name)
        if old != value:
            changes[name] = [old, value]
    obs.category, obs.kind = category, category.kind
    obs.lat, obs.lon = form.lat.data, form.lon.data
    obs.accuracy_m = form.accuracy.data if form.accuracy.data is not None else obs.accuracy_m
    obs.description = (form.description.data or "").strip()
    obs.safety_rating = form.rating.data
    if changes or processed:
        db.session.add(Event(observation=obs, actor=user, action=EventKind.edited, data=changes or None))
    photos.save_photos(obs, processed, user)
    db.session.commit()


def nearby(lat: float, lon: float, radius_m: float, *conditions) -> list[tuple[Observation, float]]:
    """Open items within ``radius_m`` of the point that meet ``conditions``, nearest first, as (item, metres).

    A bounding box narrows the rows in SQL (the lat/lon index); the great-circle distance decides.
    """
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    query = (
        select(Observation)
        .join(Observation.category)
        .where(
            Observation.status.in_(workflow.OPEN),
            Observation.lat.between(lat - dlat, lat + dlat),
            Observation.lon.between(lon - dlon, lon + dlon),
            *conditions,
        )
        .options(joinedload(Observation.category), selectinload(Observation.photos))
    )
    found = [(o, distance_m(lat, lon, o.lat, o.lon)) for o in db.session.scalars(query).unique()]
    return sorted([(o, d) for o, d in found if d <= radius_m], key=lambda pair: pair[1])


def nearby_open(user, lat: float, lon: float, category_code: str | None, radius_m: float | None = None):
    """Open items the user may see within the radius, nearest first, as (item, metres)."""
    same_category = [Category.code == category_code] if category_code else []
    return nearby(lat, lon, radius_m or current_app.config["DUPLICATE_RADIUS_M"],
                  policy.visible_observations(user), *same_category)


def list_query(user, filters=None):
    """What the user may see, narrowed by an ObservationFilter, newest first."""
    query = (
        select(Observation)
        .where(policy.visible_observations(user))
        .options(joinedload(Observation.category), joinedload(Observation.organisation),
                 selectinload(Observation.photos))
        .order_by(Observation.created_at.desc(), Observation.id.desc())
    )
    return filters.apply(query) if filters is not None else query


def photo_urls(photo) -> dict[str, str]:
    return {
        "id": photo.id,
        "thumb": url_for("observations.photo", photo_id=photo.id, rendition="thumb"),
        "display": url_for("observations.photo", photo_id=photo.id, rendition="display"),
    }


def feature(obs: Observation, user) -> dict:
    """One observation as the GeoJSON Feature of geojson.py, with what our own pages need."""
    props = geojson.properties(obs, current_language(), local_zone())
    props.update({
        "colour": obs.category.colour,
        "icon": obs.category.icon,
        "mine": user.is_authenticated and obs.reporter_id == user.id,
        "version": obs.version,
        "overdue": workflow.is_overdue(obs),
        "photos": [photo_urls(p) for p in obs.photos],
        "url": url_for("observations.detail", obs_id=obs.id),
    })
    return geojson.feature(obs, props)


def feature_collection(observations, user, truncated: bool = False) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [feature(o, user) for o in observations],
        "truncated": truncated,
    }


def extent(user, filters) -> list[float] | None:
    row = db.session.execute(filters.apply(
        select(func.min(Observation.lon), func.min(Observation.lat), func.max(Observation.lon),
               func.max(Observation.lat)).where(policy.visible_observations(user)))).one()
    return None if row[0] is None else [float(v) for v in row]


def map_features(user, filters, max_points: int) -> dict:
    """Points when the view holds few enough items, else clusters on the map grid (clusters.py)."""
    if filters.bbox is not None:
        if clusters.from_summary(user, filters):
            cells = clusters.summary_cells(filters)
            if sum(cell[0] for cell in cells.values()) > max_points:
                return clusters.collection(cells, clusters.summary_mean)
        elif db.session.scalar(filters.apply(select(func.count()).select_from(Observation)
                                             .where(policy.visible_observations(user)))) > max_points:
            return clusters.collection(clusters.item_cells(user, filters))
    rows = db.session.scalars(list_query(user, filters).limit(MAX_FEATURES + 1)).unique().all()
    return feature_collection(rows[:MAX_FEATURES], user, truncated=len(rows) > MAX_FEATURES)
