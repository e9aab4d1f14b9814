"""Exports (CSV for Swedish Excel, plain CSV, GeoJSON) and CSV imports, over HTTP on a real database."""
from __future__ import annotations

import csv
import html
import io
import json
import re
import secrets
from datetime import date, datetime, timedelta, timezone

import pytest
from pyproj import Transformer


from walkapp.categories import seed_default_categories
from walkapp.exchange.columns import EXPORT_COLUMNS, TEMPLATE_HEADERS, neutralise, unneutralise
from walkapp import workflow
from walkapp.extensions import db
from walkapp.observations.filters import ObservationFilter
from walkapp.models import Event, Kind, Observation, Organisation, Priority, Role, Source, Status, User
from walkapp.observations.service import distance_m

from .conftest import AuthActions, create_user, make_test_app
from .factories import HERE, count, count_statements, make_observation, make_walk

HEADER = [h for _, h in EXPORT_COLUMNS]
CREATED = datetime(2024, 10, 3, 16, 45, 12, 345678, tzinfo=timezone.utc)  # 18:45:12 in Härnösand


@pytest.fixture
def coordinator(client, users, auth):
    auth.login_as(Role.coordinator)
    client.post("/language", data={"lang": "en"})  # assertions below read the English messages
    return client


def read_csv(body: bytes, variant: str = "excel") -> list[dict]:
    text = body.decode("utf-8-sig" if variant == "excel" else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if variant == "excel" else ","))


def csv_file(rows: list[list], delimiter: str = ";", bom: bool = True, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding)


def upload(client, data: bytes, source: str = "police", sender: str = "", filename: str = "lista.csv"):
    return client.post("/import", data={"file": (io.BytesIO(data), filename), "source": source, "sender": sender},
                       content_type="multipart/form-data")


def hidden_fields(page: str) -> dict:
    return {name: html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)}


def confirm(client, preview_page: str, **changes):
    fields = hidden_fields(preview_page)
    assert "seal" in fields, "the preview has no confirm form"
    fields.update(changes)
    return client.post("/import/confirm", data=fields, content_type="multipart/form-data")


def import_file(client, data: bytes, **kwargs):
    preview = upload(client, data, **kwargs)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    return confirm(client, preview.get_data(as_text=True))


def error_rows(page: str) -> list[tuple[int, str, str]]:
    found = re.findall(r'<tr class="import-error"><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', page)
    return [(int(row), html.unescape(column), html.unescape(message)) for row, column, message in found]




# --- a rich data set ----------------------------------------------------------------

# The properties every observation feature has, in the API and the export (README, GeoJSON).
GEOJSON_PROPERTIES = {
    "id", "category", "category_name", "kind", "status", "status_name", "description", "rating", "accuracy_m",
    "address", "source", "source_detail", "organisation", "priority", "due_date", "walk", "walk_title",
    "created_at", "updated_at", "accepted_at", "fixed_at", "closed_at",
}
TRICKY = 'Lampan är trasig; "vid" kiosken,\nrad två – åäö 😀'


def populate(app, users) -> dict[str, int]:
    with app.app_context():
        hemab = Organisation(name="HEMAB")
        db.session.add(hemab)
        db.session.commit()
        walk = make_walk(code="EXPO22", title="Centrum i kväll")
        walker = users[Role.walker]
        made = {
            "assigned": make_observation(
                walker, walk, description=TRICKY, external_id="P-1", source=Source.police,
                source_detail="Polisen Härnösand", address="Storgatan 1", organisation_id=hemab.id,
                priority=Priority.high, due_date=date(2024, 11, 1), status=Status.assigned,
                accepted_at=CREATED + timedelta(hours=1), assigned_at=CREATED + timedelta(hours=2),
                created_at=CREATED, is_public=True),
            "formula": make_observation(
                walker, walk, code="klotter", description='=HYPERLINK("http://evil.example","klicka")',
                external_id="-42", source=Source.school, source_detail="@Skolan", status=Status.fixed,
                fixed_at=CREATED + timedelta(days=3), created_at=CREATED - timedelta(days=200), is_public=True,
                lat=62.63, lon=17.94),
            "abroad": make_observation(
                walker, None, code="vegetation", description="+46 70 123 45 67", source=Source.resident,
                status=Status.verified, closed_at=CREATED + timedelta(days=9), created_at=CREATED,
                lat=-33.868820, lon=151.209296, priority=Priority.low),
            "quoted": make_observation(
                walker, None, code="annat", description="'=already quoted", external_id="'x",
                source=Source.field_group, created_at=datetime(2024, 1, 31, 23, 30, tzinfo=timezone.utc)),
            "safe": make_observation(
                walker, walk, code="trygg-plats", description="Bra belyst torg", source=Source.walk,
                created_at=CREATED, lat=62.6325, lon=17.9401),
        }
        return {name: obs.id for name, obs in made.items()}


