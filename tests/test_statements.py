"""The privacy notice and the accessibility statement: public, translated, configured per municipality."""
import re

from .factories import make_walk


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_privacy_notice_names_controller_basis_and_the_configured_retention(app_factory):
    app = app_factory(CONTROLLER_NAME="Exempelby kommun", DPO_CONTACT="dso@exempelby.se",
                      RETENTION_CLOSED_ITEM_MONTHS=18, RETENTION_WALK_GUEST_MONTHS=1, RETENTION_LOG_DAYS=30)
    client = app.test_client()
    response = client.get("/integritet")
    assert response.status_code == 200
    page = text_of(response)
    assert "Exempelby kommun är personuppgiftsansvarig" in page
    assert "Dataskyddsombudet nås på dso@exempelby.se" in page
    assert "artikel 6.1 e" in page
    assert "tas bort 18 månader efter att ärendet avslutats" in page
    assert "raderas 1 månad efter vandringen" in page
    assert "raderas efter 30 dagar" in page
    assert "6 månader" in page  # the default for unpublished photos
    client.post("/language", data={"lang": "en"})
    page = text_of(client.get("/integritet"))
    assert "Exempelby kommun is the controller" in page and "removed 18 months after" in page
    assert "article 6.1 e" in page and "dso@exempelby.se" in page


def test_privacy_notice_without_configured_contacts_still_says_whom_to_ask(client):
    page = text_of(client.get("/integritet"))
    assert "Härnösands kommun är personuppgiftsansvarig" in page
    assert "Be Härnösands kommun om kontakt med dess dataskyddsombud" in page


def test_accessibility_statement_follows_diggs_model(app_factory):
    app = app_factory(ACCESSIBILITY_CONTACT="tillganglighet@exempelby.se", ACCESSIBILITY_ASSESSED="2026-11-30",
                      ACCESSIBILITY_GAPS=[{"sv": "Vår e-tjänst saknar ljud.", "en": "Our e-service has no sound."}],
                      ACCESSIBILITY_EXTRA="Ring oss gärna.")
    client = app.test_client()
    page = text_of(client.get("/tillganglighet"))
    assert "delvis förenlig med lagen om tillgänglighet till digital offentlig service" in page
    assert "Innehåll som inte är tillgängligt" in page and "Vår e-tjänst saknar ljud." in page
    assert "meddela oss så att vi vet att problemet finns: tillganglighet@exempelby.se" in page
    assert "Myndigheten för digital förvaltning (Digg)" in page
    assert "den 30 november 2026" in page and "Ring oss gärna." in page
    client.post("/language", data={"lang": "en"})
    page = text_of(client.get("/tillganglighet"))
    assert "partially compliant" in page and "Our e-service has no sound." in page
    assert "Agency for Digital Government (DIGG)" in page and "on 30 November 2026" in page


def test_every_page_and_the_guests_join_page_link_to_both(app, client):
    with app.app_context():
        make_walk(code="PRIV22")
    for path in ("/", "/login", "/join", "/integritet"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/integritet"' in page and 'href="/tillganglighet"' in page, path
    join = client.get("/j/PRIV22").get_data(as_text=True)
    form = join[join.index("<form method=\"post\""):]
    assert form.index('href="/integritet"') < form.index('name="name"')  # read before giving a name
