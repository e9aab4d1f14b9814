"""Data subjects' rights for one e-mail address: a register extract (GDPR art. 15) and erasure
(art. 17).

A person is found by their e-mail address: their account, and the guest accounts of walks they
joined giving that address. Besides those, the address itself appears as a follower, as an Open311
reporter's contact, on participants and on mails in the outbox. Erasure anonymises the accounts
(anonymise.py) and removes the address everywhere; what they reported stays, without their name.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, or_, select

from .. import rates
from ..extensions import db
from ..models import (
    ApiToken, Event, Follower, LoginFailure, LoginLink, Observation, OutboxMail, Participant, Photo,
    SituationReport, Source, User, Walk, utcnow,
)
from .anonymise import anonymise_user, open311_contact, strip_open311_contact


def normalise(email: str) -> str:
    return email.strip().lower()


def people(email: str) -> list[User]:
    """The account with this address, and guest accounts that gave it when joining a walk."""
    guests = select(Participant.user_id).where(Participant.email == email)
    return list(db.session.scalars(select(User).where(or_(User.email == email, User.id.in_(guests)))
                                   .order_by(User.id)))


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def _account(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role.value,
            "guest": user.is_guest, "organisation": user.organisation.name if user.organisation else None,
            "language": user.locale, "active": user.active, "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at), "anonymised_at": _when(user.anonymised_at),
            "api_tokens": [{"name": t.name, "created_at": _when(t.created_at), "last_used_at": _when(t.last_used_at),
                            "revoked_at": _when(t.revoked_at)}
                           for t in db.session.scalars(select(ApiToken).filter_by(user_id=user.id))],
            "sign_in_links": [{"created_at": _when(link.created_at), "expires_at": _when(link.expires_at),
                               "used_at": _when(link.used_at)}
                              for link in db.session.scalars(select(LoginLink).filter_by(user_id=user.id))]}


def _participations(email: str, ids: list[int]) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Participant).where(or_(Participant.email == email, Participant.user_id.in_(ids)))
                              .options(db.joinedload(Participant.walk)).order_by(Participant.id))
    return [{"walk_id": p.walk_id, "walk": p.walk.title, "walk_starts_at": _when(p.walk.starts_at),
             "role": p.role_label, "email": p.email, "joined_at": _when(p.joined_at)} for p in rows]


def _observations(ids: list[int]) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Observation).where(Observation.reporter_id.in_(ids)).order_by(Observation.id))
    return [{"id": o.id, "created_at": _when(o.created_at), "category": o.category.code,
             "description": o.description, "address": o.address, "lat": o.lat, "lon": o.lon,
             "status": o.status.value, "walk_id": o.walk_id} for o in rows]


def _history(ids: list[int]) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Event).where(Event.actor_id.in_(ids)).order_by(Event.id))
    return [{"observation_id": e.observation_id, "created_at": _when(e.created_at), "action": e.action,
             "comment": e.comment} for e in rows]


def _open311_reports(email: str) -> list[dict[str, Any]]:
    return [{"observation_id": event.observation_id, "created_at": _when(event.created_at),
             "contact": open311_contact(event)} for event in open311_events(email)]


def open311_events(email: str) -> list[Event]:
    """Open311 reports that gave this address (a text search first, then the exact field)."""
    candidates = db.session.scalars(
        select(Event).join(Observation)
        .where(Observation.source == Source.open311, cast(Event.data, String).contains(email))
        .order_by(Event.id))
    return [event for event in candidates if normalise(str(open311_contact(event).get("email", ""))) == email]


def extract(email: str) -> dict[str, Any]:
    """Every personal datum held about the person with this address (GDPR art. 15)."""
    email = normalise(email)
    users = people(email)
    ids = [user.id for user in users]
    return {
        "email": email,
        "generated_at": _when(utcnow()),
        "accounts": [_account(user) for user in users],
        "walk_participations": _participations(email, ids),
        "observations_reported": _observations(ids),
        "photos_uploaded": [{"id": p.id, "observation_id": p.observation_id, "created_at": _when(p.created_at),
                             "public": p.is_public}
                            for p in db.session.scalars(select(Photo).where(Photo.uploader_id.in_(ids)))],
        "history_entries": _history(ids),
        "following": [{"observation_id": f.observation_id, "created_at": _when(f.created_at)}
                      for f in db.session.scalars(select(Follower).filter_by(email=email))],
        "open311_reports": _open311_reports(email),
        "mails": [{"subject": m.subject, "created_at": _when(m.created_at), "sent_at": _when(m.sent_at)}
                  for m in db.session.scalars(select(OutboxMail).filter_by(recipient=email))],
        "walks_created": [{"id": w.id, "title": w.title}
                          for w in db.session.scalars(select(Walk).where(Walk.created_by_id.in_(ids)))],
        "situation_reports_created": [
            {"id": r.id, "title": r.title}
            for r in db.session.scalars(select(SituationReport).where(SituationReport.created_by_id.in_(ids)))],
    }


def erase(email: str) -> dict[str, int]:
    """Erase the person with this address (GDPR art. 17); the caller commits. Returns what changed."""
    email = normalise(email)
    users = people(email)
    ids = [user.id for user in users]
    counts = {"accounts": sum(user.anonymised_at is None for user in users)}
    for user in users:
        anonymise_user(user)
    counts["participant_emails"] = db.session.execute(
        db.update(Participant).where(or_(Participant.email == email, Participant.user_id.in_(ids)),
                                     Participant.email.is_not(None)).values(email=None)).rowcount
    counts["followers"] = db.session.execute(db.delete(Follower).where(Follower.email == email)).rowcount
    counts["open311_contacts"] = sum(strip_open311_contact(event) for event in open311_events(email))
    counts["mails"] = db.session.execute(db.delete(OutboxMail).where(OutboxMail.recipient == email)).rowcount
    counts["rate_counts"] = db.session.execute(
        db.delete(LoginFailure).where(LoginFailure.key_hash == rates.key_hash(email))).rowcount
    return counts


def holds_anything(extracted: dict[str, Any]) -> bool:
    return any(value for key, value in extracted.items() if key not in ("email", "generated_at"))
