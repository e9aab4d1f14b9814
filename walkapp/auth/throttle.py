"""Slows down password guessing: after LOGIN_FAILURES_ALLOWED failed sign-ins for one address within
LOGIN_FAILURE_MINUTES, that address cannot sign in with a password until the oldest failure ages out.

Counted per address tried, known or not, so the answer tells nothing about which accounts exist; kept
in the database (rates.py), so every worker process sees the same count. A sign-in link still works.
"""
from __future__ import annotations

from flask import current_app

from .. import rates


def _limit() -> rates.Limit:
    config = current_app.config
    return rates.Limit("login", config["LOGIN_FAILURES_ALLOWED"], config["LOGIN_FAILURE_MINUTES"])


def _key(email: str) -> str:
    return email.strip().lower()


def blocked(email: str) -> bool:
    return rates.used(_limit(), _key(email)) >= _limit().allowed


def failed(email: str) -> None:
    rates.count(_limit(), _key(email))


def succeeded(email: str) -> None:
    rates.forget(_limit(), _key(email))
