"""The home page per role at phone size, light and dark: what matters first, a list above a small map
(issue 15). The screenshots are in the artifacts folder, to look at."""
import pytest

from walkapp.demo import USERS

from .conftest import login, shot

ROLES = [("public", None)] + [(role.value, email) for role, email, _, _ in USERS]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role, email", ROLES)
def test_home_per_role_on_a_phone(pages, live_server, role, email, scheme):
    page = pages("phone", color_scheme=scheme, viewport={"width": 390, "height": 844})
    if email:
        login(page, live_server.url, email)
    page.goto(live_server.url + "/")
    page.wait_for_selector(".leaflet-map-pane", state="attached")
    first = page.locator("#home-items li").first
    assert first.is_visible()
    # the list (the accessible alternative) comes before the map, and the map no longer fills the screen
    list_top = first.bounding_box()["y"]
    map_box = page.locator(".home-map").bounding_box()
    assert list_top < map_box["y"] and map_box["height"] <= 0.4 * 844
    if role in ("coordinator", "admin"):  # the counts and the shortcuts above the fold
        assert page.locator(".home-figures").bounding_box()["y"] + 80 < 844
        assert page.locator(".tiles .tile").first.bounding_box()["y"] < 844
    # as many pins on the map as items in the list
    assert page.locator(".home-map .pin.numbered").count() == page.locator("#home-items li:not(.empty)").count()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.js_errors == []
    shot(page, f"home-{role}-{scheme}-390.png", full_page=False)
    shot(page, f"home-{role}-{scheme}-390-full.png")
