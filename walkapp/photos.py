"""Photo ingest and storage: uploads become upright sRGB JPEGs with every metadata block stripped.

``process()`` turns an upload into two clean JPEG renditions and needs no app
context (the benchmark runs it bare). ``save_photos()`` stores files and adds
their rows to the caller's transaction; files of a transaction that does not commit are removed.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import secrets
import struct
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from .config import PRIVATE_FOLDER_MODE
from .extensions import db
from .models import PendingDelete, Photo, PhotoStage, utcnow
from .s3_storage import S3Storage

log = logging.getLogger(__name__)

# Pillow plugin ids; "HEIF" is the one id pillow-heif registers (HEIC and HEIF).
# An allowlist keeps Pillow's other parsers (EPS via Ghostscript, GIF, TIFF, ...)
# away from untrusted bytes.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
DISPLAY_BOX = (1600, 1600)
THUMB_BOX = (400, 400)
JPEG_QUALITY = 82
RENDITIONS = ("display", "thumb")

# Filters, chosen by measurement (BENCHMARKS.md, Photo ingest). After a JPEG
# draft the display is at most 2x away, and the DCT downscale dominates the
# error: bilinear (area-aware in Pillow when shrinking) is as close to a full
# Lanczos as Lanczos itself (44.8 vs 44.6 dB) in half the time. Sources
# without a draft (PNG, WebP, HEIC) first get a box reduction by an integer
# factor while 2x of scale remains. The thumbnail is always ~4x below the
# display: an integer box reduction (reducing_gap=1) then bicubic for the rest.
DISPLAY_FILTER, DISPLAY_GAP = Image.Resampling.BILINEAR, 2.0
THUMB_FILTER, THUMB_GAP = Image.Resampling.BICUBIC, 1.0

# The same table as ImageOps.exif_transpose.
EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
WHITE = (255, 255, 255)

# What a broken file of an allowed format can raise while it is decoded.
DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
    struct.error, zlib.error, RuntimeError,
)


class PhotoError(Exception):
    """An upload we refuse; ``message`` is shown to the volunteer."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProcessedPhoto:
    display: bytes
    thumbnail: bytes
    width: int  # of the display rendition
    height: int


def _not_a_photo() -> PhotoError:
    return PhotoError(_l("This file is not a photo in JPEG, PNG, WebP or HEIC format."))


def _too_many_pixels(max_pixels: int) -> PhotoError:
    return PhotoError(
        _l("The photo has too many pixels (at most %(mp)s megapixels).",
           mp=f"{max_pixels / 1_000_000:g}")
    )


def _unreadable() -> PhotoError:
    return PhotoError(_l("The photo could not be read; it may be damaged."))


_heif_registered = False


