"""JSON API v1: GeoJSON observations for maps and apps (and our own pages)."""
from __future__ import annotations

from flask import abort, current_app, flash, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, limits
from ..access import SIGNED_IN, allow
from ..observations import service
from ..observations.filters import FilterError, ObservationFilter
from ..observations.forms import ContributionForm, ObservationForm
from ..observations.routes import visible_or_abort
from . import bp


def errors_response(errors: dict[str, list[str]], status: int = 400):
    body = [{"field": None if field == "form" else field, "message": str(message)}
            for field, messages in errors.items() for message in messages]
    response = jsonify(errors=body)
    response.status_code = status
    return response


def limit_response(exc: limits.LimitReached):
    """429 with Retry-After: the report page shows the message on the form, the phone's outbox
    keeps the report and sends it later."""
    response = errors_response({"form": [exc.message]}, 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def thank_browser(message: str) -> None:
    """Our own pages send through the API and then load the next page: greet there. The phone's
    outbox sends in the background and says so itself."""
    if "Authorization" not in request.headers and "X-Walkapp-Outbox" not in request.headers:
        flash(message, "success")


def request_filters() -> ObservationFilter:
    """The query string's filters, or a 400 with field errors."""
    try:
        return ObservationFilter.from_args(request.args)
    except FilterError as exc:
        abort(errors_response(exc.errors))


@bp.get("/observations")
@allow(SIGNED_IN)
def observations():
    filters = request_filters()
    return jsonify(service.map_features(current_user, filters, current_app.config["MAP_MAX_POINTS"]))


@bp.get("/observations/extent")
@allow(SIGNED_IN)
def extent():
    """The bounding box of the filtered items, so a map can open on them."""
    filters = request_filters()
    return jsonify(bbox=service.extent(current_user, filters))


@bp.get("/observations/<int:obs_id>")
@allow(SIGNED_IN)
def observation(obs_id: int):
    return jsonify(service.feature(visible_or_abort(obs_id), current_user))


@bp.post("/observations")
@allow(SIGNED_IN)
def create_observation():
    form = ObservationForm(meta={"csrf": False})
    earlier = service.already_sent(current_user, form.client_key.data)  # a retry: 200 with the first item
    try:
        obs = earlier or service.create_observation(current_user, form)
    except service.InvalidInput as exc:
        return errors_response(exc.errors)
    except limits.LimitReached as exc:
        return limit_response(exc)
    thank_browser(_("Thank you! Your observation is saved."))
    response = jsonify(service.feature(obs, current_user))
    response.status_code = 200 if earlier else 201
    response.headers["Location"] = f"/api/v1/observations/{obs.id}"
    return response


@bp.get("/observations/nearby")
@allow(SIGNED_IN)
def nearby():
    """Open items of the same category close by: 'already reported?'"""
    try:
        lat, lon = inputs.parse_lat(request.args["lat"]), inputs.parse_lon(request.args["lon"])
    except (KeyError, ValueError):
        return errors_response({"lat": [_("Choose a place on the map.")]})
    found = service.nearby_open(current_user, lat, lon, request.args.get("category"))
    features = []
    for obs, metres in found:
        item = service.feature(obs, current_user)
        item["properties"]["distance_m"] = round(metres)
        features.append(item)
    return jsonify(type="FeatureCollection", features=features,
                   radius_m=current_app.config["DUPLICATE_RADIUS_M"])


@bp.post("/observations/<int:obs_id>/contributions")
@allow(SIGNED_IN)
def contribute(obs_id: int):
    obs = visible_or_abort(obs_id)
    form = ContributionForm(meta={"csrf": False})
    try:
        service.contribute(current_user, obs, form.comment.data, form.photos.data or [])
    except service.Forbidden:
        abort(403)
    except service.InvalidInput as exc:
        return errors_response(exc.errors)
    except limits.LimitReached as exc:
        return limit_response(exc)
    thank_browser(_("Thank you! Your photo or comment was added."))
    return jsonify(service.feature(obs, current_user)), 201
