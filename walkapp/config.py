"""Configuration: defaults, then instance/config.py, then the environment.

Precedence (later wins): the defaults below, ``instance/config.py``,
``DATABASE_URL`` / ``SECRET_KEY`` and every ``WALKAPP_*`` variable (the prefix
is stripped, values are parsed as JSON when they can be, e.g.
``WALKAPP_MAP_ZOOM=13``).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


class StartupError(click.ClickException):
    """A configuration problem that stops start-up with a one-line message."""


class Defaults:
    # Sessions and cookies: secure by default; the local demo relaxes SECURE
    # because it is served over plain http on 127.0.0.1.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    WTF_CSRF_CHECK_DEFAULT = False  # access.enforce() checks CSRF, except for API tokens
    WTF_CSRF_TIME_LIMIT = None  # a form opened before the walk still posts after it

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    LANGUAGES = ["sv", "en"]
    BABEL_DEFAULT_LOCALE = "sv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Stockholm"

    MUNICIPALITY = "Härnösands kommun"
    MAP_CENTER = [62.6323, 17.9379]
    MAP_ZOOM = 14
    TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    TILE_ATTRIBUTION = None  # None: OpenStreetMap's, in the page's language (walkapp.maps)

    # Photos (issue #3): per-file cap, pixel cap, and the whole request.
    PHOTO_MAX_BYTES = 20 * 1024 * 1024
    PHOTO_MAX_PIXELS = 50_000_000
    PHOTOS_PER_OBSERVATION = 5
    MAX_CONTENT_LENGTH = 5 * 20 * 1024 * 1024 + 1024 * 1024
    DUPLICATE_RADIUS_M = 25
    # The site's own address: every link in a mail is built from it, never from the request
    # (whose Host header anyone can choose). A path prefix is kept (https://x.se/walkapp).
    BASE_URL = "http://127.0.0.1:5000"
    # Host names this site answers to; other hosts get a 400 page. None: BASE_URL's host,
    # localhost and 127.0.0.1. WALKAPP_TRUSTED_HOSTS takes a comma-separated list
    # (".example.se" also allows its subdomains).
    TRUSTED_HOSTS = None
    # Mail (the usual keys; set them as WALKAPP_MAIL_SERVER etc.).
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "walkapp <noreply@localhost>"
    MAIL_TIMEOUT = 10
    # Sign-in links: typed-in requests expire fast; links in task mails last longer.
    LOGIN_LINK_MINUTES = 15
    # Failed password sign-ins allowed per address within the minutes given (auth/throttle.py).
    LOGIN_FAILURES_ALLOWED = 10
    LOGIN_FAILURE_MINUTES = 15
    # Guests (joined by code, no account; limits.py): reports and photo bytes per guest and per walk
    # within GUEST_LIMIT_MINUTES; over them a guest is asked to wait (429), nothing is lost.
    GUEST_REPORTS_ALLOWED = 30
    GUEST_PHOTO_BYTES_ALLOWED = 200 * 1024 * 1024
    WALK_GUEST_REPORTS_ALLOWED = 300
    WALK_GUEST_PHOTO_BYTES_ALLOWED = 2 * 1024 * 1024 * 1024
    GUEST_LIMIT_MINUTES = 60
    # Joining by code, per client IP address (only an HMAC of it is stored) within JOIN_LIMIT_MINUTES.
    JOINS_PER_ADDRESS_ALLOWED = 50
    JOIN_CODE_FAILURES_ALLOWED = 20
    JOIN_LIMIT_MINUTES = 15
    # Reverse proxies in front of walkapp that add X-Forwarded-For (nginx: 1). 0 trusts none, and
    # the client address is the connection's; set it only when every request comes through them.
    PROXY_FORWARDS = 0
    TASK_LINK_DAYS = 7
    # A responder who signs in with a mail link may stay signed in on their own device this long
    # (Flask-Login's remember cookie); 0 turns it off.
    REMEMBER_RESPONDER_DAYS = 30
    REMINDER_SOON_DAYS = 3
    # Open311: set when one endpoint serves several municipalities
    OPEN311_JURISDICTION = None
    OPEN311_CONTACT = None
    OPEN311_KEY_SERVICE = None
    # CSV imports
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    IMPORT_MAX_ROWS = 10_000
    # Above this many items in a map view, the API sends grid clusters instead of points.
    MAP_MAX_POINTS = 500
    # Threads (and so extra database connections) per process that run the lägesbild's queries side by
    # side. 1: one after another on the request's own connection (with the summary tables they are
    # small); more only for a server with idle cores, and each adds a connection per process.
    QUERY_WORKERS = 1
    # Read the lägesbild's and the inbox's counts from the summary tables (walkapp/summaries.py).
    SUMMARIES = True
    # Content-hashed, compressed copies of static/ (assets.py); default instance/static.
    STATIC_BUILD_PATH = None
    # Keep the map tiles of a joined walk's area on the phone (zooms 15-18, at most this many tiles).
    # Off by default: tile.openstreetmap.org forbids bulk fetching; turn on for your own tile server.
    OFFLINE_TILES = False
    OFFLINE_TILE_BUDGET = 500
    # Default days to the due date, by priority.
    DUE_DAYS = {"high": 7, "normal": 30, "low": 90}
    # Logs: "text", or "json" for one JSON object per line (request id, route, status, user id; no personal data).
    LOG_FORMAT = "text"
    # Behind nginx: the internal location that serves the photo folder (deploy/nginx/walkapp.conf). walkapp
    # checks the permission and answers with X-Accel-Redirect; nginx sends the file. None: walkapp sends it.
    PHOTO_ACCEL_REDIRECT = None
    # Where photos are kept: "local" (PHOTO_STORAGE_PATH) or "s3", an S3-compatible bucket shared by several
    # app servers (walkapp/s3_storage.py; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
    PHOTO_STORAGE = "local"
    S3_BUCKET = None
    S3_ENDPOINT_URL = None
    S3_REGION = None
    S3_PREFIX = ""
    # Retention plan (gallring), applied by `walkapp retention` (privacy/retention.py); the privacy
    # notice shows these. Months after an item closed: its residents' reporter links, followers and
    # Open311 contact fields are anonymised.
    RETENTION_CLOSED_ITEM_MONTHS = 12
    # Months after a walk's day: its guests' names and the participants' e-mail addresses go.
    RETENTION_WALK_GUEST_MONTHS = 6
    # Months after an item closed: its photos that were never published are deleted (files and rows).
    RETENTION_UNPUBLISHED_PHOTO_MONTHS = 6
    # Days: sent or failed mails, used or expired sign-in links, rate counts and key usage.
    RETENTION_LOG_DAYS = 30
    # Privacy notice and accessibility statement (/integritet, /tillganglighet). Free texts take a
    # string or a {"sv": ..., "en": ...} mapping. CONTROLLER_NAME defaults to MUNICIPALITY.
    CONTROLLER_NAME = None
    CONTROLLER_CONTACT = None      # e.g. "kommunen@example.se, 0611-34 80 00"
    DPO_CONTACT = None             # the data protection officer, e.g. "dataskyddsombud@example.se"
    ACCESSIBILITY_CONTACT = None   # where to report an accessibility problem; default CONTROLLER_CONTACT
    ACCESSIBILITY_ASSESSED = "2026-12-03"  # date of the latest self-assessment (ISO)
    ACCESSIBILITY_GAPS = []        # extra known gaps, each a text as above
    PRIVACY_EXTRA = None           # an extra paragraph at the end of the privacy notice
    ACCESSIBILITY_EXTRA = None     # an extra paragraph at the end of the accessibility statement


# What walkapp creates holds personal data (database, photos) or signs sessions
# (secret key): only the account running walkapp may read it, whatever the umask.
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700

WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "test"}
SECRET_FILE = "secret_key"


def load(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
        Path(app.instance_path) / "walkapp.sqlite"
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        if os.environ.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        app.config.from_prefixed_env("WALKAPP")
    else:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config.get("TRUSTED_HOSTS"), app.config["BASE_URL"])


def trusted_hosts(value, base_url: str) -> list[str]:
    """The hosts Flask accepts (config TRUSTED_HOSTS): as configured, or BASE_URL's plus the local ones."""
    if value is None:
        value = [urlsplit(base_url).hostname or "", "localhost", "127.0.0.1"]
    elif isinstance(value, str):
        value = value.split(",")
    hosts = [host.strip().lower() for host in value if host and host.strip()]
    if not hosts:
        raise StartupError("TRUSTED_HOSTS is empty: list the host names this site answers to.")
    return list(dict.fromkeys(hosts))


