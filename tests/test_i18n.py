from datetime import datetime, timezone
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import format_datetime, format_decimal

from walkapp.extensions import db
from walkapp.models import Role, User

TRANSLATIONS = Path(__file__).resolve().parent.parent / "walkapp" / "translations"


def test_swedish_is_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="sv">' in page and "Logga in" in page


def test_language_switch_is_remembered_in_session(client):
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_language_switch_is_remembered_per_user(app, client, users, auth):
    auth.login_as(Role.walker)
    client.post("/language", data={"lang": "en"})
    with app.app_context():
        assert db.session.get(User, users[Role.walker]).locale == "en"
    fresh = app.test_client()
    fresh.post("/login", data={"email": "walker@example.se", "password": "correct horse battery"})
    assert '<html lang="en">' in fresh.get("/").get_data(as_text=True)


def test_unknown_language_is_refused(client):
    assert client.post("/language", data={"lang": "xx"}).status_code == 400


def test_every_message_has_a_swedish_translation():
    with open(TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and (m.fuzzy or not all(m.string if m.pluralizable else [m.string]))]
    assert missing == []
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = read_po(f)
    assert {m.id for m in template if m.id} <= {m.id for m in catalog if m.id}


def test_the_committed_template_holds_every_message_of_the_code(tmp_path):
    """The README's extract command finds no message the committed messages.pot lacks (a stale template
    would let a string with no Swedish translation through the test above) and none it has in excess."""
    from babel.messages.frontend import CommandLineInterface

    root = TRANSLATIONS.parent.parent
    out = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), "-k", "_l",
                                "--no-location", "--sort-output", "--project", "walkapp", "-o", str(out), str(root)])
    with open(out, "rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    assert sorted(extracted ^ committed, key=str) == []


def test_compiled_catalogs_are_current():
    """The committed .mo files hold exactly what the .po files say."""
    from babel.messages.mofile import read_mo

    for lang in ("sv", "en"):
        folder = TRANSLATIONS / lang / "LC_MESSAGES"
        def key(value):  # plural entries come as tuples from .po and lists from .mo
            return tuple(value) if isinstance(value, (list, tuple)) else value

        with open(folder / "messages.po", "rb") as f:
            po = {key(m.id): key(m.string) for m in read_po(f)
                  if m.id and all(key(m.string) if m.pluralizable else [m.string]) and not m.fuzzy
                  and key(m.string) != key(m.id)}
        with open(folder / "messages.mo", "rb") as f:
            mo = {key(m.id): key(m.string) for m in read_mo(f)  # untranslated plurals echo their ids
                  if m.id and all(key(m.string) if m.pluralizable else [m.string]) and key(m.string) != key(m.id)}
        assert mo == po


def test_dates_and_numbers_follow_the_locale(app):
    moment = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)
    with app.test_request_context():
        assert format_datetime(moment, "short") == "2026-11-25 18:30"
        assert format_decimal(1234.5) == "1\xa0234,5"
