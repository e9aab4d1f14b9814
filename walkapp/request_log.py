"""One log line per request: request id, method, route, status, time, user id — nothing personal.

The route is the URL rule (``/auth/link/<token>``), never the path or the query string, which can
carry sign-in tokens, e-mail addresses or search terms. The request id comes from the proxy
(``X-Request-ID``, as nginx's ``$request_id``) when it looks like one, else is made here, and is sent
back on the response so a user's report of a failure can be matched to the log.
With ``LOG_FORMAT = "json"`` every walkapp log line is one JSON object (for log collectors).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request
from flask_login import current_user

log = logging.getLogger("walkapp.requests")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id() -> str:
    """This request's id (also outside a logged request: then a fresh one)."""
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    user = getattr(current_user, "id", None) if current_user and current_user.is_authenticated else None
    route = request.url_rule.rule if request.url_rule else "(no route)"
    log.info("%s %s %s %s %.0fms user=%s", request_id(), request.method, route, response.status_code, elapsed,
             user or "-", extra={
        "request_id": request_id(), "method": request.method, "route": route,
        "status": response.status_code, "ms": round(elapsed, 1), "user_id": user,
    })
    return response


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message and the request's fields."""

    FIELDS = ("request_id", "method", "route", "status", "ms", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        entry.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    walkapp_log = logging.getLogger("walkapp")
    if walkapp_log.level == logging.NOTSET:
        walkapp_log.setLevel(logging.INFO)
    if walkapp_log.handlers:
        return  # another app in this process set it up
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        walkapp_log.addHandler(handler)
        walkapp_log.propagate = False
    elif not logging.getLogger().handlers:  # gunicorn's and Flask's own setups leave the root bare
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        walkapp_log.addHandler(handler)
        walkapp_log.propagate = False  # a root handler added later (alembic's logging config) would print it twice
