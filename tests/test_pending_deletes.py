"""A photo file whose deletion fails is recorded and retried by `walkapp retention`, never left behind.

The storage refuses for real where it can (tests/test_s3_storage.py: an S3 legal hold); here the local
folder's delete raises OSError, as a full or read-only disk does (the suite runs as root, for whom a
chmod'ed folder refuses nothing). Nothing of walkapp's own is mocked.
"""
from __future__ import annotations

import errno
import logging
from datetime import timedelta

import pytest
from skimage import data as skdata

from walkapp import photos
from walkapp.extensions import db
from walkapp.i18n import fmt_datetime
from walkapp.models import Event, PendingDelete, Photo, Role, User, utcnow

from .conftest import PASSWORD
from .test_privacy import ANNA, plant
from .test_redaction import assert_redacted, coordinator, stored_files, uploaded  # noqa: F401 - a fixture


class Refusing:
    """The app's storage, whose delete fails with a disk error while ``on``; the files stay."""

    def __init__(self, store):
        self.on, self.refused, self._delete = True, [], store.delete

    def delete(self, key: str) -> None:
        if self.on:
            self.refused.append(key)
            raise OSError(errno.EIO, "Input/output error")
        self._delete(key)


@pytest.fixture
def refusing(app, monkeypatch):
    store = app.extensions["photo_storage"]
    switch = Refusing(store)
    monkeypatch.setattr(store, "delete", switch.delete)
    return switch


def pending_keys(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(PendingDelete.key)))


def keys_on_disk(app) -> set[str]:
    return {name.split("/")[-1].split(".")[0] for name in stored_files(app)}


def retention(runner, *args) -> str:
    result = runner.invoke(args=["retention", *args])
    assert result.exit_code == 0, result.output
    return result.output


def redact_refused(app, coordinator, refusing, caplog):  # noqa: F811
    """Redact the astronaut's face while the storage refuses to delete: (photo id, old key, box, before)."""
    photo_id = uploaded(app, coordinator, skdata.astronaut())
    with app.app_context():
        old_key = db.session.get(Photo, photo_id).storage_key
    before = stored_files(app)
    box = coordinator.get(f"/api/v1/photos/{photo_id}/faces").get_json()["boxes"][0]
    with caplog.at_level(logging.WARNING, logger="walkapp"):
        response = coordinator.post(f"/api/v1/photos/{photo_id}/redactions", json={"boxes": [box]})
    assert response.status_code == 201, response.get_json()  # the redaction succeeded
    assert refusing.refused == [old_key]
    return photo_id, old_key, box, before, response


def test_a_redaction_whose_old_files_cannot_be_deleted_succeeds_and_retention_removes_them(
        app, coordinator, refusing, runner, caplog):  # noqa: F811
    photo_id, old_key, box, before, response = redact_refused(app, coordinator, refusing, caplog)

    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        new_key = photo.storage_key
        assert new_key != old_key and photo.redacted_at is not None
        assert db.session.scalar(db.select(Event).filter_by(action="redacted")) is not None
        coordinator_user = db.session.scalar(db.select(User).filter_by(email="coordinator@example.se"))
    assert pending_keys(app) == [old_key]  # recorded with the redaction itself
    assert keys_on_disk(app) == {old_key, new_key}  # the original is still there: the storage refused
    after = {name: array for name, array in stored_files(app).items() if new_key in name}
    assert_redacted(before, after, box)  # the new renditions are redacted
    served = coordinator.get(response.get_json()["renditions"]["display"])
    assert served.status_code == 200

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and old_key in r.getMessage()]
    assert warnings, [r.getMessage() for r in caplog.records]
    for message in warnings:  # the key, never who
        assert coordinator_user.email not in message and coordinator_user.name not in message
        assert PASSWORD not in message

    refusing.on = False  # the disk is repaired, the hold lifted
    output = retention(runner)
    assert "     1  delete the photo files an earlier, failed deletion left" in output, output
    assert "waiting" not in output, output
    assert keys_on_disk(app) == {new_key} and pending_keys(app) == []
    assert set(stored_files(app)) == set(after)

    second = retention(runner)  # nothing left to do
    assert all(line.split()[0] == "0" for line in second.splitlines()[1:]), second
    assert keys_on_disk(app) == {new_key} and pending_keys(app) == []


