"""Backup and restore: one archive with a consistent snapshot of the database and every photo.

The archive is a tar file that any walkapp of the same schema can read, whatever its database:
a backup made on the SQLite pilot restores into PostgreSQL and back. Inside:

    manifest.json         format, schema revision, row counts, SHA-256 of every member
    tables/<table>.jsonl  one JSON object per row, in primary key order
    photos/<key>.<rendition>.jpg

The snapshot is consistent without stopping the site: SQLite is copied with its online backup API and
read from the copy; PostgreSQL is read in one REPEATABLE READ, READ ONLY transaction. Photo files are
written before their row commits, so every photo row of the snapshot has its files; a photo deleted
between the snapshot and the copy of its files is listed in the manifest as missing.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import tarfile
import tempfile
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import photos, schema
from .extensions import db
from .models import Photo

FORMAT = "walkapp-backup/1"
VERSION_TABLE = "alembic_version"


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why, for the operator."""


@dataclass
class Manifest:
    revision: str | None
    database: str  # the dialect it was made on, for the operator
    created_at: str
    counts: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)  # archive member -> sha256
    missing_photos: list[str] = field(default_factory=list)

    def as_json(self) -> bytes:
        return json.dumps({"format": FORMAT, **self.__dict__}, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        raw = json.loads(data)
        if raw.pop("format", None) != FORMAT:
            raise BackupError("Not a walkapp backup archive (unknown format).")
        return cls(**raw)


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before children."""
    return [t for t in db.metadata.sorted_tables if t.name != VERSION_TABLE]


# --- values <-> JSON ------------------------------------------------------------

def _encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "value") and isinstance(value, str):  # str enums store their value
        return value.value
    return value


def _decoder(column: sa.Column):
    python_type = _python_type(column.type)
    if python_type is datetime:
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if python_type is date:
        return lambda v: None if v is None else date.fromisoformat(v)
    if python_type is bytes:
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


def _python_type(column_type):
    if isinstance(column_type, sa.types.TypeDecorator):  # UTCDateTime: its impl knows
        return _python_type(column_type.impl)
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


# --- backup ---------------------------------------------------------------------

def write_backup(target: Path) -> Manifest:
    """Write the archive to ``target`` (written aside and renamed: never half an archive)."""
    target = Path(target)
    with _snapshot() as connection:
        manifest = Manifest(
            revision=_revision(connection), database=db.engine.dialect.name,
            created_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        )
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".backup-", suffix=".part",
                                         delete=False) as part:
            try:
                with tarfile.open(fileobj=part, mode="w:gz", compresslevel=1) as archive:
                    for table in tables():
                        _add(archive, manifest, f"tables/{table.name}.jsonl", _dump_table(connection, table, manifest))
                    _add_photos(archive, manifest, connection)
                    _add(archive, None, "manifest.json", manifest.as_json())
                Path(part.name).replace(target)
            except BaseException:
                Path(part.name).unlink(missing_ok=True)
                raise
    return manifest


@contextmanager
def _snapshot():
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "snapshot.sqlite"
            raw = engine.raw_connection()
            try:
                with closing(sqlite3.connect(copy)) as destination:
                    raw.driver_connection.backup(destination)  # the online backup API
            finally:
                raw.close()
            snapshot_engine = sa.create_engine(f"sqlite:///{copy}")
            try:
                with snapshot_engine.connect() as connection:
                    yield connection
            finally:
                snapshot_engine.dispose()
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection


def _revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _dump_table(connection: Connection, table: sa.Table, manifest: Manifest) -> bytes:
    out = io.BytesIO()
    count = 0
    for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns)):
        record = {key: _encode(value) for key, value in row._mapping.items()}
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        count += 1
    manifest.counts[table.name] = count
    return out.getvalue()


def _add_photos(archive: tarfile.TarFile, manifest: Manifest, connection: Connection) -> None:
    store = photos.storage()
    keys = connection.execute(sa.select(Photo.__table__.c.storage_key).order_by(Photo.__table__.c.id)).scalars()
    count = 0
    for key in keys:
        for rendition in photos.RENDITIONS:
            try:
                data = store.read(key, rendition)
            except FileNotFoundError:
                manifest.missing_photos.append(f"{key}.{rendition}")
                continue
            _add(archive, manifest, f"photos/{key}.{rendition}.jpg", data)
            count += 1
    manifest.counts["photo files"] = count


def _add(archive: tarfile.TarFile, manifest: Manifest | None, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))
    if manifest is not None:
        manifest.checksums[name] = hashlib.sha256(data).hexdigest()


# --- restore --------------------------------------------------------------------

def restore_backup(source: Path) -> Manifest:
    """Restore the archive into this instance, which must be empty and at the archive's schema."""
    members = read_archive(Path(source))
    manifest = Manifest.from_json(members.pop("manifest.json"))
    verify(manifest, members)
    with db.engine.connect() as connection:
        here = _revision(connection)
    if here is None and manifest.revision is not None:  # a new database: create the archive's schema
        here = schema.upgrade(revision=manifest.revision).after
    if here != manifest.revision:
        raise BackupError(f"The archive is of schema revision {manifest.revision}, this database of {here}: "
                          "restore with the walkapp version that made it, then upgrade.")
    _refuse_non_empty()
    written: list[str] = []
    try:
        with db.engine.begin() as connection:
            for table in tables():
                _load_table(connection, table, members.get(f"tables/{table.name}.jsonl", b""))
            _reset_sequences(connection)
            _write_photos(members, written)
    except BaseException:
        for key in written:
            photos.storage().delete(key)
        raise
    return manifest


def read_archive(source: Path) -> dict[str, bytes]:
    try:
        with tarfile.open(source, mode="r:*") as archive:
            members = {}
            for info in archive.getmembers():
                if not info.isfile():
                    raise BackupError(f"Unexpected member {info.name!r} in the archive.")
                members[info.name] = archive.extractfile(info).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"Cannot read the archive: {exc}") from None
    if "manifest.json" not in members:
        raise BackupError("The archive has no manifest.json: not a walkapp backup.")
    return members


