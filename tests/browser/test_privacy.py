"""An admin answers a data subject at phone size: the register extract, erasure after a confirmation,
and the audit log; the erased walker's observations then read "anonymiserad"."""
from __future__ import annotations

from .conftest import login, shot

ADMIN = "admin@demo.walkapp.se"
WALKER = "vandrare@demo.walkapp.se"
WALKER_NAME = "Vera Vandrare"


def test_extract_and_erase_a_walker(page, live_server):
    base = live_server.url
    login(page, base, ADMIN)
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="De registrerades rättigheter").click()
    page.get_by_label("E-postadress").fill(WALKER)
    page.get_by_role("button", name="Visa registerutdrag").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Registerutdrag").is_visible()
    assert WALKER_NAME in page.content()
    shot(page, "privacy-extract.png")

    page.get_by_role("button", name="Radera…").click()
    page.get_by_role("button", name="Radera", exact=True).click()  # not ticked: asked again
    assert page.get_by_text("Kryssa i rutan för att bekräfta raderingen.").is_visible()
    page.get_by_label("Jag har kontrollerat").check()
    shot(page, "privacy-erase-confirm.png")
    page.get_by_role("button", name="Radera", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Logg över personuppgiftsärenden").is_visible()
    text = page.content()
    assert "Radering" in text and "Registerutdrag" in text and WALKER not in text
    shot(page, "privacy-audit.png")

    page.goto(f"{base}/inbox")
    assert WALKER_NAME not in page.content()
