"""JSON API v1 for photo redaction: suggested face boxes and applying redactions.

The item page's editor (static/js/redact.js) calls these with the session and the CSRF header;
other clients with a staff member's bearer token.
"""
from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy, redaction
from ..access import SIGNED_IN, allow
from ..extensions import db
from ..models import Photo
from . import bp
from .routes import errors_response, thank_browser


def redactable_or_abort(photo_id: int) -> Photo:
    photo = db.get_or_404(Photo, photo_id)
    if not policy.can_view_observation(current_user, photo.observation):
        abort(404)  # what one may not see does not exist for one
    if not policy.can_redact_photo(current_user, photo):
        abort(403)
    return photo


def rendition_urls(photo: Photo) -> dict:
    """The photo's URLs; a redaction changes them, so no cache can answer with the old file."""
    version = int(photo.redacted_at.timestamp()) if photo.redacted_at else None
    return {rendition: url_for("observations.photo", photo_id=photo.id, rendition=rendition, v=version)
            for rendition in ("display", "thumb")}


@bp.get("/photos/<int:photo_id>/faces")
@allow(SIGNED_IN)
def faces(photo_id: int):
    """Suggested face boxes [x, y, w, h] in display-rendition pixels; "checked" is false while the
    detector has not looked at the photo yet."""
    photo = redactable_or_abort(photo_id)
    return jsonify(boxes=photo.face_boxes or [], checked=photo.faces_checked_at is not None,
                   width=photo.width, height=photo.height)


@bp.post("/photos/<int:photo_id>/redactions")
@allow(SIGNED_IN)
def redactions(photo_id: int):
    photo = redactable_or_abort(photo_id)
    body = request.get_json(silent=True)
    try:
        boxes = redaction.parse_boxes(body.get("boxes") if isinstance(body, dict) else None,
                                      photo.width, photo.height)
        redaction.redact(current_user, photo, boxes)
    except redaction.BoxError as exc:
        return errors_response({"boxes": [exc.message]})
    except redaction.Conflict:
        return errors_response({"form": [_("Someone else redacted this photo meanwhile; "
                                           "open it again.")]}, 409)
    thank_browser(_("Redacted: the original pixels are gone from every stored copy of the photo."))
    return jsonify(id=photo.id, boxes=len(boxes), width=photo.width, height=photo.height,
                   renditions=rendition_urls(photo)), 201
