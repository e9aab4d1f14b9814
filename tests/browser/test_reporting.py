"""Reporting on a walk from a phone: join by link, photo, place, category, send,
and see the item in the list and on the map (the issue's acceptance).

Every page here is an iPhone 13 screen in Swedish with the location permission
granted (a phone on the walk), talking to 127.0.0.1 only.
"""
from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from PIL import Image

from walkapp.demo import DEMO_WALK_CODE
from walkapp.extensions import db
from walkapp.models import Walk

from ..photo_samples import text_as_jpg
from .conftest import (  # noqa: F401 (phone is a fixture)
    ARTIFACTS, HERE, PHOTO_LAT, PHOTO_LON, THANKS, end_walk, fill_report, join, observations,
    offered_as_already_reported, open_report_form, phone, photo_file, report, send, shot, wait_until,
)

XSS = "<img src=x onerror=alert(1)>"


def pins(page) -> list[list[float]]:
    """Where the observation pins are on the walk map (Leaflet's own latlngs)."""
    page.wait_for_selector(".leaflet-marker-icon.pin")
    return page.evaluate("""() => {
        const id = document.querySelector('script[data-source]').dataset.map;
        const out = [];
        window[id].eachLayer(layer => {
            if (layer instanceof L.Marker && /\\bpin\\b/.test(layer.options.icon.options.className || '')) {
                const ll = layer.getLatLng();
                out.push([ll.lat, ll.lng]);
            }
        });
        return out;
    }""")


