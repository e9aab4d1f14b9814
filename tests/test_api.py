"""The JSON API: GeoJSON reads, creating observations, tokens, errors, hostile uploads."""
import io
from pathlib import Path

import pytest
from PIL import Image

from walkapp import inputs
from walkapp.extensions import db
from walkapp.models import ApiToken, Event, Observation, Photo, Role, Walk, WalkStatus

from . import photo_samples as samples
from .factories import HERE, count, count_statements, make_observation, make_walk


def post_observation(client, data=None, files=(), headers=None):
    form = {"category": "belysning", "lat": str(HERE[0]), "lon": str(HERE[1])}
    form.update(data or {})
    form = {k: v for k, v in form.items() if v is not None}
    if files:
        form["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/api/v1/observations", data=form, headers=headers or {},
                       content_type="multipart/form-data")


def photo_files(app) -> list[Path]:
    root = Path(app.instance_path) / "photos"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_nothing_written(app):
    with app.app_context():
        assert count(Observation) == 0 and count(Photo) == 0 and count(Event) == 0
    assert photo_files(app) == []


def field_messages(response, field):
    return [e["message"] for e in response.get_json()["errors"] if e["field"] == field]


def test_create_with_photo_returns_feature(app, client, users, auth):
    auth.login_as(Role.walker)
    response = post_observation(client, {"description": "Trasig lampa", "rating": "3", "accuracy": "12"},
                                files=[("lampa.jpg", samples.jpeg_with_orientation_and_gps())])
    assert response.status_code == 201, response.get_json()
    feature = response.get_json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["coordinates"] == [HERE[1], HERE[0]]
    props = feature["properties"]
    assert props["category"] == "belysning" and props["status"] == "new" and props["mine"] is True
    assert props["rating"] == 3 and props["description"] == "Trasig lampa" and props["source"] == "resident"
    assert len(props["photos"]) == 1
    assert response.headers["Location"] == f"/api/v1/observations/{feature['id']}"
    # the photo is served, upright, without metadata, with nosniff and private caching
    thumb = client.get(props["photos"][0]["thumb"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in thumb.headers["Cache-Control"] and "max-age" in thumb.headers["Cache-Control"]
    image = Image.open(io.BytesIO(thumb.data))
    assert max(image.size) <= 400 and image.height > image.width  # orientation 6 applied
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    display = Image.open(io.BytesIO(client.get(props["photos"][0]["display"]).data))
    assert max(display.size) <= 1600 and not display.getexif()
    assert len(photo_files(app)) == 2


def test_heic_photo_is_accepted(client, users, auth):
    auth.login_as(Role.walker)
    response = post_observation(client, files=[("IMG_0001.HEIC", samples.heic_bytes())])
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["properties"]["photos"]) == 1


HOSTILE = {
    "text named .jpg": ("note.jpg", samples.text_as_jpg),
    "truncated JPEG": ("cut.jpg", samples.truncated_jpeg),
    "PNG declaring 30000x30000": ("bomb.png", lambda: samples.png_declaring(30000, 30000)),
    "25 MB file": ("huge.jpg", lambda: samples.big_file(25 * 1024 * 1024)),
    "SVG": ("vector.svg", samples.svg_bytes),
    "GIF": ("anim.gif", samples.gif_bytes),
    "EPS": ("print.eps", samples.eps_bytes),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_uploads_are_refused_and_leave_nothing(app, client, users, auth, name):
    auth.login_as(Role.walker)
    filename, make = HOSTILE[name]
    response = post_observation(client, files=[("ok.jpg", samples.jpeg_with_orientation_and_gps()), (filename, make())])
    assert 400 <= response.status_code < 500
    messages = field_messages(response, "photos")
    assert messages and messages[0].startswith(filename + ": ")
    assert_nothing_written(app)


@pytest.mark.parametrize("lat, lon, field", [
    (None, str(HERE[1]), "lat"), ("", str(HERE[1]), "lat"), ("91", str(HERE[1]), "lat"),
    ("nan", str(HERE[1]), "lat"), ("norr", str(HERE[1]), "lat"), (str(HERE[0]), "181", "lon"),
    (str(HERE[0]), "inf", "lon"), (str(HERE[0]), None, "lon"),
])
def test_bad_coordinates_are_field_errors(app, client, users, auth, lat, lon, field):
    auth.login_as(Role.walker)
    response = post_observation(client, {"lat": lat, "lon": lon})
    assert response.status_code == 400
    assert field_messages(response, field)
    assert_nothing_written(app)


def test_other_bad_fields(app, client, users, auth):
    auth.login_as(Role.walker)
    response = post_observation(client, {"category": "finns-inte", "rating": "11", "description": "x" * (inputs.DESCRIPTION_MAX + 1),
                                         "kind": "positive"})
    assert response.status_code == 400
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"category", "rating", "description"} <= fields
    assert_nothing_written(app)


def test_too_many_photos(app, client, users, auth):
    auth.login_as(Role.walker)
    jpeg = samples.jpeg_with_orientation_and_gps(400, 300)
    response = post_observation(client, files=[(f"{i}.jpg", jpeg) for i in range(6)])
    assert response.status_code == 400 and field_messages(response, "photos")
    assert_nothing_written(app)


def test_request_over_the_cap_is_413_json(app_factory, users):
    app = app_factory(MAX_CONTENT_LENGTH=1024 * 1024)
    client = app.test_client()
    client.post("/login", data={"email": "walker@example.se", "password": "correct horse battery"})
    response = post_observation(client, files=[("big.jpg", b"\xff\xd8" + b"0" * 2 * 1024 * 1024)])
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["message"]
    assert_nothing_written(app)


def test_failed_photo_write_leaves_no_row_and_no_file(app, client, users, auth, monkeypatch):
    """File and row together or not at all: the second file write fails."""
    storage = app.extensions["photo_storage"]
    real_put, calls = storage.put, []

    def failing_put(key, rendition, data):
        calls.append(key)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_put(key, rendition, data)

    monkeypatch.setattr(storage, "put", failing_put)
    auth.login_as(Role.walker)
    jpeg = samples.jpeg_with_orientation_and_gps(400, 300)
    with pytest.raises(OSError):
        post_observation(client, files=[("a.jpg", jpeg), ("b.jpg", jpeg)])
    assert_nothing_written(app)


def test_reading_is_limited_to_what_the_user_may_see(app, client, users, auth):
    with app.app_context():
        mine = make_walk(participants=[users[Role.walker]], code="MINE22")
        other = make_walk(participants=[users[Role.coordinator]], code="OTHR22")
        own = make_observation(users[Role.coordinator], mine).id  # in my walk, not by me
        foreign = make_observation(users[Role.coordinator], other).id
        solo = make_observation(users[Role.walker]).id  # mine, no walk
        other_id = other.id
    auth.login_as(Role.walker)
    ids = {f["id"] for f in client.get("/api/v1/observations").get_json()["features"]}
    assert ids == {own, solo}
    assert client.get(f"/api/v1/observations/{foreign}").status_code == 404
    assert client.get(f"/observations/{foreign}").status_code == 404
    assert client.get(f"/api/v1/observations?walk={other_id}").get_json()["features"] == []
    auth.logout()
    auth.login_as(Role.coordinator)
    ids = {f["id"] for f in client.get("/api/v1/observations").get_json()["features"]}
    assert ids == {own, foreign, solo}


def test_photos_of_foreign_walks_are_refused(app, client, users, auth):
    auth.login_as(Role.coordinator)
    with app.app_context():
        walk = make_walk(participants=[users[Role.coordinator]], code="FOTO22")
    response = post_observation(client, {"walk": str(walk.id)}, files=[("a.jpg", samples.jpeg_with_orientation_and_gps())])
    thumb_url = response.get_json()["properties"]["photos"][0]["thumb"]
    auth.logout()
    auth.login_as(Role.walker)
    assert client.get(thumb_url).status_code == 404
    auth.logout()
    assert client.get(thumb_url).status_code == 302  # anonymous: sign in first


def test_filters(app, client, users, auth):
    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="FILT22")
        a = make_observation(users[Role.walker], walk, code="belysning").id
        b = make_observation(users[Role.walker], walk, code="klotter", lat=62.70, lon=18.0).id
        make_observation(users[Role.walker], None, code="klotter")
        walk_id = walk.id
    auth.login_as(Role.walker)

    def ids(query):
        response = client.get("/api/v1/observations" + query)
        assert response.status_code == 200, response.get_json()
        return {f["id"] for f in response.get_json()["features"]}

    assert ids(f"?walk={walk_id}") == {a, b}
    assert ids(f"?walk={walk_id}&category=klotter") == {b}
    assert ids("?bbox=17.9,62.6,17.95,62.65&walk=%d" % walk_id) == {a}
    assert ids("?status=new,accepted&walk=%d" % walk_id) == {a, b}
    assert ids("?status=fixed") == set()
    assert ids("?since=2000-01-01T00:00:00Z&walk=%d" % walk_id) == {a, b}
    for bad in ("?bbox=1,2,3", "?status=broken", "?since=yesterday", "?walk=x"):
        response = client.get("/api/v1/observations" + bad)
        assert response.status_code == 400 and response.get_json()["errors"][0]["field"]


