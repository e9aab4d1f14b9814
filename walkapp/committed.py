"""Work on new rows that waits until the transaction that added them has committed.

Face detection and sending mail must never act on a row that was rolled back, and must not hold
the transaction open while they work. `on_commit(Model, hand_over)` remembers the ids of the
`Model` rows each transaction adds and calls `hand_over(ids)` once it has committed; a rollback
forgets them.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event

from .extensions import db

_listeners: list[Callable] = []  # kept alive for as long as the process runs


def on_commit(model: type, hand_over: Callable[[list[int]], None]) -> None:
    key = f"new_{model.__tablename__}_ids"

    def remember(session, instance) -> None:
        if isinstance(instance, model):
            session.info.setdefault(key, []).append(instance.id)

    def committed(session) -> None:
        ids = session.info.pop(key, [])
        if ids:
            hand_over(ids)

    def rolled_back(session) -> None:
        session.info.pop(key, None)

    event.listen(db.session, "pending_to_persistent", remember)
    event.listen(db.session, "after_commit", committed)
    event.listen(db.session, "after_rollback", rolled_back)
    _listeners.extend((remember, committed, rolled_back))
