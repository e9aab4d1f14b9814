"""The privacy audit log: every register extract, erasure and retention run that changed something.

The person concerned is named only by a keyed hash (HMAC with SECRET_KEY) of their e-mail address:
the log proves that a request was handled without keeping the address it was about. Given the
address again, ``subject_hash`` finds its entries.
"""
from __future__ import annotations

from .. import rates
from ..extensions import db
from ..models import PrivacyAudit, User


def subject_hash(email: str) -> str:
    return rates.key_hash("data-subject:" + email.strip().lower())


def record(action: str, counts: dict[str, int], *, actor: User | None = None, via: str = "web",
           email: str | None = None) -> PrivacyAudit:
    """Add an entry (the caller commits)."""
    entry = PrivacyAudit(action=action, counts=dict(counts), actor_id=actor.id if actor else None, via=via,
                         subject_hash=subject_hash(email) if email else None)
    db.session.add(entry)
    return entry


def entries(email: str | None = None, limit: int = 200) -> list[PrivacyAudit]:
    """The newest entries first; only those about this address when one is given."""
    query = db.select(PrivacyAudit).options(db.joinedload(PrivacyAudit.actor))
    if email:
        query = query.filter_by(subject_hash=subject_hash(email))
    return list(db.session.scalars(query.order_by(PrivacyAudit.at.desc(), PrivacyAudit.id.desc()).limit(limit)))
