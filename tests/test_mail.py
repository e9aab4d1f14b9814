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

from .conftest import AuthActions
from .factories import local_today, make_observation, make_walk


BASE_URL = "https://trygg.kommun.example"


class Handler:
    def __init__(self):
        self.received = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

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
    # used once, it is refused (elsewhere: where it was used, the responder is signed in and goes straight on)
    again = app.test_client().post(path)
    assert again.status_code == 410 and "redan använts" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))) == 0


def test_task_mail_says_where_and_why_and_keeps_a_responder_signed_in_on_their_device(
        app, client, smtp, users, auth, team):
    with app.app_context():
        db.session.get(Observation, team["obs"]).address = "Storgatan 3"
        db.session.commit()
    auth.login_as(Role.coordinator)
    response = client.post(f"/observations/{team['obs']}/move", data={
        "action": "assign", "version": "2", "organisation_id": str(team["org"]), "priority": "high",
        "comment": "Lampan vid porten, ring vaktmästaren"})
    assert response.status_code == 302
    [message] = smtp.to("responder@example.se")
    text = body(message)
    assert "Storgatan 3" in text and f"{BASE_URL}/observations/{team['obs']}" in text  # the place and its map
    assert "Samordnarens kommentar:" in text and "Lampan vid porten, ring vaktmästaren" in text
    assert "Länken loggar in dig och öppnar uppdraget" in text and "30 dagar" in text
    path = link_in(message)
    phone = app.test_client()
    assert "håll mig inloggad här i 30 dagar" in phone.get(path).get_data(as_text=True)
    signed_in = phone.post(path, data={"remember": "1"})
    assert signed_in.headers["Location"] == f"/observations/{team['obs']}"
    remember = phone.get_cookie("remember_token")
    assert remember is not None and remember.expires is not None
    assert timedelta(days=29) < remember.expires - utcnow() <= timedelta(days=30)
    # the browser is closed (the session cookie is gone); the same mail opens the task straight away
    phone.delete_cookie("session")
    again = phone.get(path)
    assert again.status_code == 302 and again.headers["Location"] == f"/observations/{team['obs']}"
    assert "Markera som åtgärdad" in phone.get(f"/observations/{team['obs']}").get_data(as_text=True)
    # on someone else's device (not remembered) the used link says so
    laptop = app.test_client()
    assert laptop.get(path).status_code == 410


def test_a_responder_not_remembered_gets_the_used_link_page_after_the_browser_closed(app, client, smtp, users, auth, team):
    auth.login_as(Role.coordinator)
    assert assign(client, team["obs"], team["org"]).status_code == 302
    path = link_in(smtp.to("responder@example.se")[0])
    shared = app.test_client()
    assert shared.post(path).status_code == 302  # "own device" left unticked
    assert shared.get_cookie("remember_token") is None
    shared.delete_cookie("session")
    assert shared.get(path).status_code == 410


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
    assert "Före" in page and "Efter" in page and "Markera som klar" in page


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


URL = re.compile(r"https?://[^\s\"'<>]+")


def urls_in(message) -> list[str]:
    return URL.findall(body(message)) + URL.findall(message.get_body(("html",)).get_content())