def register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def process(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedPhoto:
    """Validate an upload and return its display and thumbnail renditions."""
    if len(data) > max_bytes:
        raise PhotoError(
            _l("The photo is larger than %(mb)s MB.", mb=f"{max_bytes / (1024 * 1024):g}")
        )
    register_heif()
    try:
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse both.
        # (catch_warnings is process-wide before Python 3.14; a race between
        # threads could at worst leave this one filter in place, which is fine.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own cap was hit; name whichever limit is the lower.
        raise _too_many_pixels(min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)) from None
    except UnidentifiedImageError:
        # A cut-off HEIC fails to open at all; say "damaged", not "not a photo".
        raise (_unreadable() if _has_allowed_signature(data) else _not_a_photo()) from None
    except DECODE_ERRORS:
        raise _unreadable() from None

    with im:
        # im.size comes from the header; nothing has been decoded yet.
        width, height = im.size
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        try:
            exif = im.getexif()
        except DECODE_ERRORS:
            exif = None  # broken EXIF costs us the rotation, not the photo
        orientation = _orientation(exif)
        icc = im.info.get("icc_profile")
        try:
            # Let libjpeg scale by 1/2, 1/4 or 1/8 while decoding (JPEG only). The
            # request is in stored orientation and draft never goes below it, so
            # the display rendition is still made from at least its own size.
            # This must come before any transposition, which would decode in full.
            stored_box = DISPLAY_BOX if orientation < 5 else DISPLAY_BOX[::-1]
            im.draft("RGB", _fit(im.size, stored_box))
            im.load()
            rgb = _flatten_to_rgb(im)
        except DECODE_ERRORS:
            raise _unreadable() from None

    # Shrink in stored orientation, then turn upright: the transposition then
    # moves a third of the pixels (saves ~5 ms of ~85 on a 12 MP photo).
    display = _resize(rgb, _fit(rgb.size, stored_box), DISPLAY_FILTER, DISPLAY_GAP)
    if orientation in EXIF_TRANSPOSE:
        display = display.transpose(EXIF_TRANSPOSE[orientation])
    if icc:
        display = _to_srgb(display, icc)
    thumb = _resize(display, _fit(display.size, THUMB_BOX), THUMB_FILTER, THUMB_GAP)
    return ProcessedPhoto(
        display=_jpeg(display),
        thumbnail=_jpeg(thumb),
        width=display.width,
        height=display.height,
    )


# The HEIF brands pillow-heif opens.
HEIF_BRANDS = {
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
}


