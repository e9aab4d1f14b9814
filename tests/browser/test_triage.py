"""Triage in a browser (the issue's acceptance): the coordinator's inbox on a
laptop (filters, list and map side by side, one item from Ny to Klar with its
history), the list/map toggle on a phone, bulk accept, and user text that
stays text everywhere it is shown.

Every page talks to 127.0.0.1 only and is in Swedish.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from walkapp import workflow
from walkapp.extensions import db
from walkapp.models import (
    Category,
    Event,
    Kind,
    Observation,
    Organisation,
    Priority,
    Role,
    Source,
    Status,
    User,
    Walk,
    WalkStatus,
)

from .conftest import login, map_settled, shot
from ..factories import local_today

COORDINATOR = "samordnare@demo.walkapp.se"
COORDINATOR_NAME = "Sara Samordnare"
TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")


@pytest.fixture
def browse(pages):
    """A laptop page (default) or a phone page."""
    return lambda device="laptop", color_scheme="light": pages(device, color_scheme=color_scheme)


def open_inbox(page, base: str, query: str = "") -> None:
    page.goto(f"{base}/inbox{query}")
    page.wait_for_load_state("networkidle")  # the map's extent and items


def chip(page, label: str):
    """A status chip ("Ny 5") of the inbox."""
    return page.locator("nav.chips a").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s+\d+\s*$"))


def counts(page) -> dict[str, int]:
    """The inbox's status chips as {label: count}."""
    out = {}
    for text in page.locator("nav.chips a").all_inner_texts():
        label, n = text.strip().rsplit(None, 1)
        out[label] = int(n)
    return out


def rows(page):
    return page.locator(".inbox-rows > li.card")


def row(page, text: str):
    return rows(page).filter(has_text=text)


def map_markers(page, scope: str = ".inbox-map"):
    return page.locator(f"{scope} .leaflet-marker-icon.pin, {scope} .server-cluster, {scope} .marker-cluster")


def inside(inner: dict, outer: dict) -> bool:
    cx, cy = inner["x"] + inner["width"] / 2, inner["y"] + inner["height"] / 2
    return outer["x"] <= cx <= outer["x"] + outer["width"] and outer["y"] <= cy <= outer["y"] + outer["height"]


def act(page, name: str, **fields) -> None:
    """Open the workflow action whose button says `name`, fill its form, send it."""
    action = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")))
    offered = page.locator("details.action > summary").all_inner_texts()
    assert action.count() == 1, f"no single action {name!r} among {offered}"
    action.locator("summary").click()
    form = action.locator("form")
    form.wait_for(state="visible")
    for label, option in fields.items():
        form.get_by_label(label, exact=True).select_option(label=option)
    with page.expect_navigation():
        form.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def history(page):
    """The items of the list that follows the heading "Historik"."""
    heading = page.get_by_role("heading", name="Historik", exact=True)
    assert heading.is_visible()
    return page.locator("h2#history + ol.timeline > li")


