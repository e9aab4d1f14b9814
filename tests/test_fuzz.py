"""Hostile input on every route: no 500, a 400/404 for what cannot be read, and nothing changed.

Every rule of the URL map is called with each of its methods, as each role that may call it, with
hostile values in its path, in every query/form parameter the app reads, and in one big batch of
ids. One app and one database serve the whole module (fast enough for SQLite and PostgreSQL).
"""
from __future__ import annotations

import importlib
import io
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, text
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from walkapp import errors
from walkapp.access import ANYONE, SIGNED_IN, allow, rule_for
from walkapp.categories import seed_default_categories
from walkapp.extensions import db
from walkapp.models import Observation, Organisation, Role, User

from .conftest import create_user, make_test_app, reset_database
from .factories import route_values

BEYOND_64_BITS = "99999999999999999999999"
MANY_IDS = ",".join(str(n) for n in range(1, 70_001))
HOSTILE = [
    BEYOND_64_BITS, "-" + BEYOND_64_BITS, "2147483648", "0",
    "a\x00b", "x\x1by",
    "0001-01-01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-11-25T00:00:00+14:00",
    "nan", "-inf", "1e309,nan,inf,inf", "nan,1;inf,2;3,-inf",
    "x" * 5_000,
]
# values the app must refuse wherever it reads them (a 400/404/redirect, never a change)
REFUSED_EVERYWHERE = {"a\x00b", "x\x1by"}
# query-string names the views read besides their forms' fields
QUERY_NAMES = [
    "status", "category", "walk", "source", "organisation", "priority", "overdue", "from", "to", "q",
    "bbox", "area", "since", "kind", "page", "page_size", "sort", "variant", "version", "next", "back",
    "lat", "lon", "long", "period", "scope", "year", "month", "start_date", "end_date",
    "service_request_id", "service_code", "jurisdiction_id", "api_key", "email", "description",
    "ids", "payload", "seal", "sender", "filename", "lang", "address_string",
    "attribute[safety_rating]", "attribute[kind]", "attribute[time_of_day][]",
]
ID_LISTS = ["ids", "service_request_id", "status", "category", "source", "walk", "organisation"]
FORM_MODULES = ["admin", "auth", "exchange", "observations", "triage", "walks"]
# more than 65,535 ids, as comma lists and as one repeated key; encoded once (it is slow)
MANY_IDS_IN_LISTS = urlencode({name: MANY_IDS for name in ID_LISTS})
MANY_IDS_REPEATED = urlencode([("ids", str(n)) for n in range(1, 70_001)])
PATH_HOSTILE = {
    "int": [BEYOND_64_BITS, "2147483648"],
    "default": ["a%00b", "x" * 5_000],
}
IGNORED_TABLES = {"login_failure", "api_key_usage", "join_attempt", "rate_limit", "request_count"}


def form_field_names() -> list[str]:
    names = set()
    for module in FORM_MODULES:
        forms = importlib.import_module(f"walkapp.{module}.forms")
        for cls in vars(forms).values():
            if isinstance(cls, type) and issubclass(cls, FlaskForm):
                names |= {n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField)}
    return sorted(names - {"submit", "photos", "file"})


PARAMETERS = sorted(set(QUERY_NAMES) | set(form_field_names()))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, pg_databases):
    """One app for the sweep, on a database of its own (the other tests' one is emptied after each)."""
    app = make_test_app(tmp_path_factory.mktemp("fuzz"), pg_databases.create() if pg_databases else None)
    with app.app_context():
        db.create_all()
        seed_default_categories()
        users = {role: create_user(role).id for role in Role}
        target_id = create_user(Role.walker, email="target@example.se").id  # what admin routes act on
        db.session.add(Organisation(name="Gatuavdelningen"))
        db.session.commit()
    app.fuzz_values = {**route_values(app, users[Role.walker], user_id=target_id), "key_id": 1}
    yield app
    reset_database(app)


def sign_in(app, client, role: Role | None) -> None:
    """Put the role's user in the session (no password sign-in: its throttle would count the
    hostile sign-ins sent by this test)."""
    with app.app_context():
        token = db.session.scalar(select(User.session_token).filter_by(email=f"{role.value}@example.se")) if role else None
    with client.session_transaction() as session:
        session.clear()
        if token:
            session["_user_id"] = token
            session["_fresh"] = True


