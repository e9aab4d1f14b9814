"""GeoReport v2 endpoints under /open311/v2/, each as .xml and .json."""
from __future__ import annotations

from flask import abort, current_app, request, url_for
from werkzeug.datastructures import MultiDict

from .. import photos
from ..access import ANYONE, allow
from ..errors import format_errors_under
from . import bp, service
from .formats import errors, respond

FORMATS = "<any(xml, json):fmt>"
SPEC = "http://wiki.open311.org/GeoReport_v2"


def params() -> MultiDict:
    """Query string and body alike; an empty value counts as absent."""
    merged = MultiDict()
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if value.strip() != "":
                merged.add(key, value.strip() if not key.startswith("attribute") else value)
    return merged


def checked(fmt: str):
    if not service.jurisdiction_ok(params().get("jurisdiction_id")):
        raise service.Open311Error(404, "jurisdiction_id not found")


def requested_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in ("xml", "json"):
        return fmt
    return "json" if request.path.endswith(".json") else "xml"


@bp.errorhandler(service.Open311Error)
def open311_error(exc: service.Open311Error):
    return errors(requested_format(), exc.status, exc.description)


def http_error(code: int, description: str):
    """Any refusal under /open311/ (not found, upload too large, unreadable form, a server error) as an
    Open311 error body in the requested format, not the site's HTML page (see walkapp/errors.py)."""
    return errors(requested_format(), code, "not found" if code == 404 else description)


bp.record_once(lambda state: format_errors_under(state.app, "/open311/", http_error))


@bp.get(f"/discovery.{FORMATS}")
@allow(ANYONE)
def discovery(fmt: str):
    url = url_for("open311.discovery", fmt="xml", _external=True).rsplit("/", 1)[0]
    changeset = service.changeset()
    data = {
        "changeset": changeset,
        "contact": current_app.config.get("OPEN311_CONTACT") or current_app.config["MUNICIPALITY"],
        "key_service": current_app.config.get("OPEN311_KEY_SERVICE") or "Kontakta kommunen för en API-nyckel.",
        "endpoints": [{
            "specification": SPEC,
            "url": url,
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
        "notice": service.PUBLICATION_NOTICE,
    }
    return respond(fmt, "discovery", None, data)


@bp.get(f"/services.{FORMATS}")
@allow(ANYONE)
def services(fmt: str):
    checked(fmt)
    return respond(fmt, "services", "service", [service.service_dict(c) for c in service.services()])


@bp.get(f"/services/<service_code>.{FORMATS}")
@allow(ANYONE)
def service_definition(service_code: str, fmt: str):
    checked(fmt)
    category = service.service_or_404(service_code)
    data = {"service_code": category.code, "attributes": service.attributes(category)}
    return respond(fmt, "service_definition", None, data)


@bp.get(f"/requests.{FORMATS}")
@allow(ANYONE)
def requests(fmt: str):
    checked(fmt)
    rows = service.public_requests(params())
    notes = service.latest_public_notes([o.id for o in rows])
    return respond(fmt, "service_requests", "request", [service.request_dict(o, notes) for o in rows])


@bp.get(f"/requests/<int:request_id>.{FORMATS}")
@allow(ANYONE)
def request_by_id(request_id: int, fmt: str):
    checked(fmt)
    rows = service.public_requests(MultiDict({"service_request_id": str(request_id)}))
    if not rows:  # one answer whether it does not exist or is not published (yet)
        raise service.Open311Error(404, f"service_request_id {request_id} not found or not published")
    notes = service.latest_public_notes([rows[0].id])
    return respond(fmt, "service_requests", "request", [service.request_dict(rows[0], notes)])


@bp.post(f"/requests.{FORMATS}")
@allow(ANYONE, csrf=False)  # a machine client with an api_key, not a browser form
def create_request(fmt: str):
    """Clients authenticate with api_key; the item enters the workflow as new, not public.

    The id exists at once, so the answer carries it and no token (the spec's either/or).
    """
    values = params()
    checked(fmt)
    key = service.authenticate(values.get("api_key"))
    service.count_request(key)
    obs = service.submit(key, values, request.files)
    data = [{"service_request_id": str(obs.id), "service_notice": service.SUBMITTED_NOTICE,
             "account_id": None}]
    return respond(fmt, "service_requests", "request", data, 201)


@bp.get(f"/tokens/<token>.{FORMATS}")
@allow(ANYONE)
def token(token: str, fmt: str):
    checked(fmt)
    obs = service.by_token(token)
    if obs is None:
        raise service.Open311Error(404, "token not found")
    return respond(fmt, "service_requests", "request", [{"service_request_id": str(obs.id), "token": token}])


@bp.get(f"/servicerequestupdates.{FORMATS}")
@allow(ANYONE)
def request_updates(fmt: str):
    checked(fmt)
    return respond(fmt, "service_request_updates", "request_update", service.updates(params()))


@bp.get("/media/<int:photo_id>.jpg")
@allow(ANYONE)
def media(photo_id: int):
    photo = service.public_photo(photo_id)
    if photo is None:
        abort(404)
    return photos.send(photo, "display")


