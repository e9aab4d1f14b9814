"""Open311 in terms of our model: services are categories, requests are observations shown publicly."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta, timezone

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import inputs, policy
from ..extensions import db
from ..models import (
    Action, ApiKey, ApiKeyUsage, Category, Event, Kind, Observation, Photo, Source, Status,
    Visibility, utcnow,
)
from ..observations import intake
from ..observations.service import read_photos
from ..tokens import api_key_for
from ..workflow import UNRESOLVED
from .formats import timestamp

# For Open311 clients an item is closed once it is fixed (our verification is internal).
# mySociety's extended statuses for servicerequestupdates
EXTENDED_STATUS = {
    Status.new: "open",
    Status.accepted: "investigating",
    Status.assigned: "action_scheduled",
    Status.in_progress: "in_progress",
    Status.fixed: "fixed",
    Status.verified: "fixed",
    Status.wont_fix: "no_further_action",
    Status.rejected: "not_councils_responsibility",
    Status.duplicate: "duplicate",
}
TIMES_OF_DAY = [("day", "Dag / Day"), ("evening", "Kväll / Evening"), ("night", "Natt / Night")]
HTML = re.compile(r"<[a-zA-Z/!?]")
# Said in discovery and in every POST's answer: submissions wait for the municipality.
PUBLICATION_NOTICE = ("Nya ärenden publiceras först när kommunen har granskat dem; till dess visas de inte i "
                      "requests, requests/ID eller servicerequestupdates. / New requests are published only "
                      "after the municipality has reviewed them; until then they do not appear in requests, "
                      "requests/ID or servicerequestupdates.")
SUBMITTED_NOTICE = "Tack! Kommunen granskar ärendet innan det publiceras."


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def authenticate(plain: str | None) -> ApiKey:
    if not plain:
        raise Open311Error(403, "api_key is required to submit requests")
    key = api_key_for(plain)
    if key is None:
        raise Open311Error(403, "api_key is not valid")
    return key


def count_request(key: ApiKey) -> None:
    """A fixed hourly window per key, counted in the database (shared by all workers)."""
    window = utcnow().replace(minute=0, second=0, microsecond=0)
    updated = db.session.execute(
        ApiKeyUsage.__table__.update()
        .where(ApiKeyUsage.key_id == key.id, ApiKeyUsage.window_start == window)
        .values(count=ApiKeyUsage.count + 1)
    ).rowcount
    if not updated:
        try:
            with db.session.begin_nested():
                db.session.add(ApiKeyUsage(key_id=key.id, window_start=window, count=1))
        except IntegrityError:  # another worker created the row first
            db.session.execute(ApiKeyUsage.__table__.update()
                               .where(ApiKeyUsage.key_id == key.id, ApiKeyUsage.window_start == window)
                               .values(count=ApiKeyUsage.count + 1))
    used = db.session.scalar(select(ApiKeyUsage.count).filter_by(key_id=key.id, window_start=window))
    db.session.commit()
    if used > key.requests_per_hour:
        raise Open311Error(429, f"too many requests: at most {key.requests_per_hour} per hour for this key")


def services() -> list[Category]:
    return db.session.scalars(select(Category).filter_by(active=True).order_by(Category.sort_order)).all()


def service_or_404(code: str) -> Category:
    if not code:
        raise Open311Error(400, "service_code is required")
    category = db.session.scalar(select(Category).filter_by(code=code, active=True))
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    return category


def service_dict(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name_sv,
        "description": f"{category.name_sv} / {category.name_en}",
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join([category.name_sv, category.name_en]),
        "group": "trygg plats" if category.kind is Kind.positive else "otrygg plats",
    }


def attributes(category: Category) -> list[dict]:
    return [
        {"variable": True, "code": "safety_rating", "datatype": "number", "required": False,
         "datatype_description": "1-10", "order": 1,
         "description": "Hur trygg känner du dig här? 1 = mycket otryggt, 10 = mycket tryggt", "values": []},
        {"variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "", "order": 2,
         "description": "Problem eller trygg plats (standard: enligt tjänsten; i en problemtjänst alltid problem)",
         "values": [{"key": "problem", "name": "Problem"}, {"key": "positive", "name": "Trygg plats"}]},
        {"variable": True, "code": "time_of_day", "datatype": "multivaluelist", "required": False,
         "datatype_description": "", "order": 3, "description": "När känns platsen otrygg?",
         "values": [{"key": k, "name": n} for k, n in TIMES_OF_DAY]},
    ]


def changeset() -> str:
    """Discovery's changeset: a digest of everything services and service definitions say, so it
    changes whenever a category is added, renamed, reordered or switched off (or the definitions'
    attributes change with a release). Clients compare it for equality."""
    documents = [[service_dict(c), attributes(c)] for c in services()]
    data = json.dumps(documents, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def parse_datetime(value: str, name: str) -> datetime:
    try:
        return inputs.parse_moment(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-11-25T17:30:00Z, "
                                f"between the years {inputs.MIN_YEAR} and {inputs.MAX_YEAR}") from None


def public_requests(params) -> list[Observation]:
    query = (select(Observation).where(policy.shown_publicly_sql())
             .options(db.joinedload(Observation.category), db.joinedload(Observation.organisation),
                      db.selectinload(Observation.photos))
             .order_by(Observation.created_at.desc(), Observation.id.desc()))
    ids = params.get("service_request_id")
    if ids:
        try:
            numbers = inputs.parse_ids([ids])
        except ValueError:
            raise Open311Error(400, f"service_request_id must be at most {inputs.MAX_IDS} ids "
                                    f"from 1 to {inputs.MAX_ID}, separated by commas") from None
        return db.session.scalars(query.where(Observation.id.in_(numbers))).unique().all()
    if params.get("service_code"):
        codes = [c.strip() for c in params["service_code"].split(",")]
        query = query.join(Observation.category).where(Category.code.in_(codes))
    start = parse_datetime(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    if start is None and end is None:
        start = utcnow() - timedelta(days=90)  # the spec's default window
    if start is not None:
        query = query.where(Observation.created_at >= start)
    if end is not None:
        query = query.where(Observation.created_at <= end)
    if params.get("status"):
        wanted = {s.strip() for s in params["status"].split(",")}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed")
        states = set()
        if "open" in wanted:
            states |= set(UNRESOLVED)
        if "closed" in wanted:
            states |= set(Status) - set(UNRESOLVED)
        query = query.where(Observation.status.in_(states))
    try:
        page = inputs.parse_page(params.get("page"))
        size = min(inputs.parse_page(params.get("page_size"), 100), 1000)
    except ValueError:
        raise Open311Error(400, f"page and page_size must be whole numbers from 1 to {inputs.MAX_PAGE}") from None
    return db.session.scalars(query.limit(size).offset((page - 1) * size)).unique().all()


def media_url(obs: Observation) -> str | None:
    photo = next((p for p in obs.photos if policy.photo_shown_publicly(p)), None)
    return url_for("open311.media", photo_id=photo.id, _external=True) if photo else None


def request_dict(obs: Observation, notes: dict[int, str]) -> dict:
    return {
        "service_request_id": str(obs.id),
        "status": "open" if obs.status in UNRESOLVED else "closed",
        "status_notes": notes.get(obs.id),
        "service_name": obs.category.name_sv,
        "service_code": obs.category.code,
        "description": obs.description,
        "agency_responsible": obs.organisation.name if obs.organisation else None,
        "service_notice": None,
        "requested_datetime": timestamp(obs.created_at),
        "updated_datetime": timestamp(obs.updated_at),
        "expected_datetime": timestamp(datetime.combine(obs.due_date, datetime.min.time(), timezone.utc))
        if obs.due_date and obs.status in UNRESOLVED else None,
        "address": obs.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": obs.lat,
        "long": obs.lon,
        "media_url": media_url(obs),
    }


def latest_public_notes(ids: list[int]) -> dict[int, str]:
    """Each item's latest public comment, in one query."""
    latest = (select(Event.observation_id, func.max(Event.id).label("id"))
              .where(Event.observation_id.in_(ids), Event.visibility == Visibility.public, Event.comment != "")
              .group_by(Event.observation_id).subquery())
    rows = db.session.execute(select(Event.observation_id, Event.comment).join(latest, Event.id == latest.c.id))
    return dict(rows.all())


