"""Limits on what people without an account can do (issue 11, item 13), counted in the database
(rates.py) so that they hold across gunicorn workers.

- A guest (joined a walk by its code) may send GUEST_REPORTS_ALLOWED reports and
  GUEST_PHOTO_BYTES_ALLOWED bytes of photos within GUEST_LIMIT_MINUTES; all guests of one walk
  together WALK_GUEST_REPORTS_ALLOWED and WALK_GUEST_PHOTO_BYTES_ALLOWED. Checked before a photo
  is decoded, counted in the same commit as the report.
- From one client IP address, JOIN_CODE_FAILURES_ALLOWED wrong join codes and
  JOINS_PER_ADDRESS_ALLOWED new guests within JOIN_LIMIT_MINUTES; past the failures no code is
  looked up at all, so codes cannot be guessed.

Over a limit the caller gets LimitReached: a translated message and the seconds to wait, which
views send as 429 with Retry-After (the phone's outbox then tries again later).
"""
from __future__ import annotations

import math

from flask import current_app, request
from flask_babel import gettext as _

from . import rates


class LimitReached(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _limit(scope: str, allowed_key: str, minutes_key: str) -> rates.Limit:
    config = current_app.config
    return rates.Limit(scope, int(config[allowed_key]), float(config[minutes_key]))


def _guest_limits():
    return (
        (_limit("guest_reports", "GUEST_REPORTS_ALLOWED", "GUEST_LIMIT_MINUTES"), "guest", "reports"),
        (_limit("guest_photo_bytes", "GUEST_PHOTO_BYTES_ALLOWED", "GUEST_LIMIT_MINUTES"), "guest", "bytes"),
        (_limit("walk_guest_reports", "WALK_GUEST_REPORTS_ALLOWED", "GUEST_LIMIT_MINUTES"), "walk", "reports"),
        (_limit("walk_guest_photo_bytes", "WALK_GUEST_PHOTO_BYTES_ALLOWED", "GUEST_LIMIT_MINUTES"), "walk", "bytes"),
    )


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _guest_message(who: str, what: str, wait: int) -> str:
    minutes = _minutes(wait)
    if who == "walk":
        return _("This walk has had very many reports from guests in a short time. Wait %(minutes)s "
                 "minutes and send again; what you wrote is kept.", minutes=minutes)
    if what == "bytes":
        return _("You have sent many photos in a short time. Wait %(minutes)s minutes and send again, "
                 "or send without photos; what you wrote is kept.", minutes=minutes)
    return _("You have sent many reports in a short time. Wait %(minutes)s minutes and send again; "
             "what you wrote is kept.", minutes=minutes)


def check_guest_upload(user, walk, *, reports: int = 0, photo_bytes: int = 0) -> None:
    """Raise LimitReached if this guest's upload would pass a guest or walk limit. Users with
    an account are not limited here."""
    if not getattr(user, "is_guest", False):
        return
    for limit, who, what in _guest_limits():
        adding = reports if what == "reports" else photo_bytes
        if not adding or (who == "walk" and walk is None):
            continue
        key = str(user.id) if who == "guest" else str(walk.id)
        if rates.exceeded(limit, key, adding):
            wait = rates.retry_after(limit, key)
            raise LimitReached(_guest_message(who, what, wait), wait)


def count_guest_upload(user, walk, *, reports: int = 0, photo_bytes: int = 0) -> None:
    """Count an accepted upload (the caller commits it with the report)."""
    if not getattr(user, "is_guest", False):
        return
    for limit, who, what in _guest_limits():
        adding = reports if what == "reports" else photo_bytes
        if adding and not (who == "walk" and walk is None):
            rates.count(limit, str(user.id) if who == "guest" else str(walk.id), adding)


def upload_bytes(files) -> int:
    """The bytes of the uploaded files, without reading them."""
    total = 0
    for upload in files or []:
        if upload and upload.filename:
            stream = upload.stream
            position = stream.tell()
            stream.seek(0, 2)
            total += stream.tell()
            stream.seek(position)
    return total


# --- joining by code ------------------------------------------------------------------

def client_address() -> str:
    """The client's IP address: the connection's, or (behind PROXY_FORWARDS proxies) the one the
    proxies forwarded. Only an HMAC of it is ever stored."""
    return request.remote_addr or "unknown"


def _code_failures():
    return _limit("join_code_failures", "JOIN_CODE_FAILURES_ALLOWED", "JOIN_LIMIT_MINUTES")


def _joins():
    return _limit("joins", "JOINS_PER_ADDRESS_ALLOWED", "JOIN_LIMIT_MINUTES")


def check_code_lookup() -> None:
    """Before looking up a join code: refused while this address has too many wrong codes."""
    limit, address = _code_failures(), client_address()
    if rates.used(limit, address) >= limit.allowed:
        wait = rates.retry_after(limit, address)
        raise LimitReached(_("Too many wrong codes from your network. Wait %(minutes)s minutes and try again.",
                             minutes=_minutes(wait)), wait)


def count_code_failure() -> None:
    rates.count(_code_failures(), client_address())


def check_join() -> None:
    """Before a new guest joins: refused while very many joined from this address."""
    limit, address = _joins(), client_address()
    if rates.used(limit, address) >= limit.allowed:
        wait = rates.retry_after(limit, address)
        raise LimitReached(_("Very many people have joined from your network in a short time. Wait "
                             "%(minutes)s minutes and try again.", minutes=_minutes(wait)), wait)


def count_join() -> None:
    rates.count(_joins(), client_address())
