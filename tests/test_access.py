"""Every GET route × every role gets the status it declares; undeclared routes fail."""
import pytest

from walkapp.access import rule_for
from walkapp.extensions import db
from walkapp.models import Category, Organisation, Role

ROLES = [None, Role.walker, Role.responder, Role.coordinator, Role.admin]
OK, LOGIN, DENIED = 200, 302, 403

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
}


def url_values(app, users):
    with app.app_context():
        return {
            "user_id": users[Role.walker],
            "org_id": db.session.scalar(db.select(Organisation.id)),
            "category_id": db.session.scalar(db.select(Category.id)),
            "filename": "css/walkapp.css",
        }


def get_urls(app, values):
    """Each GET rule with its arguments filled in."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {name: values[name] for name in rule.arguments}
        path = rule.build(args, append_unknown=False)[1]
        yield rule.endpoint, path


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
    if role is not None:
        auth.login_as(role)
    failures = []
    for endpoint, path in get_urls(app, url_values(app, users)):
        expected = EXPECTED[endpoint][role_index]
        status = client.get(path).status_code
        if status != expected:
            failures.append(f"{path} as {role}: {status}, expected {expected}")
    assert failures == []
