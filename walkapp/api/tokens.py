"""Personal API tokens: shown once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from ..extensions import db
from ..models import ApiToken, User, utcnow

PREFIX = "wk_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=digest(plain))
    db.session.add(token)
    return token, plain


def revoke_all(user: User) -> int:
    """Revoke every live token of the user (password reset, (re)activation); returns how many."""
    result = db.session.execute(db.update(ApiToken)
                                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                .values(revoked_at=utcnow()))
    return result.rowcount


def user_for_token(plain: str) -> User | None:
    """The active user behind an unrevoked token, else None."""
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=digest(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now  # coarse, so that reads rarely write
        db.session.commit()
    return token.user


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None
