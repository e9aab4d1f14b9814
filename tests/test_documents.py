"""Documents fit to send: the walk protocol and the lägesbild report, rendered and measured.

The PDFs are rendered through the app for the demo walk (with before/after photos, some public, some
not) and read back with pdfplumber: no image may overlap another image or any text, every photo the
version may show is there and none it may not, and no item's block splits across pages."""
import io
import re
from datetime import timedelta

import pdfplumber
import pytest

from walkapp import demo
from walkapp.extensions import db
from walkapp.models import Event, Observation, Role, SituationReport, Status, User, Visibility, Walk, utcnow
from walkapp.situation import stats

from .factories import local_today, make_observation, photograph_demo_walk

SUMMARY = "Fastighetsägarna går igenom belysningen före jul."


@pytest.fixture
def demo_walk(app):
    """The demo with photos, a closing meeting's summary and an internal note on a public item."""
    with app.app_context():
        demo.seed("demo-password-123")
        walk = db.session.scalar(db.select(Walk).filter_by(join_code=demo.DEMO_WALK_CODE))
        walk.meeting_summary = SUMMARY
        shown = photograph_demo_walk(walk.id)
        obs = db.session.scalar(db.select(Observation).filter_by(walk_id=walk.id, is_public=True))
        db.session.add(Event(observation=obs, actor=db.session.get(User, walk.created_by_id), action="comment",
                             comment="INTERNT: nyckeln finns hos vaktmästaren", visibility=Visibility.internal))
        db.session.commit()
        items = db.session.scalars(db.select(Observation).filter_by(walk_id=walk.id)
                                   .where(Observation.status != Status.duplicate)).all()
        public_ids = {o.id for o in items if o.is_public and o.status is not Status.rejected}
        return {"id": walk.id, "photos": shown, "items": {o.id: o.description for o in items},
                "public_items": public_ids,
                "duplicate": db.session.scalar(db.select(Observation.id).filter_by(walk_id=walk.id,
                                                                                  status=Status.duplicate))}


@pytest.fixture
def coordinator(client, demo_walk):
    client.post("/login", data={"email": "samordnare@demo.walkapp.se", "password": "demo-password-123"})
    return client


def boxes(page):
    images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images]
    words = [(w["x0"], w["top"], w["x1"], w["bottom"], w["text"]) for w in page.extract_words()]
    return images, words


def overlap(a, b, tolerance=0.5) -> bool:
    return a[0] < b[2] - tolerance and b[0] < a[2] - tolerance and a[1] < b[3] - tolerance and b[1] < a[3] - tolerance


def check_layout(data: bytes) -> tuple[int, list[str]]:
    """Asserts that no image overlaps another image or a word; returns the number of images and each
    page's text."""
    count, texts = 0, []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            images, words = boxes(page)
            count += len(images)
            for i, image in enumerate(images):
                for other in images[i + 1:]:
                    assert not overlap(image, other), f"page {number}: two images overlap"
                for word in words:
                    assert not overlap(image, word[:4]), f"page {number}: image over the text {word[4]!r}"
            texts.append(page.extract_text())
    return count, texts


def test_protocol_layout_internal_and_public(app, coordinator, demo_walk):
    for version, expected in (("internal", demo_walk["photos"]["internal"]),
                              ("public", demo_walk["photos"]["public"])):
        response = coordinator.get(f"/walks/{demo_walk['id']}/protocol.pdf?version={version}")
        assert response.status_code == 200
        images, pages = check_layout(response.data)
        assert images == len(expected), version  # every photo the version may show, none it may not
        text = "\n".join(pages)
        shown = demo_walk["items"] if version == "internal" else {
            i: d for i, d in demo_walk["items"].items() if i in demo_walk["public_items"]}
        for obs_id, description in demo_walk["items"].items():
            heading = re.compile(rf"^#{obs_id} ", re.M)
            if obs_id not in shown:
                assert not heading.search(text), (version, obs_id)
                continue
            # one block per item, never split: its heading and its text on the same page
            page = next(p for p in pages if heading.search(p))
            assert description in page, (version, obs_id)
        assert f"#{demo_walk['duplicate']} " not in text
        assert SUMMARY in text
        assert "Åtgärdslista" in text and "Före" in text and "Efter" in text
        assert re.search(r"Index för upplevd trygghet \d+,\d \(\d+,\d–\d+,\d\)", text)  # decimal comma
        assert not re.search(r"trygghet \d+\.\d", text)
        if version == "public":
            assert "INTERNT" not in text and "Vera Vandrare" not in text and "Sara Samordnare" not in text
        else:
            assert "INTERNT" in text and "Vera Vandrare" in text


