"""Rate counting in the database, so that every gunicorn worker sees the same counts.

A scope names what is counted ("login" failures, a guest's reports, photo bytes, joins per network
address …); a key says whose (an e-mail address, an IP address, a user's or walk's id). Only an
HMAC of the key (keyed with SECRET_KEY) is stored: the table cannot be matched against a list of
likely addresses, and it holds no IP address. Each row counts ``amount`` (1, or bytes); rows older
than their window are deleted when the scope is next counted.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .extensions import db
from .models import LoginFailure as RateCount
from .models import utcnow


def key_hash(key: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, str(key).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Limit:
    scope: str
    allowed: int
    minutes: float

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.minutes)


def used(limit: Limit, key: str) -> int:
    """The amount counted for this key within the window."""
    since = utcnow() - limit.window
    return db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(RateCount.amount), 0))
        .where(RateCount.scope == limit.scope, RateCount.key_hash == key_hash(key), RateCount.at >= since)
    ) or 0


def exceeded(limit: Limit, key: str, adding: int = 1) -> bool:
    """Whether counting ``adding`` more would pass the allowance (reaching it exactly is allowed)."""
    return used(limit, key) + adding > limit.allowed


def retry_after(limit: Limit, key: str) -> int:
    """Seconds until the oldest count in the window ages out (at least 1)."""
    since = utcnow() - limit.window
    oldest = db.session.scalar(
        db.select(db.func.min(RateCount.at))
        .where(RateCount.scope == limit.scope, RateCount.key_hash == key_hash(key), RateCount.at >= since)
    )
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + limit.window - utcnow()).total_seconds()))


def count(limit: Limit, key: str, amount: int = 1) -> None:
    """Count a use (the caller commits), forgetting this scope's counts older than the window."""
    db.session.execute(db.delete(RateCount).where(RateCount.scope == limit.scope,
                                                  RateCount.at < utcnow() - limit.window))
    db.session.add(RateCount(scope=limit.scope, key_hash=key_hash(key), amount=amount))


def forget(limit: Limit, key: str) -> None:
    db.session.execute(db.delete(RateCount).where(RateCount.scope == limit.scope,
                                                  RateCount.key_hash == key_hash(key)))