def updates(params) -> list[dict]:
    start = parse_datetime(params["start_date"], "start_date") if params.get("start_date") else utcnow() - timedelta(days=30)
    end = parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    query = (select(Event).join(Event.observation)
             .where(policy.shown_publicly_sql(), Event.to_status.is_not(None), Event.created_at >= start)
             .order_by(Event.created_at, Event.id).limit(1000))
    if end is not None:
        query = query.where(Event.created_at <= end)
    result = []
    for event in db.session.scalars(query):
        result.append({
            "update_id": str(event.id),
            "service_request_id": str(event.observation_id),
            "status": "not_councils_responsibility" if event.action == Action.decline else EXTENDED_STATUS[event.to_status],
            "updated_datetime": timestamp(event.created_at),
            "description": event.comment if event.visibility is Visibility.public else "",
            "media_url": None,
        })
    return result


# Open311's names for the fields intake.problems() speaks of.
OPEN311_FIELDS = {"lon": "long", "rating": "attribute[safety_rating]", "address": "address_string"}


def submit(key: ApiKey, params, files) -> Observation:
    """A new observation from an Open311 client, entering the workflow as new (intake.create).

    Like a walk's items it is not public, nor are its photos, until a coordinator publishes them.
    """
    new = new_request(key, params, files)
    with force_locale("en"):
        found = intake.problems(new)
        if found:
            raise Open311Error(400, " ".join(f"{OPEN311_FIELDS.get(name, name)}: {message}"
                                             for name, messages in found.items() for message in messages))
    [obs_id] = intake.create([new])
    db.session.commit()
    return db.session.get(Observation, obs_id)