def verify(manifest: Manifest, members: dict[str, bytes]) -> None:
    """Every member is listed with its checksum and nothing listed is missing; else refuse."""
    if set(members) != set(manifest.checksums):
        raise BackupError("The archive's members do not match its manifest.")
    for name, data in members.items():
        if hashlib.sha256(data).hexdigest() != manifest.checksums[name]:
            raise BackupError(f"Checksum mismatch for {name}: the archive is damaged.")


def _refuse_non_empty() -> None:
    with db.engine.connect() as connection:
        for table in tables():
            if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                raise BackupError(f"The target database is not empty (table {table.name} has rows); "
                                  "restore only into a new, empty instance.")
    if photos.storage().any_files():
        raise BackupError("The photo storage is not empty; restore only into a new, empty instance.")


def _load_table(connection: Connection, table: sa.Table, data: bytes) -> None:
    decoders = {column.name: _decoder(column) for column in table.columns}
    rows = [{k: decoders[k](v) for k, v in json.loads(line).items()} for line in data.splitlines() if line]
    # A row may point at a later row of its own table (a duplicate of a newer item, a follow-up
    # walk): insert those references empty, then set them.
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later = [{"pk": row["id"], **{c: row[c] for c in own}} for row in rows if any(row.get(c) for c in own)]
    for start in range(0, len(rows), 1000):
        batch = [{**row, **{c: None for c in own}} for row in rows[start:start + 1000]]
        connection.execute(table.insert(), batch)
    if later:
        connection.execute(table.update().where(table.c.id == sa.bindparam("pk")), later)
    count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    if count != len(rows):
        raise BackupError(f"Restored {count} rows into {table.name}, the archive holds {len(rows)}.")


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL hands out ids from sequences, which inserted ids do not advance."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables():
        if "id" in table.c and table.c.id.autoincrement and isinstance(table.c.id.type, sa.Integer):
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM \"{table.name}\""))


def _write_photos(members: dict[str, bytes], written: list[str]) -> None:
    store = photos.storage()
    for name, data in members.items():
        if not name.startswith("photos/"):
            continue
        key, rendition, _ = name.removeprefix("photos/").split(".")
        if key not in written:
            written.append(key)
        store.put(key, rendition, data)
