"""Photos in an S3-compatible bucket (PHOTO_STORAGE = "s3"), against a real S3 server over HTTP (moto's
server mode, started here): upload, serve after the permission check, all-or-nothing with the row, the
walk protocol's photos, health, a backup made from the bucket restored to local files, and redaction and
retention checked on the objects as test_redaction and test_privacy check them on files."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import boto3
import numpy as np
import pytest
from PIL import Image
from moto.server import ThreadedMotoServer
from skimage import data as skdata

from walkapp import faces, photos
from walkapp.extensions import db
from walkapp.models import Observation, PendingDelete, Photo, Role, User
from walkapp.tokens import create_token

from . import photo_samples as samples
from .conftest import make_test_app
from .test_api import post_observation
from .test_privacy import plant
from .test_redaction import assert_redacted, report

BUCKET = "walkapp-photos"


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_app(app_factory, s3_server, monkeypatch, request):
    for name, value in (("AWS_ACCESS_KEY_ID", "walkapp-test"), ("AWS_SECRET_ACCESS_KEY", "walkapp-test-secret"),
                        ("AWS_DEFAULT_REGION", "eu-north-1")):
        monkeypatch.setenv(name, value)
    bucket = boto3.resource("s3", endpoint_url=s3_server).Bucket(BUCKET)
    bucket.create(CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    prefix = f"{request.node.name[:40]}/"
    app = app_factory(PHOTO_STORAGE="s3", S3_BUCKET=BUCKET, S3_ENDPOINT_URL=s3_server, S3_REGION="eu-north-1",
                      S3_PREFIX=prefix)
    yield app
    bucket.object_versions.all().delete()  # every version and delete marker, should a test keep versions
    bucket.delete()


def bucket_objects(s3_server) -> dict[str, bytes]:
    bucket = boto3.resource("s3", endpoint_url=s3_server).Bucket(BUCKET)
    return {o.key: o.get()["Body"].read() for o in bucket.objects.all()}


def sign_in(client, role: Role):
    response = client.post("/login", data={"email": f"{role.value}@example.se", "password": "correct horse battery"})
    assert response.status_code == 302


def test_upload_lands_in_the_bucket_and_is_served_after_the_permission_check(s3_app, s3_server, users):
    client = s3_app.test_client()
    sign_in(client, Role.walker)
    response = post_observation(client, files=[("lampa.jpg", samples.jpeg_with_orientation_and_gps())])
    assert response.status_code == 201, response.get_json()
    with s3_app.app_context():
        photo = db.session.scalar(db.select(Photo))
        key, photo_id = photo.storage_key, photo.id
    objects = bucket_objects(s3_server)
    prefix = "test_upload_lands_in_the_bucket_and_is_served_after_the_permission_check"[:40]
    assert set(objects) == {f"{prefix}/{key[:2]}/{key}.display.jpg", f"{prefix}/{key[:2]}/{key}.thumb.jpg"}
    local = Path(s3_app.instance_path) / "photos"
    assert not local.exists() or not any(p.is_file() for p in local.rglob("*"))  # nothing on this server's disk

    served = client.get(f"/photos/{photo_id}/display.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == objects[f"{prefix}/{key[:2]}/{key}.display.jpg"]
    assert "private" in served.headers["Cache-Control"] and served.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(f"/photos/{photo_id}/display.jpg", headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""

    stranger = s3_app.test_client()
    sign_in(stranger, Role.responder)  # not their organisation's task, not their report
    refused = stranger.get(f"/photos/{photo_id}/display.jpg")
    assert refused.status_code == 404 and not refused.data.startswith(b"\xff\xd8")


def test_a_failed_write_leaves_no_row_and_no_object(s3_app, s3_server, users, monkeypatch):
    store = s3_app.extensions["photo_storage"]
    real_put, calls = store.put, []

    def failing_put(key, rendition, data):
        calls.append(key)
        if len(calls) == 3:
            raise OSError("photo storage: SlowDown")
        return real_put(key, rendition, data)

    monkeypatch.setattr(store, "put", failing_put)
    client = s3_app.test_client()
    sign_in(client, Role.walker)
    jpeg = samples.jpeg_with_orientation_and_gps(400, 300)
    with pytest.raises(OSError):
        post_observation(client, files=[("a.jpg", jpeg), ("b.jpg", jpeg)])
    with s3_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Observation.id))) == 0
    assert bucket_objects(s3_server) == {}


def test_health_checks_the_bucket(s3_app, s3_server, tmp_path):
    assert s3_app.test_client().get("/healthz").json["checks"]["storage"] == "ok"
    broken = make_test_app(tmp_path / "broken", s3_app.config["SQLALCHEMY_DATABASE_URI"],
                           PHOTO_STORAGE="s3", S3_BUCKET="no-such-bucket", S3_ENDPOINT_URL=s3_server,
                           S3_REGION="eu-north-1")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["checks"]["storage"] == "failing"


def test_backup_from_the_bucket_restores_the_same_bytes(s3_app, s3_server, users, tmp_path, empty_database_url):
    client = s3_app.test_client()
    sign_in(client, Role.walker)
    for n in range(2):
        assert post_observation(client, files=[(f"{n}.jpg", samples.png_bytes(300 + n, 200))]).status_code == 201
    objects = bucket_objects(s3_server)
    archive = tmp_path / "s3.backup"
    result = s3_app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    target = make_test_app(tmp_path / "local", empty_database_url)  # a local-folder instance
    with target.app_context():
        db.create_all()  # the same schema as the test app's (made without migrations, like it)
    result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    with target.app_context():
        restored = {f"{p.storage_key}.{r}": photos.storage().read(p.storage_key, r)
                    for p in db.session.scalars(db.select(Photo)) for r in photos.RENDITIONS}
    digest = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
    assert sorted(map(digest, restored.values())) == sorted(map(digest, objects.values()))
    assert len(restored) == 4


def test_the_walk_protocol_shows_photos_from_the_bucket(s3_app, users):
    import pdfplumber

    from .factories import make_walk, photograph_demo_walk

    with s3_app.app_context():
        walk = make_walk()
        from .factories import make_observation

        for _ in range(3):
            make_observation(users[Role.coordinator], walk)
        shown = photograph_demo_walk(walk.id)
        walk_id = walk.id
    client = s3_app.test_client()
    sign_in(client, Role.coordinator)
    response = client.get(f"/walks/{walk_id}/protocol.pdf")
    assert response.status_code == 200, response.status_code
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        images = sum(len(page.images) for page in pdf.pages)
    assert images >= len(shown["internal"])


# --- redaction and retention on S3: the same checks as tests/test_redaction.py and test_privacy.py ---

def every_version(s3_server) -> list[tuple[str, bytes | None]]:
    """Each version of each object, old ones included, and each delete marker (bytes None)."""
    client = boto3.client("s3", endpoint_url=s3_server)
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        found += [(v["Key"], client.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read())
                  for v in page.get("Versions", [])]
        found += [(m["Key"], None) for m in page.get("DeleteMarkers", [])]
    return found


def keep_versions(s3_server) -> None:
    """Turn on the bucket's versioning, as an operator may: a deleted object then stays as an old version."""
    boto3.client("s3", endpoint_url=s3_server).put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def stored_objects(s3_server) -> dict[str, np.ndarray]:
    """Every object in the bucket, decoded (what test_redaction's stored_files does for a folder)."""
    return {name: np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)
            for name, data in bucket_objects(s3_server).items()}


