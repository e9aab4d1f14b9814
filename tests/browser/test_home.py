"""The home page per role at phone size, light and dark: what matters first, a list above a small map
(issue 15). The screenshots are in the artifacts folder, to look at."""
import pytest

from walkapp.demo import USERS

from .conftest import login, shot

ROLES = [("public", None)] + [(role.value, email) for role, email, _, _ in USERS]
# what matters first for each role: the page's heading and its main way on, on the first screen
FIRST = {"public": ("Trygghetsvandringar i Härnösands kommun", "Gå med i en vandring"),
         "walker": ("Välkommen, ", "Rapportera"),
         "responder": ("Mina uppgifter", None),  # the tasks themselves (the list, below)
         "coordinator": ("I dag", "Inkorg"),
         "admin": ("I dag", "Inkorg")}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role, email", ROLES)
def test_home_per_role_on_a_phone(pages, live_server, role, email, scheme):
    page = pages("phone", color_scheme=scheme, viewport={"width": 390, "height": 844})
    if email:
        login(page, live_server.url, email)
    page.goto(live_server.url + "/")
    page.wait_for_selector(".leaflet-map-pane", state="attached")
    heading, action = FIRST[role]
    assert page.locator("h1").inner_text().startswith(heading)
    if action:
        main_action = page.locator("main").get_by_role("link", name=action, exact=True)
        assert main_action.is_visible() and main_action.bounding_box()["y"] + 44 <= 844, action
    first = page.locator("#home-items li").first
    assert first.is_visible()
    # the list (the accessible alternative) comes before the map, and the map no longer fills the screen
    list_top = first.bounding_box()["y"]
    map_box = page.locator(".home-map").bounding_box()
    assert list_top < map_box["y"] and map_box["height"] <= 0.4 * 844
    if role in ("coordinator", "admin"):  # the counts and the shortcuts above the fold
        assert page.locator(".home-figures").bounding_box()["y"] + 80 < 844
        assert page.locator(".tiles .tile").first.bounding_box()["y"] < 844
    # a pin on the map for every item in the list, numbered as the list is
    listed = page.locator("#home-items li:not(.empty) .card-title").all_inner_texts()
    pinned = page.locator(".home-map .pin.numbered").all_inner_texts()
    assert listed and sorted(pinned) == sorted(text.split()[0].lstrip("#") for text in listed)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.js_errors == []
    shot(page, f"home-{role}-{scheme}-390.png", full_page=False)
    shot(page, f"home-{role}-{scheme}-390-full.png")