def new_request(key: ApiKey, params, files) -> intake.NewObservation:
    """The request's values, or an Open311Error for what cannot be read at all."""
    category = service_or_404(params.get("service_code") or "")
    lat, lon = params.get("lat"), params.get("long")
    if lat is None or lon is None:
        if params.get("address_string") or params.get("address_id"):
            raise Open311Error(400, "lat and long are required: this server does not geocode addresses")
        raise Open311Error(400, "lat and long are required")
    try:
        lat, lon = inputs.parse_float(lat), inputs.parse_float(lon)
    except ValueError:
        raise Open311Error(400, "lat and long must be decimal degrees (WGS84)") from None
    description = params.get("description") or ""
    if HTML.search(description):
        raise Open311Error(400, "description must be plain text, without HTML")
    attrs = parse_attributes(params)
    rating = attrs.get("safety_rating")
    if rating is not None:
        try:
            rating = inputs.parse_int(rating)
        except ValueError:
            raise Open311Error(400, "attribute[safety_rating] must be a whole number from 1 to 10") from None
    times = attrs.get("time_of_day") or []
    times = times if isinstance(times, list) else [times]
    if not set(times) <= {k for k, _ in TIMES_OF_DAY}:
        raise Open311Error(400, "attribute[time_of_day][] values must be day, evening or night")
    email = follower_email(params.get("email"))
    return intake.NewObservation(
        category=category, lat=lat, lon=lon, kind=requested_kind(category, attrs.get("kind")),
        description=description, address=params.get("address_string") or "", source=Source.open311,
        source_detail=key.name, external_id=secrets.token_urlsafe(16), safety_rating=rating,
        event_data={"open311": {"key": key.name, "attributes": {**attrs, "time_of_day": times},
                                **personal_details(params, email)}},
        follower_email=email, photos=media_photos(files),
    )


def personal_details(params, email: str | None) -> dict:
    """What the client says about the sender: kept in the history, never shown publicly."""
    personal = {k: params[k] for k in ("first_name", "last_name", "phone", "device_id", "account_id")
                if params.get(k)}
    if email:
        personal["email"] = email
    if params.get("media_url"):
        personal["media_url"] = params["media_url"][:500]  # kept as a link; never fetched
    return personal


def media_photos(files) -> list:
    media = [f for f in files.getlist("media") if f and f.filename]
    try:
        return read_photos(media)
    except intake.InvalidInput as exc:
        raise Open311Error(400, " ".join(str(m) for m in exc.errors.get("photos", []))) from None


def requested_kind(category: Category, value: str | None) -> Kind:
    """attribute[kind] may turn a report under a positive service into a problem, never the other
    way: a problem service's reports stay in the workflow whatever the client sends."""
    if not value:
        return category.kind
    try:
        kind = Kind(value)
    except ValueError:
        raise Open311Error(400, "attribute[kind] must be problem or positive") from None
    return Kind.problem if category.kind is Kind.problem else kind


def follower_email(value: str | None) -> str | None:
    """One valid address or nothing: it becomes a mail header, so no line breaks and no lists."""
    if not value:
        return None
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Open311Error(400, "email must be one valid e-mail address") from None
    return address.lower()


def parse_attributes(params) -> dict:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2."""
    result: dict = {}
    for name in params.keys():
        match = re.fullmatch(r"attribute\[([\w-]+)\](\[\])?", name)
        if not match:
            continue
        values = [v for v in params.getlist(name) if v != ""]
        if not values:
            continue
        result[match.group(1)] = values if match.group(2) else values[0]
    return result


def by_token(token: str) -> Observation | None:
    return db.session.scalar(select(Observation).filter_by(source=Source.open311, external_id=token))


def public_photo(photo_id: int) -> Photo | None:
    photo = db.session.get(Photo, photo_id)
    if photo is None or not policy.photo_shown_publicly(photo):
        return None
    return photo


def jurisdiction_ok(value: str | None) -> bool:
    configured = current_app.config.get("OPEN311_JURISDICTION")
    return not value or not configured or value == configured
