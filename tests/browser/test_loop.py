"""The whole loop on phones, with mail over real SMTP (the issue's acceptance):

a guest on the ongoing walk reports an item with a photo → the coordinator
accepts it, publishes it and its photo, assigns it to Härnösandshus AB → the
responder gets a mail, opens its link on a phone (not signed in), marks the
task fixed with an after-photo → the coordinator gets a mail, sees before and
after side by side and verifies it with a public comment → the walk's public
page shows the item as done, with the comment and no one's name.

And "Mina uppgifter" on a phone for a responder signed in by a mailed link.

Every page is an iPhone 13 screen in Swedish talking to 127.0.0.1 only; the
mails go through an aiosmtpd server on 127.0.0.1 started by the test.
"""
from __future__ import annotations

import email
import io
import re
import socket
import threading
import time
from datetime import date, timedelta
from email import policy as email_policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from walkapp import workflow
from walkapp.demo import ONGOING_WALK_CODE, ROUTE
from walkapp.extensions import db
from walkapp.models import (
    Category,
    Kind,
    Observation,
    Organisation,
    PhotoStage,
    Priority,
    Source,
    Status,
    User,
    Walk,
)

from ..photo_samples import jpeg_with_orientation_and_gps
from .conftest import ARTIFACTS, login, map_settled, serving, shot, wait_until
from ..factories import local_today

COORDINATOR = "samordnare@demo.walkapp.se"
RESPONDER = "hus@demo.walkapp.se"
RESPONDER_NAME = "Rolf på Härnösandshus"
ORGANISATION = "Härnösandshus AB"
GUEST = "Gunnel Gästsson"
# The phones stand at the ongoing walk's meeting point.
HERE = {"latitude": ROUTE[2][0], "longitude": ROUTE[2][1], "accuracy": 6}
PHONE_WIDTH = 390


# --- SMTP and the live server -------------------------------------------------------------

class Inbox:
    """What the aiosmtpd server received, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email_policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list:
        """The mails to `address` once there are `count` of them (mail goes out after the request)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.to(address)
            if len(mails) >= count:
                return mails
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) to {address} expected, got {len(self.to(address))}; "
                             f"all: {[(m['To'], m['Subject']) for m in self.messages]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def live_server(tmp_path, shared_pg_url, smtp):
    """conftest's live server with demo data, but sending its mail to `smtp`."""
    with serving(tmp_path, shared_pg_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5,
                 MAIL_USE_TLS=False, MAIL_USE_SSL=False, MAIL_USERNAME=None,
                 MAIL_DEFAULT_SENDER="walkapp <noreply@kommun.example>") as server:
        yield server


@pytest.fixture
def phone(pages):
    return lambda geolocation=None: pages("phone", geolocation=geolocation)


# --- Helpers --------------------------------------------------------------------------------