def keys_in_bucket(s3_server) -> set[str]:
    """The photo keys that have at least one object in the bucket."""
    return {name.rsplit("/", 1)[1].split(".", 1)[0] for name in bucket_objects(s3_server)}


def astronaut_reported(s3_app, client, users) -> tuple[dict, int, str]:
    """A coordinator's API token, and a photo with a face reported with it: (headers, photo id, its key)."""
    with s3_app.app_context():
        _token, plain = create_token(db.session.get(User, users[Role.coordinator]), "redaktion")
        db.session.commit()
        bearer = {"Authorization": f"Bearer {plain}"}
        photo_id = report(client, skdata.astronaut(), bearer)
        return bearer, photo_id, db.session.get(Photo, photo_id).storage_key


@pytest.mark.parametrize("versioned", [False, True], ids=["plain bucket", "versioned bucket"])
def test_redaction_through_the_api_destroys_the_region_in_every_object(s3_app, s3_server, users, versioned):
    if versioned:
        keep_versions(s3_server)
    client = s3_app.test_client()
    bearer, photo_id, old_key = astronaut_reported(s3_app, client, users)
    before_bytes = bucket_objects(s3_server)
    before = stored_objects(s3_server)
    box = client.get(f"/api/v1/photos/{photo_id}/faces", headers=bearer).get_json()["boxes"][0]
    response = client.post(f"/api/v1/photos/{photo_id}/redactions", json={"boxes": [box]}, headers=bearer)
    assert response.status_code == 201, response.get_json()

    after = stored_objects(s3_server)
    assert_redacted(before, after, box)  # two objects, new names, region destroyed in each
    with s3_app.app_context():
        new_key = db.session.get(Photo, photo_id).storage_key
    assert new_key != old_key and keys_in_bucket(s3_server) == {new_key}
    assert not {data for _, data in every_version(s3_server)} & set(before_bytes.values())  # no original left
    assert sorted(name for name, _ in every_version(s3_server)) == sorted(bucket_objects(s3_server))  # nor a trace
    served = client.get(response.get_json()["renditions"]["display"], headers=bearer)
    assert served.status_code == 200 and served.data in bucket_objects(s3_server).values()


