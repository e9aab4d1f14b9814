"""Redaction that destroys pixels: boxes drawn on a photo are pixelated and blurred into every
stored rendition, written under a new storage key, and the old files are deleted.

No stored file keeps the original pixels of a redacted region: the renditions are decoded,
overwritten in the box, encoded again and fsynced (LocalStorage.put) before the row points at
them; the old files go once the new key is committed. Their key is recorded (photos.delete_later)
in the same transaction, so a deletion that fails leaves a record that `walkapp retention` retries,
never an unnamed original; the redaction itself has succeeded all the same. The history records
who redacted how many boxes and when, never the pixels.
"""
from __future__ import annotations

import io
import math
from numbers import Real

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageFilter
from sqlalchemy import update

from . import photos, policy
from .extensions import db
from .models import Event, EventKind, Photo, utcnow

MAX_BOXES = 50
# The long side of a box becomes this many cells of its mean colour, then the cells are blurred:
# no feature smaller than a sixth of the face survives.
CELLS = 6


class BoxError(Exception):
    """Boxes we refuse; ``message`` says why. Nothing has been changed."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Conflict(Exception):
    """Someone else redacted the photo at the same moment; nothing of ours was kept."""


def _number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def parse_boxes(raw, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """``[[x, y, w, h], …]`` in display pixels as edges ``(left, top, right, bottom)``; BoxError
    for anything else: not a list, no box, too many, non-numbers, no size, outside the photo."""
    if not isinstance(raw, list) or not raw:
        raise BoxError(_l("Send at least one box as [x, y, width, height]."))
    if len(raw) > MAX_BOXES:
        raise BoxError(_l("At most %(n)d boxes at a time.", n=MAX_BOXES))
    boxes = []
    for n, box in enumerate(raw, start=1):
        if not (isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box)):
            raise BoxError(_l("Box %(n)d is not four numbers [x, y, width, height].", n=n))
        x, y, w, h = box
        if w <= 0 or h <= 0:
            raise BoxError(_l("Box %(n)d has no size.", n=n))
        if x < 0 or y < 0 or x + w > width + 0.01 or y + h > height + 0.01:
            raise BoxError(_l("Box %(n)d lies outside the photo (%(w)d × %(h)d pixels).",
                              n=n, w=width, h=height))
        boxes.append((math.floor(x), math.floor(y), min(width, math.ceil(x + w)), min(height, math.ceil(y + h))))
    return boxes


def burn(im: Image.Image, boxes) -> Image.Image:
    """Pixelate and blur each box (edges in ``im``'s pixels) into a copy of ``im``."""
    out = im.convert("RGB").copy()
    for left, top, right, bottom in boxes:
        region = out.crop((left, top, right, bottom))
        w, h = region.size
        cell = max(2, math.ceil(max(w, h) / CELLS))
        small = region.resize((max(1, math.ceil(w / cell)), max(1, math.ceil(h / cell))), Image.Resampling.BOX)
        mosaic = small.resize((w, h), Image.Resampling.NEAREST)
        out.paste(mosaic.filter(ImageFilter.GaussianBlur(cell / 2)), (left, top))
    return out


def _scaled(boxes, sx: float, sy: float, width: int, height: int):
    """Display boxes in a rendition of another size, rounded outwards, at least one pixel."""
    for left, top, right, bottom in boxes:
        x0, y0 = min(width - 1, math.floor(left * sx)), min(height - 1, math.floor(top * sy))
        yield x0, y0, max(x0 + 1, min(width, math.ceil(right * sx))), max(y0 + 1, min(height, math.ceil(bottom * sy)))


def _write_redacted(store, old_key: str, new_key: str, photo: Photo, boxes) -> list[str]:
    written = []
    for rendition in photos.RENDITIONS:
        if not store.exists(old_key, rendition):
            continue
        with Image.open(io.BytesIO(store.read(old_key, rendition))) as im:
            im.load()
            sx, sy = im.width / photo.width, im.height / photo.height
            data = photos.encode_jpeg(burn(im, list(_scaled(boxes, sx, sy, im.width, im.height))))
        written.append(rendition)
        store.put(new_key, rendition, data)
    return written


def redact(user, photo: Photo, boxes) -> Photo:
    """Burn ``boxes`` (from parse_boxes) into every rendition; the photo counts as reviewed."""
    store = photos.storage()
    old_key, new_key = photo.storage_key, photos.new_key()
    try:
        _write_redacted(store, old_key, new_key, photo, boxes)
        now = utcnow()
        # Only if no one else changed the files meanwhile: else their redaction would be lost.
        changed = db.session.execute(
            update(Photo).where(Photo.id == photo.id, Photo.storage_key == old_key)
            .values(storage_key=new_key, redacted_at=now, people_reviewed_at=now)
            .execution_options(synchronize_session="fetch")
        ).rowcount
        if changed != 1:
            raise Conflict()
        db.session.add(Event(observation=photo.observation, actor=user, action=EventKind.redacted,
                             data={"photo": photo.id, "boxes": len(boxes)}))
        photos.delete_later([old_key])  # the original's files: recorded with the change itself
        db.session.commit()
    except BaseException:
        db.session.rollback()
        photos.discard([new_key])
        raise
    photos.delete_pending([old_key])  # a failure leaves the key recorded, for `walkapp retention`
    db.session.refresh(photo)
    return photo


def confirm_no_people(user, photo: Photo) -> Event | None:
    """A coordinator looked and no person can be identified; recorded once in the history."""
    if photo.people_reviewed_at is not None:
        return None
    photo.people_reviewed_at = utcnow()
    event = Event(observation=photo.observation, actor=user, action=EventKind.people_reviewed, data={"photo": photo.id})
    db.session.add(event)
    db.session.commit()
    return event


def controls(user, photos_: list[Photo]) -> dict[int, dict]:
    """What the item page offers for each photo: redact, confirm "no person", publish."""
    return {photo.id: {
        "redact": policy.can_redact_photo(user, photo),
        "review": policy.can_review_people(user, photo) and photo.people_reviewed_at is None
                  and (photo.may_show_people or photo.faces_checked_at is None),
        "needs_review": policy.needs_people_review(photo),
        "checking": photo.faces_checked_at is None and photo.people_reviewed_at is None,
        "can_publish": policy.can_publish_photo(photo),
        "version": int(photo.redacted_at.timestamp()) if photo.redacted_at else None,
    } for photo in photos_}