def fits_the_phone(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{what} is {width}px wide on a {PHONE_WIDTH}px screen"


def before_photo():
    return {"name": "klotter.jpg", "mimeType": "image/jpeg",
            "buffer": jpeg_with_orientation_and_gps(1200, 800, orientation=6, lat=HERE["latitude"],
                                                    lon=HERE["longitude"])}


def after_photo():
    """A clean grey wall with a green stripe: plainly not the before photo."""
    im = Image.new("RGB", (1200, 900), (200, 200, 195))
    ImageDraw.Draw(im).rectangle((0, 700, 1199, 899), fill=(40, 160, 60))
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=85)
    return {"name": "efter.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def sign_in_link(message, base: str) -> str:
    """The sign-in link from a mail's text part (the live server's own address)."""
    found = re.findall(r"https?://\S+/login/link/[\w-]+", text_of(message))
    assert len(found) == 1, text_of(message)
    assert found[0].startswith(base + "/login/link/"), (found[0], base)
    return found[0]


def use_link(page, url: str, name: str) -> None:
    """Open a mailed link on a phone that is not signed in, and tap the button."""
    page.goto(url)
    assert page.get_by_role("heading", name=f"Välkommen, {name}").is_visible()
    assert "Inloggad som" not in page.content()
    button = page.get_by_role("button", name="Fortsätt till walkapp")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 200, box  # a thumb-sized button
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state()


def action(page, name: str):
    """The workflow action whose button says `name` (a <details> with a form)."""
    found = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")))
    offered = page.locator("details.action > summary").all_inner_texts()
    assert found.count() == 1, f"no single action {name!r} among {offered}"
    return found


def open_action(page, name: str):
    details = action(page, name)
    details.locator("summary").click()
    form = details.locator("form")
    form.wait_for(state="visible")
    return form


def send_action(page, form, name: str) -> None:
    with page.expect_navigation():
        form.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def state_badge(page) -> str:
    return page.locator(".page-head .badge.state").inner_text()


def join_and_report(page, base: str, name: str, description: str) -> tuple[int, int]:
    """A guest joins the ongoing walk by its link and reports graffiti with a photo.
    Returns (walk id, item id)."""
    page.goto(f"{base}/j/{ONGOING_WALK_CODE}")
    page.get_by_label("Ditt namn").fill(name)
    page.get_by_label("Boende", exact=True).click()
    page.get_by_role("button", name="Gå med i vandringen").click()
    page.wait_for_url(re.compile(r"/walks/\d+$"))
    walk_id = int(page.url.rsplit("/", 1)[1])

    page.get_by_role("link", name="Rapportera en observation").click()
    page.wait_for_url(re.compile(r"/report\?walk=\d+$"))
    wait_until(page, "document.getElementById('lat').value !== ''")  # the phone's position
    page.wait_for_load_state("networkidle")
    page.locator("#photos").set_input_files([before_photo()])
    page.locator("#thumbs li img").first.wait_for()
    page.get_by_label("Klotter", exact=True).click()
    page.locator("#description").fill(description)
    page.get_by_role("button", name="Skicka").click()
    page.wait_for_url(f"{base}/walks/{walk_id}")
    expect(page.get_by_text("Tack! Din observation är sparad.")).to_be_visible()

    response = page.request.get(f"{base}/api/v1/observations?walk={walk_id}")
    assert response.ok
    [feature] = [f for f in response.json()["features"] if f["properties"]["description"] == description]
    assert len(feature["properties"]["photos"]) == 1
    return walk_id, feature["id"]


# --- 1. The whole loop ------------------------------------------------------------------

def test_full_loop_from_report_to_public_page_on_phones(phone, live_server, smtp):
    base = live_server.url
    description = "Klotter på väggen vid cykelstället"
    fix_note = "Sanerat med högtryckstvätt, väggen målad."  # internal: not ticked public
    public_note = "Klottret är borttaget. Tack för att ni rapporterade!"

    # 1. A guest on the walk reports it with a photo.
    guest = phone(geolocation=HERE)
    walk_id, obs_id = join_and_report(guest, base, GUEST, description)
    assert guest.js_errors == []

    # 2. The coordinator (another phone) opens it from the inbox ...
    coordinator = phone()
    login(coordinator, base, COORDINATOR)
    coordinator.goto(f"{base}/inbox")
    coordinator.wait_for_load_state("networkidle")
    card = coordinator.locator(".inbox-rows > li.card").filter(has_text=description)
    assert card.count() == 1
    card.locator("a.card-title").click()
    coordinator.wait_for_url(f"{base}/observations/{obs_id}")
    assert state_badge(coordinator) == "Ny"
    assert coordinator.locator("p.description").inner_text() == description

    # ... accepts it ...
    send_action(coordinator, open_action(coordinator, "Bedöm"), "Bedöm")
    assert coordinator.get_by_text("Sparat: Bedömd.").is_visible()

    # ... shows it and its photo on the public page ...
    toggle = coordinator.locator("form.public-toggle")
    assert "dold" in toggle.inner_text()
    with coordinator.expect_navigation():
        toggle.get_by_role("button", name="Visa på den offentliga sidan utan foton").click()
    assert coordinator.get_by_text("Visas på den offentliga återkopplingssidan.").is_visible()
    assert coordinator.locator("form.public-toggle").get_by_role(
        "button", name="Dölj på den offentliga sidan").is_visible()
    photo_public = coordinator.locator("ul.photos").get_by_role("button", name=re.compile(r"^Gör offentlig"))
    assert photo_public.count() == 1
    assert "Inte offentlig" in coordinator.locator("ul.photos").inner_text()
    expect(photo_public).to_be_enabled()  # checked for people: nobody in the photo
    with coordinator.expect_navigation():
        photo_public.click()
    expect(coordinator.locator("ul.photos").get_by_role("button", name=re.compile(r"^Dölj"))).to_have_count(1)
    history = coordinator.locator("ol.timeline")
    assert "visade den på den offentliga återkopplingssidan" in history.inner_text()
    assert "visade ett foto på den offentliga återkopplingssidan" in history.inner_text()

    # ... and assigns it to Härnösandshus AB.
    form = open_action(coordinator, "Tilldela")
    form.get_by_label("Ansvarig organisation", exact=True).select_option(label=ORGANISATION)
    form.get_by_label("Prioritet", exact=True).select_option(label="Hög")
    send_action(coordinator, form, "Tilldela")
    assert coordinator.get_by_text("Sparat: Tilldelad.").is_visible()
    assert re.search(rf"Ansvarig\s+{ORGANISATION}", coordinator.locator("dl.facts").inner_text())

    # 3. The responder's mail, with a link that signs in.
    [task_mail] = smtp.wait_for(RESPONDER)
    assert task_mail.envelope_to == [RESPONDER]
    assert task_mail["Subject"] == f"Nytt uppdrag #{obs_id}: Klotter"
    body = text_of(task_mail)
    assert description in body and "Hög" in body and "Öppna uppdraget" in body, body
    assert task_mail.get_body(("html",)) is not None
    link = sign_in_link(task_mail, base)

    # 4. The responder, on a phone that is not signed in, opens it ...
    responder = phone()
    use_link(responder, link, RESPONDER_NAME)
    assert responder.url == f"{base}/observations/{obs_id}", responder.url
    assert state_badge(responder) == "Tilldelad"
    assert responder.locator("p.description").inner_text() == description
    offered = [t.strip() for t in responder.locator("details.action > summary").all_inner_texts()]
    assert "Markera som åtgärdad" in offered and "Inte vårt ansvar" in offered, offered
    assert responder.get_by_role("link", name="Navigera dit").is_visible()
    for summary in responder.locator("details.action > summary").all():  # thumb-sized
        box = summary.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300, (summary.inner_text(), box)
    fits_the_phone(responder, "the task page")
    responder.wait_for_load_state("networkidle")
    shot(responder, "loop-task-phone.png")

    # ... marks it fixed with an after-photo and a comment.
    form = open_action(responder, "Markera som åtgärdad")
    file_input = form.locator('input[type="file"]')
    assert file_input.count() == 1
    assert form.get_by_label("Foto efter åtgärden").count() == 1
    file_input.set_input_files([after_photo()])
    form.get_by_label("Kommentar (frivillig)").fill(fix_note)
    action(responder, "Markera som åtgärdad").evaluate(  # its top just under the sticky header
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY"
        " - document.querySelector('.site-header').offsetHeight - 8)")
    shot(responder, "loop-task-fix-form-phone.png", full_page=False)
    send_action(responder, form, "Markera som åtgärdad")
    assert responder.get_by_text("Sparat: Åtgärdad.").is_visible(), responder.content()[:2000]
    assert state_badge(responder) == "Åtgärdad"
    assert responder.js_errors == []

    with live_server.app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.status is Status.fixed
        assert [p.stage for p in obs.photos] == [PhotoStage.before, PhotoStage.after]
        before_id, after_id = (p.id for p in obs.photos)
        # publishing the item and its photo is history too
        assert [e.action for e in obs.events] == ["reported", "accept", "published", "published", "assign", "fix"]
        assert obs.events[-1].actor.email == RESPONDER and obs.events[-1].comment == fix_note

    # 5. The coordinator's mail ...
    [fixed_mail] = smtp.wait_for(COORDINATOR)
    assert fixed_mail["Subject"] == f"#{obs_id} markerat som åtgärdat av {ORGANISATION}", fixed_mail["Subject"]
    body = text_of(fixed_mail)
    assert fix_note in body and RESPONDER_NAME in body, body
    item_url = f"{base}/observations/{obs_id}"
    assert item_url in body, body

    # ... whose link shows before and after side by side ...
    coordinator.goto(item_url)
    coordinator.wait_for_load_state("networkidle")
    assert state_badge(coordinator) == "Åtgärdad"
    pair = coordinator.get_by_role("region", name="Före och efter")
    assert pair.is_visible()
    figures = pair.locator("figure")
    assert figures.count() == 2
    assert [c.strip() for c in pair.locator("figcaption").all_inner_texts()] == ["Före", "Efter"]
    images = pair.locator("img")
    assert [images.nth(n).get_attribute("src") for n in (0, 1)] == [
        f"/photos/{before_id}/display.jpg", f"/photos/{after_id}/display.jpg"]
    wait_until(coordinator, 
        "() => [...document.querySelectorAll('.before-after img')].every(i => i.complete && i.naturalWidth > 0)")
    pair.scroll_into_view_if_needed()
    left, right = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and right["x"] >= left["x"] + left["width"], (left, right)
    assert left["width"] > 120 and right["width"] > 120, (left, right)
    fits_the_phone(coordinator, "the item page with before and after")
    shot(coordinator, "loop-before-after-phone.png", full_page=False)

    # ... and verifies it with a public comment.
    form = open_action(coordinator, "Markera som klar")
    form.get_by_label("Kommentar (frivillig)").fill(public_note)
    form.get_by_label("Visa kommentaren på den offentliga återkopplingssidan").check()
    send_action(coordinator, form, "Markera som klar")
    assert coordinator.get_by_text("Sparat: Klar.").is_visible()
    assert state_badge(coordinator) == "Klar"
    assert coordinator.js_errors == []
    coordinator.evaluate("window.scrollTo(0, 0)")
    shot(coordinator, "loop-coordinator-item-done-phone.png")

    # 6. The public page: the link on the walk page, for coordinators.
    coordinator.goto(f"{base}/walks/{walk_id}")
    paragraph = coordinator.locator("p").filter(has_text="Offentlig återkopplingssida")
    public_url = paragraph.get_by_role("link").get_attribute("href")
    with live_server.app.app_context():
        token = db.session.get(Walk, walk_id).public_token
    assert public_url == f"{base}/f/{token}", public_url

    public = phone()  # anonymous
    public.goto(public_url)
    public.wait_for_load_state("networkidle")
    shot(public, "loop-public-page-phone.png")
    assert "Inloggad som" not in public.content()
    items = public.locator("li.public-item")
    item = items.filter(has_text=f"#{obs_id} Klotter")
    assert item.count() == 1
    assert item.locator(".badge.state").inner_text() == "Klar"
    assert description in item.inner_text()
    assert item.locator("p.public-comment").filter(has_text=public_note).count() == 1
    # The internal fix comment is not published.
    assert fix_note not in public.content()
    # The public before-photo (only it: the after-photo was not published) loads for anyone.
    shown = item.locator("img")
    assert shown.count() == 1
    wait_until(public, 
        "() => [...document.querySelectorAll('li.public-item img')].every(i => i.complete && i.naturalWidth > 0)")
    # Nobody's name or address: demo users, the guest, the responder.
    html = public.content()
    with live_server.app.app_context():
        people = [(u.name, u.email) for u in db.session.scalars(db.select(User))]
    names = {name for name, _ in people if name} | {GUEST, RESPONDER_NAME}
    addresses = {address for _, address in people if address}
    assert GUEST in {name for name, _ in people}  # the guest is a user too
    for text in sorted(names | addresses):
        assert text not in html, f"{text!r} is on the public page"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", html), re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", html)
    fits_the_phone(public, "the public page")
    # The map has the item's pin.
    pin = public.locator(".map-frame .leaflet-marker-icon.pin")
    pin.wait_for()
    assert pin.count() == 1 and pin.get_attribute("title") == f"#{obs_id} Klotter"
    public.locator(".map-frame").screenshot(path=str(ARTIFACTS / "loop-public-map-phone.png"))
    item.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 80)")
    shot(public, "loop-public-item-phone.png", full_page=False)
    assert public.js_errors == []

    # No other mail went out than the two (the guest left no address).
    assert sorted(m["To"] for m in smtp.messages) == sorted([RESPONDER, COORDINATOR]), \
        [(m["To"], m["Subject"]) for m in smtp.messages]
    for page in (guest, coordinator, responder, public):
        assert page.dialogs == []
        assert all(urlsplit(url).hostname.endswith("tile.openstreetmap.org") for url in page.blocked), page.blocked


