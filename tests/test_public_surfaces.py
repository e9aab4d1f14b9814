"""Everything anyone can read without an account shows exactly what a coordinator published.

One walk holds an item for every status × kind × public flag, each with a public and a private
photo, a public note on a status event and an internal note. Every public surface is one line in
SURFACES (text) or PHOTO_ROUTES (photo files); the test walks all of them and lists every leak.
"""
from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass
from typing import Callable

import pytest
from pypdf import PdfReader

from walkapp import photos
from walkapp.extensions import db
from walkapp.models import Action, Event, Kind, Observation, Role, Status, User, Visibility

from . import photo_samples as samples
from .factories import make_observation, make_walk

BASE = "/open311/v2"
CATEGORY = {Kind.problem: "belysning", Kind.positive: "trygg-plats"}
# Stated here on its own, not read from policy: the test checks the rule, not just its use.
NEVER_SHOWN = {Status.rejected, Status.duplicate}
PHOTO_REF = re.compile(r"/(?:photos|media)/(\d+)[/.]")


@dataclass
class Item:
    id: int
    status: Status
    kind: Kind
    public: bool
    description: str
    public_note: str
    internal_note: str
    public_photo: int
    private_photo: int

    @property
    def shown(self) -> bool:
        return self.public and self.status not in NEVER_SHOWN


@dataclass
class World:
    anonymous: object  # test clients
    staff: object
    walk_id: int
    token: str
    items: list[Item]


def build_world(app, users) -> World:
    with app.app_context():
        walk = make_walk(code="SURF22", title="Vandring för ytorna")
        reporter = db.session.get(User, users[Role.walker])
        processed = photos.process(samples.png_bytes(), max_bytes=10**7, max_pixels=10**8)
        items = []
        combinations = itertools.product(Status, Kind, (True, False))
        for n, (status, kind, public) in enumerate(combinations):
            obs = make_observation(reporter.id, walk, code=CATEGORY[kind], status=status, is_public=public,
                                   description=f"Spår{n:02d}")
            db.session.add_all([
                Event(observation=obs, action="reported", to_status=Status.new, comment=f"Intern{n:02d}",
                      visibility=Visibility.internal),
                Event(observation=obs, action=Action.accept, from_status=Status.new, to_status=status,
                      comment=f"Notis{n:02d}", visibility=Visibility.public),
            ])
            shown_photo, hidden_photo = photos.save_photos(obs, [processed, processed], reporter)
            shown_photo.is_public = True
            db.session.commit()
            items.append(Item(obs.id, status, kind, public, f"Spår{n:02d}", f"Notis{n:02d}", f"Intern{n:02d}",
                              shown_photo.id, hidden_photo.id))
        token, walk_id = walk.public_token, walk.id
    staff = app.test_client()
    staff.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    return World(app.test_client(), staff, walk_id, token, items)


def text(response) -> str:
    return response.get_data(as_text=True)


def pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def each_request(fmt: str) -> Callable[[World], str]:
    return lambda w: "\n".join(text(w.anonymous.get(f"{BASE}/requests/{i.id}.{fmt}")) for i in w.items)


def exported_public_links(w: World) -> str:
    """The staff export names an item's public page only for items shown publicly."""
    rows = csv.DictReader(io.StringIO(w.staff.get("/export/observations.csv?variant=utf8").data.decode("utf-8-sig")))
    return "\n".join(row["beskrivning"] for row in rows if row["publik_länk"])


@dataclass
class Surface:
    name: str
    read: Callable[[World], str]
    # What of a shown item the surface carries: its description, its public note, its public photo.
    shows: frozenset[str]


ALL = frozenset({"description", "public_note", "photo"})
SURFACES = [
    Surface("public walk page", lambda w: text(w.anonymous.get(f"/f/{w.token}")), ALL),
    Surface("Open311 requests.json", lambda w: text(w.anonymous.get(f"{BASE}/requests.json")), ALL),
    Surface("Open311 requests.xml", lambda w: text(w.anonymous.get(f"{BASE}/requests.xml")), ALL),
    Surface("Open311 requests/ID.json", each_request("json"), ALL),
    Surface("Open311 requests/ID.xml", each_request("xml"), ALL),
    Surface("Open311 servicerequestupdates.json",
            lambda w: text(w.anonymous.get(f"{BASE}/servicerequestupdates.json")), frozenset({"public_note"})),
    Surface("Open311 servicerequestupdates.xml",
            lambda w: text(w.anonymous.get(f"{BASE}/servicerequestupdates.xml")), frozenset({"public_note"})),
    # Staff fetch these, but they are made to be handed to the public.
    Surface("public protocol page", lambda w: text(w.staff.get(f"/walks/{w.walk_id}/protocol?version=public")),
            frozenset({"description", "photo"})),
    Surface("public protocol PDF", lambda w: pdf_text(w.staff.get(f"/walks/{w.walk_id}/protocol.pdf?version=public")),
            frozenset({"description"})),
    Surface("export's public links", exported_public_links, frozenset({"description"})),
]