@pytest.mark.parametrize("versioned", [False, True], ids=["plain bucket", "versioned bucket"])
def test_retention_deletes_the_objects_of_the_photos_it_removes(s3_app, s3_server, versioned):
    if versioned:
        keep_versions(s3_server)
    planted = plant(s3_app)
    faces.wait_idle()  # face detection is done with the photos before retention deletes one
    runner = s3_app.test_cli_runner()
    with s3_app.app_context():
        keys = set(db.session.scalars(db.select(Photo.storage_key)))
    assert {planted["unpublished"], planted["published"]} <= keys == keys_in_bucket(s3_server)
    before = bucket_objects(s3_server)

    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0 and "Dry run" in dry.output, dry.output
    assert bucket_objects(s3_server) == before  # every object, byte for byte

    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    with s3_app.app_context():
        remaining = set(db.session.scalars(db.select(Photo.storage_key)))
    assert planted["unpublished"] not in remaining and planted["published"] in remaining
    assert keys_in_bucket(s3_server) == remaining  # no object without its row, no row without its objects
    gone = {name for name in before if planted["unpublished"] in name}
    assert len(gone) == 2 and not gone & set(bucket_objects(s3_server))
    assert {name: data for name, data in before.items() if name not in gone} == bucket_objects(s3_server)
    assert sorted(name for name, _ in every_version(s3_server)) == sorted(bucket_objects(s3_server))  # no old version


def legal_hold(s3_server, request, name: str):
    """Put the object under a legal hold (S3 Object Lock), so that deleting it is refused inside a 200
    answer; returns a function that sets the hold ("ON"/"OFF"). Lifted at the end in any case, so that
    the fixture can remove the bucket."""
    client = boto3.client("s3", endpoint_url=s3_server)
    version = client.head_object(Bucket=BUCKET, Key=name)["VersionId"]

    def hold(status):
        client.put_object_legal_hold(Bucket=BUCKET, Key=name, VersionId=version, LegalHold={"Status": status})

    def lift_if_there():
        if version in {v["VersionId"] for v in client.list_object_versions(Bucket=BUCKET, Prefix=name)
                       .get("Versions", [])}:
            hold("OFF")

    hold("ON")
    request.addfinalizer(lift_if_there)
    return hold


def lockable(s3_server):
    keep_versions(s3_server)
    boto3.client("s3", endpoint_url=s3_server).put_object_lock_configuration(
        Bucket=BUCKET, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})


def pending_keys(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(PendingDelete.key)))


def test_retention_deletes_the_row_and_retries_the_object_that_cannot_be_deleted(s3_app, s3_server, request):
    """An object under a legal hold refuses deletion: retention deletes the photo's row all the same and
    records its key, lists it as waiting, and a run after the hold is lifted deletes the object."""
    lockable(s3_server)
    planted = plant(s3_app)
    faces.wait_idle()
    [held] = [name for name in bucket_objects(s3_server) if f"{planted['unpublished']}.display" in name]
    hold = legal_hold(s3_server, request, held)
    runner = s3_app.test_cli_runner()

    refused = runner.invoke(args=["retention"])
    assert refused.exit_code == 0, refused.output
    assert "photo files waiting to be deleted" in refused.output and planted["unpublished"] in refused.output
    with s3_app.app_context():
        assert db.session.scalar(db.select(Photo).filter_by(storage_key=planted["unpublished"])) is None
    assert held in bucket_objects(s3_server) and pending_keys(s3_app) == [planted["unpublished"]]

    hold("OFF")
    again = runner.invoke(args=["retention"])
    assert again.exit_code == 0 and "     1  delete the photo files an earlier" in again.output, again.output
    with s3_app.app_context():
        assert set(db.session.scalars(db.select(Photo.storage_key))) == keys_in_bucket(s3_server)
    assert planted["unpublished"] not in keys_in_bucket(s3_server) and pending_keys(s3_app) == []
    assert sorted(name for name, _ in every_version(s3_server)) == sorted(bucket_objects(s3_server))


def test_a_redaction_whose_original_is_held_succeeds_and_retention_deletes_the_original(s3_app, s3_server, users,
                                                                                        request):
    lockable(s3_server)
    client = s3_app.test_client()
    bearer, photo_id, old_key = astronaut_reported(s3_app, client, users)
    before = stored_objects(s3_server)
    [held] = [name for name in before if f"{old_key}.display" in name]
    hold = legal_hold(s3_server, request, held)
    box = client.get(f"/api/v1/photos/{photo_id}/faces", headers=bearer).get_json()["boxes"][0]

    response = client.post(f"/api/v1/photos/{photo_id}/redactions", json={"boxes": [box]}, headers=bearer)
    assert response.status_code == 201, response.get_json()
    with s3_app.app_context():
        new_key = db.session.get(Photo, photo_id).storage_key
    assert pending_keys(s3_app) == [old_key] and held in bucket_objects(s3_server)
    assert_redacted(before, {n: a for n, a in stored_objects(s3_server).items() if new_key in n}, box)

    hold("OFF")
    assert s3_app.test_cli_runner().invoke(args=["retention"]).exit_code == 0
    assert keys_in_bucket(s3_server) == {new_key} and pending_keys(s3_app) == []
    assert sorted(name for name, _ in every_version(s3_server)) == sorted(bucket_objects(s3_server))  # no original
