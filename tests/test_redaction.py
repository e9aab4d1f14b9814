"""Face suggestions and redaction that destroys pixels, with real photographs scikit-image ships:
``astronaut`` (Eileen Collins, a face) and ``chelsea`` (a cat, no face)."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from walkapp import faces, policy
from walkapp.tokens import create_token
from walkapp.extensions import db
from walkapp.models import Event, Photo, PhotoStage, Role, Status, User

from .conftest import PASSWORD, create_user
from .factories import HERE

FACE = (180, 55, 95, 125)  # x, y, w, h of the astronaut's face in the 512 × 512 photograph


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def overlap(a, b) -> float:
    """Intersection over the smaller box."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    return max(0, w) * max(0, h) / min(aw * ah, bw * bh)


def test_detector_finds_the_astronauts_face_and_no_face_on_the_cat():
    found = faces.detect(Image.fromarray(skdata.astronaut()))
    assert len(found) == 1 and overlap(found[0], FACE) > 0.8
    assert faces.detect(Image.fromarray(skdata.chelsea())) == []


def test_detector_finds_the_face_in_a_12_megapixel_photo():
    big = Image.fromarray(skdata.astronaut()).resize((4000, 3000), Image.Resampling.BILINEAR)
    [box] = faces.detect(big)
    scaled = (FACE[0] * 4000 / 512, FACE[1] * 3000 / 512, FACE[2] * 4000 / 512, FACE[3] * 3000 / 512)
    assert overlap(box, scaled) > 0.8


def report(client, array, headers=None) -> int:
    """A report with one photo through the report path (the API the report page posts to)."""
    response = client.post("/api/v1/observations", content_type="multipart/form-data", headers=headers or {},
                           data={"category": "belysning", "lat": str(HERE[0]), "lon": str(HERE[1]),
                                 "photos": [(io.BytesIO(jpeg(array)), "photo.jpg")]})
    assert response.status_code == 201, response.get_json()
    assert faces.wait_idle()
    return db.session.scalar(db.select(Photo.id).filter_by(observation_id=response.get_json()["id"]))


@pytest.fixture
def coordinator(app, client, users, auth):
    auth.login_as(Role.coordinator)
    return client


def uploaded(app, client, array) -> int:
    with app.app_context():
        return report(client, array)


def test_upload_suggests_the_face_and_marks_the_photo(app, coordinator):
    astronaut, cat = uploaded(app, coordinator, skdata.astronaut()), uploaded(app, coordinator, skdata.chelsea())
    body = coordinator.get(f"/api/v1/photos/{astronaut}/faces").get_json()
    assert body["checked"] and len(body["boxes"]) == 1 and overlap(body["boxes"][0], FACE) > 0.8
    assert coordinator.get(f"/api/v1/photos/{cat}/faces").get_json() == {
        "boxes": [], "checked": True, "width": 451, "height": 300}
    with app.app_context():
        assert db.session.get(Photo, astronaut).may_show_people
        assert not db.session.get(Photo, cat).may_show_people
    page = coordinator.get(f"/observations/{db_obs(app, astronaut)}").get_data(as_text=True)
    assert "Kan visa personer" in page and f'data-redact="{astronaut}"' in page and "Maskera foto" in page


def db_obs(app, photo_id: int) -> int:
    with app.app_context():
        return db.session.get(Photo, photo_id).observation_id


def set_public(client, photo_id) -> bool:
    client.post(f"/photos/{photo_id}/public", data={"public": "1"})
    return db.session.get(Photo, photo_id).is_public


def test_a_photo_that_may_show_people_is_published_only_after_review(app, coordinator):
    confirmed, redacted = (uploaded(app, coordinator, skdata.astronaut()) for _ in range(2))
    cat = uploaded(app, coordinator, skdata.chelsea())
    with app.app_context():
        for photo_id in (confirmed, redacted):
            response = coordinator.post(f"/photos/{photo_id}/public", data={"public": "1"}, follow_redirects=True)
            assert "Fotot kan visa personer" in response.get_data(as_text=True)
            assert not db.session.get(Photo, photo_id).is_public
        assert set_public(coordinator, cat)  # no face found: no review needed
        assert coordinator.post(f"/photos/{confirmed}/no-people").status_code == 302
        assert set_public(coordinator, confirmed)
        box = coordinator.get(f"/api/v1/photos/{redacted}/faces").get_json()["boxes"]
        assert coordinator.post(f"/api/v1/photos/{redacted}/redactions", json={"boxes": box}).status_code == 201
        assert set_public(coordinator, redacted)
        actions = db.session.scalars(db.select(Event.action).where(Event.action.in_(
            ["people_reviewed", "redacted"]))).all()
        assert sorted(actions) == ["people_reviewed", "redacted"]


