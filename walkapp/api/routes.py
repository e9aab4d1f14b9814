"""JSON API v1: GeoJSON observations for maps and apps (and our own pages)."""
from __future__ import annotations

from flask import abort, current_app, flash, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..access import SIGNED_IN, allow
from ..extensions import db
from ..models import Observation, Status
from ..observations import service
from ..observations.forms import ContributionForm, ObservationForm
from . import bp


def errors_response(errors: dict[str, list[str]], status: int = 400):
    body = [{"field": None if field == "form" else field, "message": str(message)}
            for field, messages in errors.items() for message in messages]
    return jsonify(errors=body), status


def thank_browser(message: str) -> None:
    """Our own pages send through the API and then load the next page: greet there."""
    if "Authorization" not in request.headers:
        flash(message, "success")


def visible_or_abort(obs_id: int) -> Observation:
    obs = db.get_or_404(Observation, obs_id)
    if not policy.can_view_observation(current_user, obs):
        abort(403)
    return obs


def parse_filters(args) -> dict:
    filters, errors = {}, {}
    if args.get("bbox"):
        try:
            values = [float(v) for v in args["bbox"].split(",")]
            if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
                raise ValueError
            filters["bbox"] = values
        except ValueError:
            errors["bbox"] = [_("Give bbox as min_lon,min_lat,max_lon,max_lat.")]
    if args.get("walk"):
        if args["walk"].isdigit():
            filters["walk_id"] = int(args["walk"])
        else:
            errors["walk"] = [_("Give the walk as a number.")]
    if args.get("status"):
        try:
            filters["statuses"] = [Status(s) for s in args["status"].split(",")]
        except ValueError:
            errors["status"] = [_("Unknown status.")]
    if args.get("category"):
        filters["categories"] = args["category"].split(",")
    if args.get("since"):
        try:
            filters["since"] = service.parse_since(args["since"])
        except ValueError:
            errors["since"] = [_("Give since as an ISO 8601 time with a time zone.")]
    if errors:
        raise service.InvalidInput(errors)
    return filters


@bp.get("/observations")
@allow(SIGNED_IN)
def observations():
    try:
        filters = parse_filters(request.args)
    except service.InvalidInput as exc:
        return errors_response(exc.errors)
    rows = db.session.scalars(service.list_query(current_user, **filters).limit(service.MAX_FEATURES + 1))
    rows = rows.unique().all()
    truncated = len(rows) > service.MAX_FEATURES
    return jsonify(service.feature_collection(rows[: service.MAX_FEATURES], current_user, truncated))


@bp.get("/observations/<int:obs_id>")
@allow(SIGNED_IN)
def observation(obs_id: int):
    return jsonify(service.feature(visible_or_abort(obs_id), current_user))


@bp.post("/observations")
@allow(SIGNED_IN)
def create_observation():
    form = ObservationForm(meta={"csrf": False})
    try:
        obs = service.create_observation(current_user, form)
    except service.InvalidInput as exc:
        return errors_response(exc.errors)
    thank_browser(_("Thank you! Your observation is saved."))
    response = jsonify(service.feature(obs, current_user))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/observations/{obs.id}"
    return response


@bp.get("/observations/nearby")
@allow(SIGNED_IN)
def nearby():
    """Open items of the same category close by: 'already reported?'"""
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
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
    thank_browser(_("Thank you! Your photo or comment was added."))
    return jsonify(service.feature(obs, current_user)), 201