# --- 2. Mina uppgifter on a phone ------------------------------------------------------------

def add_task(app, description: str, due: date, north: float, code: str = "skadegorelse") -> int:
    """An item `north` degrees north of the meeting point, assigned to Härnösandshus AB
    through the workflow, then due on `due` (a past date stands for time that has passed)."""
    with app.app_context():
        coordinator = db.session.scalar(db.select(User).filter_by(email=COORDINATOR))
        organisation = db.session.scalar(db.select(Organisation).filter_by(name=ORGANISATION))
        category = db.session.scalar(db.select(Category).filter_by(code=code))
        walk = db.session.scalar(db.select(Walk).filter_by(join_code=ONGOING_WALK_CODE))
        obs = Observation(lat=HERE["latitude"] + north, lon=HERE["longitude"] + 0.003, accuracy_m=5.0,
                          category=category, kind=Kind.problem, description=description, source=Source.walk,
                          reporter=coordinator, walk=walk, status=Status.new, safety_rating=3)
        db.session.add(obs)
        db.session.flush()
        workflow.move(coordinator, obs, workflow.Action.accept)
        workflow.move(coordinator, obs, workflow.Action.assign, workflow.MoveInput(
            organisation=organisation, priority=Priority.high, due_date=local_today() + timedelta(days=7)))
        obs.due_date = due
        db.session.commit()
        return obs.id


