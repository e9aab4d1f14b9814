"""No dead ends (issue 15): the bulk form shows the chosen action's fields only, the laptop's menu is
inline, ending a walk asks once more."""
from walkapp.demo import ONGOING_WALK_CODE
from walkapp.extensions import db
from walkapp.models import Walk, WalkStatus

from .conftest import login, shot

COORDINATOR = "samordnare@demo.walkapp.se"


def test_bulk_form_shows_only_the_fields_of_the_chosen_action(pages, live_server):
    page = pages("phone")
    login(page, live_server.url, COORDINATOR)
    page.goto(live_server.url + "/inbox")
    page.locator(".bulk > summary").click()
    bulk = page.locator(".bulk")
    action = bulk.get_by_label("Åtgärd", exact=True)

    def shown():
        return {name: bulk.get_by_label(label).is_visible() for name, label in
                (("organisation", "Ansvarig organisation"), ("reason", "Skäl (för att avvisa)"))}

    action.select_option(label="Bedöm")
    assert shown() == {"organisation": False, "reason": False}
    action.select_option(label="Tilldela")
    assert shown() == {"organisation": True, "reason": False}
    action.select_option(label="Avvisa")
    assert shown() == {"organisation": False, "reason": True}


def test_the_menu_is_inline_on_a_laptop_and_a_menu_on_a_phone(pages, live_server):
    laptop = pages("laptop")
    login(laptop, live_server.url, COORDINATOR)
    assert not laptop.locator(".menu > summary").is_visible()
    header = laptop.locator(".site-header")
    for name in ("Inkorg", "Lägesbild", "Vandringar"):
        link = header.get_by_role("link", name=name, exact=True)
        assert link.is_visible() and link.bounding_box()["y"] < 80, name
    shot(laptop, "header-laptop-1366.png", full_page=False)
    phone = pages("phone")
    login(phone, live_server.url, COORDINATOR)
    assert phone.locator(".menu > summary").is_visible()
    assert not phone.locator(".site-header").get_by_role("link", name="Inkorg", exact=True).is_visible()


def test_ending_a_walk_asks_first(pages, live_server):
    page = pages("laptop")
    login(page, live_server.url, COORDINATOR)
    with live_server.app.app_context():
        walk_id = db.session.scalar(db.select(Walk.id).filter_by(join_code=ONGOING_WALK_CODE))
    page.goto(f"{live_server.url}/walks/{walk_id}")
    page.get_by_role("button", name="Markera som klar").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Markera vandringen som klar?").is_visible()
    page.get_by_role("link", name="Nej, tillbaka till vandringen").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Markera som klar").is_visible()  # nothing changed
    with live_server.app.app_context():
        assert db.session.get(Walk, walk_id).status is WalkStatus.ongoing
