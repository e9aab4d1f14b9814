"""Descriptions that look like they hold personal data are marked for review (issue 13 item 6)."""
import pytest

from walkapp.extensions import db
from walkapp.models import Observation, Role
from walkapp.personal_data import findings

from .factories import HERE, make_observation, make_walk


@pytest.mark.parametrize("text, kinds", [
    ("Ring mig på 070-123 45 67", {"phone"}),
    ("+46 70 123 45 67", {"phone"}),
    ("Kommunen 0611-34 80 00", {"phone"}),
    ("tel 0701234567", {"phone"}),
    ("Skriv till anna.svensson@example.se", {"email"}),
    ("Mitt personnummer är 811218-9876", {"personnummer"}),
    ("19811218-9876", {"personnummer"}),
    ("198112189876", {"personnummer"}),
    ("samordningsnummer 701063-2391", {"personnummer"}),
])
def test_personal_data_is_found(text, kinds):
    assert findings(text) == kinds


@pytest.mark.parametrize("text", [
    "Trasig lampa vid Storgatan 12",
    "Mörkt sedan 2026-12-02, mellan hus 12-14",
    "Lampan släckt 20261202 kl 08-17",
    "Fel kontrollsiffra 811218-9875",
    "Postnummer 871 42, ärende 123456",
    "Datum 02-12-2026",
    "Åren 1998 och 2004",
    "",
])
def test_street_numbers_dates_and_other_figures_are_not(text):
    assert findings(text) == set()


def test_flag_is_set_on_create_and_follows_every_edit(app, client, users, auth):
    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="PDAT22")
        walk_id = walk.id
    auth.login_as(Role.walker)
    response = client.post("/report", data={"category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1]),
                                            "description": "Ring 070-123 45 67 om du vet", "walk": walk_id})
    assert response.status_code == 302
    with app.app_context():
        obs = db.session.scalar(db.select(Observation))
        obs_id = obs.id
        assert obs.may_hold_personal_data is True
    edit = {"category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1]), "version": "1",
            "description": "Klotter på Storgatan 12 sedan 2026-12-02"}
    assert client.post(f"/observations/{obs_id}/edit", data=edit).status_code == 302
    with app.app_context():
        assert db.session.get(Observation, obs_id).may_hold_personal_data is False
    edit.update(version="2", description="Kontakta mig på nisse@example.se")
    assert client.post(f"/observations/{obs_id}/edit", data=edit).status_code == 302
    with app.app_context():
        assert db.session.get(Observation, obs_id).may_hold_personal_data is True


def test_api_and_other_sources_are_marked_too(app, client, users, auth):
    auth.login_as(Role.coordinator)
    response = client.post("/api/v1/observations", content_type="multipart/form-data", data={
        "category": "belysning", "lat": str(HERE[0]), "lon": str(HERE[1]), "description": "pnr 811218-9876"})
    assert response.status_code == 201
    with app.app_context():
        assert db.session.get(Observation, response.get_json()["id"]).may_hold_personal_data is True


def test_inbox_shows_the_badge_and_filters_on_it(app, client, users, auth):
    with app.app_context():
        flagged = make_observation(users[Role.walker], description="Ring 070-123 45 67").id
        plain = make_observation(users[Role.walker], description="Trasig lampa vid Storgatan 12").id
    auth.login_as(Role.coordinator)
    page = client.get("/inbox").get_data(as_text=True)
    assert page.count("Kan innehålla personuppgifter") == 1
    card = page[page.index(f'name="ids" value="{flagged}"'):]
    assert card.index("Kan innehålla personuppgifter") < card.index("</li>")
    page = client.get("/inbox?personal=1").get_data(as_text=True)
    assert f"/observations/{flagged}" in page and f"/observations/{plain}\"" not in page
    assert 'id="f-personal" name="personal" value="1" checked' in page
    assert "Kan innehålla personuppgifter" in client.get(f"/observations/{flagged}").get_data(as_text=True)
    assert "Kan innehålla personuppgifter" not in client.get(f"/observations/{plain}").get_data(as_text=True)
