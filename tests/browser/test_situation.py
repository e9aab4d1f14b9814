"""A coordinator reads the lägesbild, narrows it, and downloads the CSV and the protocol PDF."""
import io

from pypdf import PdfReader

from walkapp import demo
from walkapp.extensions import db
from walkapp.models import Walk

from .conftest import ARTIFACTS, login, shot

COORDINATOR = "samordnare@demo.walkapp.se"


def test_lagesbild_period_area_and_downloads(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE", accept_downloads=True)
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with live_server.app.app_context():
        walk = db.session.scalar(db.select(Walk).filter_by(join_code=demo.DEMO_WALK_CODE))
        walk_id, title = walk.id, walk.title
        items = len(walk.observations)
    login(page, live_server.url, COORDINATOR)
    if page.get_by_text("Meny").is_visible():  # on a laptop the menu is shown inline
        page.get_by_text("Meny").click()
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Lägesbild").click()
    page.wait_for_selector("h1:has-text('Lägesbild')")
    # the default period is the last 90 days: the demo walk (six days ago) and the other sources' reports
    new_last_90_days = int(page.locator(".figures li").first.locator(".figure").inner_text())
    assert new_last_90_days > items

    page.get_by_label("Period", exact=True).select_option("year")
    page.get_by_label("En vandrings område").select_option(str(walk_id))
    page.get_by_role("button", name="Visa", exact=True).click()
    page.wait_for_url(f"**period=year**walk={walk_id}**")
    new_this_year = int(page.locator(".figures li").first.locator(".figure").inner_text())
    assert new_this_year >= 18  # the demo walk's items
    assert page.locator("figure.chart").count() == 3 and page.locator(".leaflet-overlay-pane path").count() > 0
    page.screenshot(path=str(ARTIFACTS / "lagesbild-laptop.png"), full_page=True)

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Ladda ner CSV (Excel)").click()
    csv_text = open(csv_download.value.path(), encoding="utf-8-sig").read()
    assert len(csv_text.strip().splitlines()) == items + 1  # one row per item of the walk, plus the header
    assert ";" in csv_text.splitlines()[0]

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Vandringsprotokoll (PDF)").click()
    data = open(pdf_download.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert title in text and "Vandringsprotokoll" in text
    assert errors == []
    context.close()


def test_lagesbild_area_drawn_on_the_map(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    page = context.new_page()
    login(page, live_server.url, COORDINATOR)
    page.goto(live_server.url + "/lagesbild?period=year")
    everything = int(page.locator(".figures li").first.locator(".figure").inner_text())
    page.get_by_role("button", name="Rita ett område: tryck på dess hörn").click()
    page.locator(".map-frame").scroll_into_view_if_needed()
    box = page.locator(".map-frame .folium-map").bounding_box()
    for fx, fy in ((0.3, 0.2), (0.7, 0.2), (0.3, 0.6)):  # clear of the map controls
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.get_by_role("button", name="Använd det ritade området").click()
    page.wait_for_url("**area=**")
    inside = int(page.locator(".figures li").first.locator(".figure").inner_text())
    assert 0 <= inside < everything
    assert page.locator(".leaflet-overlay-pane path").count() >= 1  # the area is drawn again
    context.close()


def test_lagesbild_charts_fit_a_phone(pages, live_server):
    """Every label and value of the charts is drawn inside its chart, two-digit counts included,
    and no text runs into a bar."""
    page = pages("phone", color_scheme="dark")
    login(page, live_server.url, COORDINATOR)
    page.goto(live_server.url + "/lagesbild?period=year")
    sources = page.locator("#by-source-title").locator("xpath=..")
    assert int(sources.locator("text.chart-value").first.text_content()) >= 18  # the demo walk's items
    overflowing = page.evaluate("""() => [...document.querySelectorAll('figure.chart svg')].flatMap(svg => {
        const frame = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text')].filter(text => {
            const box = text.getBoundingClientRect();
            const bars = [...svg.querySelectorAll('rect')].map(rect => rect.getBoundingClientRect());
            const hits = bars.some(bar => box.left < bar.right - 1 && box.right > bar.left + 1 &&
                                          box.top < bar.bottom - 1 && box.bottom > bar.top + 1);
            return hits || box.left < frame.left - 2 || box.right > frame.right + 2;  // a glyph's side bearing
        }).map(text => text.textContent);
    })""")
    assert overflowing == []
    shot(page, "lagesbild-phone-dark.png")