def normalise_db_url(url: str) -> str:
    """Accept the postgres:// URLs that hosting platforms hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_instance_folder(app: Flask) -> None:
    """The instance folder (config, database, secret key, photos), private when created."""
    Path(app.instance_path).mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)


def create_private_file(path: Path) -> bool:
    """Create an empty file only its owner can read; False when it exists already.

    The mode is given to open() itself, so the file is never readable by others,
    not even between creating it and a chmod.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        return False
    return True


def write_new_private_file(path: Path, text: str) -> None:
    """Write a file readable only by its owner, whole or not at all; keep one that exists.

    Written aside and linked into place: a process starting at the same moment
    sees either no file or the whole key (then both use the one linked first).
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        os.unlink(temp)


@event.listens_for(Engine, "do_connect")
def _create_sqlite_file_private(dialect, connection_record, cargs, cparams) -> None:
    """Create a new SQLite database file 0600 before SQLite creates it with the umask's
    0644; its journal and WAL files copy the database file's mode."""
    if dialect.name != "sqlite" or cparams.get("uri") or not cargs:
        return
    database = cargs[0]
    if database and database != ":memory:" and Path(database).parent.is_dir():
        create_private_file(Path(database))


def ensure_secret_key(app: Flask, *, local: bool) -> None:
    """Refuse to run in production without a real key; create one for local use.

    A generated key is written once to instance/secret_key so that sessions
    survive restarts of the local server.
    """
    key = app.config.get("SECRET_KEY")
    if key and str(key).lower() not in WEAK_SECRETS and len(str(key)) >= 16:
        return
    if key and not (app.debug or app.testing):
        raise StartupError("SECRET_KEY is too weak: use at least 16 random characters.")
    secret_file = Path(app.instance_path) / SECRET_FILE
    if secret_file.exists():
        app.config["SECRET_KEY"] = secret_file.read_text().strip()
        return
    if app.testing:
        app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
        return
    if not (app.debug or local):
        raise StartupError(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    write_new_private_file(secret_file, secrets.token_urlsafe(32))
    app.config["SECRET_KEY"] = secret_file.read_text().strip()
