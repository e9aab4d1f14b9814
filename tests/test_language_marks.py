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


def test_swedish_terms_in_english_sentences_are_marked(client, users, auth):
    """The Swedish words an English page keeps (the law's report headings, lägesbild, DOS-lagen, the
    export's column names) are marked lang="sv"; a Swedish page has no marks at all."""
    from walkapp.models import Role

    auth.login_as(Role.coordinator)
    created = client.post("/lagesbild/reports/new?period=year", data={
        "title": "Rapport", "analysis": "Belysningen.", "sources_used": ["walk"]})
    assert created.status_code == 302, created.get_data(as_text=True)[:300]
    pages = {"/lagesbild/reports/new?period=year": ['New <span lang="sv">lägesbild</span> report'],
             "/lagesbild/reports": ['<span lang="sv">Lägesbild</span> reports'],
             created.headers["Location"]: ['1. Survey (<span lang="sv">kartläggning</span>)',
                                           '2. Analysis (<span lang="sv">analys</span>)',
                                           '3. Actions (<span lang="sv">åtgärder</span>)'],
             "/tillganglighet": ['digital public services (<span lang="sv">DOS-lagen</span>)'],
             "/import": ['Their columns <code lang="sv">status</code>, <code lang="sv">bedömd</code>, '
                         '<code lang="sv">åtgärdad</code>, <code lang="sv">stängd</code>, <code lang="sv">vandring</code> '
                         'and <code lang="sv">publik_länk</code> are not read']}
    swedish = {path: client.get(path).get_data(as_text=True) for path in pages}
    assert not any('<span lang="sv">' in page for page in swedish.values())
    assert "<h1>Ny lägesbildsrapport</h1>" in swedish["/lagesbild/reports/new?period=year"]
    assert "<h2>1. Kartläggning</h2>" in swedish[created.headers["Location"]]
    client.post("/language", data={"lang": "en"})
    for path, marked in pages.items():
        page = client.get(path).get_data(as_text=True)
        for text in marked:
            assert text in page, (path, text)