def test_my_tasks_on_a_phone_after_signing_in_by_link(phone, live_server, smtp):
    base = live_server.url
    app = live_server.app
    soon = add_task(app, "Dörren till soprummet går inte att låsa", local_today() + timedelta(days=3), 0.002)
    late = add_task(app, "Trasigt lås på cykelförrådet", local_today() - timedelta(days=2), 0.004)
    with app.app_context():
        organisation = db.session.scalar(db.select(Organisation).filter_by(name=ORGANISATION))
        expected = db.session.scalars(
            db.select(Observation).where(Observation.organisation_id == organisation.id,
                                         Observation.status.in_([Status.assigned, Status.in_progress]))
        ).all()
        expected_ids = {o.id for o in expected}
        others = db.session.scalars(
            db.select(Observation.id).where(Observation.status.in_([Status.assigned, Status.in_progress]),
                                            Observation.organisation_id != organisation.id)).all()
        assert others, "the demo has other organisations' tasks too"
        # The demo's own task (in progress) is due later than both.
        assert all(o.due_date > local_today() + timedelta(days=3) for o in expected if o.id not in (soon, late))
    assert {soon, late} < expected_ids

    # Sign in with a link by mail, on the phone.
    page = phone()
    page.goto(f"{base}/login")
    page.get_by_role("link", name=re.compile("inloggningslänk")).click()
    page.get_by_label("E-post").fill(RESPONDER)
    page.get_by_role("button", name="Skicka en inloggningslänk").click()
    assert page.get_by_role("heading", name="Kolla din e-post").is_visible()
    [mail] = smtp.wait_for(RESPONDER)
    use_link(page, sign_in_link(mail, base), RESPONDER_NAME)

    # "Mina uppgifter" from the home page's tiles.
    page.get_by_role("link", name="Mina uppgifter").first.click()
    page.wait_for_url(f"{base}/tasks")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Mina uppgifter").is_visible()
    assert page.get_by_text(ORGANISATION, exact=True).is_visible()
    cards = page.locator("#tasks > li.card")
    titles = cards.locator("a.card-title").all_inner_texts()
    shown = [int(re.match(r"#(\d+)", t).group(1)) for t in titles]
    assert set(shown) == expected_ids, (shown, expected_ids)

    # Overdue first, marked as such; then by due date.
    assert shown[0] == late and shown[1] == soon, shown
    first = cards.nth(0)
    assert "is-overdue" in first.get_attribute("class")
    assert first.locator(".badge.overdue").inner_text() == "Försenad"
    assert page.locator("#tasks .badge.overdue").count() == 1
    assert "Trasigt lås på cykelförrådet" in first.inner_text()
    for card in cards.all():  # tappable
        box = card.locator("a.card-title").bounding_box()
        assert box["height"] >= 24, box

    # The map has one pin per task, all inside the visible map.
    container = page.locator(".map-frame .leaflet-container")
    container.scroll_into_view_if_needed()
    pins = page.locator(".map-frame .leaflet-marker-icon.pin")
    pins.first.wait_for()
    map_settled(page)
    assert pins.count() == len(expected_ids)
    pin_titles = {int(re.match(r"#(\d+)", t).group(1)) for t in
                  (p.get_attribute("title") for p in pins.all())}
    assert pin_titles == expected_ids
    box = container.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 200, box
    for pin in pins.all():
        b = pin.bounding_box()
        cx, cy = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        assert box["x"] <= cx <= box["x"] + box["width"] and box["y"] <= cy <= box["y"] + box["height"], (b, box)
    fits_the_phone(page, "Mina uppgifter")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "loop-my-tasks-phone.png")

    # The first card opens the overdue task.
    cards.nth(0).locator("a.card-title").click()
    page.wait_for_url(f"{base}/observations/{late}")
    assert page.locator(".page-head .badge.overdue").inner_text() == "Försenad"
    assert page.js_errors == []
    assert all(urlsplit(url).hostname.endswith("tile.openstreetmap.org") for url in page.blocked), page.blocked


