"""Every route × every role gets the status it declares (GET and POST); undeclared routes fail."""
import re

import pytest

from walkapp import faces, photos
from walkapp.access import rule_for
from walkapp.extensions import db
from walkapp.models import ApiKey, Organisation, Role, User

from .conftest import PASSWORD, create_user
from .factories import route_values

ROLES = [None, Role.walker, Role.responder, Role.coordinator, Role.admin]
OK, LOGIN, DENIED, API_LOGIN, REDIRECT, HIDDEN = 200, 302, 403, 401, 302, 404

# endpoint: expected status for anonymous, walker, responder, coordinator, admin
EXPECTED = {
    "main.home": (OK, OK, OK, OK, OK),
    "main.privacy": (OK, OK, OK, OK, OK),
    "main.accessibility": (OK, OK, OK, OK, OK),
    "auth.login": (OK, 302, 302, 302, 302),  # signed-in users go home
    "admin.index": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.users": (LOGIN, DENIED, DENIED, DENIED, OK),
    "admin.edit_user": (LOGIN, DENIED, DENIED, DENIED, OK),
    "admin.organisations": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.edit_organisation": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.categories": (LOGIN, DENIED, DENIED, OK, OK),
    "admin.edit_category": (LOGIN, DENIED, DENIED, OK, OK),
    "static": (OK, OK, OK, OK, OK),
    "healthz": (OK, OK, OK, OK, OK),  # for load balancers: no personal data, the same for everyone
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
    "api.faces": (API_LOGIN, DENIED, HIDDEN, OK, OK),  # coordinators redact; the walker's photo is no after-photo
    "triage.inbox": (LOGIN, DENIED, DENIED, OK, OK),
    "tasks.index": (LOGIN, DENIED, OK, DENIED, DENIED),
    "auth.request_link": (OK, OK, OK, OK, OK),
    "auth.use_link": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # an unknown token
    "public.walk": (OK, OK, OK, OK, OK),
    "public.photo": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # the photo is not public
    "admin.api_keys": (LOGIN, DENIED, DENIED, DENIED, OK),
    "admin.privacy": (LOGIN, DENIED, DENIED, DENIED, OK),
    "admin.privacy_audit": (LOGIN, DENIED, DENIED, DENIED, OK),
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
    return route_values(app, users[Role.walker])


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


# --- POST ----------------------------------------------------------------------
# Every POST rule × every role, with CSRF switched on and a valid token, so that what refuses a call is
# the access rule or the view's own check, never a missing token. Refusals (401, 403, 404, a redirect to
# sign in) must leave every table as it was. Each payload is a real request that would change something
# if it got through, aimed at spare rows so that the calls do not undo each other.
#
# DONE: the change was made and the view redirects; INVALID: the view ran and refused the (empty) form.
DONE, CREATED, INVALID = 302, 201, 400
# endpoint: expected status for anonymous, walker, responder, coordinator, admin
POST_EXPECTED = {
    "admin.add_member": (LOGIN, DENIED, DENIED, INVALID, INVALID),
    "admin.api_keys": (LOGIN, DENIED, DENIED, DENIED, INVALID),
    "admin.edit_category": (LOGIN, DENIED, DENIED, INVALID, INVALID),
    "admin.edit_organisation": (LOGIN, DENIED, DENIED, INVALID, INVALID),  # a new one needs a name
    "admin.edit_user": (LOGIN, DENIED, DENIED, DENIED, INVALID),
    "admin.revoke_api_key": (LOGIN, DENIED, DENIED, DENIED, DONE),
    "admin.privacy_extract": (LOGIN, DENIED, DENIED, DENIED, INVALID),  # no address given
    "admin.privacy_erase": (LOGIN, DENIED, DENIED, DENIED, INVALID),
    "admin.privacy_audit": (LOGIN, DENIED, DENIED, DENIED, INVALID),
    "admin.toggle_member": (LOGIN, DENIED, DENIED, DONE, DONE),
    "admin.toggle_organisation": (LOGIN, DENIED, DENIED, DONE, DONE),
    "admin.toggle_user": (LOGIN, DENIED, DENIED, DENIED, DONE),
    "api.contribute": (API_LOGIN, CREATED, HIDDEN, CREATED, CREATED),
    "api.create_observation": (API_LOGIN, INVALID, INVALID, INVALID, INVALID),
    "api.redactions": (API_LOGIN, DENIED, HIDDEN, INVALID, INVALID),  # no boxes sent
    "auth.login": (INVALID, INVALID, INVALID, INVALID, INVALID),
    "auth.renew_link": (OK, OK, OK, OK, OK),  # an unknown token: the page says so, and offers a new link
    "auth.request_link": (INVALID, INVALID, INVALID, INVALID, INVALID),
    "auth.use_link": (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # an unknown token
    "exchange.import_confirm": (LOGIN, DENIED, DENIED, REDIRECT, REDIRECT),  # nothing uploaded: back to the form
    "exchange.import_upload": (LOGIN, DENIED, DENIED, INVALID, INVALID),
    "observations.edit": (LOGIN, INVALID, HIDDEN, DENIED, DENIED),  # only the reporter, during the walk
    "observations.report": (LOGIN, INVALID, INVALID, INVALID, INVALID),
    "open311.create_request": (DENIED, DENIED, DENIED, DENIED, DENIED),  # no api_key
    "situation.report_new": (LOGIN, DENIED, DENIED, INVALID, INVALID),
    "triage.bulk_move": (LOGIN, DENIED, DENIED, REDIRECT, REDIRECT),  # nothing chosen: back to the inbox
    "observations.comment": (LOGIN, DENIED, HIDDEN, DONE, DONE),
    "observations.staff_edit": (LOGIN, DENIED, DENIED, INVALID, INVALID),
    "observations.move": (LOGIN, INVALID, HIDDEN, DONE, DONE),  # a walker may not accept: refused by the workflow
    "observations.set_photo_public": (LOGIN, DENIED, DENIED, DONE, DONE),
    "observations.confirm_no_people": (LOGIN, DENIED, DENIED, DONE, DONE),
    "observations.set_public": (LOGIN, DENIED, DENIED, DONE, DONE),
    "walks.edit": (LOGIN, DENIED, DENIED, INVALID, INVALID),
    "walks.enter_code": (INVALID, INVALID, INVALID, INVALID, INVALID),
    "walks.join": (INVALID, INVALID, INVALID, INVALID, INVALID),
    "walks.set_status": (LOGIN, DENIED, DENIED, DONE, DONE),
    "main.set_language": (DONE, DONE, DONE, DONE, DONE),
    "auth.logout": (REDIRECT, DONE, DONE, DONE, DONE),
}
# Where one endpoint's rules differ: an existing organisation's form keeps the values it has.
POST_EXPECTED_BY_RULE = {"/admin/organisations/<int:org_id>": (LOGIN, DENIED, DENIED, DONE, DONE)}
POST_PAYLOAD = {
    "api.contribute": {"comment": "Från matrisen"},
    "main.set_language": {"lang": "sv"},
    "observations.comment": {"comment": "Från matrisen"},
    "observations.move": {"action": "accept", "version": "1"},
    "observations.set_photo_public": {"public": "1"},
    "observations.set_public": {"public": "1"},
    "walks.set_status": {"status": "done", "confirmed": "1"},
}
POST_LAST = ("main.set_language", "auth.logout")  # they change the session the other calls run in
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def post_values(app, users):
    """url_values() plus a spare user in a spare organisation for the admin toggles, and an Open311 key."""
    values = url_values(app, users)
    with app.app_context():
        spare_org = Organisation(name="Reservorganisationen")
        spare = User(email="reserv@example.se", name="Reserv", role=Role.responder, organisation=spare_org)
        spare.set_password("correct horse battery")
        key = ApiKey(name="Matris", key_hash="0" * 64)
        db.session.add_all([spare_org, spare, key])
        db.session.commit()
        values.update(org_id=spare_org.id, user_id=spare.id, key_id=key.id, token="unknown-token")
    return values


def post_urls(app, values):
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    rules.sort(key=lambda r: (r.endpoint in POST_LAST, POST_LAST.index(r.endpoint) if r.endpoint in POST_LAST else 0,
                              r.endpoint, r.rule))
    for rule in rules:
        args = {name: values[name] for name in rule.arguments}
        expected = POST_EXPECTED_BY_RULE.get(rule.rule, POST_EXPECTED.get(rule.endpoint))
        yield rule.endpoint, rule.build(args, append_unknown=False)[1], expected


def snapshot():
    """Every row of every table, to compare before and after a refused call."""
    return {table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables}


def csrf_token(client) -> str:
    match = TOKEN.search(client.get("/join").get_data(as_text=True))
    return match.group(1) or match.group(2)


def refused(response) -> bool:
    return response.status_code >= 400 or (
        response.status_code == 302 and response.headers["Location"].startswith("/login?next="))


def test_every_post_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert endpoints == set(POST_EXPECTED), "add new POST routes to POST_EXPECTED with their statuses"


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_post_status_matrix(app_factory, role_index):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        users = {role: create_user(role).id for role in Role}
        db.session.add(Organisation(name="Gatuavdelningen"))
        db.session.commit()
    values = post_values(app, users)
    role = ROLES[role_index]
    if role is not None:
        response = client.post("/login", data={"email": f"{role.value}@example.se", "password": PASSWORD,
                                               "csrf_token": csrf_token(client)})
        assert response.status_code == 302
    token = csrf_token(client)
    failures = []
    for endpoint, path, expected in post_urls(app, values):
        payload = dict(POST_PAYLOAD.get(endpoint, {}), csrf_token=token)
        with app.app_context():
            before = snapshot()
        response = client.post(path, data=payload, headers={"X-CSRFToken": token})
        status = response.status_code
        if status != (expected or (None,) * 5)[role_index]:
            failures.append(f"{endpoint} {path} as {role}: {status}, expected {expected}")
        if refused(response):
            with app.app_context():
                assert snapshot() == before, f"{endpoint} as {role} was refused but changed the database"
    assert failures == []
