"""Keyboard only, on a phone-sized screen: report an item, plan a walk, draw an area on the lägesbild.

Nothing here clicks or taps: every step is Tab, Shift+Tab, arrow keys, Enter, Space or typing, and each
element that takes the focus on the way must show it (an outline or a ring drawn by box-shadow, on the
element itself, its label, or — for a map — its frame).
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from walkapp.demo import ONGOING_WALK_CODE
from walkapp.extensions import db
from walkapp.models import Observation, Walk

from .conftest import map_settled, shot, wait_until

COORDINATOR = "samordnare@demo.walkapp.se"

FOCUS_SHOWN = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '';  // Tab from the address bar: nothing is focused yet
    const visible = (node, pseudo) => {
        if (!node) return false;
        const style = getComputedStyle(node, pseudo);
        return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    };
    const label = el.labels && el.labels[0];
    const frame = el.closest('.map-frame');
    if (frame && el.classList.contains('leaflet-container')) {  // the frame clips an outline: a ring inside it
        return visible(frame, '::after') ? '' : 'the map has the focus but its frame shows no ring';
    }
    // a see-through radio or file input shows its focus on its label, or on the span drawn after it
    const drawnAfter = el.matches('input[type=radio], input[type=file]') ? el.nextElementSibling : null;
    if (visible(el) || visible(label) || visible(drawnAfter)) return '';
    const style = getComputedStyle(el);
    return `no visible focus (outline ${style.outlineStyle}) on ${el.outerHTML.slice(0, 120)}`;
}"""