# --- 3. Maps on the phone: the scale stays readable ---------------------------------------

def overlap(a: dict, b: dict) -> bool:
    """Whether two bounding boxes share any area."""
    return (min(a["x"] + a["width"], b["x"] + b["width"]) > max(a["x"], b["x"])
            and min(a["y"] + a["height"], b["y"] + b["height"]) > max(a["y"], b["y"]))


def test_task_map_scale_is_not_covered_by_the_attribution(phone, live_server):
    """The map text is as large as the page's, but Leaflet's attribution must stay small
    enough not to cover the scale on a phone (it did, at 17px: two lines across the map)."""
    base = live_server.url
    with live_server.app.app_context():
        task = db.session.scalar(db.select(Observation.id).filter_by(description="Krossad ruta i cykelförrådet"))
    page = phone()
    login(page, base, RESPONDER)
    covered = {}
    for path in (f"/observations/{task}", "/tasks"):  # the task's small map, Mina uppgifter's map
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.locator(".map-frame").scroll_into_view_if_needed()
        scale = page.locator(".map-frame .leaflet-control-scale").bounding_box()
        attribution = page.locator(".map-frame .leaflet-control-attribution").bounding_box()
        if overlap(scale, attribution):
            covered[path] = (scale, attribution)
    assert covered == {}, f"the attribution covers the scale on {covered}"
