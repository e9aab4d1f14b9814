"""What operators rely on: /healthz, one log line per request without personal data, and photos
handed to nginx with X-Accel-Redirect after the permission check."""
from __future__ import annotations

import json
import logging

from walkapp import photos
from walkapp.extensions import db
from walkapp.models import Role
from walkapp.request_log import JsonFormatter

from .conftest import make_test_app
from .factories import make_observation
from .photo_samples import png_bytes


def test_healthz_says_ok_when_database_and_storage_work(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_fails_when_photos_cannot_be_written(app_factory, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the photo folder should be")
    app = app_factory(PHOTO_STORAGE_PATH=str(blocker / "photos"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "failing", "checks": {"database": "ok", "storage": "failing"}}


def test_healthz_fails_when_the_database_is_gone(tmp_path):
    app = make_test_app(tmp_path, f"sqlite:///{tmp_path / 'no-such-folder' / 'walkapp.sqlite'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "failing", "storage": "ok"}


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "walkapp.requests"]


def test_one_line_per_request_with_route_not_path(client, users, auth, caplog):
    caplog.set_level(logging.INFO, logger="walkapp.requests")
    auth.login_as(Role.coordinator)
    caplog.clear()
    secret = "SECRETTOKEN-abcdefghijklmnop"
    response = client.get(f"/login/link/{secret}?email=someone@example.se")
    [line] = request_lines(caplog)
    assert line.route == "/login/link/<token>" and line.status == response.status_code
    assert line.user_id == users[Role.coordinator]
    assert secret not in caplog.text and "example.se" not in caplog.text
    assert line.request_id == response.headers["X-Request-ID"] and len(line.request_id) == 32
    entry = json.loads(JsonFormatter().format(line))
    assert entry["route"] == "/login/link/<token>" and entry["user_id"] == users[Role.coordinator]
    assert entry["request_id"] == line.request_id and entry["level"] == "INFO"


def test_the_proxys_request_id_is_kept_and_a_bad_one_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="walkapp.requests")
    kept = client.get("/healthz", headers={"X-Request-ID": "f3a9c2e17b5d4e60"})
    assert kept.headers["X-Request-ID"] == "f3a9c2e17b5d4e60"
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert replaced.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert [r.request_id for r in request_lines(caplog)] == ["f3a9c2e17b5d4e60", replaced.headers["X-Request-ID"]]
    assert [r.user_id for r in request_lines(caplog)] == [None, None]


def test_photos_go_to_nginx_only_after_the_permission_check(app_factory):
    app = app_factory(PHOTO_ACCEL_REDIRECT="/_photos/")
    with app.app_context():
        from .conftest import create_user

        create_user(Role.coordinator)
        stranger = create_user(Role.walker, "stranger@example.se")
        obs = make_observation(None)
        processed = photos.process(png_bytes(), max_bytes=10_000_000, max_pixels=10_000_000)
        [photo] = photos.save_photos(obs, [processed], None)
        db.session.commit()
        photo_id, key = photo.id, photo.storage_key
        assert stranger.id
    client = app.test_client()
    client.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    response = client.get(f"/photos/{photo_id}/display.jpg")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/_photos/{key[:2]}/{key}.display.jpg"
    assert response.headers["Content-Type"] == "image/jpeg"
    assert "private" in response.headers["Cache-Control"]
    other = app.test_client()
    other.post("/login", data={"email": "stranger@example.se", "password": "correct horse battery"})
    refused = other.get(f"/photos/{photo_id}/display.jpg")
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused.headers
