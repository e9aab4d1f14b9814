"""Mail over real SMTP (aiosmtpd in-process): tasks, sign-in links, outbox retries, reminders, followers."""
import email
import re
import socket
from datetime import timedelta
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller

from walkapp import mail
from walkapp.extensions import db
from walkapp.models import Follower, LoginLink, Observation, OutboxMail, Role, Status, User, utcnow

from .factories import local_today, make_observation, make_walk


BASE_URL = "https://trygg.kommun.example"


class Handler:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


class Inbox:
    """An aiosmtpd server's mail (start it with Controller(inbox.handler, …))."""

    def __init__(self):
        self.handler = Handler()

    @property
    def messages(self):
        """What arrived once the app's mail thread has sent everything handed to it."""
        assert mail.wait_idle(30)
        return self.handler.received

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox.handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    inbox.controller = controller
    yield inbox
    controller.stop()


@pytest.fixture
def app(app_factory, smtp_port):
    return app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, MAIL_TIMEOUT=3,
                       MAIL_DEFAULT_SENDER="walkapp <noreply@kommun.example>", BASE_URL=BASE_URL)


@pytest.fixture
def team(app, users):
    """The responder's organisation with a second member and a contact address; an accepted item."""
    with app.app_context():
        responder = db.session.get(User, users[Role.responder])
        org = responder.organisation
        db.session.add(User(email="kollega@bolaget.se", name="Kalle Kollega", role=Role.responder, organisation=org))
        db.session.commit()
        obs = make_observation(users[Role.walker], status=Status.accepted, description="Trasig lampa")
        return {"org": org.id, "obs": obs.id}


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message) -> str:
    """The sign-in link's path; every link in a mail is on BASE_URL."""
    return re.search(re.escape(BASE_URL) + r"(/login/link/[\w-]+)", body(message)).group(1)


def assign(client, obs_id, org_id, version=1):
    return client.post(f"/observations/{obs_id}/move", data={
        "action": "assign", "version": str(version), "organisation_id": str(org_id), "priority": "high"})


def test_assigning_mails_each_member_a_link_that_opens_the_task(app, client, smtp, users, auth, team):
    auth.login_as(Role.coordinator)
    assert assign(client, team["obs"], team["org"]).status_code == 302
    mails = smtp.to("responder@example.se")
    assert len(mails) == 1 and len(smtp.to("kollega@bolaget.se")) == 1
    message = mails[0]
    assert message["Subject"] == f"Nytt uppdrag #{team['obs']}: Belysning"
    assert "Trasig lampa" in body(message) and "Hög" in body(message)
    assert message.get_body(("html",)) is not None
    # the link signs the responder in and opens the task
    responder = app.test_client()
    path = link_in(message)
    page = responder.get(path)
    assert page.status_code == 200 and "Fortsätt" in page.get_data(as_text=True)
    response = responder.post(path)
    assert response.status_code == 302 and response.headers["Location"] == f"/observations/{team['obs']}"
    task = responder.get(f"/observations/{team['obs']}").get_data(as_text=True)
    assert "Markera som åtgärdad" in task and "Inte vårt ansvar" in task
    # used once, it is refused with a way to get a new one
    again = responder.post(path)
    assert again.status_code == 410 and "redan använts" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))) == 0


def test_smtp_down_assign_succeeds_and_send_mail_delivers_once(app, client, smtp_port, users, auth, team):
    auth.login_as(Role.coordinator)
    assert assign(client, team["obs"], team["org"]).status_code == 302  # no SMTP server at all
    assert mail.wait_idle(30)  # the mail thread has tried
    with app.app_context():
        waiting = db.session.scalars(db.select(OutboxMail)).all()
        assert len(waiting) == 2 and all(m.sent_at is None and m.attempts == 1 and m.last_error for m in waiting)
        assert db.session.get(Observation, team["obs"]).status is Status.assigned
        for m in waiting:  # as if the backoff time had passed
            m.next_attempt_at = utcnow()
        db.session.commit()
    inbox = Inbox()
    controller = Controller(inbox.handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["send-mail"])
        assert result.exit_code == 0 and "Sent 2" in result.output
        assert runner.invoke(args=["send-mail"]).output.startswith("Sent 0")
        assert len(inbox.to("responder@example.se")) == 1 and len(inbox.messages) == 2
    finally:
        controller.stop()


def test_backoff_waits_before_retrying(app, client, users, auth, team):
    auth.login_as(Role.coordinator)
    assign(client, team["obs"], team["org"])
    assert mail.wait_idle(30)  # the mail thread has tried
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert "Sent 0, failed 0" in result.output  # not due yet: the first retry waits two minutes


