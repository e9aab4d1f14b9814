"""Fixtures in the flaskr style: app, client, runner and a login helper.

Every test gets its own database: a fresh SQLite file by default, or, when
TEST_DATABASE_URL points at PostgreSQL, a database created for this run whose
tables are emptied after each test and which is dropped at the end.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from walkapp import create_app, faces, mail
from walkapp.categories import seed_default_categories
from walkapp.config import normalise_db_url
from walkapp.extensions import db
from walkapp.models import Organisation, Role, User

PASSWORD = "correct horse battery"
STATIC_BUILD_PATH = str(Path(tempfile.gettempdir()) / f"walkapp-test-static-{os.getuid()}")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


class Databases:
    """Creates throwaway PostgreSQL databases and drops them again."""

    def __init__(self, url: str):
        self.base = make_url(normalise_db_url(url))
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"walkapp_test_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases():
    if not TEST_DATABASE_URL:
        yield None
        return
    databases = Databases(TEST_DATABASE_URL)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def shared_pg_url(pg_databases):
    return pg_databases.create() if pg_databases else None


@pytest.fixture
def empty_database_url(tmp_path, pg_databases):
    """A brand-new empty database (for migration tests)."""
    if pg_databases:
        return pg_databases.create()
    return f"sqlite:///{tmp_path / 'empty.sqlite'}"


def make_test_app(tmp_path, database_url: str | None, **extra):
    os.environ["WALKAPP_INSTANCE_PATH"] = str(tmp_path / "instance")
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # one build of static/ for the whole run (assets.py reuses a tree already built)
        "STATIC_BUILD_PATH": STATIC_BUILD_PATH,
    }
    config.update(extra)
    return create_app(config)


def reset_database(app) -> None:
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app_factory(tmp_path, shared_pg_url):
    apps = []

    def factory(**extra):
        app = make_test_app(tmp_path, shared_pg_url, **extra)
        with app.app_context():
            db.create_all()
            seed_default_categories()
            db.session.commit()
        apps.append(app)
        return app

    yield factory
    mail.wait_idle()  # the mail thread is done with the database before it is reset
    faces.wait_idle()  # and so is face detection
    for app in apps:
        reset_database(app)


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def create_user(role: Role, email: str | None = None, name: str | None = None,
                organisation: Organisation | None = None, password: str = PASSWORD) -> User:
    email = email or f"{role.value}@example.se"
    if role is Role.responder and organisation is None:
        organisation = db.session.scalar(db.select(Organisation).filter_by(name="Bostadsbolaget"))
        if organisation is None:
            organisation = Organisation(name="Bostadsbolaget", kind="Bostadsbolag")
            db.session.add(organisation)
    user = User(email=email, name=name or role.value.title(), role=role, organisation=organisation)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def users(app):
    """One user per role, with the shared test password."""
    with app.app_context():
        created = {role: create_user(role) for role in Role}
        return {role: user.id for role, user in created.items()}


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email="coordinator@example.se", password=PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def login_as(self, role: Role):
        response = self.login(f"{role.value}@example.se")
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
