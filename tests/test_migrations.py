"""The migrations build the same schema as the models describe, and keep data.

The data tests are generic: for every revision in the script directory they
fill every table that exists at that revision (reflected, not listed here), so
that a table or migration added later is covered without editing this file.
"""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

import walkapp
from walkapp.extensions import db

from .conftest import make_test_app

MIGRATIONS = Path(walkapp.__file__).parent / "migrations"


def script_directory() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


SCRIPT = script_directory()
HEAD = SCRIPT.get_current_head()
# Oldest first, so that the test ids read as the project's history.
REVISIONS = [script.revision for script in reversed(list(SCRIPT.walk_revisions()))]
ROWS_PER_TABLE = 3


def test_migrations_match_models(tmp_path, empty_database_url):
    app = make_test_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_sqlite_enforces_foreign_keys(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


# --- rows for any schema ---------------------------------------------------------------

def model_enum_values(table: str, column: str) -> list[str] | None:
    """The allowed values when the model stores this column as an enum (a plain string)."""
    model_table = db.metadata.tables.get(table)
    if model_table is None or column not in model_table.c:
        return None
    column_type = model_table.c[column].type
    return list(column_type.enums) if isinstance(column_type, sa.Enum) else None


def plain_value(table: sa.Table, column: sa.Column, i: int):
    """A value of the column's type, distinct per row (unique constraints) and small
    enough for the check constraints (ratings 1–10, coordinates)."""
    if column.primary_key and isinstance(column.type, sa.Integer):
        return 1000 + i  # ids no sequence would hand out, so a lost row cannot be re-made
    enum_values = model_enum_values(table.name, column.name)
    if enum_values:
        return enum_values[i % len(enum_values)]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return 1.5 + i
    if isinstance(kind, sa.DateTime):
        return datetime(2025, 3, 1, 18, 30, tzinfo=timezone.utc) + timedelta(days=i)
    if isinstance(kind, sa.Date):
        return date(2025, 3, 1) + timedelta(days=i)
    if isinstance(kind, sa.JSON):
        return {"row": i}
    if isinstance(kind, sa.String):  # Text too
        value = f"{i}-{table.name}-{column.name}"
        return value[: kind.length] if kind.length else value
    if isinstance(kind, sa.LargeBinary):
        return bytes([i])
    raise AssertionError(f"no test value for {table.name}.{column.name} ({kind!r})")


def make_rows(table: sa.Table, inserted: dict[str, list[dict]]) -> list[dict]:
    """Rows for the table; foreign keys point at rows of the parent tables (inserted
    first), a self-reference at the table's own first row."""
    rows = [{c.name: plain_value(table, c, i) for c in table.columns if not c.foreign_keys}
            for i in range(ROWS_PER_TABLE)]
    for column in table.columns:
        for key in column.foreign_keys:
            target = key.column
            for i, row in enumerate(rows):
                if target.table is table:
                    if i == 0 and column.nullable:
                        row[column.name] = None
                    else:
                        row[column.name] = rows[0][target.name]
                else:
                    parents = inserted[target.table.name]
                    row[column.name] = parents[i % len(parents)][target.name]
    return rows


def comparable(value):
    """SQLite hands datetimes back without their (UTC) zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def fill_every_table(engine) -> dict[str, set[tuple]]:
    """Insert rows into every table; return each table's primary keys."""
    metadata = sa.MetaData()
    metadata.reflect(bind=engine)
    inserted: dict[str, list[dict]] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            inserted[table.name] = make_rows(table, inserted)
            connection.execute(table.insert(), inserted[table.name])
    keys = {}
    for name, rows in inserted.items():
        pk = [c.name for c in metadata.tables[name].primary_key.columns]
        keys[name] = {tuple(comparable(row[c]) for c in pk) for row in rows}
    return keys


def primary_keys(engine, names) -> dict[str, set[tuple] | None]:
    """Each table's primary keys now; None for a table that is gone."""
    metadata = sa.MetaData()
    metadata.reflect(bind=engine)
    found = {}
    with engine.connect() as connection:
        for name in names:
            table = metadata.tables.get(name)
            if table is None:
                found[name] = None
                continue
            pk = list(table.primary_key.columns)
            found[name] = {tuple(map(comparable, row)) for row in connection.execute(sa.select(*pk))}
    return found


def assert_foreign_keys_hold(engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.fixture
def migrated_app(tmp_path, empty_database_url):
    app = make_test_app(tmp_path, empty_database_url)
    with app.app_context():
        yield app
        db.engine.dispose()


def migrate_to(app, revision: str) -> None:
    upgrade(directory=app.extensions["migrate"].directory, revision=revision)


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.mark.parametrize("revision", [r for r in REVISIONS if r != HEAD])
def test_upgrade_to_head_keeps_every_row(migrated_app, revision):
    migrate_to(migrated_app, revision)
    before = fill_every_table(db.engine)
    assert before, "no tables at " + revision

    migrate_to(migrated_app, "head")

    assert current_revision(db.engine) == HEAD
    assert primary_keys(db.engine, before) == before
    assert_foreign_keys_hold(db.engine)


@pytest.mark.parametrize("revision", REVISIONS)
def test_step_down_and_up_again_keeps_rows(migrated_app, revision):
    """Each step's downgrade works with data in every table and loses only the rows
    of what that step added; upgrading again keeps the rest (for head: −1 / +1)."""
    migrate_to(migrated_app, revision)
    filled = fill_every_table(db.engine)
    directory = migrated_app.extensions["migrate"].directory

    downgrade(directory=directory, revision="-1")
    below = SCRIPT.get_revision(revision).down_revision
    assert current_revision(db.engine) == below
    after_down = primary_keys(db.engine, filled)
    kept = {name: keys for name, keys in filled.items() if after_down[name] is not None}
    assert {name: after_down[name] for name in kept} == kept
    if below is not None:
        assert kept, "the step down dropped every table"

    upgrade(directory=directory, revision="+1")
    assert current_revision(db.engine) == revision
    assert primary_keys(db.engine, kept) == kept
    assert_foreign_keys_hold(db.engine)


def test_upgrade_blanks_the_bodies_of_sent_mails(migrated_app):
    """Mails sent before c4e8a2f1b9d3 kept live sign-in links in their bodies; unsent ones still need theirs."""
    migrate_to(migrated_app, "a1d359daf2fa")
    now = datetime.now(timezone.utc)
    with db.engine.begin() as connection:
        for sent_at in (now, None):
            connection.execute(text(
                "INSERT INTO outbox_mail (recipient, subject, body_text, body_html, created_at, attempts,"
                " next_attempt_at, sent_at, last_error) VALUES ('a@example.se', 'Länk', 'https://x/login/link/T',"
                " '<a href=\"https://x/login/link/T\">', :now, 1, :now, :sent_at, '')"), {"now": now, "sent_at": sent_at})
    migrate_to(migrated_app, "c4e8a2f1b9d3")
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT sent_at IS NOT NULL, body_text, body_html, failed_at FROM outbox_mail ORDER BY id")).all()
    assert [(bool(sent), text_, html, failed) for sent, text_, html, failed in rows] == [
        (True, "", "", None), (False, "https://x/login/link/T", '<a href="https://x/login/link/T">', None)]
