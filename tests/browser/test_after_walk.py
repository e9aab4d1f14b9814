"""No dead ends while reporting (issue 15): "Redan rapporterat?" has two obvious ways forward and Send
sends as new; a report refused because the walk ended is kept as a report without walk (guests are told)."""
import re

from walkapp.demo import ONGOING_WALK_CODE
from walkapp.extensions import db
from walkapp.models import Observation, Walk

from .conftest import (  # noqa: F401 (phone is a fixture)
    end_walk, fill_report, join, login, observations, offered_as_already_reported, open_report_form, phone,
    photo_file, send, shot,
)


def test_pressing_send_again_while_already_reported_shows_sends_as_new(phone, live_server):
    base = live_server.url
    first, second = phone(), phone()
    walk_id = offered_as_already_reported(first, second, base, "Den första", "En annan lampa")
    nearby = second.locator("#nearby")
    assert nearby.get_by_role("button", name="Det är samma – lägg till mitt").is_visible()
    assert nearby.get_by_role("button", name="Nej, skicka som nytt").is_visible()
    submit = second.locator("#submit")
    assert submit.inner_text() == "Skicka som nytt"  # the send button says what it will do now
    shot(second, "report-nearby-two-ways-390.png", full_page=False)
    submit.click()
    second.wait_for_url(f"{base}/walks/{walk_id}")
    assert sorted(f["properties"]["description"] for f in observations(second, base, walk_id)) == [
        "Den första", "En annan lampa"]


def send_through_nearby(page):
    send(page)
    ended = page.locator("#walk-ended")
    page.wait_for_selector("#walk-ended:not([hidden]), #nearby:not([hidden])")
    if not ended.is_visible():  # "already reported?" first: it is something new
        page.locator("#nearby-new").click()
    ended.wait_for()
    return ended


def test_a_walker_keeps_a_report_refused_because_the_walk_ended(phone, live_server):
    base = live_server.url
    page = phone()
    login(page, base, "vandrare@demo.walkapp.se")
    with live_server.app.app_context():
        walk_id = db.session.scalar(db.select(Walk.id).filter_by(join_code=ONGOING_WALK_CODE))
    page.goto(f"{base}/walks/{walk_id}")
    open_report_form(page)
    fill_report(page, files=[photo_file()], description="Skymd sikt vid busskuren")
    assert page.locator("#thumbs img").get_attribute("alt") == "Belysning, foto 1 av 1"
    end_walk(live_server, walk_id)
    ended = send_through_nearby(page)
    assert ended.get_by_role("heading", name="Vandringen är avslutad").is_visible()
    shot(page, "report-walk-ended-walker-390.png", full_page=False)
    ended.get_by_role("button", name="Behåll som rapport utan vandring").click()
    page.wait_for_url(re.compile(r"/observations/\d+$"))
    with live_server.app.app_context():
        obs = db.session.get(Observation, int(page.url.rsplit("/", 1)[1]))
        assert obs.walk_id is None and obs.description == "Skymd sikt vid busskuren" and len(obs.photos) == 1


def test_a_guest_is_told_why_the_report_was_not_saved(phone, live_server):
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Sen Gäst")
    open_report_form(page)
    fill_report(page, description="Trasigt staket")
    end_walk(live_server, walk_id)
    ended = send_through_nearby(page)
    assert "gäster rapporterar bara på vandringar" in ended.inner_text()
    assert ended.get_by_role("button").count() == 0
    assert page.locator("#description").input_value() == "Trasigt staket"  # kept to copy
