"""Reporting an observation and a reporter's edit of it, and the photo view (the item's own page is
item.py)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, limits, maps, photos, policy
from ..access import SIGNED_IN, allow
from ..extensions import db
from ..labels import SOURCE
from ..models import Observation, Photo, Walk, WalkStatus
from . import bp, service
from .forms import ObservationForm


def visible_or_abort(obs_id: int) -> Observation:
    obs = db.get_or_404(Observation, obs_id)
    if not policy.can_view_observation(current_user, obs):
        abort(404)  # what one may not see does not exist for one
    return obs


def report_map(walk: Walk | None, location=None):
    centre = location or ([walk.meeting_lat, walk.meeting_lon] if walk and walk.meeting_lat else None)
    return maps.embed(maps.base_map(current_app.config, location=centre, zoom=17))


@bp.route("/report", methods=["GET", "POST"])
@allow(SIGNED_IN)
def report():
    walk_id = request.values.get("walk", type=inputs.parse_id)
    walk = db.session.get(Walk, walk_id) if walk_id else None
    if walk is not None and not policy.can_view_walk(current_user, walk):
        abort(404)
    if walk is not None and not policy.can_report_on_walk(current_user, walk):
        if request.method == "POST" and walk.status is WalkStatus.done:
            return walk_ended(walk)  # marked done while the person was typing: keep what they typed
        flash(_("This walk is finished; new observations can no longer be added."), "error")
        return redirect(url_for("walks.view", walk_id=walk.id))
    if walk is None and not policy.can_report_without_walk(current_user):
        abort(403)
    form = ObservationForm()
    errors, headers = {}, {}
    if request.method == "POST":
        try:
            obs = service.create_observation(current_user, form)
        except service.InvalidInput as exc:
            errors = exc.errors
        except limits.LimitReached as exc:  # the form comes back as typed, with when to send again
            errors, headers = {"form": [exc.message]}, {"Retry-After": str(exc.retry_after)}
        else:
            flash(_("Thank you! Your observation is saved."), "success")
            return redirect(url_for("walks.view", walk_id=walk.id) if walk else url_for("observations.detail", obs_id=obs.id))
    location = [form.lat.data, form.lon.data] if not errors.get("lat") and form.lat.data is not None and form.lon.data is not None else None
    return render_template(
        "observations/report.html", form=form, walk=walk, errors=errors,
        map=report_map(walk, location), sources=SOURCE,
        may_choose_source=policy.chooses_report_source(current_user),
    ), 429 if headers else 400 if errors else 200, headers


def walk_ended(walk: Walk):
    """A report sent (without JavaScript) to a walk marked done meanwhile: the form again, as typed, without
    the walk, and the choice to keep it as a report without walk (report.js offers the same after the API's
    refusal). Nothing is written. Uploaded files cannot be put back into a file input: say so."""
    form = ObservationForm()
    dropped_photos = sum(1 for f in request.files.getlist("photos") if f and f.filename)
    lat, lon = form.lat.data, form.lon.data
    location = [lat, lon] if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180 else None
    return render_template(
        "observations/report.html", form=form, walk=walk, walk_ended=True, dropped_photos=dropped_photos,
        errors={}, map=report_map(walk, location), sources=SOURCE, may_choose_source=False,
    ), 409


@bp.route("/observations/<int:obs_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit(obs_id: int):
    obs = visible_or_abort(obs_id)
    if not policy.can_edit_observation(current_user, obs):
        abort(403)
    form = ObservationForm()
    errors, headers = {}, {}
    if request.method == "GET":
        form.category.data, form.lat.data, form.lon.data = obs.category.code, obs.lat, obs.lon
        form.description.data, form.rating.data = obs.description, obs.safety_rating
    else:
        try:
            service.update_observation(current_user, obs, form, request.form.get("version", type=int))
        except service.InvalidInput as exc:
            errors = exc.errors
        except limits.LimitReached as exc:
            errors, headers = {"form": [exc.message]}, {"Retry-After": str(exc.retry_after)}
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("observations.detail", obs_id=obs.id))
    location = [obs.lat, obs.lon] if errors.get("lat") else [form.lat.data, form.lon.data]
    return render_template(
        "observations/report.html", form=form, walk=obs.walk, errors=errors, obs=obs,
        map=report_map(obs.walk, location), sources=SOURCE, may_choose_source=False,
    ), 429 if headers else 400 if errors else 200, headers


@bp.get("/photos/<int:photo_id>/<any(display, thumb):rendition>.jpg")
@allow(SIGNED_IN)
def photo(photo_id: int, rendition: str):
    photo = db.get_or_404(Photo, photo_id)
    if not policy.can_view_observation(current_user, photo.observation):
        abort(404)
    return photos.send(photo, rendition)
