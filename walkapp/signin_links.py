"""Single-use sign-in links sent by e-mail (magic links)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app

from . import mail
from .extensions import db
from .models import LoginLink, User, utcnow
from .tokens import digest


def create(user: User, *, next_url: str = "", lifetime: timedelta | None = None) -> str:
    """Add a link for the user to the session; returns its absolute URL (on BASE_URL, for mails)."""
    token = secrets.token_urlsafe(32)
    lifetime = lifetime or timedelta(minutes=current_app.config["LOGIN_LINK_MINUTES"])
    db.session.add(LoginLink(user=user, token_hash=digest(token), next_url=next_url,
                             expires_at=utcnow() + lifetime))
    return mail.site_url("auth.use_link", token=token)


def for_task(user: User, next_url: str) -> str:
    return create(user, next_url=next_url, lifetime=timedelta(days=current_app.config["TASK_LINK_DAYS"]))


def find(token: str) -> LoginLink | None:
    return db.session.scalar(db.select(LoginLink).filter_by(token_hash=digest(token)))


def check(link: LoginLink | None) -> str:
    """'ok', or why the link cannot be used: 'unknown', 'used', 'expired'."""
    if link is None or not link.user.active:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= utcnow():
        return "expired"
    return "ok"


MAX_PER_15_MIN = 5


def mail_link(user: User | None) -> None:
    """Mail a fresh sign-in link and send it, quietly doing nothing for unknown or locked-out users.

    Runs on the mail thread after the response (mail.later), so that the request
    takes the same time whether or not the address exists and whatever SMTP does.
    """
    if user is None or not user.active or not user.email or recently_sent(user) >= MAX_PER_15_MIN:
        return
    url = create(user)
    mail.queue(user.email, "login_link", user.locale, name=user.name, url=url,
               minutes=current_app.config["LOGIN_LINK_MINUTES"])
    db.session.commit()
    mail.send_committed()


def mail_link_to_address(email: str) -> None:
    """The job behind "mail me a link": the address is looked up here, not in the request."""
    mail_link(db.session.scalar(db.select(User).filter_by(email=email.strip().lower())))


def mail_new_link(token: str) -> None:
    """The job behind "send me a new link" on a used or expired link's page."""
    link = find(token)
    mail_link(link.user if link is not None else None)


def revoke_outstanding(user: User) -> int:
    """Unused links of the user stop working now (password reset, (re)activation)."""
    now = utcnow()
    result = db.session.execute(db.update(LoginLink)
                                .where(LoginLink.user_id == user.id, LoginLink.used_at.is_(None),
                                       LoginLink.expires_at > now)
                                .values(expires_at=now))
    return result.rowcount


def recently_sent(user: User, minutes: int = 15) -> int:
    since = utcnow() - timedelta(minutes=minutes)
    return db.session.scalar(
        db.select(db.func.count(LoginLink.id)).where(LoginLink.user_id == user.id, LoginLink.created_at >= since)
    )
