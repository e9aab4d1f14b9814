"""Fewer personal data coming in, at phone size: the report form warns about a personnummer, phone
number or e-mail address in the description (the patterns of walkapp/personal_data.py), and still
sends; the guest's join page links the privacy notice; every page's footer links both statements."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from walkapp.demo import ONGOING_WALK_CODE
from walkapp.extensions import db
from walkapp.models import Observation

from .conftest import THANKS, fill_report, join, open_report_form, send, shot

WARNING = "#personal-warning"


def warning_after_typing(page, text: str) -> str:
    page.locator("#description").fill(text)
    page.locator("#description").blur()  # "change" checks at once (typing waits for a pause)
    return page.locator(WARNING).inner_text().strip()


def test_report_form_warns_about_personal_data_and_still_sends(pages, live_server):
    base = live_server.url
    page = pages("phone", geolocation={"latitude": 62.6323, "longitude": 17.9379, "accuracy": 6})
    page.goto(f"{base}/j/{ONGOING_WALK_CODE}")
    notice = page.get_by_role("link", name="Så hanterar vi personuppgifter")
    expect(notice).to_be_visible()
    assert page.locator("footer").get_by_role("link", name="Tillgänglighetsredogörelse").count() == 1
    walk_id = join(page, base, "Gun")
    open_report_form(page)
    fill_report(page, category="Belysning")
    assert page.locator(WARNING).get_attribute("role") == "status"
    # the browser's patterns agree with the server's on true and false finds
    for text in ("Trasig lampa vid Storgatan 12", "Mörkt sedan 2026-12-02", "Fel siffra 811218-9875", "Datum 02-12-2026"):
        assert warning_after_typing(page, text) == "", text
    assert "ett personnummer" in warning_after_typing(page, "Mitt nummer 811218-9876")
    assert "en e-postadress" in warning_after_typing(page, "skriv till anna@example.se")
    page.locator("#description").fill("")
    page.locator("#description").press_sequentially("Ring mig på 070-123 45 67")  # typing, then a pause
    expect(page.locator(WARNING)).to_have_text(re.compile("ett telefonnummer. Ta bort det om det inte behövs"))
    expect(page.locator(WARNING)).to_be_visible()
    shot(page, "personal-data-warning.png", full_page=False)
    send(page)  # a warning, not a block
    page.wait_for_url(re.compile(rf"/walks/{walk_id}$"))
    expect(page.get_by_text(THANKS)).to_be_visible()
    page.wait_for_load_state("networkidle")  # the list is drawn again by observation-map.js
    # ... with the server's short date style: "3 dec. 2026 07:00"
    expect(page.locator("#obs-list .obs-item").first).to_contain_text(re.compile(r"· \d{1,2} [a-zåäö]{3}\.? \d{4} \d{2}:\d{2}"))
    with live_server.app.app_context():
        obs = db.session.scalar(db.select(Observation).where(Observation.description.like("Ring mig%")))
        assert obs.may_hold_personal_data is True
    assert page.js_errors == []


def test_statements_fit_a_phone_in_both_languages(pages, live_server):
    page = pages("phone")
    for lang in ("sv", "en"):
        for path, heading in (("/integritet", ("Integritetsmeddelande", "Privacy notice")),
                              ("/tillganglighet", ("Tillgänglighetsredogörelse", "Accessibility statement"))):
            page.goto(live_server.url + path)
            expect(page.get_by_role("heading", level=1)).to_have_text(heading[lang == "en"])
            width = page.viewport_size["width"]  # a phone widens its layout viewport to fit what overflows
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (lang, path)
        page.locator("summary").click()
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