def test_protocol_map_stops_and_items_never_share_a_label(app, coordinator, demo_walk):
    data = coordinator.get(f"/walks/{demo_walk['id']}/protocol.pdf").data
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        frame = max(page.rects, key=lambda r: r["width"] * r["height"])  # the map's frame
        inside = [w for w in page.extract_words(keep_blank_chars=False)
                  if w["top"] > frame["top"] and w["bottom"] < frame["bottom"] - 34]  # above the scale bar
        labels = [w["text"] for w in inside]
        assert {f"S{n}" for n in range(1, 7)} <= set(labels)  # stops as S1…S6
        assert set(labels) - {f"S{n}" for n in range(1, 7)} == {str(i) for i in demo_walk["items"]}
        for i, word in enumerate(inside):  # no label on another
            for other in inside[i + 1:]:
                assert not overlap((word["x0"], word["top"], word["x1"], word["bottom"]),
                                   (other["x0"], other["top"], other["x1"], other["bottom"]), 0.1)
        # stops are squares drawn after (on top of) the item circles
        squares = [r for r in page.rects if abs(r["width"] - r["height"]) < 0.1 and 9 < r["width"] < 11]
        assert len(squares) == 6
        text = page.extract_text()
    assert "Stopp (S1, S2 …)" in text and "S1 Stora torget" in text


def test_protocol_page_numbers_items_by_id_with_before_and_after(app, coordinator, demo_walk):
    html = coordinator.get(f"/walks/{demo_walk['id']}/protocol").get_data(as_text=True)
    for obs_id in demo_walk["items"]:
        assert f'id="item-{obs_id}"' in html and f"#{obs_id} " in html
    assert "<figcaption>Efter</figcaption>" in html and SUMMARY in html and "Åtgärdslista" in html
    public = coordinator.get(f"/walks/{demo_walk['id']}/protocol?version=public").get_data(as_text=True)
    for photo_id in demo_walk["photos"]["hidden"]:
        assert f"/photos/{photo_id}/" not in public
    for photo_id in demo_walk["photos"]["public"]:
        assert f"/photos/{photo_id}/" in public


def test_meeting_summary_is_written_on_the_walk(app, client, users, auth):
    auth.login_as(Role.coordinator)
    with app.app_context():
        walk = db.session.scalar(db.select(Walk).filter_by(join_code="MEET01")) or None
    form = {"title": "Vandring", "starts_at": "2026-11-20T18:00", "status": "done", "follow_up_of": "0",
            "stops": "[]", "meeting_summary": "  Belysningen åtgärdas före jul.  "}
    response = client.post("/walks/new", data=form)
    assert response.status_code == 302
    walk_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(Walk, walk_id).meeting_summary == "Belysningen åtgärdas före jul."
    assert "Belysningen åtgärdas före jul." in client.get(f"/walks/{walk_id}/edit").get_data(as_text=True)
    assert "Belysningen åtgärdas före jul." in client.get(f"/walks/{walk_id}/protocol?version=public").get_data(as_text=True)
    assert walk is None


REPORT = {"title": "Lägesbild T3", "analysis": "Belysningen är den största frågan.",
          "sources_used": ["walk", "field_group"], "sources_not_used": "Skolenkäten kom inte i tid."}


