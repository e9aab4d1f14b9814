"""``/healthz`` for load balancers and monitoring: is this process able to serve?

It answers for the database (a query round trip) and the photo storage (a file can be created),
with no personal data and no detail an attacker could use: each check says only "ok" or "failing".
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import photos
from .access import ANYONE, allow
from .extensions import db

log = logging.getLogger(__name__)


@allow(ANYONE)
def healthz():
    checks = {"database": _database(), "storage": _storage()}
    healthy = all(state == "ok" for state in checks.values())
    response = jsonify(status="ok" if healthy else "failing", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("health check: the database does not answer")
        return "failing"


def _storage() -> str:
    try:
        photos.storage().check_writable()
        return "ok"
    except OSError:
        log.exception("health check: the photo storage is not writable")
        return "failing"


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