def test_every_link_in_every_mail_is_on_base_url_whatever_the_host(app, smtp, users, auth, team):
    """Item 1: a poisoned Host header (here even one the site was told to trust) never reaches a mail."""
    base = "https://trygg.kommun.example/walkapp"
    app.config.update(BASE_URL=base, TRUSTED_HOSTS=["evil.example", "localhost"])
    with app.app_context():
        walk = make_walk(code="HOST22")
        obs = db.session.get(Observation, team["obs"])
        obs.walk_id, obs.is_public = walk.id, True
        db.session.get(User, users[Role.responder]).organisation.email = "kontakt@bolaget.se"
        db.session.add(Follower(observation_id=team["obs"], email="boende@example.se"))
        db.session.commit()
    evil = app.test_client()
    evil.environ_base["HTTP_HOST"] = "evil.example"
    poisoned = AuthActions(evil)
    poisoned.login_as(Role.coordinator)
    assert assign(evil, team["obs"], team["org"], version=2).status_code == 302  # task_assigned (+ contact)
    evil.post(f"/admin/organisations/{team['org']}/members", data={"name": "Nina Ny", "email": "nina@bolaget.se"})
    poisoned.logout()
    poisoned.login_as(Role.responder)
    evil.post(f"/observations/{team['obs']}/move",  # task_update to the coordinator, follower_update
              data={"action": "fix", "version": "3", "comment": "Ny armatur", "public": "y"})
    evil.post("/logout")
    evil.post("/login/link", data={"email": "walker@example.se"})  # login_link
    templates = {"responder@example.se", "kontakt@bolaget.se", "nina@bolaget.se", "coordinator@example.se",
                 "boende@example.se", "walker@example.se"}
    assert {m["To"] for m in smtp.messages} == templates | {"kollega@bolaget.se"}
    for message in smtp.messages:
        found = urls_in(message)
        assert found and all(url.startswith(base + "/") for url in found), (message["To"], found)
        assert "evil.example" not in message.as_string()
    # the link (path prefix kept) works on the real site
    link = next(u for u in urls_in(smtp.to("walker@example.se")[0]) if "/login/link/" in u)
    fresh = app.test_client()
    assert fresh.post(link.removeprefix(base)).status_code == 302
    assert "Inloggad som" in fresh.get("/").get_data(as_text=True)