def _has_allowed_signature(data: bytes) -> bool:
    return (
        data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or (data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS)
    )


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The size that fits ``box`` keeping the aspect ratio; never enlarges."""
    w, h = size
    scale = min(box[0] / w, box[1] / h, 1.0)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _resize(im: Image.Image, size: tuple[int, int], resample: Image.Resampling,
            reducing_gap: float) -> Image.Image:
    if im.size == size:
        return im
    return im.resize(size, resample, reducing_gap=reducing_gap)


def _orientation(exif: Image.Exif | None) -> int:
    value = exif.get(ExifTags.Base.Orientation, 1) if exif is not None else 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _flatten_to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB" and not im.has_transparency_data:
        return im
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        # Plain conversion clips 16-bit values to white; scale to 8 bits instead.
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.has_transparency_data:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the embedded profile, since the profile itself is dropped.

    Without this, wide-gamut phone photos (Display P3) look washed out once
    their profile is gone. A profile we cannot use is ignored.
    """
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != "RGB":
            return im  # e.g. a CMYK profile on a CMYK JPEG we already converted
        if "sRGB" in (profile.profile.profile_description or ""):
            return im
        return ImageCms.profileToProfile(im, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im


def _jpeg(im: Image.Image) -> bytes:
    # Pillow's JPEG writer copies the comment from im.info on its own; an empty
    # info plus no exif/icc/xmp arguments gives a file without any metadata.
    im.info = {}
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return buffer.getvalue()


def encode_jpeg(im: Image.Image) -> bytes:
    """A rendition's JPEG as process() writes it (same quality, no metadata)."""
    return _jpeg(im)


# --- Storage -------------------------------------------------------------------

# Keys come from new_key(); checking them keeps any other string out of paths.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_key() -> str:
    """A random, unguessable, filesystem-safe key (32 characters)."""
    return secrets.token_urlsafe(24)


class PhotoStorage(Protocol):
    def put(self, key: str, rendition: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str, rendition: str) -> bool: ...

    def read(self, key: str, rendition: str) -> bytes: ...

    def any_files(self) -> bool: ...

    def check_writable(self) -> None: ...

    def response(self, key: str, rendition: str): ...


class LocalStorage(PhotoStorage):
    """Files under ``root/<first two key characters>/<key>.<rendition>.jpg``.

    The two-character shard keeps directories small (at most 64² of them).
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str, rendition: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"invalid photo key {key!r}")
        if rendition not in RENDITIONS:
            raise ValueError(f"invalid rendition {rendition!r}")
        return self.root / key[:2] / f"{key}.{rendition}.jpg"

    def put(self, key: str, rendition: str, data: bytes) -> None:
        target = self.path(key, rendition)
        # Folders only walkapp's account can open; mkstemp below makes the files 0600.
        self.root.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
        target.parent.mkdir(mode=PRIVATE_FOLDER_MODE, exist_ok=True)
        # Write aside and rename: a reader never sees half a file. fsync before
        # the rename so that a committed row never points at an empty file.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def delete(self, key: str) -> None:
        for rendition in RENDITIONS:
            self.path(key, rendition).unlink(missing_ok=True)

    def exists(self, key: str, rendition: str) -> bool:
        return self.path(key, rendition).is_file()

    def read(self, key: str, rendition: str) -> bytes:
        """The file's bytes; FileNotFoundError when it is gone."""
        return self.path(key, rendition).read_bytes()

    def any_files(self) -> bool:
        return self.root.is_dir() and any(p.is_file() for p in self.root.rglob("*.jpg"))

    def check_writable(self) -> None:
        """Raise OSError unless a file can be created (and removed) where photos are kept."""
        self.root.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-"):
            pass

    def response(self, key: str, rendition: str):
        """The file as a response (404 when gone); behind nginx, an X-Accel-Redirect to it instead."""
        from flask import abort, send_file

        path = self.path(key, rendition)
        if not path.exists():
            abort(404)
        accel = current_app.config.get("PHOTO_ACCEL_REDIRECT")
        if accel:  # nginx sends the file (a worker is not held for a slow phone); we only said yes
            response = current_app.response_class(mimetype="image/jpeg")
            response.headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + path.relative_to(self.root).as_posix()
            return response
        return send_file(path, mimetype="image/jpeg", max_age=0, conditional=True, etag=True)


def init_app(app) -> None:
    register_heif()
    if app.config.get("PHOTO_STORAGE") == "s3":
        app.extensions["photo_storage"] = S3Storage(
            app.config["S3_BUCKET"], endpoint_url=app.config.get("S3_ENDPOINT_URL"),
            region=app.config.get("S3_REGION"), prefix=app.config.get("S3_PREFIX") or "",
            renditions=RENDITIONS, valid_key=KEY_PATTERN.fullmatch)
        return
    root = app.config.get("PHOTO_STORAGE_PATH") or Path(app.instance_path) / "photos"
    app.extensions["photo_storage"] = LocalStorage(Path(root))


def storage() -> PhotoStorage:
    return current_app.extensions["photo_storage"]


def save_photos(observation, processed: list[ProcessedPhoto], uploader,
                stage: PhotoStage = PhotoStage.before) -> list[Photo]:
    """Write the files, then add their rows to the caller's transaction; the caller commits.

    Files come first, so a committed row always has its file. Until the transaction commits the
    files are pending: a rollback, or a session closed without committing, removes them, so a
    failure anywhere after this call leaves neither rows nor files. If a write fails here, the
    files this call wrote are removed at once and no row is added.
    """
    store = storage()
    keys: list[str] = []
    try:
        for item in processed:
            keys.append(new_key())  # before put: a failed put may leave one rendition
            store.put(keys[-1], "display", item.display)
            store.put(keys[-1], "thumb", item.thumbnail)
    except BaseException:
        discard(keys)
        raise
    db.session.info.setdefault(PENDING_FILES, []).extend(keys)
    rows = [Photo(observation=observation, storage_key=key, stage=stage, width=item.width,
                  height=item.height, uploader=uploader) for key, item in zip(keys, processed)]
    db.session.add_all(rows)
    return rows


PENDING_FILES = "walkapp.photos.pending"  # session.info: keys written in the open transaction


def discard(keys: list[str]) -> None:
    """Delete the files of keys no committed row names (a transaction that did not commit). A key
    whose files cannot be deleted is recorded for `walkapp retention` in a transaction of its own:
    the photo may show a person, so it must not stay behind unnamed."""
    store = storage()
    failed = []
    for key in keys:
        try:
            store.delete(key)
        except Exception as exc:  # keep the original error
            failed.append(key)
            _warn(key, exc)
    if failed:
        try:
            with db.engine.begin() as connection:
                connection.execute(insert(PendingDelete), [{"key": key, "since": utcnow()} for key in failed])
        except Exception:
            log.exception("could not record photo keys %s for deletion", ", ".join(failed))


@event.listens_for(db.session, "after_commit")
def _files_committed(session) -> None:
    session.info.pop(PENDING_FILES, None)


@event.listens_for(db.session, "after_transaction_end")
def _files_not_committed(session, transaction) -> None:
    """A transaction that ended without commit (rollback, or a session closed): its files go."""
    if transaction.nested or transaction.parent is not None:
        return
    keys = session.info.pop(PENDING_FILES, None)
    if keys:
        discard(keys)


def delete_photos(photos: list[Photo]) -> None:
    """Delete these photos' rows, and commit; then their files.

    The keys are recorded (delete_later) in the same transaction as the rows' deletion, and a record
    goes only once its files are gone: should a deletion fail, no row names a missing file and the
    files still have a record, which `walkapp retention` retries.
    """
    keys = [photo.storage_key for photo in photos]
    for photo in photos:
        db.session.delete(photo)
    delete_later(keys)
    db.session.commit()
    delete_pending(keys)


def delete_later(keys: list[str]) -> None:
    """Record storage keys whose files must go, in the caller's transaction (the one that stops
    naming them); once it has committed, call delete_pending(keys)."""
    now = utcnow()
    db.session.add_all(PendingDelete(key=key, since=now) for key in keys)


def delete_pending(keys: list[str] | None = None) -> tuple[int, int]:
    """Delete the files of these recorded keys (of every recorded key when None), each record in a
    commit of its own once its files are gone. A key whose files cannot be deleted keeps its record
    and a warning (the key and the error, nothing personal) goes to the log; nothing is raised, since
    the change the caller committed stands. Returns (deleted, still waiting)."""
    if keys is None:
        keys = [pending.key for pending in pending_deletes()]
    store = storage()
    deleted = waiting = 0
    for key in keys:
        try:
            store.delete(key)
        except Exception as exc:  # noqa: BLE001 - whatever the storage says, the record stays
            waiting += 1
            _warn(key, exc)
            continue
        try:
            db.session.execute(db.delete(PendingDelete).where(PendingDelete.key == key))
            db.session.commit()
        except SQLAlchemyError as exc:  # the files are gone; a later run removes the record
            db.session.rollback()
            waiting += 1
            log.warning("photo files of key %s deleted, but not their record (%s)", key, type(exc).__name__)
            continue
        deleted += 1
    return deleted, waiting


def pending_deletes() -> list[PendingDelete]:
    """The recorded keys whose files are still to be deleted, oldest first."""
    return db.session.scalars(select(PendingDelete).order_by(PendingDelete.since, PendingDelete.key)).all()


def pending_summary() -> tuple[int, datetime | None]:
    """How many keys wait for their files to be deleted, and since when the oldest has waited."""
    n, oldest = db.session.execute(select(func.count(), func.min(PendingDelete.since))).one()
    return n, oldest


def _warn(key: str, exc: Exception) -> None:
    log.warning("could not delete the photo files of key %s (%s: %s); `walkapp retention` tries again",
                key, type(exc).__name__, exc)


def send(photo: Photo, rendition: str):
    """A stored rendition as an HTTP response, after the caller's permission check.

    nosniff always. Every photo can be unpublished or its item hidden, and a
    user can lose access, so no cache (shared or the browser's) may reuse it
    without asking again: private, no-cache, with ETag and Last-Modified so the
    asking is a cheap 304.
    """
    response = storage().response(photo.storage_key, rendition)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
