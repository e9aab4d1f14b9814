"""One date style per language, short and long, and the language's decimal sign: pages, mails, PDFs
(issue 15, Formats). sv: "2 dec. 2026 15:00", "2 december 2026", "41,5"; en: "2 Dec 2026 15:00",
"2 December 2026", "41.5"."""
import io
import re
from datetime import datetime, timezone

import pdfplumber

from walkapp.extensions import db
from walkapp.models import Role, Status, WalkStatus
from walkapp.situation import safety_index

from .conftest import AuthActions, create_user
from .factories import make_observation, make_walk
from .test_mail import body, smtp, smtp_port  # noqa: F401 (fixtures)

STARTS = datetime(2026, 12, 2, 14, 0, tzinfo=timezone.utc)  # 15:00 in Stockholm
RATINGS = [3, 6, 8, 9]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in pdf.pages))


def rated_walk(users) -> int:
    walk = make_walk(participants=[users[Role.walker]], code="FMT222", status=WalkStatus.done)
    walk.starts_at = STARTS
    db.session.commit()
    for rating in RATINGS:
        make_observation(users[Role.walker], walk, safety_rating=rating)
    return walk.id


def index_texts(decimal_sign: str) -> tuple[str, str, str]:
    index = safety_index.from_ratings(RATINGS)
    return tuple(f"{value:.1f}".replace(".", decimal_sign) for value in (index.value, index.low, index.high))


def test_pages_use_the_short_and_long_style_and_the_decimal_comma(app, client, users, auth):
    with app.app_context():
        walk_id = rated_walk(users)
    auth.login_as(Role.coordinator)
    assert "2 dec. 2026 15:00" in text_of(client.get(f"/walks/{walk_id}").get_data(as_text=True))
    protocol = text_of(client.get(f"/walks/{walk_id}/protocol").get_data(as_text=True))
    value, low, high = index_texts(",")
    assert "2 december 2026" in protocol and f"{value} ({low}–{high})" in protocol
    assert "2026-12-02" not in protocol
    client.post("/language", data={"lang": "en"})
    assert "2 Dec 2026 15:00" in text_of(client.get(f"/walks/{walk_id}").get_data(as_text=True))
    protocol = text_of(client.get(f"/walks/{walk_id}/protocol").get_data(as_text=True))
    value, low, high = index_texts(".")
    assert "2 December 2026" in protocol and f"{value} ({low}–{high})" in protocol


def test_protocol_pdf_uses_the_long_style_and_the_decimal_comma(app, client, users, auth):
    with app.app_context():
        walk_id = rated_walk(users)
    auth.login_as(Role.coordinator)
    text = pdf_text(client.get(f"/walks/{walk_id}/protocol.pdf").data)
    value, low, high = index_texts(",")
    assert "2 december 2026" in text and f"{value} ({low}–{high})" in text
    client.post("/language", data={"lang": "en"})
    text = pdf_text(client.get(f"/walks/{walk_id}/protocol.pdf").data)
    value, low, high = index_texts(".")
    assert "2 December 2026" in text and f"{value} ({low}–{high})" in text


def test_task_mail_writes_the_due_date_in_the_responders_language(app_factory, smtp, smtp_port):
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, MAIL_TIMEOUT=3)
    with app.app_context():
        sv = create_user(Role.responder, "svar@example.se")
        en = create_user(Role.responder, "reply@example.se")
        en.locale = "en"
        create_user(Role.coordinator, "samordnare@example.se")
        obs = make_observation(None, status=Status.accepted)
        obs_id, org_id = obs.id, sv.organisation.id
    client = app.test_client()
    AuthActions(client).login("samordnare@example.se")
    response = client.post(f"/observations/{obs_id}/move", data={
        "action": "assign", "version": "1", "organisation_id": str(org_id), "priority": "high",
        "due_date": "2026-12-16"})
    assert response.status_code == 302
    assert "Klart senast: 16 dec. 2026" in body(smtp.to("svar@example.se")[0])
    assert "Due date: 16 Dec 2026" in body(smtp.to("reply@example.se")[0])