def test_a_photo_not_checked_yet_waits_and_a_flagged_public_photo_is_not_shown(app, coordinator):
    photo_id = uploaded(app, coordinator, skdata.chelsea())
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        photo.faces_checked_at = None  # as right after upload, before the detector has run
        db.session.commit()
        response = coordinator.post(f"/photos/{photo_id}/public", data={"public": "1"}, follow_redirects=True)
        assert "kontrolleras fortfarande" in response.get_data(as_text=True)
        assert not db.session.get(Photo, photo_id).is_public
        photo = db.session.get(Photo, photo_id)
        photo.observation.is_public, photo.is_public, photo.may_show_people = True, True, True
        assert not policy.photo_shown_publicly(photo)
        photo.people_reviewed_at = photo.created_at
        assert policy.photo_shown_publicly(photo)


def stored_files(app) -> dict[str, np.ndarray]:
    root = app.extensions["photo_storage"].root
    return {str(p.relative_to(root)): np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
            for p in sorted(root.rglob("*")) if p.is_file()}


def region(array: np.ndarray, box, scale: float) -> np.ndarray:
    x, y, w, h = (round(v * scale) for v in box)
    return array[y + 2:y + h - 2, x + 2:x + w - 2]


def outside(array: np.ndarray, box, scale: float) -> np.ndarray:
    mask = np.ones(array.shape[:2], bool)
    x, y, w, h = box
    margin = 16  # JPEG blocks along the box's edge are encoded again with the blur beside them
    mask[max(0, round(y * scale) - margin):round((y + h) * scale) + margin,
         max(0, round(x * scale) - margin):round((x + w) * scale) + margin] = False
    return array[mask]


def detail(array: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: what a face's features are made of."""
    return (np.abs(np.diff(array, axis=0)).mean() + np.abs(np.diff(array, axis=1)).mean()) / 2


def assert_redacted(before: dict, after: dict, box):
    """Every stored file: strongly changed inside the box, about the same outside."""
    assert len(after) == len(before) == 2 and not set(after) & set(before)  # new names, old files gone
    originals = {a.shape: a for a in before.values()}
    for name, array in after.items():
        original = originals[array.shape]
        scale = array.shape[1] / 512
        inside_new, inside_old = region(array, box, scale), region(original, box, scale)
        assert np.abs(inside_new - inside_old).mean() > 20, name
        assert detail(inside_new) < 0.2 * detail(inside_old), name  # no edges, no features left
        assert np.abs(outside(array, box, scale) - outside(original, box, scale)).mean() < 3, name


def test_redaction_through_the_api_destroys_the_region_in_every_stored_file(app, client, users):
    with app.app_context():
        coordinator = db.session.get(User, users[Role.coordinator])
        _token, plain = create_token(coordinator, "redaktion")
        db.session.commit()
        bearer = {"Authorization": f"Bearer {plain}"}
        photo_id = report(client, skdata.astronaut(), bearer)
    before = stored_files(app)
    box = client.get(f"/api/v1/photos/{photo_id}/faces", headers=bearer).get_json()["boxes"][0]
    response = client.post(f"/api/v1/photos/{photo_id}/redactions", json={"boxes": [box]}, headers=bearer)
    assert response.status_code == 201, response.get_json()
    urls = response.get_json()["renditions"]
    assert re.fullmatch(rf"/photos/{photo_id}/display\.jpg\?v=\d+", urls["display"])
    after = stored_files(app)
    assert_redacted(before, after, box)
    served = np.asarray(Image.open(io.BytesIO(client.get(urls["thumb"], headers=bearer).data)).convert("RGB"))
    assert served.shape == next(a for a in after.values() if a.shape[1] < 512).shape
    with app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(action="redacted"))
        assert event.actor_id == coordinator.id and event.data == {"photo": photo_id, "boxes": 1}
        assert db.session.get(Photo, photo_id).people_reviewed_at is not None


BAD = [
    ("outside", {"boxes": [[400, 400, 200, 50]]}),
    ("negative", {"boxes": [[-5, 10, 50, 50]]}),
    ("zero size", {"boxes": [[10, 10, 0, 50]]}),
    ("negative size", {"boxes": [[100, 100, -20, 50]]}),
    ("strings", {"boxes": [["10", "10", "50", "50"]]}),
    ("booleans", {"boxes": [[True, 10, 50, 50]]}),
    ("three numbers", {"boxes": [[10, 10, 50]]}),
    ("not a list", {"boxes": "10,10,50,50"}),
    ("no boxes", {"boxes": []}),
    ("too many", {"boxes": [[i, 0, 5, 5] for i in range(51)]}),
    ("no body", None),
]