def tab_to(page, accessible: str, name: str, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element has this role/name; every stop on the way shows its focus."""
    visited = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        assert page.evaluate(FOCUS_SHOWN) == ""
        visited.append(page.evaluate("document.activeElement.outerHTML.slice(0, 60)"))
        if page.evaluate(f"""() => {{
                const el = document.activeElement;
                const text = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent)
                              || el.textContent || '').trim();
                return el.matches({accessible!r}) && text.includes({name!r});
            }}"""):
            return
    raise AssertionError(f"{name!r} not reached with the keyboard; went through {visited}")


def focused_text(page) -> str:
    return page.evaluate("""() => { const el = document.activeElement;
        return ((el.labels && el.labels[0] && el.labels[0].textContent) || el.getAttribute('aria-label')
                || el.textContent || '').trim(); }""")


def choose_radio(page, name: str, limit: int = 20) -> None:
    """Tab into a radio group, then arrow down to the choice (arrow keys check what they reach)."""
    tab_to(page, "input[type=radio]", "")
    for _ in range(limit):
        if name in focused_text(page):
            page.keyboard.press("Space")
            assert page.evaluate("document.activeElement.checked")
            return
        page.keyboard.press("ArrowDown")
        assert page.evaluate(FOCUS_SHOWN) == ""
    raise AssertionError(f"{name!r} not among the choices")


def pan(page, key: str, times: int = 3) -> None:
    """Move the focused map with an arrow key."""
    assert page.evaluate("document.activeElement.classList.contains('leaflet-container')")
    for _ in range(times):
        page.keyboard.press(key)
        map_settled(page)


def keyboard_login(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    tab_to(page, "input", "E-post")
    page.keyboard.type(email)
    tab_to(page, "input", "Lösenord")
    page.keyboard.type("demo-password-123")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def test_report_an_item_with_the_keyboard(pages, live_server):
    base = live_server.url
    page = pages("phone")
    page.goto(f"{base}/j/{ONGOING_WALK_CODE}")
    tab_to(page, "input", "Ditt namn")
    page.keyboard.type("Karin Tangent")
    choose_radio(page, "Boende")
    tab_to(page, "button", "Gå med i vandringen")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/walks/\d+$"))
    walk_id = int(page.url.rsplit("/", 1)[1])
    tab_to(page, "a", "Rapportera en observation")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/report\?walk=\d+$"))
    page.wait_for_load_state("networkidle")
    tab_to(page, ".leaflet-container", "")  # the map, where the cross marks the place
    before = page.evaluate("[document.getElementById('lat').value, document.getElementById('lon').value]")
    pan(page, "ArrowRight")
    pan(page, "ArrowUp")
    place = page.evaluate("[+document.getElementById('lat').value, +document.getElementById('lon').value]")
    assert place != [float(v) if v else None for v in before] and all(place)
    shot(page, "keyboard-report-map-focus.png", full_page=False)
    choose_radio(page, "Belysning")
    tab_to(page, "button", "Skicka")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/walks/{walk_id}")
    expect(page.get_by_text("Tack! Din observation är sparad.")).to_be_visible()
    with live_server.app.app_context():
        obs = db.session.scalars(db.select(Observation).filter_by(walk_id=walk_id)
                                 .order_by(Observation.id.desc())).first()
        assert obs.category.code == "belysning"
        assert (round(obs.lat, 5), round(obs.lon, 5)) == (round(place[0], 5), round(place[1], 5))
    assert page.js_errors == []


def test_plan_a_walk_with_meeting_point_and_two_stops_with_the_keyboard(pages, live_server):
    base = live_server.url
    page = pages("phone")
    keyboard_login(page, base, COORDINATOR)
    page.goto(f"{base}/walks/new")
    tab_to(page, "input", "Titel")
    page.keyboard.type("Tangentvandring")
    tab_to(page, "input", "Datum och tid")
    for _ in range(6):  # each part of the date and time (their order follows the browser's language)
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowRight")
    assert page.locator("#starts_at").input_value()
    tab_to(page, ".leaflet-container", "")
    pan(page, "ArrowLeft")
    tab_to(page, "button", "Samlingsplats vid krysset")
    page.keyboard.press("Enter")
    meeting = page.evaluate("[+document.getElementById('meeting_lat').value, +document.getElementById('meeting_lon').value]")
    assert all(meeting)
    for n, name in enumerate(["Torget", "Bron"]):
        tab_to(page, ".leaflet-container", "", backwards=True)
        pan(page, "ArrowDown", 2 + n)
        tab_to(page, "button", "Lägg till ett stopp vid krysset")
        page.keyboard.press("Enter")  # the new stop's name field takes the focus
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Namn på stopp {n + 1}"
        page.keyboard.type(name)
    # put the second stop first with its "earlier" button, then back
    tab_to(page, "button", "Flytta stopp 2 tidigare")
    page.keyboard.press("Enter")
    assert page.locator("#stops-list input").evaluate_all("els => els.map(e => e.value)") == ["Bron", "Torget"]
    # the moved stop keeps the focus (its "earlier" button is disabled at the top, so its name)
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Namn på stopp 1"
    tab_to(page, "button", "Flytta stopp 1 senare")
    page.keyboard.press("Enter")
    assert page.locator("#stops-list input").evaluate_all("els => els.map(e => e.value)") == ["Torget", "Bron"]
    shot(page, "keyboard-walk-editor.png")
    tab_to(page, "button", "Spara")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/walks/\d+$"))
    with live_server.app.app_context():
        walk = db.session.scalar(db.select(Walk).filter_by(title="Tangentvandring"))
        assert (walk.meeting_lat, walk.meeting_lon) == (meeting[0], meeting[1])
        assert [s.name for s in walk.stops] == ["Torget", "Bron"]
        assert walk.stops[0].lat > walk.stops[1].lat  # the map moved south between them
        assert walk.route["type"] == "LineString"
    assert page.js_errors == []


def test_draw_an_area_on_the_lagesbild_with_the_keyboard(pages, live_server):
    base = live_server.url
    page = pages("phone")
    keyboard_login(page, base, COORDINATOR)
    page.goto(f"{base}/lagesbild?period=year")
    everything = int(page.locator(".figures li").first.locator(".figure").inner_text())
    tab_to(page, "button", "Rita ett område")
    page.keyboard.press("Enter")
    for key in ("ArrowUp", "ArrowRight", "ArrowDown"):
        tab_to(page, ".leaflet-container", "", backwards=True)
        pan(page, key, 2)
        tab_to(page, "button", "Lägg till ett hörn vid krysset")
        page.keyboard.press("Enter")
    expect(page.locator("#corner-count")).to_have_text("Hörn: 3")
    shot(page, "keyboard-lagesbild-area.png", full_page=False)
    tab_to(page, "button", "Använd det ritade området")
    page.keyboard.press("Enter")
    page.wait_for_url("**area=**")
    inside = int(page.locator(".figures li").first.locator(".figure").inner_text())
    assert 0 <= inside < everything
    wait_until(page, "document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
    assert page.js_errors == []