PHOTO_ROUTES = [
    ("Open311 media", lambda w, photo_id: f"{BASE}/media/{photo_id}.jpg"),
    ("public photo thumb", lambda w, photo_id: f"/f/{w.token}/photos/{photo_id}/thumb.jpg"),
    ("public photo display", lambda w, photo_id: f"/f/{w.token}/photos/{photo_id}/display.jpg"),
]


def leaks(surface: Surface, body: str, items: list[Item]) -> list[str]:
    found = []
    referenced = {int(n) for n in PHOTO_REF.findall(body)}
    for item in items:
        label = f"{surface.name}: #{item.id} {item.status.value}/{item.kind.value}/public={item.public}"
        if item.internal_note in body:
            found.append(f"{label}: internal note shown")
        if item.private_photo in referenced:
            found.append(f"{label}: private photo linked")
        markers = {"description": item.description, "public_note": item.public_note}
        if item.shown:
            found += [f"{label}: {what} missing" for what, marker in markers.items()
                      if what in surface.shows and marker not in body]
            if "photo" in surface.shows and item.public_photo not in referenced:
                found.append(f"{label}: public photo missing")
        else:
            found += [f"{label}: {what} shown" for what, marker in markers.items() if marker in body]
            if item.public_photo in referenced:
                found.append(f"{label}: photo linked")
    return found


def test_every_public_surface_shows_exactly_the_published_items(app, users):
    world = build_world(app, users)
    assert sum(i.shown for i in world.items) == 14  # 7 states × 2 kinds, of 36 items
    problems = []
    for surface in SURFACES:
        problems += leaks(surface, surface.read(world), world.items)
    for name, url in PHOTO_ROUTES:
        for item in world.items:
            for photo_id, expected in ((item.public_photo, item.shown), (item.private_photo, False)):
                status = world.anonymous.get(url(world, photo_id)).status_code
                if status != (200 if expected else 404):
                    problems.append(f"{name}: photo {photo_id} of #{item.id} {item.status.value}/"
                                    f"public={item.public} answered {status}")
    # The public protocol and exports are handed out by coordinators, never served to anyone.
    for path in (f"/walks/{world.walk_id}/protocol?version=public",
                 f"/walks/{world.walk_id}/protocol.pdf?version=public", "/export/observations.csv"):
        if world.anonymous.get(path).status_code != 302:  # to the sign-in page
            problems.append(f"{path} answers anonymous visitors")
    assert problems == [], "\n".join(problems)


PHOTO_URLS = [
    ("Open311 media", lambda token, photo_id: f"{BASE}/media/{photo_id}.jpg", False),
    ("public photo", lambda token, photo_id: f"/f/{token}/photos/{photo_id}/thumb.jpg", False),
    ("signed-in photo", lambda token, photo_id: f"/photos/{photo_id}/display.jpg", True),
]


@pytest.mark.parametrize("name, url, signed_in", PHOTO_URLS, ids=[n for n, _, _ in PHOTO_URLS])
def test_photos_are_revalidated_on_every_use(app, users, name, url, signed_in):
    """No cache, shared or the browser's, may keep a photo that can be unpublished: private,
    no-cache, with validators so that asking again is a 304; once hidden, the answer is 404."""
    with app.app_context():
        walk = make_walk(code="CACH22")
        obs = make_observation(users[Role.walker], walk, status=Status.verified, is_public=True)
        processed = photos.process(samples.png_bytes(), max_bytes=10**7, max_pixels=10**8)
        [photo] = photos.save_photos(obs, [processed], db.session.get(User, users[Role.walker]))
        photo.is_public = True
        db.session.commit()
        photo_id, obs_id, token = photo.id, obs.id, walk.public_token
    client = app.test_client()
    if signed_in:
        client.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    first = client.get(url(token, photo_id))
    assert first.status_code == 200 and first.mimetype == "image/jpeg"
    cache = first.cache_control
    assert cache.private and cache.no_cache and not cache.public, first.headers["Cache-Control"]
    assert cache.max_age in (None, 0)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(url(token, photo_id), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(url(token, photo_id), headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    if not signed_in:
        with app.app_context():
            db.session.get(Observation, obs_id).is_public = False
            db.session.commit()
        gone = client.get(url(token, photo_id), headers={"If-None-Match": first.headers["ETag"]})
        assert gone.status_code == 404
