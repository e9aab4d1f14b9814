"""Password sign-in rules, apart from HTTP."""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from .. import signin_links, tokens
from ..extensions import db, login_manager
from ..models import User, utcnow

# Checked when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = generate_password_hash("walkapp-timing-equaliser")


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    user = db.session.scalar(db.select(User).filter_by(session_token=session_token))
    return user if user is not None and user.active else None


def sign_out_everywhere(user: User) -> None:
    """A new session token: every copy of the old session cookie (any device) stops working."""
    user.rotate_session()


def revoke_access(user: User) -> None:
    """After a password reset or a (de)activation nothing issued before still lets anyone in:
    sessions on every device, personal API tokens and unused sign-in links all end."""
    sign_out_everywhere(user)
    if user.id is not None:
        tokens.revoke_all(user)
        signin_links.revoke_outstanding(user)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (one answer for all failures)."""
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user