def create_report(client, query="period=90days", **changes):
    response = client.post(f"/lagesbild/reports/new?{query}", data=REPORT | changes)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_report_layout_internal_and_public(app, coordinator, demo_walk):
    location = create_report(coordinator)
    for version in ("internal", "public"):
        response = coordinator.get(f"{location}.pdf?version={version}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        images, pages = check_layout(response.data)
        assert images == 0  # the report shows no photos, in either version
        text = "\n".join(pages)
        for heading in ("1. Kartläggning", "2. Analys", "3. Åtgärder", "Per kategori", "Per källa",
                        "Per tid på dygnet", "Per veckodag", "Brännpunkter", "Upplevd trygghet",
                        "Använda källor", "Källor som inte använts", REPORT["analysis"], "Skolenkäten"):
            assert heading in text, (version, heading)
        assert re.search(r"Index för upplevd trygghet \d+,\d \(\d+,\d–\d+,\d\), n = \d+", text)
        assert ("Sara Samordnare" in text) is (version == "internal")
        assert "HEMAB" in text  # the action list per owner


def test_report_is_frozen_and_listed(app, coordinator, demo_walk, users):
    location = create_report(coordinator)
    coordinator.get(location)  # shows the flash message once
    before = coordinator.get(location).get_data(as_text=True)
    pdf_before = "\n".join(check_layout(coordinator.get(f"{location}.pdf").data)[1])
    with app.app_context():
        for _ in range(5):
            make_observation(users[Role.walker], safety_rating=10)
    after = coordinator.get(location).get_data(as_text=True)
    content = lambda html: re.sub(r"map_[0-9a-f]+", "map", re.search(  # noqa: E731
        r"<h1>.*id=\"hotspots\">[^<]*</script>", html, re.S).group(0))
    assert content(before) == content(after)
    assert "\n".join(check_layout(coordinator.get(f"{location}.pdf").data)[1]) == pdf_before
    newer = create_report(coordinator, title="Lägesbild T3 igen")
    with app.app_context():
        first, second = db.session.scalars(db.select(SituationReport).order_by(SituationReport.id)).all()
        assert second.figures["figures"]["new"] == first.figures["figures"]["new"] + 5
        assert first.sources_used == ["walk", "field_group"] and first.created_by.name == "Sara Samordnare"
    listing = coordinator.get("/lagesbild/reports").get_data(as_text=True)
    assert "Lägesbild T3</a>" in listing and "Lägesbild T3 igen</a>" in listing
    assert newer != location


def test_report_needs_a_title_and_an_analysis(app, coordinator, demo_walk):
    response = coordinator.post("/lagesbild/reports/new?period=year",
                                data=REPORT | {"analysis": "", "title": "Min rapport"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Rätta de markerade fälten" in html and 'value="Min rapport"' in html and "Skolenkäten kom inte i tid." in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SituationReport.id))) == 0


def test_report_compares_with_the_previous_period_and_a_year_earlier(app, client, users, auth):
    today = local_today()
    now = utcnow()
    with app.app_context():
        for days, code in ((5, "klotter"), (6, "klotter"), (100, "klotter"), (370, "belysning"), (371, "belysning"),
                           (372, "klotter")):
            make_observation(users[Role.walker], code=code, created_at=now - timedelta(days=days))
    auth.login_as(Role.coordinator)
    location = create_report(client, f"period=custom&from={today - timedelta(days=89)}&to={today}")
    with app.app_context():
        report = db.session.get(SituationReport, int(location.rsplit("/", 1)[1]))
        assert report.figures["totals"] == [2, 1, 3]
        rows = {row[0]: row[3:] for row in report.figures["categories"]}
        assert rows["Klotter"] == [2, 1, 1] and rows["Belysning"] == [0, 0, 2]
        assert report.scope["from"] == (today - timedelta(days=89)).isoformat()
    html = client.get(location).get_data(as_text=True)
    assert "Ett år tidigare" in html


def test_report_counts_by_local_hour_and_weekday(app, users):
    from datetime import datetime, timezone

    with app.app_context():
        # 22:30 UTC on Sunday 15 November 2026 is 23:30 in Sweden; 23:30 UTC is already Monday 00:30
        for at in (datetime(2026, 11, 15, 22, 30, tzinfo=timezone.utc), datetime(2026, 11, 15, 23, 30, tzinfo=timezone.utc)):
            make_observation(users[Role.walker], created_at=at)
        from datetime import date
        with app.test_request_context():
            hours, weekdays = stats.clock(stats.Scope(date(2026, 11, 1), date(2026, 11, 30)))
    assert hours[23] == 1 and hours[0] == 1 and sum(hours) == 2
    assert weekdays[6] == 1 and weekdays[0] == 1


def test_public_report_leaves_out_small_counts_per_place(app, coordinator, demo_walk):
    location = create_report(coordinator)
    with app.app_context():
        report = db.session.get(SituationReport, int(location.rsplit("/", 1)[1]))
        cells = report.figures["hotspots"]
        assert any(c["n"] < 3 for c in cells)
    internal = coordinator.get(location).get_data(as_text=True)
    public = coordinator.get(f"{location}?version=public").get_data(as_text=True)
    small = [c for c in cells if c["n"] < 3]
    row = f"<td>{small[0]['south']:.4f}, {small[0]['west']:.4f}</td>"
    assert row in internal or len([c for c in cells]) > 10
    assert row not in public
    assert "Skapad av Sara Samordnare" in internal and "Skapad av" not in public
    if all(c["n"] < 3 for c in cells):  # the demo's places each hold few reports
        assert "Ingen plats har 3 eller fler rapporter." in public


def test_dashboard_defaults_to_the_last_90_days_or_the_latest_with_data(app, client, users, auth):
    today = local_today()
    auth.login_as(Role.coordinator)
    with app.app_context():
        make_observation(users[Role.walker], created_at=utcnow() - timedelta(days=200))
    html = client.get("/lagesbild").get_data(as_text=True)
    latest = today - timedelta(days=200)
    assert re.search(r'<span class="figure">1</span> <span class="label">nya</span>', html)  # not an empty picture
    with app.test_request_context():
        from flask_babel import format_date
        assert format_date(latest, "medium") in html
        assert stats.default_bounds(today) == (latest - timedelta(days=89), latest)
        make_observation(users[Role.walker], created_at=utcnow() - timedelta(days=3))
        assert stats.default_bounds(today) == (today - timedelta(days=89), today)
    assert '<option value="90days" selected>' in client.get("/lagesbild").get_data(as_text=True)


def test_trend_axis_reads_as_months(app, client, users, auth):
    auth.login_as(Role.coordinator)
    html = client.get("/lagesbild?period=year").get_data(as_text=True)
    months = ["jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec."]
    today = local_today()
    assert f">{months[today.month - 1]} {today.year}</text>" in html
    assert not re.search(r">\d\d-\d\d</text>", html)


@pytest.mark.parametrize("period", ["90days", "year", "tertial", "long"])
def test_report_pass_equals_the_dashboard_queries(app, demo_walk, period):
    """The report's pass gives the same figures as the dashboard's queries and as the separate
    comparison and clock queries."""
    today = local_today()
    with app.test_request_context():
        scope = stats.Scope(today - timedelta(days=500), today) if period == "long" else \
            stats.Scope(*stats.period_bounds(period, today))  # "long" overlaps the same period a year earlier
        dashboard, combined = stats.lagesbild(scope, today), stats.lagesbild(scope, today, report=True)
        for key in ("figures", "categories", "sources", "organisations", "index", "hotspots"):
            assert combined[key] == dashboard[key], key
        assert combined["comparison"]["previous"]["total"] == dashboard["previous"]["new"]
        assert combined["comparison"] == stats.comparison(scope)
        assert combined["clock"] == stats.clock(scope)
        assert sum(i.n for _, i in combined["trend"]) == sum(i.n for _, i in dashboard["trend"])
        assert [m for m, _ in combined["trend"]] == [m for m, _ in dashboard["trend"]]
