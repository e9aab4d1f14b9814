"""Open311 GeoReport v2: every endpoint in XML (parsed with a real XML parser) and JSON."""
import io
import json
from xml.etree import ElementTree as ET

import pytest

from walkapp.extensions import db
from walkapp.models import Category, Event, Follower, Kind, Observation, Organisation, Photo, Role, Source, Status

from . import photo_samples as samples
from .factories import count, make_observation

BASE = "/open311/v2"


@pytest.fixture
def key(app):
    result = app.test_cli_runner().invoke(args=["create-api-key", "FixaMinGata", "--per-hour", "50"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def xml(response):
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.data)
    assert "}" not in root.tag  # no namespace
    return root


def publish(obs_id, photos=True):
    """What a coordinator does on the item's page: show it (and its photos) publicly."""
    obs = db.session.get(Observation, int(obs_id))
    obs.is_public = True
    for photo in obs.photos:
        photo.is_public = photos
    db.session.commit()


def submit(client, key, **extra):
    data = {"api_key": key, "service_code": "belysning", "lat": "62.6323", "long": "17.9379",
            "description": "Lampan är trasig vid busshållplatsen", "email": "medborgare@example.se",
            "first_name": "Anna", "attribute[safety_rating]": "3"}
    data.update(extra)
    return client.post(f"{BASE}/requests.json", data=data)


def test_discovery(client):
    data = client.get(f"{BASE}/discovery.json").get_json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_and_definitions(client):
    services = client.get(f"{BASE}/services.json").get_json()
    lamp = next(s for s in services if s["service_code"] == "belysning")
    assert lamp["service_name"] == "Belysning" and lamp["metadata"] is True and lamp["type"] == "realtime"
    assert isinstance(lamp["group"], str) and isinstance(lamp["keywords"], str)
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    assert root.find("service/metadata").text == "true"
    definition = client.get(f"{BASE}/services/belysning.json").get_json()
    assert definition["service_code"] == "belysning"
    datatypes = {a["code"]: a["datatype"] for a in definition["attributes"]}
    assert datatypes == {"safety_rating": "number", "kind": "singlevaluelist", "time_of_day": "multivaluelist"}
    assert all(isinstance(a["required"], bool) and isinstance(a["order"], int) for a in definition["attributes"])
    root = xml(client.get(f"{BASE}/services/belysning.xml"))
    assert root.tag == "service_definition"
    assert [v.find("key").text for v in root.find("attributes/attribute[code='kind']/values")] == ["problem", "positive"]
    missing = client.get(f"{BASE}/services/finns-inte.xml")
    assert missing.status_code == 404 and ET.fromstring(missing.data).find("error/code").text == "404"


def test_round_trip_form_then_multipart_then_fixed(app, client, users, auth, key):
    created = submit(client, key, **{"attribute[time_of_day][]": "evening", "media_url": "https://example.org/a.jpg"})
    assert created.status_code == 201, created.data
    [answer] = created.get_json()
    assert isinstance(answer["service_request_id"], str) and "token" not in answer  # the id or a token, not both
    request_id = answer["service_request_id"]
    # the stored token still resolves to the id
    with app.app_context():
        token = db.session.get(Observation, int(request_id)).external_id
    [by_token] = client.get(f"{BASE}/tokens/{token}.json").get_json()
    assert by_token == {"service_request_id": request_id, "token": token}
    # multipart with a photo
    multipart = client.post(f"{BASE}/requests.xml", content_type="multipart/form-data", data={
        "api_key": key, "service_code": "klotter", "lat": "62.631", "long": "17.936",
        "media": (io.BytesIO(samples.jpeg_with_orientation_and_gps(800, 600)), "foto.jpg")})
    assert multipart.status_code == 201
    photo_request = xml(multipart).find("request/service_request_id").text
    with app.app_context():
        obs = db.session.get(Observation, int(request_id))
        assert obs.source is Source.open311 and obs.source_detail == "FixaMinGata" and obs.status is Status.new
        assert obs.safety_rating == 3
        reported = db.session.scalar(db.select(Event).filter_by(observation_id=obs.id, action="reported"))
        assert reported.data["open311"]["media_url"] == "https://example.org/a.jpg"  # stored, never fetched
        assert reported.data["open311"]["attributes"]["time_of_day"] == ["evening"]
        assert count(Photo) == 1
        assert not obs.is_public and not db.session.scalar(db.select(Photo)).is_public
    # nothing is public until a coordinator publishes it
    assert client.get(f"{BASE}/requests/{request_id}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json").get_json() == []
    with app.app_context():
        publish(request_id)
        publish(photo_request)
    # read back, JSON types per spec
    [item] = client.get(f"{BASE}/requests/{request_id}.json").get_json()
    assert item["status"] == "open" and item["service_code"] == "belysning"
    assert isinstance(item["lat"], float) and isinstance(item["long"], float)
    assert item["requested_datetime"].endswith("Z") and "Anna" not in json.dumps(item)
    [with_photo] = client.get(f"{BASE}/requests/{photo_request}.json").get_json()
    media = client.get(with_photo["media_url"].replace("http://localhost", ""))
    assert media.status_code == 200 and media.mimetype == "image/jpeg"
    # a coordinator moves it to fixed
    with app.app_context():
        db.session.add(Organisation(name="HEMAB"))
        db.session.commit()
        org_id = db.session.scalar(db.select(Organisation.id).filter_by(name="HEMAB"))
    auth.login_as(Role.coordinator)
    # (publishing it made version 2)
    client.post(f"/observations/{request_id}/move", data={"action": "accept", "version": "2"})
    client.post(f"/observations/{request_id}/move", data={"action": "assign", "version": "3",
                                                            "organisation_id": str(org_id), "priority": "normal"})
    client.post(f"/observations/{request_id}/move", data={"action": "fix", "version": "4",
                                                            "comment": "Lampan är bytt", "public": "y"})
    [item] = client.get(f"{BASE}/requests/{request_id}.json").get_json()
    assert item["status"] == "closed" and item["status_notes"] == "Lampan är bytt"
    assert item["agency_responsible"] == "HEMAB"
    closed = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert [r["service_request_id"] for r in closed] == [request_id]
    updates = client.get(f"{BASE}/servicerequestupdates.json").get_json()
    mine = [u for u in updates if u["service_request_id"] == request_id]
    assert [u["status"] for u in mine] == ["open", "investigating", "action_scheduled", "fixed"]
    assert mine[-1]["description"] == "Lampan är bytt" and mine[-1]["updated_datetime"].endswith("Z")
    root = xml(client.get(f"{BASE}/servicerequestupdates.xml"))
    assert root.tag == "service_request_updates" and root.find("request_update/update_id").text


def test_requests_filters_and_paging(app, client, users, key):
    ids = [submit(client, key, service_code=code).get_json()[0]["service_request_id"]
           for code in ("belysning", "klotter", "klotter")]
    with app.app_context():
        for request_id in ids:
            publish(request_id)
        make_observation(users[Role.walker], description="Inte offentlig")  # never shown
    listed = client.get(f"{BASE}/requests.json").get_json()
    assert sorted(r["service_request_id"] for r in listed) == sorted(ids)
    assert len(client.get(f"{BASE}/requests.json?service_code=klotter").get_json()) == 2
    assert len(client.get(f"{BASE}/requests.json?service_request_id={ids[0]},{ids[2]}").get_json()) == 2
    assert client.get(f"{BASE}/requests.json?start_date=2000-01-01T00:00:00Z&end_date=2000-01-02T00:00:00Z").get_json() == []
    assert len(client.get(f"{BASE}/requests.json?page_size=2").get_json()) == 2
    assert len(client.get(f"{BASE}/requests.json?page_size=2&page=2").get_json()) == 1
    assert len(client.get(f"{BASE}/requests.json?status=&service_code=").get_json()) == 3  # empty = absent
    root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and len(root.findall("request")) == 3
    assert root.find("request/lat").text.startswith("62.63")
    bad = client.get(f"{BASE}/requests.xml?start_date=yesterday")
    assert bad.status_code == 400 and ET.fromstring(bad.data).tag == "errors"


def test_errors_for_keys_and_input(app, client, users, key):
    missing = client.post(f"{BASE}/requests.xml", data={"service_code": "belysning", "lat": "62", "long": "17"})
    assert missing.status_code == 403
    error = ET.fromstring(missing.data).find("error")
    assert error.find("code").text == "403" and error.find("description").text
    assert client.post(f"{BASE}/requests.json", data={"api_key": "wrong", "service_code": "belysning"}).status_code == 403
    cases = [
        ({"service_code": ""}, 400),
        ({"service_code": "finns-inte"}, 404),
        ({"lat": "", "long": ""}, 400),
        ({"lat": "", "long": "", "address_string": "Storgatan 1"}, 400),
        ({"lat": "91"}, 400),
        ({"description": "<script>alert(1)</script>"}, 400),
        ({"description": "x" * 4001}, 400),
        ({"attribute[safety_rating]": "11"}, 400),
        ({"attribute[time_of_day][]": "brunch"}, 400),
    ]
    for extra, status in cases:
        response = submit(client, key, **extra)
        assert response.status_code == status, (extra, response.data)
        [body] = response.get_json()
        assert body["code"] == status and body["description"]
    hostile = client.post(f"{BASE}/requests.json", content_type="multipart/form-data", data={
        "api_key": key, "service_code": "belysning", "lat": "62.63", "long": "17.93",
        "media": (io.BytesIO(samples.svg_bytes()), "x.svg")})
    assert hostile.status_code == 400
    with app.app_context():
        assert count(Observation) == 0 and count(Photo) == 0
    assert client.get(f"{BASE}/requests/999.json").status_code == 404
    assert client.get(f"{BASE}/tokens/nope.xml").status_code == 404


def test_jurisdiction_is_checked_when_configured(app_factory):
    app = app_factory(OPEN311_JURISDICTION="harnosand.se")
    client = app.test_client()
    assert client.get(f"{BASE}/services.json?jurisdiction_id=harnosand.se").status_code == 200
    assert client.get(f"{BASE}/services.json").status_code == 200
    assert client.get(f"{BASE}/services.json?jurisdiction_id=sundsvall.se").status_code == 404


def test_key_limits_and_revocation(app, client, key):
    for _ in range(50):
        assert submit(client, key).status_code == 201
    limited = submit(client, key)
    assert limited.status_code == 429 and limited.get_json()[0]["code"] == 429
    with app.app_context():
        from walkapp.models import ApiKey
        stored = db.session.scalar(db.select(ApiKey))
        assert key not in stored.key_hash


def test_admin_creates_and_revokes_keys_in_the_ui(app, client, users, auth):
    auth.login_as(Role.admin)
    page = client.post("/admin/api-keys", data={"name": "Appen", "requests_per_hour": "100"}).get_data(as_text=True)
    import re
    new_key = re.search(r'<code class="key">([^<]+)</code>', page).group(1)
    assert submit(client, new_key).status_code == 201
    with app.app_context():
        from walkapp.models import ApiKey
        key_id = db.session.scalar(db.select(ApiKey.id))
    client.post(f"/admin/api-keys/{key_id}/revoke")
    assert submit(client, new_key).status_code == 403
    assert new_key not in client.get("/admin/api-keys").get_data(as_text=True)


def test_submissions_wait_for_a_coordinator(app, client, key):
    """A POSTed request enters as new and hidden, its photo too, until a coordinator publishes."""
    notice = client.get(f"{BASE}/discovery.json").get_json()["notice"]
    assert "granskat" in notice and "reviewed" in notice
    assert ET.fromstring(client.get(f"{BASE}/discovery.xml").data).find("notice").text == notice
    created = client.post(f"{BASE}/requests.json", content_type="multipart/form-data", data={
        "api_key": key, "service_code": "klotter", "lat": "62.631", "long": "17.936", "description": "Nytt klotter",
        "media": (io.BytesIO(samples.jpeg_with_orientation_and_gps(800, 600)), "foto.jpg")})
    assert created.status_code == 201
    [answer] = created.get_json()
    assert "granskar" in answer["service_notice"]
    request_id = answer["service_request_id"]
    with app.app_context():
        obs = db.session.get(Observation, int(request_id))
        assert obs.status is Status.new and not obs.is_public
        [photo] = obs.photos
        assert not photo.is_public
        photo_id = photo.id

    def visible():
        listed = client.get(f"{BASE}/requests.json").get_json()
        one = client.get(f"{BASE}/requests/{request_id}.json")
        updates = client.get(f"{BASE}/servicerequestupdates.json").get_json()
        return ([r["service_request_id"] for r in listed], one.status_code,
                [u["service_request_id"] for u in updates],
                client.get(f"{BASE}/media/{photo_id}.jpg").status_code)

    assert visible() == ([], 404, [], 404)
    with app.app_context():
        publish(request_id, photos=False)  # the text, not the photo
    assert visible() == ([request_id], 200, [request_id], 404)
    assert client.get(f"{BASE}/requests/{request_id}.json").get_json()[0]["media_url"] is None
    with app.app_context():
        publish(request_id)
    assert visible() == ([request_id], 200, [request_id], 200)


@pytest.mark.parametrize("email", [
    "anna@example.se\r\nBcc: alla@example.org", "anna@example.se\nbo@example.se", "anna@example.se, bo@example.se",
    "anna@example.se;bo@example.se", "Anna <anna@example.se>", "anna", "anna@", "anna@@example.se",
])
def test_email_must_be_one_valid_address(app, client, key, email):
    for fmt in ("json", "xml"):
        response = client.post(f"{BASE}/requests.{fmt}", data={
            "api_key": key, "service_code": "belysning", "lat": "62.63", "long": "17.93", "email": email})
        assert response.status_code == 400, response.data
        if fmt == "json":
            [body] = response.get_json()
            assert body["code"] == 400 and "email" in body["description"]
        else:
            assert ET.fromstring(response.data).find("error/code").text == "400"
    with app.app_context():
        assert count(Observation) == 0 and count(Follower) == 0
    assert submit(client, key, email="Anna.Andersson@Example.SE").status_code == 201
    with app.app_context():
        [follower] = db.session.scalars(db.select(Follower)).all()
        assert follower.email == "anna.andersson@example.se"


def test_kind_follows_a_problem_service(app, client, key):
    """attribute[kind]=positive cannot take a problem report out of the workflow."""
    problem = submit(client, key, **{"attribute[kind]": "positive"}).get_json()[0]["service_request_id"]
    safe_place = submit(client, key, service_code="trygg-plats").get_json()[0]["service_request_id"]
    problem_at_safe = submit(client, key, service_code="trygg-plats",
                             **{"attribute[kind]": "problem"}).get_json()[0]["service_request_id"]
    with app.app_context():
        kinds = [db.session.get(Observation, int(i)).kind for i in (problem, safe_place, problem_at_safe)]
        assert kinds == [Kind.problem, Kind.positive, Kind.problem]
    assert submit(client, key, **{"attribute[kind]": "neutral"}).status_code == 400


def test_json_answers_say_utf8(app, client, key):
    for path in ("discovery.json", "services.json", "services/belysning.json", "requests.json",
                 "servicerequestupdates.json", "requests/999.json", "services/finns-inte.json"):
        response = client.get(f"{BASE}/{path}")
        assert response.headers["Content-Type"] == "application/json; charset=utf-8", path
    created = submit(client, key)
    assert created.headers["Content-Type"] == "application/json; charset=utf-8"
    assert submit(client, key, lat="91").headers["Content-Type"] == "application/json; charset=utf-8"


def test_changeset_changes_when_categories_change(app, client):
    def changesets():
        data = client.get(f"{BASE}/discovery.json").get_json()
        xml_root = ET.fromstring(client.get(f"{BASE}/discovery.xml").data)
        assert data["endpoints"][0]["changeset"] == data["changeset"] == xml_root.find("changeset").text
        return data["changeset"]

    first = changesets()
    assert changesets() == first  # stable while nothing changes
    seen = [first]
    with app.app_context():
        lamp = db.session.scalar(db.select(Category).filter_by(code="belysning"))
        for change in (lambda: setattr(lamp, "name_sv", "Gatubelysning"),
                       lambda: setattr(lamp, "active", False),
                       lambda: db.session.add(Category(code="snoe", name_sv="Snö", name_en="Snow", sort_order=99))):
            change()
            db.session.commit()
            seen.append(changesets())
    assert len(set(seen)) == len(seen), seen


def test_refusals_inside_open311_are_open311_errors(app_factory):
    """Not the site's HTML error page: a too large upload and a missing photo, in the asked format."""
    app = app_factory(MAX_CONTENT_LENGTH=10_000)
    client = app.test_client()
    for fmt in ("json", "xml"):
        response = client.post(f"{BASE}/requests.{fmt}", content_type="multipart/form-data", data={
            "service_code": "belysning", "media": (io.BytesIO(b"x" * 20_000), "foto.jpg")})
        assert response.status_code == 413
        if fmt == "json":
            assert response.get_json()[0]["code"] == 413
        else:
            assert ET.fromstring(response.data).find("error/code").text == "413"
    missing = client.get(f"{BASE}/media/999.jpg")
    assert missing.status_code == 404 and ET.fromstring(missing.data).find("error/code").text == "404"
