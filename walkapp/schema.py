"""Bringing the database to the newest schema (``walkapp db upgrade``, ``walkapp demo``).

Each migration runs in its own transaction (migrations/env.py), so a failed
step leaves the database at the last good revision. Around that, an operator
gets a copy of a SQLite database before anything changes, and one clear line
naming the step and the reason when a step fails.
"""
from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click
import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import current_app

from .config import create_private_file
from .extensions import db


class UpgradeError(click.ClickException):
    """The upgrade stopped; the message says where, why and what state remains."""


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # revision before, None for an empty database
    after: str | None
    steps: list[str]  # revisions applied, oldest first
    backup: Path | None  # the copy taken before (SQLite)


def upgrade(directory: str | None = None, revision: str = "head", *,
            tag: str | None = None, x_arg=None) -> Upgrade:
    """Upgrade to ``revision``; on SQLite, copy the database file first (and say where)."""
    config = current_app.extensions["migrate"].migrate.get_config(directory, x_arg=x_arg)
    script = ScriptDirectory.from_config(config)
    engine = db.engine
    before = current_revision(engine)
    pending = pending_steps(script, revision, before)
    if not pending:
        return Upgrade(before, before, [], None)
    backup = backup_sqlite(engine, before)
    if backup:
        click.echo(f"Copied the database to {backup} before upgrading.")
    try:
        command.upgrade(config, revision, tag=tag)
    except Exception as exc:  # a migration can raise anything; each is reported the same way
        raise UpgradeError(failure_message(script, engine, pending, exc, backup)) from exc
    return Upgrade(before, current_revision(engine), [s.revision for s in pending], backup)


def current_revision(engine: sa.Engine) -> str | None:
    # Quietly: configure() logs its (non-)transactional DDL guess, which is not how
    # env.py runs the migrations and would only confuse the reader.
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        quiet.setLevel(level)


def pending_steps(script: ScriptDirectory, revision: str, current: str | None) -> list[Script]:
    """The migrations an upgrade from ``current`` to ``revision`` runs, oldest first."""
    try:
        return list(reversed(list(script.iterate_revisions(revision, current or "base"))))
    except (CommandError, RevisionError) as exc:  # an unknown revision, or one below the current
        raise UpgradeError(f"Cannot upgrade from {current or 'an empty database'} "
                           f"to {revision}: {exc}") from None


def failure_message(script: ScriptDirectory, engine: sa.Engine, pending: list[Script],
                    exc: Exception, backup: Path | None) -> str:
    """One line: the step that failed, the reason, the revision the database is still at."""
    copy = f"; the copy from before the upgrade is {backup}" if backup else ""
    try:
        now = current_revision(engine)
    except sa.exc.SQLAlchemyError:  # the database went away too: say what is known
        return f"Upgrade to revision {pending[-1].revision} failed: {reason(exc)}{copy}."
    done = set() if now is None else {
        s.revision for s in script.iterate_revisions(now, pending[0].down_revision or "base")
    }
    failed = next((s for s in pending if s.revision not in done), pending[-1])
    return (f"Upgrade stopped at revision {failed.revision} ({failed.doc}): {reason(exc)}. "
            f"The database is still at revision {now or '(none: empty)'}{copy}.")


def reason(exc: Exception) -> str:
    """The driver's own message when there is one (not SQLAlchemy's SQL dump), on one line."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def backup_sqlite(engine: sa.Engine, revision: str | None) -> Path | None:
    """Copy a SQLite database next to itself, e.g. ``walkapp.sqlite.before-<rev>-<UTC time>``.

    sqlite3's online backup API gives a consistent copy even while the app is
    writing (a file copy could catch half a transaction or miss the WAL).
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    source = Path(url.database)
    if not source.is_file() or not sa.inspect(engine).get_table_names():
        return None  # a new database: nothing to keep
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{source.name}.before-{revision or 'base'}-{stamp}"
    target, n = source.with_name(name), 1
    while not create_private_file(target):  # two upgrades within a second
        target, n = source.with_name(f"{name}-{n}"), n + 1
    try:
        with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
            original.backup(copy)
    except (OSError, sqlite3.Error) as exc:
        target.unlink(missing_ok=True)
        raise UpgradeError(f"Could not copy the database to {target} ({exc}); "
                           f"nothing was upgraded.") from None
    return target
