"""Leaflet's own strings follow the page's language, and Swedish text on an English page is marked lang="sv"."""


def test_map_controls_speak_swedish_and_measure_in_metres(client):
    page = client.get("/").get_data(as_text=True)
    assert '"zoomInTitle": "Zooma in"' in page and '"zoomOutTitle": "Zooma ut"' in page
    assert "L.control.scale({imperial: false})" in page
    assert "OpenStreetMap\\u003c/a\\u003e-bidragsgivare" in page
    assert "Ett JavaScript-bibliotek f\\u00f6r interaktiva kartor" in page


def test_map_controls_in_english_on_an_english_page(client):
    client.post("/language", data={"lang": "en"})
    page = client.get("/").get_data(as_text=True)
    assert '"zoomInTitle": "Zoom in"' in page and "contributors" in page


def test_the_municipality_is_marked_swedish_only_on_an_english_page(client):
    assert '<span lang="sv">' not in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "en"})
    page = client.get("/").get_data(as_text=True)
    assert '<span lang="sv">Härnösands kommun</span>' in page


def test_import_columns_are_marked_swedish(client, users, auth):
    from walkapp.models import Role

    auth.login_as(Role.coordinator)
    client.post("/language", data={"lang": "en"})
    page = client.get("/import").get_data(as_text=True)
    assert '<code lang="sv">beskrivning</code>' in page