def test_list_query_count_does_not_grow(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(participants=[users[Role.walker]], code="QCNT22").id

    def list_and_walk_page():
        assert client.get(f"/api/v1/observations?walk={walk_id}").status_code == 200
        assert client.get(f"/walks/{walk_id}").status_code == 200

    def add(*codes):
        with app.app_context():
            walk = db.session.get(Walk, walk_id)
            for code in codes:
                make_observation(users[Role.walker], walk, code=code)

    auth.login_as(Role.walker)
    add("belysning")
    few = count_statements(app, list_and_walk_page)
    add("klotter", "vegetation", "trafik", "annat", "belysning")
    assert count_statements(app, list_and_walk_page) == few


def test_nearby_offers_open_items_of_the_same_category_within_radius(app, client, users, auth):
    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="NEAR22")
        close = make_observation(users[Role.coordinator], walk, lat=HERE[0] + 0.0001).id  # ~11 m
        make_observation(users[Role.coordinator], walk, lat=HERE[0] + 0.0005)  # ~55 m
        make_observation(users[Role.coordinator], walk, code="klotter")
        from walkapp.models import Status
        make_observation(users[Role.coordinator], walk, status=Status.verified)
    auth.login_as(Role.walker)
    found = client.get(f"/api/v1/observations/nearby?lat={HERE[0]}&lon={HERE[1]}&category=belysning").get_json()
    assert [f["id"] for f in found["features"]] == [close]
    assert 9 <= found["features"][0]["properties"]["distance_m"] <= 13
    assert client.get("/api/v1/observations/nearby?lat=x&lon=1").status_code == 400


