"""The retention plan (gallring): what walkapp forgets, and when, as configured in
RETENTION_CLOSED_ITEM_MONTHS, RETENTION_WALK_GUEST_MONTHS, RETENTION_UNPUBLISHED_PHOTO_MONTHS and
RETENTION_LOG_DAYS (config.py). ``walkapp retention`` runs it, from cron.

Each rule finds what has aged past its limit and, unless it is a dry run, deletes or anonymises it.
A rule only finds what still holds personal data, so a second run finds nothing: the plan is
idempotent. Observations, their places, categories, statuses, dates, descriptions and photos that
were published stay: the statistics, the public record and the lägesbild do not change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import and_, exists, or_, select

from .. import photos
from ..extensions import db
from ..models import (
    ApiKeyUsage, Event, Follower, LoginFailure, LoginLink, Observation, OutboxMail, Participant,
    Photo, Role, Source, User, Walk, utcnow,
)
from . import audit
from .anonymise import anonymise_user, open311_contact, placeholder, strip_open311_contact


@dataclass(frozen=True)
class Cutoffs:
    """Everything older than these moments is due."""

    closed_item: datetime
    walk_guest: datetime
    unpublished_photo: datetime
    log: datetime

    @classmethod
    def from_config(cls, now: datetime | None = None) -> "Cutoffs":
        now = now or utcnow()
        config = current_app.config
        return cls(
            closed_item=now - relativedelta(months=int(config["RETENTION_CLOSED_ITEM_MONTHS"])),
            walk_guest=now - relativedelta(months=int(config["RETENTION_WALK_GUEST_MONTHS"])),
            unpublished_photo=now - relativedelta(months=int(config["RETENTION_UNPUBLISHED_PHOTO_MONTHS"])),
            log=now - timedelta(days=int(config["RETENTION_LOG_DAYS"])),
        )


@dataclass(frozen=True)
class Rule:
    name: str  # also the key in the audit log's counts
    description: str
    apply: Callable[[Cutoffs, bool], int]  # (cutoffs, dry_run) -> how many


def closed_before(cutoff: datetime):
    return and_(Observation.closed_at.is_not(None), Observation.closed_at < cutoff)


def anonymise_reporters(cutoffs: Cutoffs, dry_run: bool) -> int:
    """Residents who reported items closed long ago: the item, their history entries and photos on it
    name the placeholder instead. Staff and responders act in their role and stay named."""
    stand_in = placeholder(create=False)
    query = (select(Observation).join(User, Observation.reporter_id == User.id)
             .where(closed_before(cutoffs.closed_item), User.role == Role.walker))
    if stand_in is not None:
        query = query.where(Observation.reporter_id != stand_in.id)
    found = db.session.scalars(query).all()
    if dry_run or not found:
        return len(found)
    stand_in = stand_in or placeholder()
    for obs in found:
        former = obs.reporter_id
        obs.reporter_id, obs.client_key = stand_in.id, None
        db.session.execute(db.update(Event).where(Event.observation_id == obs.id, Event.actor_id == former)
                           .values(actor_id=stand_in.id))
        db.session.execute(db.update(Photo).where(Photo.observation_id == obs.id, Photo.uploader_id == former)
                           .values(uploader_id=stand_in.id))
    return len(found)


def delete_followers(cutoffs: Cutoffs, dry_run: bool) -> int:
    ids = db.session.scalars(select(Follower.id).join(Observation)
                             .where(closed_before(cutoffs.closed_item))).all()
    if ids and not dry_run:
        db.session.execute(db.delete(Follower).where(Follower.id.in_(ids)))
    return len(ids)


def strip_open311(cutoffs: Cutoffs, dry_run: bool) -> int:
    events = db.session.scalars(
        select(Event).join(Observation)
        .where(closed_before(cutoffs.closed_item), Observation.source == Source.open311, Event.data.is_not(None))
    ).all()
    due = [event for event in events if open311_contact(event)]
    if not dry_run:
        for event in due:
            strip_open311_contact(event)
    return len(due)


def walk_before(cutoff: datetime):
    return select(Walk.id).where(Walk.starts_at < cutoff)


def forget_participant_emails(cutoffs: Cutoffs, dry_run: bool) -> int:
    ids = db.session.scalars(select(Participant.id).where(
        Participant.email.is_not(None), Participant.walk_id.in_(walk_before(cutoffs.walk_guest)))).all()
    if ids and not dry_run:
        db.session.execute(db.update(Participant).where(Participant.id.in_(ids)).values(email=None))
    return len(ids)


def anonymise_guests(cutoffs: Cutoffs, dry_run: bool) -> int:
    """Guests (joined by code, no account of their own) whose every walk is long past."""
    recent = exists().where(Participant.user_id == User.id, Walk.id == Participant.walk_id,
                            Walk.starts_at >= cutoffs.walk_guest)
    guests = db.session.scalars(select(User).where(
        User.is_guest.is_(True), User.anonymised_at.is_(None), ~recent,
        User.id.in_(select(Participant.user_id).where(Participant.walk_id.in_(walk_before(cutoffs.walk_guest))))
    )).all()
    if not dry_run:
        for guest in guests:
            anonymise_user(guest)
    return len(guests)


def delete_unpublished_photos(cutoffs: Cutoffs, dry_run: bool) -> int:
    found = db.session.scalars(select(Photo).join(Observation).where(
        closed_before(cutoffs.unpublished_photo), Photo.is_public.is_(False))).all()
    if found and not dry_run:
        db.session.flush()
        photos.delete_photos(found)  # commits what the rules before did too
    return len(found)


def purge(statement_for: Callable[[Cutoffs], object], model) -> Callable[[Cutoffs, bool], int]:
    def rule(cutoffs: Cutoffs, dry_run: bool) -> int:
        condition = statement_for(cutoffs)
        count = db.session.scalar(select(db.func.count()).select_from(model).where(condition))
        if count and not dry_run:
            db.session.execute(db.delete(model).where(condition))
        return count
    return rule


def done_mail(cutoffs: Cutoffs):
    return or_(OutboxMail.sent_at < cutoffs.log, OutboxMail.failed_at < cutoffs.log)


def spent_link(cutoffs: Cutoffs):
    return or_(LoginLink.used_at < cutoffs.log, LoginLink.expires_at < cutoffs.log)


RULES = (
    Rule("closed_item_reporters", "anonymise the residents who reported items closed before the limit",
         anonymise_reporters),
    Rule("closed_item_followers", "delete the followers of items closed before the limit", delete_followers),
    Rule("closed_item_open311_contacts", "remove Open311 contact fields of items closed before the limit",
         strip_open311),
    Rule("walk_participant_emails", "forget participants' e-mail addresses of walks before the limit",
         forget_participant_emails),
    Rule("walk_guests", "anonymise guest accounts whose walks are all before the limit", anonymise_guests),
    Rule("unpublished_photos", "delete unpublished photos of items closed before the limit",
         delete_unpublished_photos),
    Rule("mails", "delete sent or failed mails (recipient and body)", purge(done_mail, OutboxMail)),
    Rule("sign_in_links", "delete used or expired sign-in links", purge(spent_link, LoginLink)),
    Rule("rate_counts", "delete login-failure and rate counts",
         purge(lambda c: LoginFailure.at < c.log, LoginFailure)),
    Rule("key_usage", "delete Open311 key usage counts",
         purge(lambda c: ApiKeyUsage.window_start < c.log, ApiKeyUsage)),
)


def retry_pending_deletes(dry_run: bool = False) -> int:
    """Try again to delete the files of every recorded key (photos.delete_later) whose deletion
    failed; returns how many keys' files went. Dry, nothing is tried: waiting_deletes() lists them."""
    return 0 if dry_run else photos.delete_pending()[0]


def waiting_deletes() -> list[str]:
    """The keys whose files are still to be deleted: random names, nothing personal."""
    return [pending.key for pending in photos.pending_deletes()]


def run(dry_run: bool = False, now: datetime | None = None, via: str = "cli") -> dict[str, int]:
    """Apply (or, dry, only count) every rule; commits unless dry. Returns the count per rule.

    A run that changed something is written to the audit log; one that found nothing leaves the
    database exactly as it was."""
    cutoffs = Cutoffs.from_config(now)
    counts = {}
    try:
        for rule in RULES:
            counts[rule.name] = rule.apply(cutoffs, dry_run)
    finally:
        if dry_run:
            db.session.rollback()
    if not dry_run:
        if any(counts.values()):
            audit.record("retention", counts, via=via)
        db.session.commit()
    return counts