def test_report_with_rotated_gps_photo_lands_on_map_and_list(phone, live_server):
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Pia Polis")
    open_report_form(page)
    # The phone's position was taken when the form opened.
    assert float(page.locator("#lat").input_value()) == pytest.approx(HERE["latitude"], abs=1e-6)
    assert page.locator("#accuracy").input_value() == "6"

    page.locator("#photos").set_input_files([photo_file()])
    thumb = page.locator("#thumbs li img")
    thumb.wait_for()
    wait_until(page, "document.querySelector('#thumbs img').complete"
                           " && document.querySelector('#thumbs img').naturalWidth > 0")
    use_photo = page.get_by_role("button", name="Använd fotots position")
    use_photo.wait_for()
    page.get_by_label("Belysning", exact=True).click()
    page.locator("#description").fill("Trasig gatlykta vid gångvägen")
    use_photo.click()
    assert float(page.locator("#lat").input_value()) == pytest.approx(PHOTO_LAT, abs=1e-5)
    assert float(page.locator("#lon").input_value()) == pytest.approx(PHOTO_LON, abs=1e-5)
    assert page.locator("#where-status").inner_text() == "Fotot har en position."
    page.wait_for_timeout(400)  # Leaflet's pan animation
    # The place stays the photo's after the map has settled.
    assert float(page.locator("#lat").input_value()) == pytest.approx(PHOTO_LAT, abs=1e-5)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-form-filled-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"report form is {width}px wide on a 390px screen"

    send(page)
    page.wait_for_url(f"{base}/walks/{walk_id}")
    assert page.get_by_text(THANKS).is_visible()

    # In the list ...
    item = page.locator("#obs-list .obs-item")
    assert item.count() == 1
    assert "Belysning" in item.inner_text()
    assert "Trasig gatlykta vid gångvägen" in item.inner_text()
    assert page.locator("#obs-count").inner_text() == "1"
    # ... on the map where the photo was taken ...
    [[lat, lon]] = pins(page)
    assert (lat, lon) == (pytest.approx(PHOTO_LAT, abs=1e-5), pytest.approx(PHOTO_LON, abs=1e-5))
    [feature] = observations(page, base, walk_id)
    lon_api, lat_api = feature["geometry"]["coordinates"]
    assert (lat_api, lon_api) == (pytest.approx(PHOTO_LAT, abs=1e-5), pytest.approx(PHOTO_LON, abs=1e-5))
    props = feature["properties"]
    assert props["category"] == "belysning" and props["mine"] is True and props["walk"] == walk_id
    assert props["source"] == "walk" and props["accuracy_m"] is None  # the photo's place: no GPS accuracy
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # fitBounds animation
    page.screenshot(path=str(ARTIFACTS / "walk-with-pin-phone.png"), full_page=True)

    # ... and the thumbnail is served upright: 6 = turn 90° clockwise, so the
    # landscape original becomes portrait with blue left, red right and green
    # in the top-right quarter.
    [photo] = props["photos"]
    assert page.locator(f'#obs-list img[src="{photo["thumb"]}"]').count() == 1
    response = page.request.get(base + photo["thumb"])
    assert response.ok and response.headers["content-type"] == "image/jpeg"
    im = Image.open(io.BytesIO(response.body()))
    assert im.getexif().get(0x0112) in (None, 1)
    w, h = im.size
    assert h > w, im.size
    rgb = im.convert("RGB")

    def near(colour, expected):
        return all(abs(a - b) < 40 for a, b in zip(colour, expected))

    assert near(rgb.getpixel((w // 4, h * 3 // 4)), (20, 20, 220))  # blue, left
    assert near(rgb.getpixel((w * 3 // 4, h * 3 // 4)), (220, 20, 20))  # red, right
    assert near(rgb.getpixel((w * 3 // 4, h // 4)), (20, 200, 20))  # green, top right
    assert near(rgb.getpixel((w // 4, h // 4)), (20, 20, 220))  # blue, top left

    assert page.js_errors == []
    assert all("tile.openstreetmap.org" in url for url in page.blocked), page.blocked


def test_second_participant_sees_the_first_ones_observation(phone, live_server):
    base = live_server.url
    first, second = phone(), phone()
    walk_id = join(first, base, "Första Deltagaren")
    assert join(second, base, "Andra Deltagaren", role="Boende") == walk_id
    assert second.locator("#obs-list .obs-item").count() == 0

    report(first, files=[photo_file()], description="Mörkt under bron")

    second.reload()
    item = second.locator("#obs-list .obs-item")
    item.wait_for()
    assert item.count() == 1
    assert "Mörkt under bron" in item.inner_text()
    assert item.get_attribute("data-mine") == "false"
    assert len(pins(second)) == 1
    [feature] = observations(second, base, walk_id)
    assert feature["properties"]["mine"] is False
    # The other participant may see the photo too.
    assert second.request.get(base + feature["properties"]["photos"][0]["thumb"]).ok


def test_description_is_shown_as_text_in_list_popup_and_detail(phone, live_server):
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Xavier")
    report(page, description=XSS)

    # The list (rendered by the server only; observation-map.js draws the pins).
    page.wait_for_load_state("networkidle")
    item = page.locator("#obs-list .obs-item")
    assert XSS in item.inner_text()
    assert page.locator("#obs-list img[src='x']").count() == 0

    # The map popup.
    page.wait_for_timeout(400)  # fitBounds animation
    pin = page.locator(".leaflet-marker-icon.pin")
    assert pin.count() == 1
    pin.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS in popup.inner_text()
    assert popup.locator("img[src='x']").count() == 0

    # The detail page.
    popup.get_by_role("link", name="Öppna").click()
    page.wait_for_url(re.compile(r"/observations/\d+$"))
    assert page.locator("p.description").inner_text() == XSS
    assert page.locator("img[src='x']").count() == 0

    [feature] = observations(page, base, walk_id)
    assert feature["properties"]["description"] == XSS
    assert page.dialogs == []
    assert page.js_errors == []


def test_refused_upload_keeps_everything_chosen(phone, live_server):
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Fel Filsson")
    open_report_form(page)
    bad = {"name": "bad.jpg", "mimeType": "image/jpeg", "buffer": text_as_jpg()}
    fill_report(page, files=[photo_file(), bad], category="Klotter", description="Tagg på elskåpet")
    seven = page.get_by_role("radio", name="7", exact=True)  # the safety rating
    seven.evaluate("el => el.scrollIntoView({block: 'center'})")  # clear of the sticky send bar
    seven.click()
    page.evaluate("window.stillTheSamePage = true")

    with page.expect_response(lambda r: r.url.endswith("/api/v1/observations") and r.request.method == "POST") as sent:
        send(page)
    assert sent.value.status == 400

    error = page.locator("#photos-error")
    error.wait_for()
    assert "bad.jpg" in error.inner_text()
    assert "inte ett foto" in error.inner_text()
    assert page.locator("#form-error").is_visible()
    # Nothing was lost and the page was not reloaded.
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.get_by_label("Klotter", exact=True).is_checked()
    assert page.locator("#description").input_value() == "Tagg på elskåpet"
    assert page.locator('input[name="rating"][value="7"]').is_checked()
    assert page.locator("#thumbs li img").count() == 2
    assert page.locator("#lat").input_value() != ""
    assert page.get_by_role("button", name="Skicka").is_enabled()
    assert observations(page, base, walk_id) == []

    # Removing the bad file and sending again works.
    page.get_by_role("button", name="Ta bort foto 2").click()
    assert page.locator("#thumbs li img").count() == 1
    send(page)
    page.wait_for_url(f"{base}/walks/{walk_id}")
    [feature] = observations(page, base, walk_id)
    assert feature["properties"]["description"] == "Tagg på elskåpet"
    assert feature["properties"]["rating"] == 7
    assert len(feature["properties"]["photos"]) == 1


def test_already_reported_offer_adds_to_the_existing_item(phone, live_server):
    base = live_server.url
    first, second = phone(), phone()
    walk_id = offered_as_already_reported(first, second, base, "Lampan är trasig", "Fortfarande mörkt här",
                                          files=[photo_file()], names=("Först På Plats", "Strax Efter"))
    [original] = observations(first, base, walk_id)
    nearby = second.locator("#nearby")
    assert nearby.get_by_role("heading", name="Redan rapporterat?").is_visible()
    offered = nearby.locator("#nearby-list li")
    assert offered.count() == 1
    assert "Lampan är trasig" in offered.inner_text()
    assert "Belysning" in offered.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    nearby.screenshot(path=str(ARTIFACTS / "report-already-reported-phone.png"))
    # The offered item's text has room to be read (not one word per line).
    text_width = offered.locator("div").first.evaluate("el => el.getBoundingClientRect().width")
    assert text_width >= 200, f"the offered item's text is {text_width}px wide"

    offered.get_by_role("button", name="Det är samma – lägg till mitt").click()
    second.wait_for_url(f"{base}/walks/{walk_id}")
    assert second.get_by_text("Tack! Ditt foto eller din kommentar har lagts till.").is_visible()

    [item] = observations(second, base, walk_id)
    assert item["id"] == original["id"]
    assert len(item["properties"]["photos"]) == 2
    assert item["properties"]["description"] == "Lampan är trasig"
    # The contribution is in the history, under the second person's name.
    second.goto(base + item["properties"]["url"])
    history = second.locator("ol.timeline").inner_text()
    assert "Strax Efter" in history
    assert "Fortfarande mörkt här" in history


def test_no_to_the_offer_reports_a_new_item(phone, live_server):
    base = live_server.url
    first, second = phone(), phone()
    walk_id = offered_as_already_reported(first, second, base, "Den första", "Den andra, en annan lampa")
    second.get_by_role("button", name="Nej, skicka som nytt").click()
    second.wait_for_url(f"{base}/walks/{walk_id}")
    assert sorted(f["properties"]["description"] for f in observations(second, base, walk_id)) == [
        "Den andra, en annan lampa", "Den första"]


def test_finished_walk_cannot_be_joined(phone, live_server):
    page = phone()
    page.goto(f"{live_server.url}/j/{DEMO_WALK_CODE}")
    assert page.get_by_text("Vandringen är avslutad. Tack till alla som deltog!").is_visible()
    assert page.get_by_label("Ditt namn").count() == 0
    assert page.get_by_role("button", name="Gå med i vandringen").count() == 0
    assert page.locator("main form, .panel form").count() == 0


def test_guest_cannot_report_once_the_walk_is_done(phone, live_server):
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Sen Rapportör")
    end_walk(live_server, walk_id)
    page.reload()
    assert page.get_by_role("link", name="Rapportera en observation").count() == 0
    assert page.get_by_text("Vandringen är avslutad; nya observationer kan inte längre läggas till.").is_visible()
    page.goto(f"{base}/report?walk={walk_id}")
    assert page.url == f"{base}/walks/{walk_id}"
    # Straight to the API, as a stale open form would.
    token = page.locator('input[name="csrf_token"]').first.input_value()
    response = page.request.post(
        f"{base}/api/v1/observations",
        multipart={"walk": str(walk_id), "category": "belysning", "lat": "62.63", "lon": "17.93"},
        headers={"X-CSRFToken": token},
    )
    assert response.status in (400, 403), response.status
    assert observations(page, base, walk_id) == []


def test_open_popup_survives_the_refresh(phone, live_server):
    """The ongoing walk's map reloads its items every 15 s: a popup being read
    stays open, and another person's new item still appears."""
    base = live_server.url
    # The other person is ~100 m away, so the two pins are not clustered.
    page, other = phone(), phone(dict(HERE, latitude=HERE["latitude"] + 0.0009))
    page.clock.install()  # time flows as usual; run_for() skips ahead to the refresh

    def refresh():
        with page.expect_response(lambda r: "/api/v1/observations?walk=" in r.url):
            page.clock.run_for(15_500)
        page.wait_for_timeout(300)  # its rendering

    join(page, base, "Läser Länge")
    join(other, base, "Annan Person", role="Boende")
    report(page, description="Läs mig i lugn och ro")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # fitBounds animation
    page.locator(".leaflet-marker-icon.pin").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()

    refresh()  # nothing new
    assert popup.is_visible()
    assert "Läs mig i lugn och ro" in popup.inner_text()

    report(other, category="Klotter", description="Något nytt från någon annan")
    refresh()  # the new item's pin, and the list fetched again with the page
    expect(page.locator("#obs-count")).to_have_text("2")
    expect(page.locator("#obs-list")).to_contain_text("Något nytt från någon annan")
    assert popup.is_visible()
    assert "Läs mig i lugn och ro" in popup.inner_text()
    assert page.js_errors == []


HOLD_GPS = """(() => {
  // The phone's first fix is slow (indoors, cold GPS): hold it until the test lets it go.
  const geo = navigator.geolocation, real = geo.getCurrentPosition.bind(geo);
  window.heldFixes = [];
  window.fixesDelivered = 0;
  const delivered = callback => (...args) => { callback(...args); window.fixesDelivered += 1; };
  geo.getCurrentPosition = (ok, fail, options) =>
    window.heldFixes.push(() => real(delivered(ok), delivered(fail), options));
  window.releaseFixes = () => window.heldFixes.splice(0).forEach(go => go());
})();"""


def test_a_late_first_fix_does_not_move_a_place_chosen_meanwhile(phone, live_server):
    base = live_server.url
    page = phone()
    join(page, base, "Långsam GPS")
    page.add_init_script(HOLD_GPS)
    page.get_by_role("link", name="Rapportera en observation").click()
    wait_until(page, "window.heldFixes && window.heldFixes.length === 1")
    assert page.locator("#where-status").inner_text() == "Letar efter din position…"
    page.locator("#photos").set_input_files([photo_file()])
    use_photo = page.get_by_role("button", name="Använd fotots position")
    use_photo.click()
    assert float(page.locator("#lat").input_value()) == pytest.approx(PHOTO_LAT, abs=1e-5)

    page.evaluate("window.releaseFixes()")
    wait_until(page, "window.fixesDelivered === 1")  # the fix arrived (and was ignored)
    assert float(page.locator("#lat").input_value()) == pytest.approx(PHOTO_LAT, abs=1e-5)
    assert float(page.locator("#lon").input_value()) == pytest.approx(PHOTO_LON, abs=1e-5)
    assert page.locator("#where-status").inner_text() == "Fotot har en position."

    # Asking for the position on purpose still moves the place there.
    page.get_by_role("button", name="Använd min position").click()
    wait_until(page, "window.heldFixes.length === 1")
    page.evaluate("window.releaseFixes()")
    wait_until(page, "window.fixesDelivered === 2")
    wait_until(page, f"Math.abs(parseFloat(document.getElementById('lat').value) - {HERE['latitude']}) < 1e-6")
    assert page.locator("#accuracy").input_value() == "6"
    assert page.js_errors == []


def test_map_scrolls_under_the_sticky_header(phone, live_server):
    """Leaflet's controls (z-index 1000) must not paint over the sticky header."""
    base = live_server.url
    page = phone()
    join(page, base, "Scrollare")
    what_is_on_top = """frame => {
        document.body.style.paddingBottom = '3000px';  // as long as a walk with many items
        window.scrollTo(0, frame.getBoundingClientRect().top + window.scrollY - 20);
        const zoom = frame.querySelector('.leaflet-control-zoom').getBoundingClientRect();
        const hit = document.elementFromPoint(zoom.left + zoom.width / 2, zoom.top + 5);
        return hit.closest('header') ? 'header' : hit.className;
    }"""
    assert page.locator(".map-frame").evaluate(what_is_on_top) == "header"  # the walk page
    open_report_form(page)
    assert page.locator(".map-frame").evaluate(what_is_on_top) == "header"  # the report form


def test_a_second_tap_while_the_map_moves_keeps_the_place(phone, live_server):
    """A new move while the map still glides (an impatient double tap) must not
    be taken for the person's own pan half-way."""
    base = live_server.url
    page = phone()
    join(page, base, "Dubbeltryck")
    open_report_form(page)
    page.locator("#photos").set_input_files([photo_file()])
    use_photo = page.get_by_role("button", name="Använd fotots position")
    use_photo.dblclick()  # the map is ~50 m (≈180 px) away: the first tap starts a glide
    page.wait_for_timeout(400)  # Leaflet's pan animation
    assert page.js_errors == []
    assert float(page.locator("#lat").input_value()) == pytest.approx(PHOTO_LAT, abs=1e-6)
    assert float(page.locator("#lon").input_value()) == pytest.approx(PHOTO_LON, abs=1e-6)
    assert page.locator("#where-status").inner_text() == "Fotot har en position."


def test_map_attribution_leaves_the_scale_readable(phone, live_server):
    base = live_server.url
    page = phone()
    join(page, base, "Skalan")
    overlap = """frame => {
        const a = frame.querySelector('.leaflet-control-attribution').getBoundingClientRect();
        const s = frame.querySelector('.leaflet-control-scale').getBoundingClientRect();
        return a.left < s.right && s.left < a.right && a.top < s.bottom && s.top < a.bottom;
    }"""
    assert page.locator(".map-frame").evaluate(overlap) is False  # the walk page
    open_report_form(page)
    assert page.locator(".map-frame").evaluate(overlap) is False  # the report form


def test_report_without_coverage_waits_on_the_phone_and_is_sent_once(phone, live_server):
    """No connection at the moment of sending: the report, photo included, waits in the phone's
    outbox, the form is free for the next one, and when the connection is back it is sent, once."""
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Utan Täckning")
    open_report_form(page)
    fill_report(page, files=[photo_file()], category="Klotter", description="Tagg vid busshållplatsen")
    page.context.set_offline(True)
    send(page)
    queued = page.locator("#queued")
    queued.wait_for()
    assert "sparad på den här telefonen" in queued.inner_text()
    assert page.locator("#outbox").inner_text().startswith("1 observation är sparad på den här telefonen")
    # the form is empty for the next report, and nothing reached the server
    assert page.locator("#thumbs li").count() == 0 and page.locator("#description").input_value() == ""
    assert not page.get_by_label("Klotter", exact=True).is_checked()
    shot(page, "report-outbox-waiting.png", full_page=False)
    stored = page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open("walkapp-outbox", 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const all = open.result.transaction("reports").objectStore("reports").getAll();
            all.onsuccess = () => resolve(all.result.map(r => ({fields: r.fields.map(f => f[0]), photos: r.photos.length})));
        };
    })""")
    # the page's CSRF token is not kept: the outbox sends with the token of the page it runs on
    assert len(stored) == 1 and stored[0]["photos"] == 1
    assert "client_key" in stored[0]["fields"] and "csrf_token" not in stored[0]["fields"]
    with live_server.app.app_context():
        walk = db.session.get(Walk, walk_id)
        assert [o.description for o in walk.observations] == []

    page.context.set_offline(False)  # coverage again: the "online" event sends it
    page.locator("#outbox .flash.success").wait_for()
    [feature] = observations(page, base, walk_id)
    assert feature["properties"]["description"] == "Tagg vid busshållplatsen"
    assert feature["properties"]["category"] == "klotter" and len(feature["properties"]["photos"]) == 1
    # later pages find the outbox empty and send nothing again
    page.goto(f"{base}/walks/{walk_id}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#outbox").is_hidden()
    assert len(observations(page, base, walk_id)) == 1
    shot(page, "report-outbox-sent.png")


def test_a_waiting_report_the_server_refuses_is_explained_and_can_be_discarded(phone, live_server):
    """The walk ended while the report waited on the phone: the banner says why it was refused,
    keeps it until the person discards it, and nothing is sent again."""
    base = live_server.url
    page = phone()
    walk_id = join(page, base, "Sen Sändare")
    open_report_form(page)
    fill_report(page, category="Belysning", description="Mörk gångtunnel")
    page.context.set_offline(True)
    send(page)
    page.locator("#queued").wait_for()
    end_walk(live_server, walk_id)
    page.context.set_offline(False)
    refused = page.locator("#outbox .flash.error")
    refused.wait_for()
    assert "togs inte emot" in refused.inner_text()
    assert "Vandringen är avslutad" in refused.inner_text()
    page.reload()  # still there on the next page, and not sent again
    refused.wait_for()
    page.get_by_role("button", name="Släng den").click()
    page.locator("#outbox").wait_for(state="hidden")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator("#outbox").is_hidden()
    assert observations(page, base, walk_id) == []