def test_the_dry_run_lists_the_waiting_keys_and_keeps_them(app, coordinator, refusing, runner, caplog):  # noqa: F811
    photo_id, old_key, _box, _before, _response = redact_refused(app, coordinator, refusing, caplog)
    refusing.on = False
    on_disk = keys_on_disk(app)

    dry = retention(runner, "--dry-run")
    assert "Dry run" in dry and "     1  photo files waiting to be deleted" in dry and old_key in dry, dry
    assert keys_on_disk(app) == on_disk and pending_keys(app) == [old_key]

    refusing.on = True  # still refused: the run reports it and keeps the record
    still = retention(runner)
    assert "     0  delete the photo files" in still and "     1  photo files waiting to be deleted" in still
    assert old_key in still and keys_on_disk(app) == on_disk and pending_keys(app) == [old_key]

    refusing.on = False
    retention(runner)
    assert old_key not in keys_on_disk(app) and pending_keys(app) == []


def test_retention_deletes_the_photo_rows_even_when_the_files_are_refused_and_retries_the_files(
        app, runner, refusing):
    planted = plant(app)
    output = retention(runner)
    assert planted["unpublished"] in output  # listed as waiting
    with app.app_context():
        assert db.session.scalar(db.select(Photo).filter_by(storage_key=planted["unpublished"])) is None
        assert ANNA["name"] not in output and ANNA["email"] not in output
    assert planted["unpublished"] in keys_on_disk(app) and pending_keys(app) == [planted["unpublished"]]

    refusing.on = False
    retention(runner)
    assert planted["unpublished"] not in keys_on_disk(app) and pending_keys(app) == []
    with app.app_context():  # no row without its files, no files without a row
        assert set(db.session.scalars(db.select(Photo.storage_key))) == keys_on_disk(app)


def test_files_of_a_redaction_that_did_not_commit_are_recorded_when_their_deletion_fails(
        app, coordinator, refusing, monkeypatch):  # noqa: F811
    """Someone else redacts the photo while ours writes: ours is refused (409) and its new files are
    discarded; a discard the storage refuses is recorded too, for retention to retry."""
    photo_id = uploaded(app, coordinator, skdata.astronaut())
    store = app.extensions["photo_storage"]
    put, written = store.put, []

    def put_while_someone_else_redacts(key, rendition, data):
        put(key, rendition, data)
        if not written:  # the other redaction commits its new key now
            with app.app_context(), db.engine.begin() as connection:
                connection.execute(db.update(Photo).where(Photo.id == photo_id)
                                   .values(storage_key=photos.new_key()))
        written.append(key)

    monkeypatch.setattr(store, "put", put_while_someone_else_redacts)
    response = coordinator.post(f"/api/v1/photos/{photo_id}/redactions", json={"boxes": [[10, 10, 50, 50]]})
    assert response.status_code == 409, response.get_json()
    ours = written[0]
    assert refusing.refused == [ours] and pending_keys(app) == [ours]
    assert ours in keys_on_disk(app)


def test_the_admin_sees_photo_files_that_wait_to_be_deleted(app, client, users, auth):
    auth.login_as(Role.admin)
    assert "väntar på att raderas" not in client.get("/admin/privacy").get_data(as_text=True).lower()
    with app.app_context():
        db.session.add_all([PendingDelete(key="a" * 32, since=utcnow() - timedelta(days=3)),
                            PendingDelete(key="b" * 32, since=utcnow())])
        db.session.commit()
    page = client.get("/admin/privacy").get_data(as_text=True)
    assert "Fotofiler som väntar på att raderas" in page
    assert "Filerna för 2 foton kunde inte raderas" in page
    with app.test_request_context():
        oldest = fmt_datetime(utcnow() - timedelta(days=3), "short")
    assert oldest[:10] in page  # the oldest one's date
    assert "a" * 32 not in page  # keys are the storage's business, not the page's
    auth.logout()
    auth.login_as(Role.coordinator)
    assert client.get("/admin/privacy").status_code == 403
