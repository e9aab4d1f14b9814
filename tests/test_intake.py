"""One way in: the report page, the JSON API, Open311 and the importer refuse and accept by one rule."""
import html
import io

import pytest

from walkapp import inputs
from walkapp.extensions import db
from walkapp.models import Event, Observation, Role, Source

from .factories import HERE, count
from .test_exchange import csv_file, error_rows, import_file, upload
from .test_open311 import BASE

TOO_LONG = "x" * (inputs.DESCRIPTION_MAX + 1)
JUST_RIGHT = "y" * inputs.DESCRIPTION_MAX
LIMIT_MESSAGE = f"The text is longer than {inputs.DESCRIPTION_MAX} characters."


def report_form(description: str) -> dict:
    return {"category": "belysning", "lat": str(HERE[0]), "lon": str(HERE[1]), "description": description}


def send_page(client, description):
    response = client.post("/report", data=report_form(description))
    return response.status_code, html.unescape(response.get_data(as_text=True))


def send_api(client, description):
    response = client.post("/api/v1/observations", data=report_form(description))
    return response.status_code, " ".join(e["message"] for e in response.get_json().get("errors", [])
                                           if e["field"] == "description")


def send_open311(client, api_key, description):
    response = client.post(f"{BASE}/requests.json", data={
        "api_key": api_key, "service_code": "belysning", "lat": str(HERE[0]), "long": str(HERE[1]),
        "description": description})
    body = response.get_json()
    return response.status_code, body[0].get("description", "") if isinstance(body, list) else ""


def send_import(client, description):
    data = csv_file([["kategori", "beskrivning", "lat", "lon"],
                     ["belysning", description, str(HERE[0]), str(HERE[1])]])
    response = upload(client, data)
    if response.status_code != 200:
        return response.status_code, " ".join(m for _r, column, m in error_rows(response.get_data(as_text=True))
                                               if column == "beskrivning")
    return import_file(client, data).status_code, ""


@pytest.fixture
def key(app):
    result = app.test_cli_runner().invoke(args=["create-api-key", "Rapportappen"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture
def english_coordinator(client, users, auth):
    auth.login_as(Role.coordinator)
    client.post("/language", data={"lang": "en"})
    return client


def test_one_description_limit_on_every_way_in(app, english_coordinator, key):
    client = english_coordinator
    refused = {
        "page": send_page(client, TOO_LONG),
        "api": send_api(client, TOO_LONG),
        "open311": send_open311(client, key, TOO_LONG),
        "import": send_import(client, TOO_LONG),
    }
    for way, (status, message) in refused.items():
        assert status == 400, way
        assert LIMIT_MESSAGE in message, (way, message)
    with app.app_context():
        assert count(Observation) == 0 and count(Event) == 0

    accepted = {
        "page": send_page(client, JUST_RIGHT)[0],
        "api": send_api(client, JUST_RIGHT)[0],
        "open311": send_open311(client, key, JUST_RIGHT)[0],
        "import": send_import(client, JUST_RIGHT)[0],
    }
    assert accepted == {"page": 302, "api": 201, "open311": 201, "import": 302}
    with app.app_context():
        made = db.session.scalars(db.select(Observation).order_by(Observation.id)).all()
        assert [o.description for o in made] == [JUST_RIGHT] * 4
        assert [o.source for o in made][2:] == [Source.open311, Source.police]
        assert all(len(o.events) == 1 and o.version == 1 for o in made)


def test_the_report_page_keeps_what_was_typed_after_a_refusal(english_coordinator):
    response = english_coordinator.post("/report", data=report_form(TOO_LONG))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'maxlength="{inputs.DESCRIPTION_MAX}"' in page and TOO_LONG in page


def test_open311_names_its_own_fields(app, client, users, key):
    response = client.post(f"{BASE}/requests.json", data={
        "api_key": key, "service_code": "belysning", "lat": "91", "long": str(HERE[1]),
        "address_string": "a" * (inputs.ADDRESS_MAX + 1), "attribute[safety_rating]": "11"})
    assert response.status_code == 400
    description = response.get_json()[0]["description"]
    assert "lat: The latitude must be a number between -90 and 90." in description
    assert f"address_string: The text is longer than {inputs.ADDRESS_MAX} characters." in description
    assert "attribute[safety_rating]: Choose 1–10." in description
    with app.app_context():
        assert count(Observation) == 0


def test_a_photo_upload_is_stored_with_its_report(app, client, users, auth):
    from . import photo_samples as samples
    from walkapp import photos
    auth.login_as(Role.walker)
    data = report_form("Med foto")
    data["photos"] = [(io.BytesIO(samples.png_bytes()), "a.png")]
    response = client.post("/api/v1/observations", data=data, content_type="multipart/form-data")
    assert response.status_code == 201
    with app.app_context():
        [obs] = db.session.scalars(db.select(Observation)).all()
        [photo] = obs.photos
        assert photo.uploader_id == obs.reporter_id and photos.storage().exists(photo.storage_key, "display")