def test_contribution_adds_photo_and_comment_instead_of_a_duplicate(app, client, users, auth):
    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="CONT22")
        target = make_observation(users[Role.coordinator], walk).id
    auth.login_as(Role.walker)
    response = client.post(f"/api/v1/observations/{target}/contributions", content_type="multipart/form-data",
                           data={"comment": "Även lampan bredvid", "photos": [(io.BytesIO(samples.png_bytes()), "b.png")]})
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["properties"]["photos"]) == 1
    with app.app_context():
        assert count(Observation) == 1
        event = db.session.scalar(db.select(Event).filter_by(action="contribution"))
        assert event.comment == "Även lampan bredvid" and event.actor_id == users[Role.walker]
    empty = client.post(f"/api/v1/observations/{target}/contributions", data={"comment": " "})
    assert empty.status_code == 400


def test_guest_cannot_add_to_a_done_walk(app, client, users):
    with app.app_context():
        walk = make_walk(code="DONE22")
        walk_id = walk.id
    client.post("/j/DONE22", data={"name": "Gäst", "role_label": "police"})
    with app.app_context():
        db.session.get(type(walk), walk_id).status = WalkStatus.done
        db.session.commit()
    response = post_observation(client, {"walk": str(walk_id)})
    assert response.status_code == 400 and field_messages(response, "walk")
    page = client.get(f"/report?walk={walk_id}")
    assert page.status_code == 302 and page.headers["Location"] == f"/walks/{walk_id}"
    # and without a walk a guest cannot report at all
    assert field_messages(post_observation(client), "walk")
    assert_nothing_written(app)


def test_unauthenticated_api_gets_401_json(client):
    response = client.get("/api/v1/observations")
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["message"]


def test_bearer_token_works_without_csrf_and_can_be_revoked(app_factory, users):
    app = app_factory(WTF_CSRF_ENABLED=True)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "walker@example.se", "--name", "kartappen"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        stored = db.session.scalar(db.select(ApiToken))
        assert stored.token_hash != token and token not in stored.token_hash and stored.name == "kartappen"
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/observations", headers=headers).status_code == 200
    response = post_observation(client, headers=headers)
    assert response.status_code == 201
    assert client.get("/api/v1/observations", headers={"Authorization": "Bearer wk_wrong"}).status_code == 401
    assert runner.invoke(args=["revoke-token", str(stored.id)]).exit_code == 0
    assert client.get("/api/v1/observations", headers=headers).status_code == 401


def test_a_report_sent_again_under_its_key_makes_no_second_item(app, client, users, auth):
    """A phone's outbox may send a report whose answer was lost; the key makes the retry harmless,
    photos included. Keys belong to their reporter: someone else's same key is a new report."""
    auth.login_as(Role.walker)
    key = "5f0c7a9e-3b1d-4c2a-9f4e-0a1b2c3d4e5f"
    photo = [("lampa.jpg", samples.jpeg_with_orientation_and_gps())]
    first = post_observation(client, {"client_key": key, "description": "Trasig lampa"}, files=photo)
    again = post_observation(client, {"client_key": key, "description": "Trasig lampa"}, files=photo)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    with app.app_context():
        assert count(Observation) == 1 and count(Photo) == 1 and count(Event) == 1
    stored = len(photo_files(app))
    auth.logout()
    auth.login_as(Role.coordinator)
    other = post_observation(client, {"client_key": key})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert len(photo_files(app)) == stored
    assert field_messages(post_observation(client, {"client_key": "<script>"}), "client_key") == [
        "Ogiltig rapportnyckel."]


def test_csrf_refusal_names_its_field(app_factory, users):
    """So that the phone's outbox can tell an expired token (retry with a fresh one) from a refusal."""
    import re

    client = app_factory(WTF_CSRF_ENABLED=True).test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "walker@example.se", "password": "correct horse battery",
                                "csrf_token": token.group(1)})
    response = post_observation(client, headers={"X-CSRFToken": "stale"})
    assert response.status_code == 400
    assert [e["field"] for e in response.get_json()["errors"]] == ["csrf_token"]


def test_session_post_needs_csrf_header(app_factory, users):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "walker@example.se", "password": "correct horse battery", "csrf_token": token})
    refused = post_observation(client)
    assert refused.status_code == 400 and refused.is_json
    accepted = post_observation(client, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_json()


