"""`walkapp backup` and `walkapp restore`: the same rows and byte-identical photos after a round trip,
also from SQLite to PostgreSQL and back; damaged archives and non-empty targets are refused."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from walkapp import backup, demo, faces, photos
from walkapp.extensions import db
from walkapp.models import Observation, Photo, Walk

from .conftest import make_test_app
from .factories import photograph_demo_walk


def new_instance(root: Path, database_url: str):
    app = make_test_app(root, database_url)
    with app.app_context():
        demo.prepare_database()  # the real migrations, as a new installation has them
    return app


def filled_instance(root: Path, database_url: str):
    app = new_instance(root, database_url)
    with app.app_context():
        demo.seed("a-demo-password")
        walk = db.session.scalar(db.select(Walk).filter(Walk.observations.any()).order_by(Walk.id))
        photograph_demo_walk(walk.id)
        faces.wait_idle()  # face detection has recorded its result before the snapshot
    return app


def everything(app) -> tuple[dict[str, list], dict[str, bytes]]:
    """Every row of every table (encoded as in the archive) and every stored photo file's bytes."""
    rows = {}
    with app.app_context():
        with db.engine.connect() as connection:
            for table in backup.tables():
                result = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
                rows[table.name] = [{k: backup._encode(v) for k, v in r._mapping.items()} for r in result]
        store = photos.storage()
        files = {f"{key}.{r}": store.read(key, r)
                 for key in db.session.scalars(db.select(Photo.storage_key)) for r in photos.RENDITIONS}
    return rows, files


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def sqlite_url(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'walkapp.sqlite'}"


def round_trip(tmp_path, source_url, target_url):
    source = filled_instance(tmp_path / "source", source_url)
    archive = tmp_path / "walkapp.backup"
    result = cli(source, "backup", str(archive))
    assert result.exit_code == 0, result.output
    target = make_test_app(tmp_path / "target", target_url)  # not even migrated: restore does it
    result = cli(target, "restore", str(archive))
    assert result.exit_code == 0, result.output
    before, after = everything(source), everything(target)
    assert before[0] == after[0]
    assert before[1] == after[1] and len(after[1]) > 10
    return source, target


def test_round_trip_keeps_every_row_and_photo(tmp_path, empty_database_url, pg_databases):
    second = pg_databases.create() if pg_databases else sqlite_url(tmp_path / "second")
    source, target = round_trip(tmp_path, empty_database_url, second)
    with target.app_context():  # new rows get new ids after a restore (PostgreSQL's sequences moved on)
        obs = db.session.scalar(db.select(Observation).order_by(Observation.id))
        copy = Observation(category_id=obs.category_id, lat=obs.lat, lon=obs.lon, source=obs.source,
                           description="efter återställningen")
        db.session.add(copy)
        db.session.commit()
        assert copy.id > db.session.scalar(db.select(db.func.max(Observation.id)).where(Observation.id != copy.id))


@pytest.mark.skipif(not __import__("os").environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_sqlite_pilot_moves_to_postgresql_and_back(tmp_path, pg_databases):
    round_trip(tmp_path / "there", sqlite_url(tmp_path / "pilot"), pg_databases.create())
    round_trip(tmp_path / "back", pg_databases.create(), sqlite_url(tmp_path / "again"))


def test_restore_refuses_a_non_empty_instance(tmp_path, empty_database_url):
    source = filled_instance(tmp_path / "source", empty_database_url)
    archive = tmp_path / "walkapp.backup"
    assert cli(source, "backup", str(archive)).exit_code == 0
    before = everything(source)
    result = cli(source, "restore", str(archive))
    assert result.exit_code != 0 and "not empty" in result.output
    assert everything(source) == before


def test_restore_refuses_a_damaged_archive_and_writes_nothing(tmp_path, empty_database_url):
    source = filled_instance(tmp_path / "source", empty_database_url)
    archive = tmp_path / "walkapp.backup"
    assert cli(source, "backup", str(archive)).exit_code == 0
    damaged = tmp_path / "damaged.backup"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w:gz") as copy:
        for info in original.getmembers():
            data = original.extractfile(info).read()
            if info.name.startswith("photos/") and info.name.endswith(".thumb.jpg"):
                data = data[:-20] + bytes(20)  # a photo damaged on the backup disk
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    target = new_instance(tmp_path / "target", sqlite_url(tmp_path / "target-db"))
    result = cli(target, "restore", str(damaged))
    assert result.exit_code != 0 and "Checksum mismatch" in result.output
    with target.app_context():
        assert db.session.scalar(db.select(db.func.count(Observation.id))) == 0
        assert not photos.storage().any_files()


def test_an_archive_that_is_not_a_backup_is_refused(tmp_path, app):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a tar file at all")
    result = cli(app, "restore", str(junk))
    assert result.exit_code != 0 and "Cannot read the archive" in result.output