def assert_recent_step(entry, who: str) -> None:
    """A history entry names who did it and when (a time, just now)."""
    text = entry.inner_text()
    assert who in text, text
    when = entry.locator("time")
    assert TIME.search(when.inner_text()), when.inner_text()
    at = datetime.fromisoformat(when.get_attribute("datetime"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - at) < timedelta(minutes=5), at


# --- 1. Laptop: filter, side by side, one item from Ny to Klar ---------------------------

def test_coordinator_triages_an_item_from_new_to_done_on_a_laptop(browse, live_server):
    base = live_server.url
    page = browse("laptop")
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    assert page.get_by_role("heading", name=re.compile(r"^Inkorg")).is_visible()
    before = counts(page)
    assert before["Ny"] >= 5, before

    # Both list and map, side by side; no toggle on a wide screen.
    assert not page.locator(".view-toggle").is_visible()
    listing, map_section = page.locator(".inbox-list"), page.locator(".inbox-map")
    assert listing.is_visible() and map_section.is_visible()
    list_box, map_box = listing.bounding_box(), map_section.bounding_box()
    assert map_box["x"] >= list_box["x"] + list_box["width"] - 1, (list_box, map_box)
    assert map_box["y"] < list_box["y"] + list_box["height"] and list_box["y"] < map_box["y"] + map_box["height"]
    assert map_box["width"] > 400 and page.locator(".inbox-map .leaflet-container").bounding_box()["height"] > 300
    map_markers(page).first.wait_for()
    shot(page, "triage-inbox-laptop.png", full_page=False)

    # Status chip "Ny": only new items, the chip is marked as current.
    chip(page, "Ny").click()
    page.wait_for_url(re.compile(r"/inbox\?.*status=new"))
    page.wait_for_load_state("networkidle")
    assert chip(page, "Ny").get_attribute("aria-current") == "page"
    assert rows(page).count() == before["Ny"]
    assert all(t == "Ny" for t in page.locator(".inbox-rows .badge.state").all_inner_texts())

    # And the filter form: category.
    page.locator("details.filters > summary").click()
    page.get_by_label("Kategori", exact=True).select_option(label="Vegetation / skymd sikt")
    page.locator("details.filters").get_by_role("button", name="Visa", exact=True).click()
    page.wait_for_url(re.compile(r"category=vegetation"))
    page.wait_for_load_state("networkidle")
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["new"] and query["category"] == ["vegetation"], page.url
    assert rows(page).count() == 1
    item = row(page, "Häcken växer ut över trottoaren")
    assert item.count() == 1
    # The map shows the same one item.
    pin = page.locator(".inbox-map .leaflet-marker-icon.pin.state-new")
    pin.wait_for()
    assert page.locator(".inbox-map .leaflet-marker-icon").count() == 1
    assert inside(pin.bounding_box(), page.locator(".inbox-map .leaflet-container").bounding_box())

    # Open it.
    item.locator("a.card-title").click()
    page.wait_for_url(re.compile(r"/observations/\d+$"))
    obs_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator(".page-head .badge.state").inner_text() == "Ny"

    act(page, "Bedöm")
    assert page.get_by_text("Sparat: Bedömd.").is_visible()
    assert page.locator(".page-head .badge.state").inner_text() == "Bedömd"

    act(page, "Tilldela", **{"Ansvarig organisation": "HEMAB", "Prioritet": "Hög"})
    assert page.get_by_text("Sparat: Tilldelad.").is_visible()
    facts = page.locator("dl.facts").inner_text()
    assert re.search(r"Ansvarig\s+HEMAB", facts), facts  # not the category's default (Gatuavdelningen)
    assert re.search(r"Prioritet\s+Hög", facts), facts

    act(page, "Markera som åtgärdad")
    assert page.get_by_text("Sparat: Åtgärdad.").is_visible()

    act(page, "Markera som klar")
    assert page.get_by_text("Sparat: Klar.").is_visible()
    assert page.locator(".page-head .badge.state").inner_text() == "Klar"

    # The history: each step, who and when, in order.
    steps = history(page)
    expected = ["Ny → Bedömd", "Bedömd → Tilldelad", "Tilldelad → Åtgärdad", "Åtgärdad → Klar"]
    texts = steps.all_inner_texts()
    found = [next((i for i, t in enumerate(texts) if step in t), None) for step in expected]
    assert None not in found, texts
    assert found == sorted(found), texts
    for step in expected:
        assert_recent_step(steps.filter(has_text=step), COORDINATOR_NAME)
    assigned = steps.filter(has_text="Bedömd → Tilldelad").inner_text()
    week = timedelta(days=7)  # the default for high priority
    due = {(local_today() + week).isoformat(), (datetime.now(timezone.utc).date() + week).isoformat()}
    assert "HEMAB, Hög" in assigned and any(d in assigned for d in due), assigned
    shot(page, "triage-item-laptop.png")

    with live_server.app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.status is Status.verified
        assert obs.organisation.name == "HEMAB" and obs.priority is Priority.high
        assert [e.action for e in obs.events] == ["reported", "accept", "assign", "fix", "verify"]
        assert {e.actor.name for e in obs.events} == {COORDINATOR_NAME}

    # Back in the inbox: one fewer new, one more done.
    open_inbox(page, base)
    after = counts(page)
    assert after["Ny"] == before["Ny"] - 1 and after["Klar"] == before["Klar"] + 1, (before, after)
    assert page.js_errors == [] and page.dialogs == []


# --- 2. Phone: list or map, one at a time ------------------------------------------------

def test_phone_inbox_toggles_between_list_and_map(page, live_server):
    base = live_server.url
    errors = page.js_errors
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    toggle = page.get_by_role("group", name="Visa som")
    show_list = toggle.get_by_role("button", name="Lista", exact=True)
    show_map = toggle.get_by_role("button", name="Karta", exact=True)
    listing, map_section = page.locator(".inbox-list"), page.locator(".inbox-map")

    assert toggle.is_visible()
    assert show_list.get_attribute("aria-pressed") == "true"
    assert listing.is_visible() and not map_section.is_visible()
    assert rows(page).count() > 0 and rows(page).first.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"inbox is {width}px wide on a 390px screen"
    shot(page, "triage-inbox-phone-list.png")

    show_map.click()
    assert show_map.get_attribute("aria-pressed") == "true"
    assert show_list.get_attribute("aria-pressed") == "false"
    assert map_section.is_visible() and not listing.is_visible()
    container = page.locator(".inbox-map .leaflet-container")
    box = container.bounding_box()
    assert box["width"] > 300 and box["height"] > 300, box
    markers = map_markers(page)
    markers.first.wait_for()
    page.wait_for_load_state("networkidle")
    map_settled(page, ".inbox-map")
    # The map opens on all the filtered items (as on a laptop), not on a corner of them.
    container.scroll_into_view_if_needed()
    box = container.bounding_box()
    # one snapshot of the markers (clusters re-render while Leaflet settles)
    shown = page.evaluate("""() => [...document.querySelectorAll(
        '.inbox-map .leaflet-marker-icon.pin, .inbox-map .server-cluster, .inbox-map .marker-cluster')]
        .map(e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })""")
    box = page.evaluate("""() => { const r = document.querySelector('.inbox-map .leaflet-container')
        .getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }""")
    assert any(inside(b, box) for b in shown if b), (box, shown)
    shot(page, "triage-inbox-phone-map.png", full_page=False)

    show_list.click()
    assert show_list.get_attribute("aria-pressed") == "true"
    assert listing.is_visible() and not map_section.is_visible()

    # An item's page on the phone (for the screenshots).
    row(page, "Gatlyktan vid gångvägen är trasig").locator("a.card-title").click()
    page.wait_for_url(re.compile(r"/observations/\d+$"))
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"item page is {width}px wide on a 390px screen"
    shot(page, "triage-item-phone.png")
    assert errors == []


def map_view(page) -> list[float]:
    """The inbox map's visible area as [west, south, east, north]."""
    return page.evaluate("""() => {
        const id = document.querySelector('script[data-extent]').dataset.map;
        const b = window[id].getBounds();
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    }""")


def assert_map_shows_all_items(page, base):
    """Once the inbox map has settled, its view holds the extent of all the filtered items."""
    map_markers(page).first.wait_for()
    page.wait_for_load_state("networkidle")
    map_settled(page, ".inbox-map")
    # the extent of the inbox's own filter (it opens on the open items)
    extent_url = page.locator("script[data-extent]").get_attribute("data-extent")
    extent = page.request.get(base + extent_url).json()["bbox"]
    view = map_view(page)
    assert view[0] <= extent[0] and view[1] <= extent[1] and view[2] >= extent[2] and view[3] >= extent[3], (
        f"the map shows {view}, not all items {extent}")


def test_phone_inbox_map_opens_on_all_items(page, live_server):
    base = live_server.url
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    page.get_by_role("button", name="Karta", exact=True).click()
    assert_map_shows_all_items(page, base)


def test_laptop_inbox_map_opens_on_all_items(browse, live_server):
    """The same check on a laptop, where the map is visible from the start."""
    base = live_server.url
    page = browse("laptop")
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    assert_map_shows_all_items(page, base)


def test_phone_inbox_and_item_at_night(browse, live_server):
    """Dark mode (the phone's night setting): the same pages, for the screenshots;
    the toggle's pressed button and the action buttons must stand out."""
    base = live_server.url
    page = browse("phone", color_scheme="dark")
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    shot(page, "triage-inbox-phone-dark.png", full_page=False)
    page.get_by_role("button", name="Karta", exact=True).click()
    map_markers(page).first.wait_for()
    page.wait_for_load_state("networkidle")
    shot(page, "triage-inbox-phone-map-dark.png", full_page=False)
    page.get_by_role("button", name="Lista", exact=True).click()
    row(page, "Klotter på tunnelväggen").locator("a.card-title").click()  # Bedömd: next is Tilldela
    page.wait_for_url(re.compile(r"/observations/\d+$"))
    page.wait_for_load_state("networkidle")
    page.locator("details.action > summary").filter(has_text="Tilldela").click()
    shot(page, "triage-item-phone-dark.png")
    assert page.js_errors == []


def test_phone_inbox_selection_checkboxes_are_44px_targets(page, live_server):
    login(page, live_server.url, COORDINATOR)
    open_inbox(page, live_server.url)
    small = page.evaluate("""() => [...document.querySelectorAll('.inbox-rows input.pick')].map(box => {
        const r = box.getBoundingClientRect();
        const label = document.querySelector('label[for="' + box.id + '"]').getBoundingClientRect();
        return [box.id, Math.max(r.width, label.width), Math.max(r.height, label.height)];
    }).filter(([id, w, h]) => w < 44 || h < 44)""")
    assert small == []


def test_inbox_map_is_dark_at_night(browse, live_server):
    """Where tiles are missing (offline, loading), a night-mode map is dark, not a light-grey glare."""
    base = live_server.url
    page = browse("phone", color_scheme="dark")
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    page.get_by_role("button", name="Karta", exact=True).click()
    background = page.locator(".inbox-map .leaflet-container").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(38, 48, 44)", background  # walkapp.css's #26302c


def test_inbox_map_popup_text_is_as_large_as_the_page(browse, live_server):
    base = live_server.url
    page = browse("phone")
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    page.get_by_role("button", name="Karta", exact=True).click()
    body, map_font = page.evaluate("""() => [getComputedStyle(document.body).fontSize,
        getComputedStyle(document.querySelector('.inbox-map .leaflet-container')).fontSize]""")
    assert map_font == body, f"map and popup text is {map_font}, the page's {body}"


# --- 3. User text is text: description, category, walk title, organisation --------------

XSS_DESCRIPTION = "<img src=x onerror=alert(1)>"
XSS_CATEGORY = "<img src=x onerror=alert(2)>"
XSS_WALK = "<img src=x onerror=alert(3)>"
XSS_ORGANISATION = "<img src=x onerror=alert(4)>"


def hostile_item(app) -> tuple[int, int]:
    """An assigned item whose every shown text is markup; ~1.2 km north of the demo
    walk, so its pin stands alone on the inbox map. Returns (item id, walk id)."""
    with app.app_context():
        coordinator = db.session.scalar(db.select(User).filter_by(email=COORDINATOR))
        category = db.session.scalar(db.select(Category).filter_by(code="annat"))
        category.name_sv = XSS_CATEGORY
        organisation = Organisation(name=XSS_ORGANISATION, kind="Test")
        walk = Walk(title=XSS_WALK, area="Norr", starts_at=datetime.now(timezone.utc) - timedelta(hours=2),
                    status=WalkStatus.done, join_code="XSS001", created_by=coordinator)
        obs = Observation(lat=62.6430, lon=17.9250, accuracy_m=5.0, category=category, kind=Kind.problem,
                          description=XSS_DESCRIPTION, source=Source.walk, reporter=coordinator, walk=walk,
                          status=Status.new, safety_rating=3)
        db.session.add_all([organisation, walk, obs])
        db.session.flush()
        workflow.move(coordinator, obs, workflow.Action.accept)
        workflow.move(coordinator, obs, workflow.Action.assign, workflow.MoveInput(
            organisation=organisation, priority=Priority.high, due_date=local_today() + timedelta(days=7)))
        db.session.commit()
        assert coordinator.role is Role.coordinator
        return obs.id, walk.id


def assert_inert(page) -> None:
    """No payload ran and none became an element."""
    assert page.locator("img[src='x']").count() == 0
    assert page.dialogs == [], page.dialogs


def test_user_text_is_shown_as_text_in_inbox_map_item_and_walk(browse, live_server):
    base = live_server.url
    obs_id, walk_id = hostile_item(live_server.app)
    page = browse("laptop")
    login(page, base, COORDINATOR)

    # The inbox list.
    open_inbox(page, base)
    card = row(page, f"#{obs_id} ")
    assert card.count() == 1
    text = card.inner_text()
    for payload in (XSS_DESCRIPTION, XSS_CATEGORY, XSS_WALK, XSS_ORGANISATION):
        assert payload in text, (payload, text)
    # ... and the filter form's options.
    assert XSS_CATEGORY in page.locator("#f-category option").all_text_contents()
    assert any(t.startswith(XSS_WALK + " (") for t in page.locator("#f-walk option").all_text_contents())
    assert XSS_ORGANISATION in page.locator("#f-org option").all_text_contents()
    assert XSS_ORGANISATION in page.locator(".bulk select[name=organisation_id] option").all_text_contents()
    assert_inert(page)

    # The inbox map: its pin stands alone; its popup.
    pin = page.locator(".inbox-map").get_by_title(f"#{obs_id} {XSS_CATEGORY}", exact=True)
    pin.wait_for()
    map_settled(page, ".inbox-map")
    pin.click()
    popup = page.locator(".inbox-map .leaflet-popup-content")
    popup.wait_for()
    # Opening the popup pans the map, which reloads the pins: let that settle before clicking in it.
    page.wait_for_load_state("networkidle")
    map_settled(page, ".inbox-map")
    text = popup.inner_text()
    assert XSS_CATEGORY in text and XSS_DESCRIPTION in text, text
    assert_inert(page)

    # The detail page (opened from the popup).
    with page.expect_navigation():
        popup.get_by_role("link", name="Öppna").click()
    page.wait_for_url(re.compile(rf"/observations/{obs_id}$"))
    page.wait_for_load_state("networkidle")
    assert page.title().startswith(f"#{obs_id} {XSS_CATEGORY}"), page.title()
    assert page.locator("h1").inner_text().strip() == f"#{obs_id} {XSS_CATEGORY}"
    assert page.locator("p.description").inner_text() == XSS_DESCRIPTION
    assert page.get_by_role("link", name=XSS_WALK, exact=True).is_visible()
    assert re.search(rf"Ansvarig\s+{re.escape(XSS_ORGANISATION)}", page.locator("dl.facts").inner_text())
    assert XSS_ORGANISATION in history(page).filter(has_text="Bedömd → Tilldelad").inner_text()
    assert XSS_ORGANISATION in page.locator("#assign-org option").all_text_contents()  # "assign again" choices
    assert_inert(page)

    # The walk page: its list and a map popup.
    page.get_by_role("link", name=XSS_WALK, exact=True).click()
    page.wait_for_url(re.compile(rf"/walks/{walk_id}$"))
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().strip() == XSS_WALK
    assert XSS_WALK in page.title()
    item = page.locator("#obs-list .obs-item")
    assert item.count() == 1
    assert XSS_CATEGORY in item.inner_text() and XSS_DESCRIPTION in item.inner_text()
    walk_pin = page.locator(".leaflet-marker-icon.pin")
    walk_pin.wait_for()
    map_settled(page)
    walk_pin.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS_CATEGORY in popup.inner_text() and XSS_DESCRIPTION in popup.inner_text()
    assert_inert(page)

    # The list of walks.
    page.goto(base + "/walks")
    assert XSS_WALK in page.locator("main").inner_text()
    assert_inert(page)
    assert page.js_errors == []


# --- 4. Bulk accept ----------------------------------------------------------------------

def test_bulk_accept_of_selected_new_items(browse, live_server):
    base = live_server.url
    page = browse("laptop")
    login(page, base, COORDINATOR)
    open_inbox(page, base)
    before = counts(page)
    chip(page, "Ny").click()
    page.wait_for_url(re.compile(r"status=new"))
    chosen = ["Sönderslagen bänk", "Häcken växer ut över trottoaren", "Ingen skylt mot busshållplatsen"]
    ids = []
    for text in chosen:
        card = row(page, text)
        assert card.count() == 1, text
        card.locator("input.pick").check()
        ids.append(int(card.locator("input.pick").get_attribute("value")))
    assert page.locator("input.pick:checked").count() == 3

    page.locator(".bulk > summary").click()  # the bulk panel opens above the list
    bulk = page.locator(".bulk")
    bulk.get_by_label("Åtgärd", exact=True).select_option(label="Bedöm")
    with page.expect_navigation():
        bulk.get_by_role("button", name="Utför på valda").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("3 ärenden uppdaterade.").is_visible()
    assert "status=new" in page.url  # back to the same filtered view
    after = counts(page)
    assert after["Ny"] == before["Ny"] - 3, (before, after)
    assert after["Bedömd"] == before["Bedömd"] + 3, (before, after)
    for text in chosen:
        assert row(page, text).count() == 0, text
    assert page.locator("input.pick:checked").count() == 0

    with live_server.app.app_context():
        for obs_id in ids:
            obs = db.session.get(Observation, obs_id)
            assert obs.status is Status.accepted and obs.accepted_at is not None
            [event] = [e for e in obs.events if e.action == "accept"]
            assert event.actor.email == COORDINATOR
            assert (event.from_status, event.to_status) == (Status.new, Status.accepted)
        assert db.session.scalar(db.select(db.func.count()).select_from(Event).where(Event.action == "accept")) >= 3
    assert page.js_errors == [] and page.dialogs == []
