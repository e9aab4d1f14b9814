"""Every GET route × every role gets the status it declares; undeclared routes fail."""
from datetime import date, datetime, timedelta, timezone

import pytest

from walkapp import photos
from walkapp.access import rule_for
from walkapp.extensions import db
from walkapp.situation import report, stats
from walkapp.models import (
    Category, Observation, Organisation, Participant, Photo, Role, User, Walk, WalkStatus,
)

from .photo_samples import jpeg_with_orientation_and_gps

ROLES = [None, Role.walker, Role.responder, Role.coordinator, Role.admin]
OK, LOGIN, DENIED, API_LOGIN, REDIRECT, HIDDEN = 200, 302, 403, 401, 302, 404

# endpoint: expected status for anonymous, walker, responder, coordinator, admin
EXPECTED = {
    "main.home": (OK, OK, OK, OK, OK),
    "auth.login": (OK, 302, 302, 302, 302),  # signed-in users go home
    "admin.index": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.users": (LOGIN, DENIED, DENIED, DENIED, OK),
    "admin.edit_user": (LOGIN, DENIED, DENIED, DENIED, OK),
    "admin.organisations": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.edit_organisation": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.categories": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.edit_category": (LOGIN, DENIED, DENIED, OK, OK),
    "static": (OK, OK, OK, OK, OK),
    # the walker takes part in the walk and reported the observation; the responder does not
    "walks.index": (LOGIN, OK, OK, OK, OK),
    "walks.edit": (LOGIN, DENIED, DENIED, OK, OK),
    "walks.view": (LOGIN, OK, HIDDEN, OK, OK),
    "walks.poster": (LOGIN, DENIED, DENIED, OK, OK),
    "walks.enter_code": (OK, OK, OK, OK, OK),
    "walks.join": (OK, REDIRECT, OK, OK, OK),  # a participant goes straight to the walk
    "observations.report": (LOGIN, OK, OK, OK, OK),
    "observations.detail": (LOGIN, OK, HIDDEN, OK, OK),
    "observations.edit": (LOGIN, OK, HIDDEN, DENIED, DENIED),  # only the reporter, during the walk
    "observations.photo": (LOGIN, OK, HIDDEN, OK, OK),
    "api.observations": (API_LOGIN, OK, OK, OK, OK),
    "api.observation": (API_LOGIN, OK, HIDDEN, OK, OK),
    "api.nearby": (API_LOGIN, OK, OK, OK, OK),
    "api.extent": (API_LOGIN, OK, OK, OK, OK),
    "triage.inbox": (LOGIN, DENIED, DENIED, OK, OK),
    "tasks.index": (LOGIN, DENIED, OK, DENIED, DENIED),
    "auth.request_link": (OK, OK, OK, OK, OK),
    "auth.use_link": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # an unknown token
    "public.walk": (OK, OK, OK, OK, OK),
    "public.photo": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # the photo is not public
    "admin.api_keys": (LOGIN, DENIED, DENIED, DENIED, OK),
    "situation.dashboard": (LOGIN, DENIED, DENIED, OK, OK),
    "exchange.export_csv": (LOGIN, DENIED, DENIED, OK, OK),
    "exchange.export_geojson": (LOGIN, DENIED, DENIED, OK, OK),
    "exchange.import_form": (LOGIN, DENIED, DENIED, OK, OK),
    "exchange.import_template": (LOGIN, DENIED, DENIED, OK, OK),
    "situation.protocol_page": (LOGIN, DENIED, DENIED, OK, OK),
    "situation.protocol_pdf": (LOGIN, DENIED, DENIED, OK, OK),
    "situation.report_new": (LOGIN, DENIED, DENIED, OK, OK),
    "situation.reports": (LOGIN, DENIED, DENIED, OK, OK),
    "situation.report_page": (LOGIN, DENIED, DENIED, OK, OK),
    "situation.report_pdf_file": (LOGIN, DENIED, DENIED, OK, OK),
    "open311.discovery": (OK, OK, OK, OK, OK),
    "open311.services": (OK, OK, OK, OK, OK),
    "open311.service_definition": (OK, OK, OK, OK, OK),
    "open311.requests": (OK, OK, OK, OK, OK),
    "open311.request_by_id": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # not public
    "open311.token": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "open311.request_updates": (OK, OK, OK, OK, OK),
    "open311.media": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "pwa.manifest": (OK, OK, OK, OK, OK),
    "pwa.service_worker": (OK, OK, OK, OK, OK),
    "pwa.offline": (OK, OK, OK, OK, OK),
    "pwa.offline_tiles": (LOGIN, OK, HIDDEN, OK, OK),
}
QUERY = {"api.nearby": "?lat=62.6323&lon=17.9379&category=belysning"}


def url_values(app, users):
    """An ongoing walk with the walker in it, and the walker's observation with a photo."""
    with app.app_context():
        walker = db.session.get(User, users[Role.walker])
        walk = Walk(title="Kvällsvandring", starts_at=datetime.now(timezone.utc),
                    status=WalkStatus.ongoing, join_code="ABC234")
        walk.participants.append(Participant(user=walker, role_label="resident"))
        category = db.session.scalar(db.select(Category).filter_by(code="belysning"))
        obs = Observation(lat=62.6323, lon=17.9379, category=category, kind=category.kind,
                          reporter=walker, walk=walk)
        db.session.add_all([walk, obs])
        db.session.flush()
        processed = photos.process(jpeg_with_orientation_and_gps(), max_bytes=10**8, max_pixels=10**8)
        photos.save_photos(obs, [processed], walker)
        with app.test_request_context():
            scope = stats.Scope(date.today() - timedelta(days=89), date.today())
            saved = report.create(scope, {}, "Lägesbild", "Analys", ["walk"], "", None, date.today())
        return {
            "report_id": saved.id,
            "user_id": users[Role.walker],
            "org_id": db.session.scalar(db.select(Organisation.id)),
            "category_id": category.id,
            "filename": "css/walkapp.css",
            "walk_id": walk.id,
            "code": walk.join_code,
            "obs_id": obs.id,
            "photo_id": db.session.scalar(db.select(Photo.id)),
            "rendition": "thumb",
            "token": walk.public_token,
            "fmt": "json",
            "service_code": "belysning",
            "request_id": obs.id,
        }


def get_urls(app, values):
    """Each GET rule with its arguments filled in."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {name: values[name] for name in rule.arguments}
        path = rule.build(args, append_unknown=False)[1]
        yield rule.endpoint, path + QUERY.get(rule.endpoint, "")


def test_every_route_declares_an_access_rule(app):
    undeclared = [r.endpoint for r in app.url_map.iter_rules() if rule_for(app, r.endpoint) is None]
    assert undeclared == []


def test_every_get_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert endpoints == set(EXPECTED), "add new GET routes to EXPECTED with their statuses"


def test_undeclared_route_is_refused(app, client, users, auth):
    @app.get("/undeclared")
    def undeclared():
        return "should never be served"

    auth.login_as(Role.admin)
    assert client.get("/undeclared").status_code == 403
    assert rule_for(app, "undeclared") is None


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_status_matrix(app, client, users, auth, role_index):
    with app.app_context():
        db.session.add(Organisation(name="Gatuavdelningen"))
        db.session.commit()
    role = ROLES[role_index]
    failures = []
    values = url_values(app, users)
    if role is not None:
        auth.login_as(role)
    for endpoint, path in get_urls(app, values):
        expected = EXPECTED[endpoint][role_index]
        status = client.get(path).status_code
        if status != expected:
            failures.append(f"{path} as {role}: {status}, expected {expected}")
    assert failures == []
