"""The home map loads Leaflet from our own server; each demo role signs in on a phone."""
import pytest

from walkapp.demo import USERS

from .conftest import ARTIFACTS, login


def test_home_map_loads_without_internet(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_selector(".leaflet-map-pane", state="attached")
    assert page.locator(".leaflet-tile-pane").count() == 1
    assert page.evaluate("typeof L !== 'undefined' && L.version") == "1.9.4"
    # the only foreign requests are map tiles, which are blocked and optional
    assert all("tile.openstreetmap.org" in url for url in page.blocked), page.blocked
    assert page.js_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home-map-phone.png"), full_page=True)


@pytest.mark.parametrize("role, email", [(role.value, email) for role, email, _, _ in USERS])
def test_each_demo_role_lands_on_a_swedish_page_that_fits(page, live_server, role, email):
    login(page, live_server.url, email)
    assert page.url == live_server.url + "/"
    assert page.locator("html").get_attribute("lang") == "sv"
    page.get_by_text("Meny").click()
    assert page.get_by_text("Inloggad som").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"
    page.screenshot(path=str(ARTIFACTS / f"home-{role}-phone.png"), full_page=True)


def test_wrong_password_in_browser_keeps_email(page, live_server):
    login(page, live_server.url, "vandrare@demo.walkapp.se", "fel-losenord")
    assert page.get_by_text("Fel e-post eller lösenord.").is_visible()
    assert page.get_by_label("E-post").input_value() == "vandrare@demo.walkapp.se"


def test_touch_targets_are_at_least_44px(page, live_server):
    login(page, live_server.url, "samordnare@demo.walkapp.se")
    page.goto(live_server.url + "/admin/categories")
    page.get_by_text("Meny").click()
    small = page.evaluate("""() => [...document.querySelectorAll('a.button, button, summary, .tile, .lang-switch button')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.textContent.trim(), e.getBoundingClientRect().height])
        .filter(([t, h]) => h < 44)""")
    assert small == []
