"""Secrets handed out once and stored only as their SHA-256 (digest): personal API tokens (here),
sign-in links (signin_links) and Open311 API keys (open311.service). Tokens are revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from .extensions import db
from .models import ApiKey, ApiToken, User, utcnow

PREFIX = "wk_"


def digest(token: str) -> str:
    """What is stored of a secret token, link or key: enough to recognise it, never to recreate it."""
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


# --- Open311 API keys: one per client system, with its own hourly limit ---------------------------

def create_api_key(name: str, requests_per_hour: int = 1000) -> tuple[ApiKey, str]:
    plain = "o311_" + secrets.token_urlsafe(32)
    key = ApiKey(name=name, key_hash=digest(plain), requests_per_hour=requests_per_hour)
    db.session.add(key)
    return key, plain


def api_key_for(plain: str) -> ApiKey | None:
    """The unrevoked key, else None."""
    key = db.session.scalar(db.select(ApiKey).filter_by(key_hash=digest(plain)))
    return key if key is not None and key.revoked_at is None else None