def test_sign_in_link_requests_answer_alike(app, client, smtp, users):
    known = client.post("/login/link", data={"email": "walker@example.se"})
    unknown = client.post("/login/link", data={"email": "nobody@example.se"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 (CSRF tokens differ)
    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == "walker@example.se"
    path = link_in(smtp.messages[0])
    assert client.post(path).status_code == 302
    assert "Inloggad som" in client.get("/").get_data(as_text=True)


def test_expired_and_tampered_links_are_refused(app, client, smtp, users):
    client.post("/login/link", data={"email": "walker@example.se"})
    path = link_in(smtp.messages[0])
    with app.app_context():
        link = db.session.scalar(db.select(LoginLink))
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    expired = client.post(path)
    assert expired.status_code == 410 and "har gått ut" in expired.get_data(as_text=True)
    tampered = client.get(path[:-3] + "xyz")
    assert tampered.status_code == 404 and "inte giltig" in tampered.get_data(as_text=True)
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)
    # the expired page's button sends a fresh link to the same person
    client.post(path + "/renew")
    assert len(smtp.messages) == 2 and smtp.messages[1]["To"] == "walker@example.se"


def test_links_are_rate_limited(app, client, smtp, users):
    for _ in range(7):
        client.post("/login/link", data={"email": "walker@example.se"})
    assert len(smtp.messages) == 5


def test_fix_with_after_photo_mails_the_coordinator_and_followers(app, client, smtp, users, auth, team):
    import io

    from . import photo_samples as samples

    with app.app_context():
        db.session.add(Follower(observation_id=team["obs"], email="boende@example.se", locale="en"))
        db.session.commit()
    auth.login_as(Role.coordinator)
    assign(client, team["obs"], team["org"])
    auth.logout()
    auth.login_as(Role.responder)
    response = client.post(f"/observations/{team['obs']}/move", content_type="multipart/form-data", data={
        "action": "fix", "version": "2", "comment": "Ny armatur", "public": "y",
        "photos": [(io.BytesIO(samples.jpeg_with_orientation_and_gps(800, 600)), "efter.jpg")]})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        obs = db.session.get(Observation, team["obs"])
        assert obs.status is Status.fixed and [p.stage.value for p in obs.photos] == ["after"]
    note = smtp.to("coordinator@example.se")
    assert len(note) == 1 and "åtgärdat" in note[0]["Subject"] and "Ny armatur" in body(note[0])
    follower = smtp.to("boende@example.se")
    assert len(follower) == 1 and "has been fixed" in body(follower[0])  # in the follower's language
    # the coordinator sees before/after side by side and verifies
    auth.logout()
    auth.login_as(Role.coordinator)
    page = client.get(f"/observations/{team['obs']}").get_data(as_text=True)
    assert "Före" in page and "Efter" in page and "Godkänn" in page


def test_decline_goes_back_to_the_coordinator(app, client, smtp, users, auth, team):
    auth.login_as(Role.coordinator)
    assign(client, team["obs"], team["org"])
    auth.logout()
    auth.login_as(Role.responder)
    client.post(f"/observations/{team['obs']}/move", data={"action": "decline", "version": "2", "reason": "Kommunens mark"})
    mails = smtp.to("coordinator@example.se")
    assert len(mails) == 1 and "Kommunens mark" in body(mails[0]) and "inte är deras ansvar" in body(mails[0])


def test_reminders_twice_send_once(app, smtp, users, team):
    with app.app_context():
        obs = db.session.get(Observation, team["obs"])
        obs.status, obs.organisation_id = Status.assigned, team["org"]
        obs.due_date = local_today() - timedelta(days=2)
        soon = make_observation(users[Role.walker], status=Status.assigned, organisation_id=team["org"],
                                due_date=local_today() + timedelta(days=1))
        make_observation(users[Role.walker], status=Status.assigned, organisation_id=team["org"],
                         due_date=local_today() + timedelta(days=20))
        soon_id = soon.id
    runner = app.test_cli_runner()
    assert "Queued 2" in runner.invoke(args=["send-reminders"]).output
    assert "Queued 0" in runner.invoke(args=["send-reminders"]).output
    mails = smtp.to("responder@example.se")
    assert len(mails) == 1 and len(smtp.messages) == 2
    text = body(mails[0])
    assert f"#{team['obs']}" in text and f"#{soon_id}" in text and "Försenade" in text
    assert re.search(re.escape(BASE_URL) + r"/login/link/", text)


def test_invited_member_gets_a_sign_in_mail(app, client, smtp, users, auth, team):
    auth.login_as(Role.coordinator)
    client.post(f"/admin/organisations/{team['org']}/members", data={"name": "Nina Ny", "email": "nina@bolaget.se"})
    mails = smtp.to("nina@bolaget.se")
    assert len(mails) == 1 and "Bostadsbolaget" in mails[0]["Subject"]
    fresh = app.test_client()
    path = link_in(mails[0])
    assert fresh.post(path).headers["Location"] == "/tasks"
    assert "Mina uppgifter" in fresh.get("/tasks").get_data(as_text=True)


def test_guest_who_left_an_email_hears_back(app, client, smtp, users, auth):
    with app.app_context():
        walk = make_walk(code="FOLL22")
        walk_id = walk.id
    guest = app.test_client()
    guest.post("/j/FOLL22", data={"name": "Gäst", "role_label": "resident", "email": "gast@example.se"})
    response = guest.post("/api/v1/observations", data={"walk": str(walk_id), "category": "klotter",
                                                         "lat": "62.63", "lon": "17.93"})
    obs_id = response.get_json()["id"]
    auth.login_as(Role.coordinator)
    client.post(f"/observations/{obs_id}/move", data={"action": "accept", "version": "1"})
    client.post(f"/observations/{obs_id}/move", data={"action": "wont_fix", "version": "2", "reason": "Privat fastighet",
                                                        "public": "y"})
    mails = smtp.to("gast@example.se")
    assert len(mails) == 1 and "inte att åtgärdas" in body(mails[0]) and "Privat fastighet" in body(mails[0])
