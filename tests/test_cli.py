import re
import shutil
import sqlite3
import stat
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from walkapp import demo, schema
from walkapp.extensions import db
from walkapp.models import Organisation, Role, User

from .conftest import make_test_app
from .test_migrations import HEAD, MIGRATIONS, REVISIONS, fill_every_table


def count_users(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(User.id)))


def test_create_user(app, runner):
    result = runner.invoke(args=["create-user", "Sara@Example.se", "--role", "coordinator",
                                 "--name", "Sara", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="sara@example.se"))
        assert user.role is Role.coordinator and user.check_password("a-long-password")


def test_create_user_asks_for_password(app, runner):
    result = runner.invoke(args=["create-user", "ask@example.se", "--role", "walker"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert count_users(app) == 1


def test_create_user_rejects_invalid_email(app, runner):
    result = runner.invoke(args=["create-user", "not-an-email", "--role", "admin", "--password", "a-long-password"])
    assert result.exit_code != 0
    assert "EMAIL" in result.output
    assert count_users(app) == 0


def test_responder_needs_an_existing_organisation(app, runner):
    args = ["create-user", "r@example.se", "--role", "responder", "--password", "a-long-password"]
    assert runner.invoke(args=args).exit_code != 0
    assert runner.invoke(args=args + ["--org", "Finns inte"]).exit_code != 0
    with app.app_context():
        db.session.add(Organisation(name="HEMAB"))
        db.session.commit()
    result = runner.invoke(args=args + ["--org", "HEMAB"])
    assert result.exit_code == 0, result.output
    assert count_users(app) == 1


def test_duplicate_email_is_refused(app, runner):
    args = ["create-user", "same@example.se", "--role", "walker", "--password", "a-long-password"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "already exists" in result.output
    assert count_users(app) == 1


# --- walkapp db upgrade -------------------------------------------------------------------

def add_migration(directory: Path, revision: str, down_revision: str, body: str) -> None:
    (directory / "versions" / f"{revision}_test_step.py").write_text(
        f'"""test step"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
        f"branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(body), '    ')}\n\n"
        f"def downgrade():\n    pass\n"
    )


@pytest.fixture
def migrations_copy(tmp_path):
    """The project's migrations, to which a test adds steps of its own."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def upgrade_with(app, directory, *args):
    return app.test_cli_runner().invoke(args=["db", "upgrade", "-d", str(directory), *args])


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error")]


FAILING_STEPS = {
    # DDL, then an error: the new table and column must be rolled back with it.
    "sql-error": """
        op.create_table("half_built", sa.Column("id", sa.Integer, primary_key=True))
        with op.batch_alter_table("walk") as batch_op:
            batch_op.add_column(sa.Column("half_built", sa.Integer, nullable=True))
        op.execute("UPDATE no_such_table SET x = 1")
    """,
    # Parents removed under their children: SQLite's foreign_key_check (or PostgreSQL itself).
    "orphans": """
        op.create_table("half_built", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("DELETE FROM organisation")
    """,
}


@pytest.mark.parametrize("failure", FAILING_STEPS)
def test_failed_upgrade_stops_clearly_and_can_continue(tmp_path, empty_database_url, migrations_copy,
                                                       failure):
    app = make_test_app(tmp_path, empty_database_url)
    assert upgrade_with(app, migrations_copy).exit_code == 0
    with app.app_context():
        organisation = Organisation(name="HEMAB")
        db.session.add(organisation)
        db.session.flush()
        db.session.add(User(email="r@example.se", name="R", role=Role.responder, organisation=organisation))
        db.session.commit()
    add_migration(migrations_copy, "f00d00000001", HEAD, FAILING_STEPS[failure])

    result = upgrade_with(app, migrations_copy)

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = error_lines(result)
    assert len(errors) == 1, result.output
    assert errors[0].startswith("Error: Upgrade stopped at revision f00d00000001 (test step): ")
    assert f"The database is still at revision {HEAD}" in errors[0]
    if failure == "sql-error":
        assert "no_such_table" in errors[0]
    elif db_dialect(app) == "sqlite":
        assert "1 in user pointing at missing organisation" in errors[0]
    with app.app_context():
        assert schema.current_revision(db.engine) == HEAD
        inspector = sa.inspect(db.engine)
        assert "half_built" not in inspector.get_table_names()
        assert "half_built" not in {c["name"] for c in inspector.get_columns("walk")}
        assert db.session.scalar(db.select(db.func.count(Organisation.id))) == 1
        db.engine.dispose()

    # The step fixed, the same command continues from there.
    add_migration(migrations_copy, "f00d00000001", HEAD, """
        op.create_table("half_built", sa.Column("id", sa.Integer, primary_key=True))
    """)
    result = upgrade_with(app, migrations_copy)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert schema.current_revision(db.engine) == "f00d00000001"
        db.engine.dispose()


def db_dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def sqlite_app(tmp_path):
    """An app on a SQLite file whatever TEST_DATABASE_URL says: the copy is SQLite's."""
    return make_test_app(tmp_path, f"sqlite:///{tmp_path / 'walkapp.sqlite'}")


def backups(tmp_path) -> list[Path]:
    return sorted(tmp_path.glob("walkapp.sqlite.before-*"))


def test_upgrade_copies_the_sqlite_file_first(tmp_path):
    app = sqlite_app(tmp_path)
    older = REVISIONS[-2]
    result = app.test_cli_runner().invoke(args=["db", "upgrade", older])
    assert result.exit_code == 0, result.output
    assert backups(tmp_path) == []  # a new database: nothing to keep
    with app.app_context():
        filled = fill_every_table(db.engine)
        db.engine.dispose()

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    [copy] = backups(tmp_path)
    assert re.fullmatch(rf"walkapp\.sqlite\.before-{older}-\d{{8}}T\d{{6}}Z", copy.name)
    assert f"Copied the database to {copy} before upgrading." in result.output
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with closing(sqlite3.connect(copy)) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(older,)]
        for table, keys in filled.items():
            assert connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == len(keys)
    with app.app_context():
        assert schema.current_revision(db.engine) == HEAD
        db.engine.dispose()

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "Nothing to upgrade" in result.output
    assert backups(tmp_path) == [copy]


def test_demo_upgrades_the_same_way(tmp_path):
    app = sqlite_app(tmp_path)
    assert app.test_cli_runner().invoke(args=["db", "upgrade", REVISIONS[-2]]).exit_code == 0
    with app.app_context():
        fill_every_table(db.engine)
        demo.prepare_database()
        assert schema.current_revision(db.engine) == HEAD
        db.engine.dispose()
    assert len(backups(tmp_path)) == 1
