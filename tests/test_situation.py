"""Lägesbild figures, the walk protocol (page and PDF) and follow-up walks."""
import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from walkapp import demo
from walkapp.extensions import db
from walkapp.i18n import fmt_date
from walkapp.models import Category, Event, Observation, Organisation, Role, Status, User, Visibility, Walk, utcnow
from walkapp.situation import stats

from .factories import count_statements, local_today, make_observation, make_walk




def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def seeded(app):
    with app.app_context():
        demo.seed("demo-password-123")
        walk = db.session.scalar(db.select(Walk).filter_by(join_code=demo.DEMO_WALK_CODE))
        return walk.id


def test_protocol_pdf_lists_every_observation(app, client, users, auth, seeded):
    auth.login_as(Role.coordinator)
    response = client.get(f"/walks/{seeded}/protocol.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    with app.app_context():
        observations = db.session.scalars(db.select(Observation).filter_by(walk_id=seeded)
                                          .where(Observation.status != Status.duplicate)).all()
        for obs in observations:  # numbered by #id, as in the inbox, tasks, mails and the public page
            assert f"#{obs.id} {obs.category.name_sv}" in text, obs.description
            assert obs.description in text
    assert "Vera Vandrare" in text  # the internal version names participants


def test_public_protocol_has_no_names_and_no_internal_notes(app, client, users, auth, seeded):
    with app.app_context():
        obs = db.session.scalar(db.select(Observation).filter_by(walk_id=seeded, is_public=True))
        db.session.add(Event(observation=obs, actor=db.session.get(User, users[Role.coordinator]),
                             action="comment", comment="INTERNT: fastighetsägaren är svår", visibility=Visibility.internal))
        db.session.commit()
        names = [u.name for u in db.session.scalars(db.select(User))]
    auth.login_as(Role.coordinator)
    internal = pdf_text(client.get(f"/walks/{seeded}/protocol.pdf").data)
    public = pdf_text(client.get(f"/walks/{seeded}/protocol.pdf?version=public").data)
    assert "INTERNT" in internal and "INTERNT" not in public
    for name in names:
        assert name not in public
    assert "Offentlig version" in public
    page = client.get(f"/walks/{seeded}/protocol?version=public").get_data(as_text=True)
    assert "INTERNT" not in page and "Vera Vandrare" not in page


def test_protocol_for_a_follow_up_walk_shows_what_changed(app, client, users, auth, seeded):
    with app.app_context():
        later = make_walk(code="FOLO22", title="Uppföljning centrum")
        later.follow_up_of_id = seeded
        db.session.commit()
        make_observation(users[Role.walker], later, safety_rating=8)
        later_id = later.id
    auth.login_as(Role.coordinator)
    page = client.get(f"/walks/{later_id}/protocol").get_data(as_text=True)
    assert "Sedan förra vandringen" in page
    # the demo walk's problems: one verified and two fixed; five new, two accepted, four assigned and one
    # in progress still open; one won't be fixed; the rejected one and the duplicate are not counted
    assert "Åtgärdade: 3 · fortfarande öppna: 12 · åtgärdas ej: 1 · nya nu: 1" in page
    # the public version counts only what it shows: the new item is not public
    public = client.get(f"/walks/{later_id}/protocol?version=public").get_data(as_text=True)
    assert "nya nu: 0" in public
    assert "Uppföljning av" in client.get(f"/walks/{later_id}").get_data(as_text=True)


def test_dashboard_figures(app, client, users, auth):
    today = local_today()
    with app.app_context():
        org = Organisation(name="HEMAB")
        db.session.add(org)
        db.session.commit()
        now = utcnow()
        make_observation(users[Role.walker], safety_rating=1)
        make_observation(users[Role.walker], safety_rating=10, status=Status.fixed, organisation_id=org.id,
                         fixed_at=now, created_at=now - timedelta(days=4), due_date=today + timedelta(days=1))
        make_observation(users[Role.walker], status=Status.assigned, organisation_id=org.id,
                         due_date=today - timedelta(days=2))
        make_observation(users[Role.walker], created_at=now - timedelta(days=400))  # another year
    auth.login_as(Role.coordinator)
    with app.test_request_context():
        scope = stats.Scope(date(today.year, 1, 1), date(today.year, 12, 31))
        data = stats.lagesbild(scope, today)
        figures = data["figures"]
        assert figures["new"] == 3 and figures["fixed"] == 1 and figures["overdue"] == 1
        assert figures["median_days"] == pytest.approx(4.0, abs=0.01) and figures["on_time_share"] == 100
        assert data["index"].n == 2 and data["index"].value == 50.0
        [tracker] = data["organisations"]
        assert tracker[:4] == ("HEMAB", 1, 1, 1) and tracker[4] == pytest.approx(4.0, abs=0.01)
    html = client.get("/lagesbild?period=year").get_data(as_text=True)
    assert "Lägesbild" in html or "Lägesbilden" in html
    assert re.search(r'<span class="figure">3</span> <span class="label">nya</span>', html)


def test_median_days_to_fix_overall_and_per_organisation(app, users):
    """Even counts take the mean of the two middle values; the overall median spans organisations."""
    today = local_today()
    with app.app_context():
        first, second = Organisation(name="Första"), Organisation(name="Andra")
        db.session.add_all([first, second])
        db.session.commit()
        now = utcnow()
        for org, days in ((first, 1), (first, 2), (first, 3), (first, 10), (second, 5), (second, 7), (second, 20)):
            make_observation(users[Role.walker], status=Status.fixed, organisation_id=org.id,
                             created_at=now - timedelta(days=days), fixed_at=now)
        ids = first.id, second.id
    with app.test_request_context():
        scope = stats.Scope(today - timedelta(days=1), today)
        overall, per_organisation = stats.fixes(scope), stats.fixes(scope, by_organisation=True)
        assert overall["fixed"] == 7 and overall["median_days"] == pytest.approx(5.0, abs=0.01)  # 1 2 3 [5] 7 10 20
        assert {key: fixed["median_days"] for key, fixed in per_organisation.items()} == {
            ids[0]: pytest.approx(2.5, abs=0.01), ids[1]: pytest.approx(7.0, abs=0.01)}
        tracker = stats.lagesbild(scope, today)["organisations"]
        assert [(name, fixed, median) for name, _open, _overdue, fixed, median in tracker] == [
            ("Andra", 3, pytest.approx(7.0, abs=0.01)), ("Första", 4, pytest.approx(2.5, abs=0.01))]


def test_dashboard_side_by_side_equals_one_after_another(app, seeded):
    """The queries run in worker threads, each on its own connection; inline they give the same figures."""
    today = local_today()
    with app.test_request_context():
        scope = stats.Scope(today - timedelta(days=400), today)
        side_by_side = stats.lagesbild(scope, today)
        app.config["QUERY_WORKERS"] = 1
        one_by_one = stats.lagesbild(scope, today)
    assert side_by_side == one_by_one
    assert side_by_side["figures"]["new"] > 0 and side_by_side["organisations"] and side_by_side["categories"]


def test_day_and_night_follow_local_time(app, users):
    """Night is 18–06 in the municipality's time zone, the weekday too. (SQLite shifts every date by
    today's UTC offset, see stats._local(); so the day tested here has today's offset.)"""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Stockholm")
    now = datetime.now(zone)
    day = now.date() - timedelta(days=1)
    while datetime.combine(day, time(12), zone).utcoffset() != now.utcoffset():  # not across a clock change
        day -= timedelta(days=1)
    with app.app_context():
        for moment in (datetime.combine(day, time(12, 30), zone), datetime.combine(day, time(17, 30), zone),
                       datetime.combine(day, time(18, 30), zone),
                       datetime.combine(day + timedelta(days=1), time(0, 30), zone)):
            make_observation(users[Role.walker], created_at=moment)
    with app.test_request_context():
        scope = stats.Scope(day, day + timedelta(days=1))
        assert stats.made(replace_scope(scope, night=True))["new"] == 2
        assert stats.made(replace_scope(scope, night=False))["new"] == 2
        assert stats.made(replace_scope(scope, weekday=day.isoweekday()))["new"] == 3  # not the 00:30 one


def replace_scope(scope, **changes):
    from dataclasses import replace

    return replace(scope, **changes)


def test_dashboard_query_count_does_not_grow(app, client, users, auth):
    def fill(n):
        with app.app_context():
            categories = db.session.scalars(db.select(Category)).all()
            now = utcnow()
            db.session.add_all(Observation(lat=62.63 + i * 1e-5, lon=17.93, category=categories[i % 12],
                                           kind=categories[i % 12].kind, safety_rating=1 + i % 10,
                                           status=list(Status)[i % 8], created_at=now - timedelta(hours=i % 200),
                                           fixed_at=now if i % 3 == 0 else None) for i in range(n))
            db.session.commit()

    auth.login_as(Role.coordinator)
    page = lambda: client.get("/lagesbild?period=year&time=night")  # noqa: E731
    fill(100)
    few = count_statements(app, page)
    fill(4900)
    assert count_statements(app, page) == few


def test_dashboard_periods_and_areas(app, client, users, auth):
    """Each filter of the page's query reaches the figures: periods, walk, box, time of day, weekday."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Stockholm")
    now = datetime.now(zone)
    day = now.date() - timedelta(days=400)  # outside every period but "custom"; with today's UTC offset
    while datetime.combine(day, time(12), zone).utcoffset() != now.utcoffset():
        day -= timedelta(days=1)
    with app.app_context():
        walk = make_walk(code="AREA22")
        make_observation(users[Role.walker], walk)
        make_observation(users[Role.walker], lat=62.70, lon=18.10)
        for moment in (datetime.combine(day, time(12, 30), zone), datetime.combine(day, time(17, 30), zone),
                       datetime.combine(day, time(18, 30), zone),
                       datetime.combine(day + timedelta(days=1), time(0, 30), zone)):
            make_observation(users[Role.walker], created_at=moment)
        walk_id = walk.id
    auth.login_as(Role.coordinator)

    def new(query):
        response = client.get(f"/lagesbild?{query}")
        assert response.status_code == 200, query
        figure = re.search(r'<span class="figure">(\d+)</span> <span class="label">nya</span>',
                           response.get_data(as_text=True))
        return int(figure.group(1))

    year = local_today().year
    then = f"period=custom&from={day.isoformat()}&to={(day + timedelta(days=1)).isoformat()}"
    assert {query: new(query) for query in (
        "period=week", "period=month", "period=tertial", "period=year",
        f"period=custom&from={year}-01-01&to={year}-12-31", f"period=year&walk={walk_id}",
        "period=year&bbox=18.0,62.65,18.2,62.75", "period=year&bbox=17.0,61.0,17.5,61.5",
        then, f"{then}&time=night", f"{then}&time=day", f"{then}&weekday={day.isoweekday()}",
        f"{then}&time=day&weekday={day.isoweekday()}", f"{then}&weekday={day.isoweekday() % 7 + 1}",
    )} == {
        "period=week": 2, "period=month": 2, "period=tertial": 2, "period=year": 2,
        f"period=custom&from={year}-01-01&to={year}-12-31": 2, f"period=year&walk={walk_id}": 1,
        "period=year&bbox=18.0,62.65,18.2,62.75": 1, "period=year&bbox=17.0,61.0,17.5,61.5": 0,
        then: 4, f"{then}&time=night": 2, f"{then}&time=day": 2, f"{then}&weekday={day.isoweekday()}": 3,
        f"{then}&time=day&weekday={day.isoweekday()}": 2, f"{then}&weekday={day.isoweekday() % 7 + 1}": 1,
    }
    assert client.get("/lagesbild?period=custom&from=x").status_code == 200


def test_a_wrong_custom_period_is_kept_for_correcting(app, client, auth, users):
    auth.login_as(Role.coordinator)
    today = local_today()
    page = client.get(f"/lagesbild?period=custom&from={today}&to={today - timedelta(days=3)}").get_data(as_text=True)
    assert "första före det sista" in page
    assert re.search(r'<option value="custom"\s+selected>', page)
    assert f'name="from" value="{today}"' in page and f'name="to" value="{today - timedelta(days=3)}"' in page
    with app.test_request_context():  # what is shown instead, and the heading says so
        first, last = stats.default_bounds(today)
        shown = f"<p>{fmt_date(first, 'medium')} – {fmt_date(last, 'medium')}</p>"
    assert shown in page
    # dates typed under another period are not the user's choice: no error, the period is used
    page = client.get("/lagesbild?period=week&from=x").get_data(as_text=True)
    assert "första före det sista" not in page and re.search(r'<option value="week"\s+selected>', page)


def test_period_bounds():
    today = date(2026, 11, 25)
    assert stats.period_bounds("week", today) == (date(2026, 11, 23), date(2026, 11, 29))
    assert stats.period_bounds("month", today) == (date(2026, 11, 1), date(2026, 11, 30))
    assert stats.period_bounds("tertial", today) == (date(2026, 9, 1), date(2026, 12, 31))
    assert stats.period_bounds("tertial", date(2026, 2, 3)) == (date(2026, 1, 1), date(2026, 4, 30))
    assert stats.period_bounds("year", today) == (date(2026, 1, 1), date(2026, 12, 31))
    scope = stats.Scope(date(2026, 11, 1), date(2026, 11, 30))
    assert (scope.previous().start, scope.previous().end) == (date(2026, 10, 2), date(2026, 10, 31))
    with pytest.raises(ValueError):
        stats.period_bounds("custom", today)


def test_a_drawn_area_counts_only_what_lies_inside(app, client, users, auth):
    """An L-shaped (concave) area: the point in its notch is outside, though inside its bounding box."""
    l_shape = "17.90,62.60;17.96,62.60;17.96,62.62;17.92,62.62;17.92,62.66;17.90,62.66"
    with app.app_context():
        inside_foot = make_observation(users[Role.walker], lat=62.61, lon=17.95).id
        inside_leg = make_observation(users[Role.walker], lat=62.65, lon=17.91).id
        make_observation(users[Role.walker], lat=62.65, lon=17.95)  # the notch
        make_observation(users[Role.walker], lat=62.70, lon=18.20)  # far away
    auth.login_as(Role.coordinator)
    html = client.get(f"/lagesbild?period=year&area={l_shape}").get_data(as_text=True)
    assert re.search(r'<span class="figure">2</span> <span class="label">nya</span>', html)
    ids = {f["id"] for f in client.get(f"/api/v1/observations?area={l_shape}").get_json()["features"]}
    assert ids == {inside_foot, inside_leg}
    csv_rows = client.get(f"/export/observations.csv?variant=utf8&area={l_shape}").get_data(as_text=True)
    assert len(csv_rows.strip().splitlines()) == 3
    for bad_area in ("1,2;3", "17.90,62.60;17.93,62.60;17.96,62.60"):  # garbled; three corners on one line
        bad = client.get(f"/lagesbild?area={bad_area}")
        assert bad.status_code == 200 and "Området som ritades kunde inte läsas" in bad.get_data(as_text=True)
        assert client.get(f"/api/v1/observations?area={bad_area}").status_code == 400