@pytest.mark.parametrize("name,body", BAD, ids=[b[0] for b in BAD])
def test_bad_boxes_are_refused_and_nothing_changes(app, coordinator, name, body):
    photo_id = uploaded(app, coordinator, skdata.astronaut())
    before = {k: v.tobytes() for k, v in stored_files(app).items()}
    response = coordinator.post(f"/api/v1/photos/{photo_id}/redactions", data=json.dumps(body) if body else "",
                                content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "boxes" and response.get_json()["errors"][0]["message"]
    assert {k: v.tobytes() for k, v in stored_files(app).items()} == before
    with app.app_context():
        assert db.session.get(Photo, photo_id).redacted_at is None
        assert db.session.scalar(db.select(Event).filter_by(action="redacted")) is None


def test_not_a_number_is_refused(app, coordinator):
    photo_id = uploaded(app, coordinator, skdata.astronaut())
    response = coordinator.post(f"/api/v1/photos/{photo_id}/redactions", data='{"boxes": [[NaN, 1, 5, 5]]}',
                                content_type="application/json")
    assert response.status_code == 400


def test_who_may_redact(app, client, users, auth):
    photo_id = uploaded_as(app, client, auth, Role.coordinator)
    auth.logout()
    auth.login_as(Role.walker)
    assert client.get(f"/api/v1/photos/{photo_id}/faces").status_code == 404  # not the walker's item
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        responder = db.session.get(User, users[Role.responder])
        assert not policy.can_redact_photo(responder, photo)
        # a responder's own after-photo on their organisation's task
        photo.observation.organisation_id, photo.observation.status = responder.organisation_id, Status.assigned
        photo.uploader_id, photo.stage = responder.id, PhotoStage.after
        assert policy.can_redact_photo(responder, photo) and not policy.can_review_people(responder, photo)
        photo.stage = PhotoStage.before
        assert not policy.can_redact_photo(responder, photo)


def uploaded_as(app, client, auth, role) -> int:
    auth.login_as(role)
    return uploaded(app, client, skdata.astronaut())


def test_the_editor_posts_with_the_session_and_the_csrf_header(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        create_user(Role.coordinator)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "coordinator@example.se", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    with app.app_context():
        photo_id = report(client, skdata.astronaut(), {"X-CSRFToken": token})
        page = client.get(f"/observations/{db.session.get(Photo, photo_id).observation_id}").get_data(as_text=True)
    editor_token = re.search(r'id="redact-dialog"[^>]*data-csrf="([^"]+)"', page).group(1)
    body = {"boxes": [[180, 60, 90, 120]]}
    assert client.post(f"/api/v1/photos/{photo_id}/redactions", json=body).status_code == 400  # no token
    with app.app_context():
        assert db.session.get(Photo, photo_id).redacted_at is None
    response = client.post(f"/api/v1/photos/{photo_id}/redactions", json=body, headers={"X-CSRFToken": editor_token})
    assert response.status_code == 201


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return match.group(1)


def test_check_photos_command_checks_what_the_worker_has_not(app, coordinator, runner):
    astronaut, cat = uploaded(app, coordinator, skdata.astronaut()), uploaded(app, coordinator, skdata.chelsea())
    with app.app_context():
        for photo in db.session.scalars(db.select(Photo)):
            photo.faces_checked_at, photo.face_boxes, photo.may_show_people = None, None, False
        db.session.commit()
    result = runner.invoke(args=["check-photos"])
    assert result.exit_code == 0 and "Checked 2 photos; 1 may show people" in result.output
    with app.app_context():
        assert db.session.get(Photo, astronaut).may_show_people and len(db.session.get(Photo, astronaut).face_boxes) == 1
        assert db.session.get(Photo, cat).faces_checked_at is not None and not db.session.get(Photo, cat).may_show_people
    assert "Checked 0 photos" in runner.invoke(args=["check-photos"]).output


def test_a_photo_the_detector_cannot_read_waits_for_review(app, coordinator, runner):
    cat = uploaded(app, coordinator, skdata.chelsea())
    with app.app_context():
        photo = db.session.get(Photo, cat)
        photo.faces_checked_at = None
        db.session.commit()
        app.extensions["photo_storage"].path(photo.storage_key, "display").write_bytes(b"not a jpeg")
    assert "1 may show people" in runner.invoke(args=["check-photos"]).output
    with app.app_context():
        photo = db.session.get(Photo, cat)
        assert photo.may_show_people and photo.face_boxes == [] and not policy.can_publish_photo(photo)
