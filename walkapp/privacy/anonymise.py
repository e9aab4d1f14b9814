"""The steps retention and erasure share: an account without personal data, an Open311 report
without its contact fields, and the one placeholder account that stands in for former reporters.

An anonymised account keeps its row (its id): observations, history entries, photos and walk
participation stay linked and counted, and every page shows the person as "anonymised".
"""
from __future__ import annotations

from ..extensions import db
from ..models import ApiToken, Event, LoginLink, Role, User, utcnow

# Contact fields an Open311 client may send with a report (open311/service.py keeps them in the
# "reported" event's data).
OPEN311_CONTACT = ("first_name", "last_name", "email", "phone", "device_id", "account_id")

# The placeholder is found by its session token, which no session can carry: sessions are signed
# and the account is inactive (auth/service.load_user refuses it anyway).
PLACEHOLDER_TOKEN = "anonymised-placeholder"


def placeholder(create: bool = True) -> User | None:
    """The account that replaces a reporter who is anonymised item by item (retention)."""
    user = db.session.scalar(db.select(User).filter_by(session_token=PLACEHOLDER_TOKEN))
    if user is None and create:
        user = User(name="", role=Role.walker, is_guest=True, active=False, anonymised_at=utcnow(),
                    session_token=PLACEHOLDER_TOKEN)
        db.session.add(user)
        db.session.flush()
    return user


def anonymise_user(user: User) -> None:
    """Remove every personal datum of the account; it can never sign in again."""
    user.name = ""
    user.email = None
    user.password_hash = None
    user.locale = None
    user.organisation_id = None
    user.last_login_at = None
    user.active = False
    user.rotate_session()
    user.anonymised_at = user.anonymised_at or utcnow()
    db.session.execute(db.delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.execute(db.delete(LoginLink).where(LoginLink.user_id == user.id))


def open311_contact(event: Event) -> dict:
    """The contact fields an Open311 report's event still holds."""
    data = (event.data or {}).get("open311")
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in OPEN311_CONTACT if key in data}


def strip_open311_contact(event: Event) -> bool:
    """Remove the contact fields from the event's data; True when there were any."""
    if not open311_contact(event):
        return False
    data = dict(event.data)
    data["open311"] = {k: v for k, v in data["open311"].items() if k not in OPEN311_CONTACT}
    event.data = data  # a new dict: the JSON column sees the change
    return True