def snapshot(obs: Observation) -> dict:
    """The fields an import carries over (times to the second, as the files hold them)."""
    return {
        "external_id": obs.external_id, "category": obs.category.code, "kind": obs.kind,
        "description": obs.description, "lat": obs.lat, "lon": obs.lon, "address": obs.address,
        "source": obs.source, "organisation": obs.organisation.name if obs.organisation else None,
        "priority": obs.priority, "due_date": obs.due_date, "created": obs.created_at.replace(microsecond=0),
    }


# --- exports ------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["excel", "utf8"])
def test_export_import_round_trip_into_an_empty_database(app, coordinator, users, tmp_path, empty_database_url,
                                                         variant):
    ids = populate(app, users)
    files = []
    for kind in ("problem", "positive"):
        response = coordinator.get(f"/export/observations.csv?variant={variant}&kind={kind}")
        assert response.status_code == 200
        files.append(response.data)  # read now: the body is streamed
    with app.app_context():
        originals = {obs.description: (snapshot(obs), obs.source_detail)
                     for obs in db.session.scalars(db.select(Observation))}
    assert sum(len(read_csv(f, variant)) for f in files) == len(ids)

    other = make_test_app(tmp_path / "other", empty_database_url)
    try:
        with other.app_context():
            db.create_all()
            seed_default_categories()
            db.session.add(Organisation(name="HEMAB"))
            db.session.commit()
            importer_id = create_user(Role.coordinator).id
        client = other.test_client()
        AuthActions(client).login_as(Role.coordinator)
        client.post("/language", data={"lang": "en"})
        for n, exported in enumerate(files):
            done = import_file(client, exported, source="police", filename=f"export-{n}.csv")
            assert done.status_code == 302, done.get_data(as_text=True)

        with other.app_context():
            imported = db.session.scalars(db.select(Observation)).all()
            assert len(imported) == len(ids)
            for obs in imported:
                expected, detail = originals[obs.description]
                assert snapshot(obs) == expected, obs.description
                assert obs.source_detail == (detail or f"export-{0 if obs.kind is Kind.problem else 1}.csv")
                # imported items start the workflow afresh
                assert (obs.status, obs.accepted_at, obs.assigned_at, obs.fixed_at, obs.closed_at,
                        obs.walk_id, obs.reporter_id, obs.is_public) == (Status.new, None, None, None, None,
                                                                         None, None, False)
                assert [(e.action, e.to_status, e.actor_id) for e in obs.events] == [
                    ("imported", Status.new, importer_id)]

        # and the second database's export says the same, column by column
        again = client.get(f"/export/observations.csv?variant={variant}&kind=problem").data
        first = {r["beskrivning"]: r for r in read_csv(files[0], variant)}
        for row in read_csv(again, variant):
            original = first[row["beskrivning"]]
            for column in ("externt_id", "kategori", "kategorinamn", "typ", "beskrivning", "skapad", "lat",
                           "lon", "adress", "källa", "ansvarig", "prioritet", "slutdatum"):
                assert row[column] == original[column], column
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_formulas_are_neutralised_in_csv_but_not_in_geojson(app, coordinator, users):
    texts = ["=1+1", "+1", "-1", "@SUM(A1)", "\tTAB", "\rCR", "'=quoted", "ordinary", "-"]
    with app.app_context():
        for n, text in enumerate(texts):
            make_observation(users[Role.walker], description=text, external_id=f"=E{n}", source=Source.police)
    for variant in ("excel", "utf8"):
        rows = read_csv(coordinator.get(f"/export/observations.csv?variant={variant}").data, variant)
        cells = {unneutralise(r["beskrivning"]): r for r in rows}
        assert set(cells) == set(texts)
        for text, row in cells.items():
            if text == "ordinary":
                assert row["beskrivning"] == "ordinary"
            else:
                assert row["beskrivning"] == "'" + text, text
            assert row["externt_id"].startswith("'=E")
    features = coordinator.get("/export/observations.geojson").get_json(force=True)["features"]
    assert {f["properties"]["description"] for f in features} == set(texts)
    assert {f["properties"]["external_id"][:2] for f in features} == {"=E"}


