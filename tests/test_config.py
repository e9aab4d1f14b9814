import os
import stat
import subprocess
import sys

import pytest

from walkapp import create_app, photos
from walkapp.extensions import db
from walkapp.config import StartupError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("WALKAPP_") or key in ("SECRET_KEY", "DATABASE_URL", "FLASK_DEBUG"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WALKAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return tmp_path


def test_refuses_to_start_without_secret_key(clean_env):
    with pytest.raises(StartupError, match="SECRET_KEY"):
        create_app()


def test_refuses_weak_secret_key(clean_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "dev")
    with pytest.raises(StartupError, match="too weak"):
        create_app()


def test_local_use_generates_key_once(clean_env):
    first = create_app(local=True).config["SECRET_KEY"]
    assert (clean_env / "instance" / "secret_key").read_text() == first
    # a later start, even outside local use, keeps the same key: sessions survive
    assert create_app().config["SECRET_KEY"] == first


def test_environment_overrides(clean_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("WALKAPP_MAP_ZOOM", "12")
    monkeypatch.setenv("WALKAPP_MUNICIPALITY", "Sundsvalls kommun")
    app = create_app()
    assert app.config["MAP_ZOOM"] == 12
    assert app.config["MUNICIPALITY"] == "Sundsvalls kommun"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("db.sqlite")


def test_postgres_urls_use_psycopg3():
    from walkapp.config import normalise_db_url

    assert normalise_db_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_db_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"


def test_unreachable_database_is_a_one_line_error(clean_env):
    env = {**os.environ, "SECRET_KEY": "x" * 32,
           "DATABASE_URL": "postgresql://walkapp@127.0.0.1:9/nowhere"}
    walkapp = os.path.join(os.path.dirname(sys.executable), "walkapp")
    result = subprocess.run([walkapp, "routes"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: Cannot reach the database postgresql+psycopg://walkapp@127.0.0.1:9/nowhere")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)  # what most servers run with: 0644 files unless told otherwise
    yield
    os.umask(old)


def test_private_files_and_folders(clean_env, monkeypatch, usual_umask):
    monkeypatch.delenv("DATABASE_URL")  # the default: a SQLite file in the instance folder
    instance = clean_env / "instance"
    app = create_app(local=True)  # creates the secret key, and connects (creating the database)
    with app.app_context():
        photos.storage().put("ab" + "c" * 30, "display", b"jpeg bytes")
        db.engine.dispose()

    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "walkapp.sqlite") == 0o600
    assert mode(instance / "photos") == 0o700
    assert mode(instance / "photos" / "ab") == 0o700
    assert mode(instance / "photos" / "ab" / ("ab" + "c" * 30 + ".display.jpg")) == 0o600


def test_help_works_before_any_secret_key_exists(clean_env):
    """A fresh clone: no SECRET_KEY, no instance folder yet."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    walkapp = os.path.join(os.path.dirname(sys.executable), "walkapp")

    result = subprocess.run([walkapp, "--help"], env=env, cwd=clean_env, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("Usage: walkapp")
    for command in ("create-user", "db", "demo", "send-mail", "routes"):
        assert f"  {command} " in result.stdout
    assert not (clean_env / "instance").exists()  # help builds nothing

    # A command that needs the app still refuses, in one line.
    result = subprocess.run([walkapp, "seed-categories"], env=env, cwd=clean_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Error: SECRET_KEY is not set. Set the SECRET_KEY environment variable "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')."
    ]


def test_trusted_hosts_default_to_base_url_and_local_names(clean_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-long-enough-secret-key-0123")
    monkeypatch.setenv("WALKAPP_BASE_URL", "https://trygg.kommun.example/walkapp")
    assert create_app().config["TRUSTED_HOSTS"] == ["trygg.kommun.example", "localhost", "127.0.0.1"]
    monkeypatch.setenv("WALKAPP_TRUSTED_HOSTS", "trygg.kommun.example, .intra.kommun.example")
    assert create_app().config["TRUSTED_HOSTS"] == ["trygg.kommun.example", ".intra.kommun.example"]
    monkeypatch.setenv("WALKAPP_TRUSTED_HOSTS", " , ")
    with pytest.raises(StartupError, match="TRUSTED_HOSTS"):
        create_app()
