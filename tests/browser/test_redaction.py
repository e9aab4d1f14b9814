"""Redacting a face on a phone (issue 13's acceptance): a guest reports with a photo of a face, the
detector suggests a box, the coordinator adjusts it in the editor by keyboard and touch, previews,
applies; the served display and thumbnail are blurred there, and the photo can then be published.
"""
from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image
from playwright.sync_api import expect
from skimage import data as skdata

from walkapp import faces
from walkapp.extensions import db
from walkapp.models import Photo

from .conftest import ARTIFACTS, HERE, join, login, report, shot

COORDINATOR = "samordnare@demo.walkapp.se"


def astronaut_file() -> dict:
    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).resize((1024, 1024)).save(buffer, "JPEG", quality=92)
    return {"name": "astronaut.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def detail(array: np.ndarray) -> float:
    return (np.abs(np.diff(array, axis=0)).mean() + np.abs(np.diff(array, axis=1)).mean()) / 2


def served(page, url: str) -> np.ndarray:
    response = page.request.get(url)
    assert response.ok and response.headers["content-type"] == "image/jpeg"
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"), dtype=np.float64)


def inside(array: np.ndarray, box, scale: float) -> np.ndarray:
    x, y, w, h = (round(v * scale) for v in box)
    return array[y + 2:y + h - 2, x + 2:x + w - 2]


def test_a_suggested_face_is_redacted_on_a_phone_and_the_photo_published(pages, live_server):
    base = live_server.url
    guest = pages("phone", geolocation=HERE)
    join(guest, base, "Gäst med kamera")
    report(guest, files=[astronaut_file()], description="Trasig lampa vid porten")
    assert faces.wait_idle()
    with live_server.app.app_context():
        photo = db.session.scalars(db.select(Photo).order_by(Photo.id.desc())).first()
        photo_id, obs_id, [suggested] = photo.id, photo.observation_id, photo.face_boxes
    page = pages("phone")
    login(page, base, COORDINATOR)
    page.goto(f"{base}/observations/{obs_id}")
    expect(page.get_by_text("Kan visa personer: granska före publicering")).to_be_visible()
    public = page.locator(f"form[action='/photos/{photo_id}/public'] button")
    expect(public).to_be_disabled()
    before = {r: served(page, f"{base}/photos/{photo_id}/{r}.jpg") for r in ("display", "thumb")}
    page.locator("ul.photos").scroll_into_view_if_needed()
    shot(page, "redaction-review-phone.png", full_page=False)

    page.get_by_role("button", name=re.compile(r"^Maskera\b")).click()
    dialog = page.get_by_role("dialog", name="Maskera foto")
    expect(dialog.get_by_role("status")).to_contain_text("Möjliga ansikten markerade: 1.")
    box = dialog.get_by_role("button", name="Ruta 1")
    expect(box).to_be_visible()
    # keyboard: move and resize there and back again, so the box stays the suggestion
    box.focus()
    for key in ("ArrowRight", "ArrowLeft", "Shift+ArrowDown", "Shift+ArrowUp"):
        page.keyboard.press(key)
    # touch/mouse: draw a second box on the photo, then remove it with Delete
    layer = dialog.locator(".redact-layer").bounding_box()
    page.mouse.move(layer["x"] + 20, layer["y"] + layer["height"] - 80)
    page.mouse.down()
    page.mouse.move(layer["x"] + 90, layer["y"] + layer["height"] - 20, steps=5)
    page.mouse.up()
    expect(dialog.get_by_role("button", name="Ruta 2")).to_be_visible()
    page.keyboard.press("Delete")
    expect(dialog.get_by_role("button", name="Ruta 2")).to_have_count(0)
    dialog.get_by_role("button", name="Förhandsvisa").click()
    expect(dialog.get_by_role("button", name="Förhandsvisa")).to_have_attribute("aria-pressed", "true")
    for button in dialog.get_by_role("button").all():
        height = button.bounding_box()["height"]
        assert height >= 44 or button.get_attribute("class") == "redact-box", button.inner_text()
    shot(page, "redaction-editor-phone.png", full_page=False)
    dialog.get_by_role("button", name="Maskera nu").click()
    expect(page.get_by_text("Maskerat: originalpixlarna är borta ur varje sparad kopia av fotot.")).to_be_visible()
    expect(page.get_by_text("Maskerat", exact=True)).to_be_visible()

    # what the server now sends is blurred inside the box, for the display and the thumbnail
    src = page.locator(f"a[href^='/photos/{photo_id}/display.jpg'] img").get_attribute("src")
    assert re.fullmatch(rf"/photos/{photo_id}/thumb\.jpg\?v=\d+", src)
    for rendition, url in (("display", src.replace("thumb", "display")), ("thumb", src)):
        after = served(page, base + url)
        scale = after.shape[1] / 1024
        new, old = inside(after, suggested, scale), inside(before[rendition], suggested, scale)
        assert np.abs(new - old).mean() > 20 and detail(new) < 0.2 * detail(old), rendition
    shot(page, "redaction-applied-phone.png")

    # and now the photo, and the item, can be published
    expect(public).to_be_enabled()
    public.click()
    expect(page.get_by_text("Visas på den offentliga återkopplingssidan.")).to_be_visible()
    page.get_by_role("button", name="Visa på den offentliga sidan").click()
    with live_server.app.app_context():
        photo = db.session.get(Photo, photo_id)
        assert photo.is_public and photo.observation.is_public
        token = photo.observation.walk.public_token
    page.goto(f"{base}/f/{token}")
    expect(page.locator(f"img[src*='/photos/{photo_id}/thumb.jpg']")).to_have_count(1)
    assert ARTIFACTS.exists() and page.js_errors == [] and page.dialogs == []