def listen_and_never_answer(port: int) -> socket.socket:
    """An SMTP server that hangs: accepts connections and never says a word."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    return server


def statements_in_this_thread(app):
    """Count the SQL statements the request runs (the mail thread's own are not the request's)."""
    import threading

    from sqlalchemy import event

    counted = {"n": 0}
    me = threading.get_ident()

    def count(*args):
        if threading.get_ident() == me:
            counted["n"] += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    return counted


def test_hanging_smtp_server_never_slows_a_request(app, smtp_port, users, auth, team):
    """Item 10: the request answers at once whatever SMTP does, and alike for known and unknown addresses."""
    import time

    hanging = listen_and_never_answer(smtp_port)
    try:
        auth.login_as(Role.coordinator)
        started = time.monotonic()
        assert assign(auth._client, team["obs"], team["org"]).status_code == 302
        assert time.monotonic() - started < 2  # MAIL_TIMEOUT is 3 s: SMTP was not waited for
        anonymous = app.test_client()
        statements = statements_in_this_thread(app)
        timings, counts = {}, {}
        for address in ("walker@example.se", "nobody@example.se", "walker@example.se", "nobody@example.se"):
            statements["n"] = 0
            started = time.monotonic()
            assert anonymous.post("/login/link", data={"email": address}).status_code == 200
            timings.setdefault(address, []).append(time.monotonic() - started)
            counts.setdefault(address, set()).add(statements["n"])
        assert max(max(t) for t in timings.values()) < 2
        # the same work in the request, whether or not the address exists
        assert counts["walker@example.se"] == counts["nobody@example.se"]
        assert mail.wait_idle(60)
        with app.app_context():
            waiting = db.session.scalars(db.select(OutboxMail)).all()
            assert len(waiting) == 4  # two task mails, two sign-in links
            assert all(m.sent_at is None and m.failed_at is None and m.attempts == 1 and m.last_error
                       for m in waiting)
            for m in waiting:  # as if the backoff time had passed
                m.next_attempt_at = utcnow()
            db.session.commit()
    finally:
        hanging.close()
    inbox = Inbox()
    controller = Controller(inbox.handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        result = app.test_cli_runner().invoke(args=["send-mail"])
        assert result.exit_code == 0 and "Sent 4, failed 0" in result.output
        assert len(inbox.to("walker@example.se")) == 2 and not inbox.to("nobody@example.se")
    finally:
        controller.stop()


def test_sent_mails_keep_no_link_at_rest(app, client, smtp, users):
    """Item 6: once sent, the bodies (with their live sign-in links) are gone; the audit stays."""
    client.post("/login/link", data={"email": "walker@example.se"})
    token = link_in(smtp.messages[0]).rsplit("/", 1)[1]
    with app.app_context():
        sent = db.session.scalar(db.select(OutboxMail))
        assert sent.sent_at is not None and sent.recipient == "walker@example.se" and sent.subject
        assert sent.body_text == sent.body_html == ""
        for table in ("outbox_mail", "login_link"):  # the token is nowhere in the database
            rows = db.session.execute(db.text(f"SELECT * FROM {table}")).all()
            assert rows and not any(token in str(value) for row in rows for value in row)
    assert client.post(link_in(smtp.messages[0])).status_code == 302  # and the mailed link works


def test_a_broken_or_refused_address_fails_alone(app, smtp, users, caplog):
    """Item 9: one bad address (an old row, or one the server refuses) is failed for good; the rest go."""
    refused = "gone@example.se"
    smtp.handler.refuse = {refused}
    bad = "a@x.org\r\nBcc: everyone@example.org"
    with app.app_context():
        for recipient in (bad, "first@example.se", refused, "second@example.se"):
            mail.queue(recipient, "login_link", None, name="X", url="https://trygg.kommun.example/login/link/SECRET",
                       minutes=15)
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 1 and "Sent 2, failed 2" in result.output
    assert "@" not in result.output and "SECRET" not in result.output and "SECRET" not in caplog.text
    assert "example.se" not in caplog.text
    assert sorted(m["To"] for m in smtp.messages) == ["first@example.se", "second@example.se"]
    with app.app_context():
        failed = db.session.scalars(db.select(OutboxMail).where(OutboxMail.failed_at.is_not(None))).all()
        assert sorted(m.recipient for m in failed) == sorted([bad, refused])
        assert all(m.sent_at is None and m.body_text == m.body_html == "" and m.last_error for m in failed)
        for m in failed:
            m.next_attempt_at = utcnow() - timedelta(days=1)
        db.session.commit()
    again = runner.invoke(args=["send-mail"])  # failed for good: not retried
    assert again.exit_code == 0 and "Sent 0, failed 0" in again.output


@pytest.mark.parametrize("address", ["a@x.org\r\nBcc: b@y.org", "a@x.org\nb@y.org", "a@x.org, b@y.org",
                                     "Anna <a@x.org>"])
def test_addresses_are_checked_where_they_enter(app, client, users, auth, team, address):
    """Item 9: one plain address, no line breaks, wherever an address is typed in."""
    with app.app_context():
        make_walk(code="MAIL22")
    guest = app.test_client()
    response = guest.post("/j/MAIL22", data={"name": "Gäst", "role_label": "resident", "email": address})
    assert response.status_code == 400
    auth.login_as(Role.coordinator)
    response = client.post(f"/admin/organisations/{team['org']}/members", data={"name": "Nina", "email": address})
    assert response.status_code == 400
    if "\n" in address:  # no browser sends a line break from a one-line field: refused before any form
        assert "Begäran kunde inte tolkas." in response.get_data(as_text=True)
    else:  # a typing mistake: the form comes back with what was typed
        assert "Nina" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id)).filter_by(name="Nina")) == 0
        assert db.session.scalar(db.select(db.func.count(OutboxMail.id))) == 0


def test_choosing_no_organisation_assigns_none_and_mails_no_one(app, client, smtp, users, auth, team):
    with app.app_context():
        obs = db.session.get(Observation, team["obs"])
        obs.category.default_organisation_id = team["org"]
        db.session.commit()
    auth.login_as(Role.coordinator)
    page = client.get(f"/observations/{team['obs']}").get_data(as_text=True)
    assert re.search(rf'<option value="{team["org"]}" selected>', page)  # the category's default is suggested
    response = assign(client, team["obs"], 0)
    assert response.status_code == 400 and "Välj ansvarig organisation." in response.get_data(as_text=True)
    with app.app_context():
        obs = db.session.get(Observation, team["obs"])
        assert obs.status is Status.accepted and obs.organisation_id is None
        assert db.session.scalar(db.select(db.func.count(OutboxMail.id))) == 0
    assert smtp.to("responder@example.se") == [] and smtp.to("kollega@bolaget.se") == []