def row_counts() -> dict[str, int]:
    """Rows per table, in one statement (tables of rate limits and attempts left out)."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in IGNORED_TABLES]
    row = db.session.execute(select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))).one()
    db.session.rollback()
    return dict(zip((t.name for t in tables), row))


def roles_for(app, endpoint: str) -> list[Role | None]:
    rule = rule_for(app, endpoint)
    if ANYONE in rule:
        return [None]
    if SIGNED_IN in rule:
        return [Role.walker, Role.coordinator]
    return [Role(sorted(rule)[-1])]  # coordinator for staff routes, admin for admin routes


def rules(app):
    seen = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            seen.append((rule, method))
    return seen


def routes_of(app):
    return [f"{method} {rule.rule}" for rule, method in rules(app)]


# the route list comes from the app itself, built once at collection
def _route_ids():
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        saved = os.environ.get("WALKAPP_INSTANCE_PATH")
        app = make_test_app(__import__("pathlib").Path(folder), "sqlite://")
        if saved is not None:
            os.environ["WALKAPP_INSTANCE_PATH"] = saved
        return routes_of(app)


ROUTES = _route_ids()


def requests_for(rule, method, values):
    """(path, query-or-form dict) pairs: hostile path values, then every parameter hostile."""
    normal = {name: values[name] for name in rule.arguments}
    path = rule.build(normal, append_unknown=False)[1]
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        kind = "int" if "Integer" in converter or "Id" in converter else "default"
        if name in ("fmt", "rendition", "filename"):
            continue
        for bad in PATH_HOSTILE[kind]:
            marker = f"__{name}__"
            built = rule.build({**normal, name: marker}, append_unknown=False)[1] if kind == "default" else None
            if built is None:  # an int converter will not build a string: replace the number in place
                built = path.replace(f"/{values[name]}", f"/{bad}", 1)
            else:
                built = built.replace(marker, bad)
            yield built, {}
    for bad in HOSTILE:
        yield path, {name: bad for name in PARAMETERS}
    yield path, MANY_IDS_IN_LISTS if method == "GET" else MANY_IDS_REPEATED


@pytest.mark.parametrize("route", ROUTES)
def test_hostile_input_on_every_route(fuzz_app, route):
    method, wanted = route.split(" ", 1)
    rule = next(r for r, m in rules(fuzz_app) if r.rule == wanted and m == method)
    failures = []
    for role in roles_for(fuzz_app, rule.endpoint):
        client = fuzz_app.test_client()
        sign_in(fuzz_app, client, role)
        for path, params in requests_for(rule, method, fuzz_app.fuzz_values):
            with fuzz_app.app_context():
                before = row_counts()
            if isinstance(params, str):  # already encoded
                shown = f"{method} {path[:80]} as {role} with more than 65,535 ids"
                request = ({"query_string": params} if method == "GET" else
                           {"data": params, "content_type": "application/x-www-form-urlencoded"})
            else:
                shown = f"{method} {path[:80]} as {role} with {str(list(params.values())[:1])[:40]}"
                request = {"query_string" if method == "GET" else "data": params}
            try:
                response = client.open(path, method=method, **request)
            except Exception as exc:  # TESTING propagates what would be a 500
                failures.append(f"{shown}: {exc!r}"[:300])
                continue
            status = response.status_code
            body = response.get_data().decode("utf-8", "replace")
            response.close()
            with fuzz_app.app_context():
                after = row_counts()
            if status >= 500:
                failures.append(f"{shown}: {status}")
            elif (isinstance(params, dict) and any(v in REFUSED_EVERYWHERE for v in params.values())
                  and status not in (302, 400, 404) and rule.endpoint != "static"):
                # (WhiteNoise answers /static/ before Flask and ignores the query; nothing reads it)
                failures.append(f"{shown}: {status}, expected a refusal")
            if (status >= 400 or isinstance(params, str)) and before != after:
                changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                failures.append(f"{shown}: {status} but changed {changed}")
            if rule.rule.startswith("/open311/") and status >= 400 and status != 429:
                if "<errors>" not in body and '"description"' not in body:
                    failures.append(f"{shown}: {status} without an Open311 error body")
            if rule.endpoint in ("auth.logout", "auth.login", "auth.use_link"):
                sign_in(fuzz_app, client, role)
    assert failures == []


# --- the audit's cases one by one ---------------------------------------------------------------

def observation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Observation.id)))


def test_ids_beyond_the_column_are_not_found(app, client, users, auth):
    auth.login_as(Role.coordinator)
    for path in ("/observations/99999999999999999999", "/observations/2147483648",
                 "/api/v1/observations/99999999999999999999", "/walks/9223372036854775808"):
        assert client.get(path).status_code == 404, path
    response = client.get("/open311/v2/requests/99999999999999999999.json")
    assert response.status_code == 404 and response.get_json()[0]["code"] == 404


def test_filters_refuse_out_of_range_values(app, client, users, auth):
    auth.login_as(Role.coordinator)
    for query in ("walk=99999999999999999999", "organisation=-99999999999999999999", "from=0001-01-01",
                  "since=0001-01-01T00:00:00%2B14:00", "since=9999-12-31T23:59:59-14:00",
                  "bbox=nan,nan,inf,inf", "status=" + ",".join(["new"] * 70_000)):
        response = client.get(f"/api/v1/observations?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["errors"], query
        assert client.get(f"/inbox?{query}").status_code == 200  # the inbox says so and shows all
    assert client.get("/inbox?page=99999999999999999999").status_code == 400
    assert client.get("/api/v1/observations/nearby?lat=inf&lon=nan").status_code == 400


def test_nul_bytes_are_refused_and_change_nothing(app, client, users, auth):
    auth.login_as(Role.walker)
    before = observation_count(app)
    response = client.post("/api/v1/observations", data={
        "category": "belysning", "lat": "62.63", "lon": "17.93", "description": "Lampa\x00trasig"})
    assert response.status_code == 400
    assert client.get("/inbox?q=a%00b").status_code == 400
    assert observation_count(app) == before
    # line breaks stay allowed where text has several lines
    response = client.post("/api/v1/observations", data={
        "category": "belysning", "lat": "62.63", "lon": "17.93", "description": "Lampa\r\ntrasig\tigen"})
    assert response.status_code == 201


def test_nan_and_infinite_coordinates_are_refused(app, client, users, auth):
    auth.login_as(Role.walker)
    before = observation_count(app)
    for lat, lon in (("nan", "17.93"), ("62.63", "inf"), ("-inf", "nan"), ("1e309", "17.93")):
        response = client.post("/api/v1/observations", data={"category": "belysning", "lat": lat, "lon": lon})
        assert response.status_code == 400, (lat, lon)
    assert observation_count(app) == before


def test_open311_answers_hostile_values_in_its_own_format(app, client):
    result = app.test_cli_runner().invoke(args=["create-api-key", "Fuzz", "--per-hour", "50"])
    key = result.output.strip().splitlines()[-1]
    base = "/open311/v2"
    cases = [
        f"{base}/requests.xml?start_date=0001-01-01T00:00:00%2B14:00",
        f"{base}/requests.xml?end_date=9999-12-31T23:59:59-14:00",
        f"{base}/requests.xml?page=99999999999999999999",
        f"{base}/requests.xml?service_request_id=" + ",".join(str(n) for n in range(1, 70_001)),
        f"{base}/requests.xml?service_code=a%00b",
        f"{base}/servicerequestupdates.xml?start_date=0001-01-01",
    ]
    for path in cases:
        response = client.get(path)
        assert response.status_code == 400, path[:90]
        assert b"<errors><error><code>400</code><description>" in response.data, path[:90]
    before = observation_count(app)
    for lat, lon in (("nan", "17.93"), ("62.63", "inf"), ("99999999999999999999", "17.93")):
        response = client.post(f"{base}/requests.json", data={
            "api_key": key, "service_code": "belysning", "lat": lat, "long": lon})
        assert response.status_code == 400
        assert response.get_json()[0]["description"].startswith("lat")  # "lat and long …" or "lat: …"
    assert client.post(f"{base}/requests.json", data={
        "api_key": key, "service_code": "belysning", "lat": "62.63", "long": "17.93",
        "description": "a\x00b"}).get_json()[0]["description"].startswith("description")
    assert observation_count(app) == before


def test_a_two_million_column_header_is_refused_quickly(app, client, users, auth):
    auth.login_as(Role.coordinator)
    client.post("/language", data={"lang": "en"})
    data = b"kategori;lat;lon" + b";" * 2_000_000 + b"\nbelysning;62.63;17.93\n"
    started = time.monotonic()
    response = client.post("/import", data={"file": (io.BytesIO(data), "bred.csv"), "source": "police"},
                           content_type="multipart/form-data")
    assert time.monotonic() - started < 5
    assert "more than 200 columns" in response.get_data(as_text=True)
    # a normal header with one very wide row is refused as well
    data = b"kategori;lat;lon\nbelysning;62.63;17.93" + b";" * 500 + b"\n"
    response = client.post("/import", data={"file": (io.BytesIO(data), "rad.csv"), "source": "police"},
                           content_type="multipart/form-data")
    assert "more than 200 columns" in response.get_data(as_text=True)
    assert observation_count(app) == 0


def test_the_error_page_survives_an_aborted_transaction(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.get("/broken")
    @allow(ANYONE)
    def broken():
        db.session.execute(text("SELECT * FROM no_such_table"))  # aborts the transaction on PostgreSQL

    with app.app_context():
        user = create_user(Role.coordinator)
        token = user.session_token
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token  # the error page then reads the signed-in user from the database
    response = client.get("/broken")
    assert response.status_code == 500
    with app.test_request_context():
        message = str(errors.messages()[500])
    assert message in response.get_data(as_text=True)
    response = client.get("/open311/v2/requests/2147483648.xml")
    assert response.status_code == 404 and b"<errors>" in response.data
