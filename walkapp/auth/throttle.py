"""Slows down password guessing: after LOGIN_FAILURES_ALLOWED failed sign-ins for one address within
LOGIN_FAILURE_MINUTES, that address cannot sign in with a password until the oldest failure ages out.

Counted per address tried, known or not, so the answer tells nothing about which accounts exist; kept
in the database, so every worker process sees the same count. A sign-in link still works.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import LoginFailure, utcnow


def _hash(email: str) -> str:
    """Keyed, so that the stored value cannot be matched against a list of likely addresses."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_FAILURE_MINUTES"])


def blocked(email: str) -> bool:
    since = utcnow() - _window()
    failures = db.session.scalar(db.select(db.func.count(LoginFailure.id))
                                 .where(LoginFailure.email_hash == _hash(email), LoginFailure.at >= since))
    return failures >= current_app.config["LOGIN_FAILURES_ALLOWED"]


def failed(email: str) -> None:
    """Count a failure, forgetting every failure older than the window (the table stays small)."""
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.at < utcnow() - _window()))
    db.session.add(LoginFailure(email_hash=_hash(email)))


def succeeded(email: str) -> None:
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.email_hash == _hash(email)))
