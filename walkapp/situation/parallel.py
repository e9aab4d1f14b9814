"""Independent read-only queries side by side, each on its own connection.

The lägesbild is a dozen independent aggregates, each a scan of the period's rows. Run one after
another they add up; on separate connections SQLite and PostgreSQL work on them at once (sqlite3 and
psycopg release the GIL while the database works). One pool per app bounds the extra connections.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from flask import current_app

from ..extensions import db


def _pool(app) -> ThreadPoolExecutor:
    pool = app.extensions.get("query_pool")
    if pool is None:
        pool = app.extensions.setdefault(
            "query_pool", ThreadPoolExecutor(app.config["QUERY_WORKERS"], thread_name_prefix="query"))
    return pool


def _inline(app) -> bool:
    """One worker, or an in-memory SQLite database, which each new connection would see empty."""
    url = db.engine.url
    return app.config["QUERY_WORKERS"] <= 1 or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def release_connection() -> None:
    """End the request's own read transaction before waiting on workers, so that its connection goes
    back to the pool: else enough concurrent requests could hold every connection, each waiting on a
    worker that waits for one. Nothing is written here; loaded objects reload when next used."""
    db.session.rollback()


def submit(function, *args) -> Future:
    """Run function(*args) in the pool, in an app context of its own (and so with its own session)."""
    app = current_app._get_current_object()
    if _inline(app):
        future = Future()
        future.set_result(function(*args))
        return future

    def task():
        with app.app_context():
            return function(*args)

    return _pool(app).submit(task)