def test_neutralising_is_reversible():
    for text in ["", "'", "''", "'a", "=x", "'=x", "''=x", "+", "a=b", "-12"]:
        assert unneutralise(neutralise(text)) == text
        assert neutralise(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_swedish_excel_variant(app, coordinator, users):
    with app.app_context():
        make_observation(users[Role.walker], description="Trasig lampa; vid ån", created_at=CREATED)
    response = coordinator.get("/export/observations.csv")  # excel is the default
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="observationer-')
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ";".join(HEADER)
    assert lines[1].count(";") >= len(HEADER) - 1 and "\n" not in lines[1]
    row = read_csv(body)[0]
    assert row["beskrivning"] == "Trasig lampa; vid ån"
    assert (row["lat"], row["lon"]) == ("62,6323", "17,9379")  # decimal comma, as Swedish Excel reads numbers
    assert row["skapad"] == "2024-10-03 18:45:12"  # local time that Excel takes for a date

    plain = coordinator.get("/export/observations.csv?variant=utf8").data
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert plain.decode().split("\r\n")[0] == ",".join(HEADER)
    row = read_csv(plain, "utf8")[0]
    assert (row["lat"], row["lon"], row["skapad"]) == ("62.6323", "17.9379", "2024-10-03T18:45:12+02:00")
    assert coordinator.get("/export/observations.csv?variant=xls").status_code == 400


def test_geojson_for_qgis(app, coordinator, users):
    ids = populate(app, users)
    response = coordinator.get("/export/observations.geojson?kind=problem")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.data.decode("utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    features = {f["id"]: f for f in data["features"]}
    assert set(features) == {ids[k] for k in ("assigned", "formula", "abroad", "quoted")}
    for feature in features.values():
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    assigned = features[ids["assigned"]]
    assert assigned["geometry"]["coordinates"] == [HERE[1], HERE[0]]  # longitude first (RFC 7946)
    assert features[ids["abroad"]]["geometry"]["coordinates"] == [151.209296, -33.86882]
    props = assigned["properties"]
    assert set(props) == GEOJSON_PROPERTIES | {"external_id", "public_url"}
    assert props["description"] == TRICKY and props["category"] == "belysning"
    assert props["created_at"] == "2024-10-03T18:45:12+02:00" and props["due_date"] == "2024-11-01"
    assert props["organisation"] == "HEMAB" and props["priority"] == "high" and props["status"] == "assigned"
    assert props["walk_title"] == "Centrum i kväll"
    with app.app_context():
        assert props["walk"] == db.session.get(Observation, ids["assigned"]).walk_id
    with app.app_context():
        token = db.session.get(Observation, ids["assigned"]).walk.public_token
    assert props["public_url"] == f"http://localhost/f/{token}"
    assert features[ids["abroad"]]["properties"]["public_url"] is None  # not a public walk item


def test_the_api_and_the_export_give_one_feature_shape(app, coordinator, users):
    ids = populate(app, users)
    exported = {f["id"]: f for f in coordinator.get("/export/observations.geojson").get_json(force=True)["features"]}
    for obs_id in ids.values():
        api = coordinator.get(f"/api/v1/observations/{obs_id}").get_json()
        mine = exported[obs_id]
        assert api["geometry"] == mine["geometry"] and api["id"] == mine["id"] == obs_id
        shared = {k: v for k, v in api["properties"].items() if k in GEOJSON_PROPERTIES}
        assert set(shared) == GEOJSON_PROPERTIES
        assert shared == {k: v for k, v in mine["properties"].items() if k in GEOJSON_PROPERTIES}
        assert set(api["properties"]) - GEOJSON_PROPERTIES == {
            "colour", "icon", "mine", "version", "overdue", "photos", "url"}


def test_export_takes_the_inbox_query_string(app, coordinator, users):
    with app.app_context():
        walk = make_walk(code="FILT22")
        keep = make_observation(users[Role.walker], walk, description="keep").id
        make_observation(users[Role.walker], walk, code="klotter", description="other category")
        make_observation(users[Role.walker], walk, description="other status", status=Status.accepted)
        make_observation(users[Role.walker], None, description="other walk")
        make_observation(users[Role.walker], walk, code="trygg-plats", description="safe place")
        walk_id = walk.id
    query = f"status=new&category=belysning&walk={walk_id}&sort=oldest&page=3"
    assert [r["id"] for r in read_csv(coordinator.get(f"/export/observations.csv?{query}").data)] == [str(keep)]
    features = coordinator.get(f"/export/observations.geojson?{query}").get_json(force=True)["features"]
    assert [f["id"] for f in features] == [keep]
    # without kind= everything is exported; the inbox's links say kind=problem themselves
    everything = read_csv(coordinator.get("/export/observations.csv").data)
    assert "safe place" in {r["beskrivning"] for r in everything} and len(everything) == 5
    problems = read_csv(coordinator.get("/export/observations.csv?kind=problem").data)
    assert "safe place" not in {r["beskrivning"] for r in problems} and len(problems) == 4
    safe = read_csv(coordinator.get("/export/observations.csv?kind=positive").data)
    assert [r["beskrivning"] for r in safe] == ["safe place"]
    bad = coordinator.get("/export/observations.csv?status=nonsense")
    assert bad.status_code == 400 and b"status" in bad.data.lower()


def test_export_query_count_does_not_grow_with_rows(app, coordinator, users):
    with app.app_context():
        org = Organisation(name="HEMAB")
        db.session.add(org)
        db.session.commit()
        walk = make_walk(code="QCNT22")
        make_observation(users[Role.walker], walk, organisation_id=org.id)

    def count_for(path):
        return count_statements(app, lambda: coordinator.get(path).data)

    few = {p: count_for(p) for p in ("/export/observations.csv", "/export/observations.geojson")}
    with app.app_context():
        for n in range(30):
            other = Organisation(name=f"Org {n}")
            db.session.add(other)
            db.session.flush()
            make_observation(users[Role.walker], make_walk(code=f"Q{n:03d}XX"), code="klotter",
                             organisation_id=other.id, is_public=True)
    many = {p: count_for(p) for p in few}
    assert many == few
    assert len(read_csv(coordinator.get("/export/observations.csv").data)) == 31


def test_export_links_keep_the_inbox_filters(app):
    from flask import render_template
    from werkzeug.datastructures import MultiDict

    with app.test_request_context("/inbox"):
        filters = ObservationFilter.from_args(MultiDict({"category": "belysning", "status": "new,accepted",
                                                         "kind": "problem"}))
        links = re.findall(r'href="([^"]+)"', render_template("exchange/_export_links.html", filters=filters,
                                                                sort="oldest"))
    assert len(links) == 3
    for link in links:
        link = html.unescape(link)
        assert link.startswith("/export/observations.")
        assert all(part in link for part in ("category=belysning", "status=new,accepted", "kind=problem",
                                             "sort=oldest"))
    assert "variant=excel" in links[0] and "variant=utf8" in links[1] and ".geojson?" in links[2]


# --- imports ------------------------------------------------------------------------

def test_import_page_and_template(app, coordinator):
    page = coordinator.get("/import")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in text and 'name="csrf_token"' in text
    assert "/import/template.csv" in text and "<caption>" in text and 'scope="row"' in text
    template = coordinator.get("/import/template.csv")
    assert template.status_code == 200 and template.data.startswith(b"\xef\xbb\xbf")
    assert template.data.decode("utf-8-sig").strip() == ";".join(TEMPLATE_HEADERS)
    # the template, filled in as Excel saves it, imports
    filled = template.data + csv_file([["T-1", "Belysning", "Mörk gångtunnel", "2024-09-01 21:15", "62,6323",
                                        "17,9379", "", "", "Tunneln", "Murbergsskolan"]], bom=False)
    done = import_file(coordinator, filled, source="school")
    assert done.status_code == 302
    with app.app_context():
        obs = db.session.scalar(db.select(Observation))
        assert (obs.external_id, obs.source, obs.source_detail, obs.address) == (
            "T-1", Source.school, "Murbergsskolan", "Tunneln")
        assert obs.created_at == datetime(2024, 9, 1, 19, 15, tzinfo=timezone.utc)


def test_one_bad_row_imports_nothing_and_is_reported(app, coordinator):
    data = csv_file([
        ["externt_id", "kategori", "beskrivning", "lat", "lon", "datum"],
        ["A-1", "belysning", "ok", "62.6323", "17.9379", "2024-05-01"],
        ["A-2", "klotter", "ok too", "62.6324", "17.9380", ""],
        ["A-3", "fontäner", "bad category", "62.6325", "17.9381", ""],
        ["A-4", "belysning", "bad latitude", "6948053", "17.9381", "2024-13-01"],
        ["A-1", "belysning", "same id as row 2", "62.6323", "17.9379", ""],
    ])
    response = upload(coordinator, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = error_rows(page)
    assert (4, "kategori", "Unknown category: fontäner.") in errors
    assert any(row == 5 and column == "lat" and "SWEREF 99 TM" in message for row, column, message in errors)
    assert any(row == 5 and column == "datum" for row, column, _ in errors)
    assert (6, "externt_id", "The same external id as row 2.") in errors
    assert {row for row, _, _ in errors} == {4, 5, 6}
    assert "Nothing has been imported" in page and 'name="seal"' not in page
    with app.app_context():
        assert count(Observation) == 0 and count(Event) == 0


def test_file_level_problems_have_clear_messages(app_factory):
    app = app_factory(IMPORT_MAX_ROWS=3, IMPORT_MAX_BYTES=4000)
    with app.app_context():
        create_user(Role.coordinator)
    client = app.test_client()
    AuthActions(client).login_as(Role.coordinator)
    client.post("/language", data={"lang": "en"})
    header = ["kategori", "lat", "lon"]
    row = ["belysning", "62.6", "17.9"]
    cases = {
        csv_file([header] + [row] * 4): "more than 3 rows",
        csv_file([header] + [row + ["x" * 5000]]): "larger than",
        b"PK\x03\x04rest-of-a-zip": "Excel workbook",
        csv_file([["beskrivning", "lat", "lon"], ["x", "1", "2"]]): "kategori",
        csv_file([["kategori", "lat"], ["belysning", "62"]]): "lon",
        b"": "empty",
    }
    for data, message in cases.items():
        response = upload(client, data) if data else client.post(
            "/import", data={"file": (io.BytesIO(b" \r\n"), "x.csv"), "source": "police"},
            content_type="multipart/form-data")
        assert response.status_code == 400
        assert message in html.unescape(response.get_data(as_text=True)), message
    assert client.post("/import", data={"source": "police"}, content_type="multipart/form-data").status_code == 400
    assert upload(client, csv_file([header, row]), source="import").status_code == 400  # not a reporting source
    with app.app_context():
        assert count(Observation) == 0


def test_sweref_99_tm_lands_at_the_right_place(app, coordinator):
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True).transform(HERE[1], HERE[0])
    assert abs(northing - 6948053) < 2 and abs(easting - 650643) < 2  # Stora torget, Härnösand
    swedish = lambda v: f"{v:.2f}".replace(".", ",")  # noqa: E731
    data = csv_file([
        ["externt_id", "kategori", "n", "e"],
        ["S-1", "belysning", swedish(northing), swedish(easting)],
    ]) + csv_file([["S-2", "klotter", f"{northing:.2f}", f"{easting:.2f}"]], bom=False)
    assert import_file(coordinator, data).status_code == 302
    # x/y: surveyors' order (x = north) and GIS order (x = east) both work
    for n, (x, y) in enumerate([(northing, easting), (easting, northing)]):
        data = csv_file([["externt_id", "kategori", "x", "y"], [f"XY-{n}", "belysning", f"{x:.3f}", f"{y:.3f}"]])
        assert import_file(coordinator, data).status_code == 302
    with app.app_context():
        placed = db.session.scalars(db.select(Observation)).all()
        assert len(placed) == 4
        for obs in placed:
            assert distance_m(obs.lat, obs.lon, *HERE) < 1.0, obs.external_id
    outside = upload(coordinator, csv_file([["kategori", "n", "e"], ["belysning", "62.63", "17.93"]]))
    assert outside.status_code == 400 and any(c == "n" for _, c, _ in error_rows(outside.get_data(as_text=True)))


def test_reimport_creates_no_duplicates(app, coordinator, users):
    rows = [["externt_id", "kategori", "beskrivning", "lat", "lon"]] + [
        [f"R-{n}", "belysning", f"rad {n}", "62.6323", "17.9379"] for n in range(3)]
    first = import_file(coordinator, csv_file(rows), sender="Polisen Härnösand")
    assert first.status_code == 302 and "source=police" in first.headers["Location"]
    with app.app_context():
        assert count(Observation) == 3
        obs = db.session.scalar(db.select(Observation).filter_by(external_id="R-0"))
        assert (obs.status, obs.source, obs.source_detail) == (Status.new, Source.police, "Polisen Härnösand")
        event = obs.events[0]
        assert (event.action, event.to_status, event.data["row"], event.data["file"]) == (
            "imported", Status.new, 2, "lista.csv")

    again = upload(coordinator, csv_file(rows))
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "Nothing new to import" in page and 'name="seal"' not in page
    assert page.count("Skipped: already imported as") == 3

    rows.append(["R-9", "klotter", "ny rad", "62.6323", "17.9379"])
    done = import_file(coordinator, csv_file(rows))
    assert done.status_code == 302
    flashes = coordinator.get("/import").get_data(as_text=True)
    assert "1 observation imported. 3 rows were already imported and were skipped." in flashes
    # the same id from another source is another item
    assert import_file(coordinator, csv_file(rows[:2]), source="school").status_code == 302
    with app.app_context():
        assert count(Observation) == 5
        assert count(Event) == 5
        # imported items go through the workflow like any other (their version counter works)
        obs = db.session.scalar(db.select(Observation).filter_by(external_id="R-9"))
        workflow.move(db.session.get(User, users[Role.coordinator]), obs, workflow.Action.accept)
        db.session.commit()
        assert (obs.status, obs.version) == (Status.accepted, 2)


def test_plain_and_windows_csv_files(app, coordinator):
    comma = csv_file([["kategori", "beskrivning", "lat", "lon", "källa", "prioritet", "ansvarig", "slutdatum"],
                      ["Skadegörelse", "Krossad ruta, igen", "62.6323", "17.9379", "Skola", "Hög", "", ""]],
                     delimiter=",", bom=False)
    assert import_file(coordinator, comma).status_code == 302
    windows = csv_file([["Kategori", "Beskrivning", "Lat", "Lon", "Typ"],
                        ["Nedskräpning", "Skräp vid ån", "62,6323", "17,9379", "positiv"]], bom=False,
                       encoding="cp1252")
    preview = upload(coordinator, windows)
    assert preview.status_code == 200 and "Windows-1252" in preview.get_data(as_text=True)
    assert confirm(coordinator, preview.get_data(as_text=True)).status_code == 302
    tabs = csv_file([["kategori", "lat", "lon"], ["annat", "62.6", "17.9"]], delimiter="\t", bom=False)
    assert import_file(coordinator, tabs).status_code == 302
    with app.app_context():
        broken, litter, other = db.session.scalars(db.select(Observation).order_by(Observation.id)).all()
        assert (broken.category.code, broken.description, broken.source, broken.priority) == (
            "skadegorelse", "Krossad ruta, igen", Source.school, Priority.high)
        assert (litter.category.code, litter.description, litter.kind, litter.lat) == (
            "nedskrapning", "Skräp vid ån", Kind.positive, 62.6323)
        assert other.category.code == "annat"


def test_confirm_reads_and_checks_the_file_again(app, coordinator, users):
    data = csv_file([["externt_id", "kategori", "lat", "lon", "ansvarig"],
                     ["C-1", "belysning", "62.6323", "17.9379", "HEMAB"]])
    with app.app_context():
        db.session.add(Organisation(name="HEMAB"))
        db.session.commit()
    preview = upload(coordinator, data).get_data(as_text=True)
    fields = hidden_fields(preview)

    # a changed file (or source) does not match what was previewed
    forged = confirm(coordinator, preview, payload=fields["payload"][:-8] + "AAAAAAA=")
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/import")
    assert confirm(coordinator, preview, source="school").headers["Location"].endswith("/import")
    # another coordinator cannot replay it
    with app.app_context():
        create_user(Role.coordinator, email="other@example.se")
    other = app.test_client()
    other.post("/login", data={"email": "other@example.se", "password": "correct horse battery"})
    assert confirm(other, preview).headers["Location"].endswith("/import")
    with app.app_context():
        assert count(Observation) == 0
        # the world changed between preview and confirm: checked again, nothing imported
        db.session.execute(db.delete(Organisation).where(Organisation.name == "HEMAB"))
        db.session.commit()
    late = confirm(coordinator, preview)
    assert late.status_code == 400 and "Unknown organisation: HEMAB." in html.unescape(late.get_data(as_text=True))
    with app.app_context():
        assert count(Observation) == 0


def test_a_large_file_survives_to_the_confirm_step(app, coordinator):
    """The file travels back in a form field larger than Flask's default 500 kB field limit."""
    rows = [["externt_id", "kategori", "beskrivning", "lat", "lon"]] + [
        [f"L-{n}", "belysning", secrets.token_hex(400), "62.6323", "17.9379"] for n in range(1500)]
    data = csv_file(rows)
    assert len(data) > 1_000_000
    preview = upload(coordinator, data)
    assert preview.status_code == 200
    assert len(hidden_fields(preview.get_data(as_text=True))["payload"]) > 500_000
    assert confirm(coordinator, preview.get_data(as_text=True)).status_code == 302
    with app.app_context():
        assert count(Observation) == 1500


@pytest.mark.parametrize("role", [None, Role.walker, Role.responder])
def test_only_coordinators_export_and_import(app, client, users, auth, role):
    if role is not None:
        auth.login_as(role)
    expected = 302 if role is None else 403
    for path in ("/export/observations.csv", "/export/observations.geojson", "/import", "/import/template.csv"):
        assert client.get(path).status_code == expected, path
    assert upload(client, csv_file([["kategori", "lat", "lon"], ["annat", "62.6", "17.9"]])).status_code == expected
    assert client.post("/import/confirm", data={}).status_code == expected
    with app.app_context():
        assert count(Observation) == 0


def test_admin_may_export_and_import(client, users, auth):
    auth.login_as(Role.admin)
    assert client.get("/export/observations.csv").status_code == 200
    assert client.get("/import").status_code == 200


def test_csv_downloads_name_one_charset(app, coordinator):
    for path in ("/export/observations.csv", "/export/observations.csv?variant=utf8", "/import/template.csv"):
        assert coordinator.get(path).headers["Content-Type"] == "text/csv; charset=utf-8", path
