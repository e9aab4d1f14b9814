"""Walks: coordinators plan them; people join by link, code or QR; reporting through the page."""
import io
import json
from html.parser import HTMLParser

from walkapp.extensions import db
from walkapp.models import Event, Observation, Participant, Role, Source, Stop, User, Walk, WalkStatus

from . import photo_samples as samples
from .factories import HERE, count, local_today, make_observation, make_walk

XSS = "<img src=x onerror=alert(1)>"


def walk_form(**overrides):
    data = {"title": "Vandring i Säter", "area": "Säter", "starts_at": "2026-12-03T18:00",
            "meeting_point": "Säters skola", "meeting_lat": "62.64", "meeting_lon": "17.91",
            "status": "planned",
            "stops": json.dumps([{"name": "Skolan", "lat": 62.64, "lon": 17.91},
                                 {"name": "Tunneln", "lat": 62.641, "lon": 17.915}])}
    data.update(overrides)
    return data


def test_coordinator_creates_and_edits_a_walk(app, client, users, auth):
    auth.login_as(Role.coordinator)
    response = client.post("/walks/new", data=walk_form())
    assert response.status_code == 302
    with app.app_context():
        walk = db.session.scalar(db.select(Walk))
        assert walk.title == "Vandring i Säter" and len(walk.join_code) == 6
        assert walk.starts_at.hour == 17  # 18:00 Stockholm time is 17:00 UTC in December
        assert [s.name for s in walk.stops] == ["Skolan", "Tunneln"]
        assert walk.route["coordinates"] == [[17.91, 62.64], [17.915, 62.641]]
        walk_id = walk.id
    page = client.get(f"/walks/{walk_id}/edit").get_data(as_text=True)
    assert 'value="2026-12-03T18:00"' in page and "Tunneln" in page
    response = client.post(f"/walks/{walk_id}/edit", data=walk_form(
        stops=json.dumps([{"name": "Bara ett", "lat": 62.6, "lon": 17.9}]), status="ongoing"))
    assert response.status_code == 302
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        assert walk.status is WalkStatus.ongoing and [s.name for s in walk.stops] == ["Bara ett"]
        assert walk.route is None and count(Stop) == 1


def test_bad_walk_input_keeps_values(app, client, users, auth):
    auth.login_as(Role.coordinator)
    response = client.post("/walks/new", data=walk_form(title="Min vandring", starts_at="i morgon",
                                                        stops="[{\"lat\": \"nan\"}]"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Min vandring"' in page
    assert "Rutten kunde inte läsas" in page
    with app.app_context():
        assert count(Walk) == 0


def test_walkers_cannot_plan_walks(client, users, auth):
    auth.login_as(Role.walker)
    assert client.post("/walks/new", data=walk_form()).status_code == 403


def test_guest_joins_by_link_and_reports(app, client, users):
    with app.app_context():
        walk_id = make_walk(code="JOIN22").id
    page = client.get("/j/join22").get_data(as_text=True)  # codes are case-insensitive
    assert "Ditt namn" in page and "Polis" in page and "Vuxna på stan" in page
    response = client.post("/j/JOIN22", data={"name": "Petra", "role_label": "police", "email": "petra@example.se"})
    assert response.status_code == 302 and response.headers["Location"] == f"/walks/{walk_id}"
    with app.app_context():
        guest = db.session.scalar(db.select(User).filter_by(is_guest=True))
        assert guest.name == "Petra" and guest.role is Role.walker and guest.password_hash is None
        participant = db.session.scalar(db.select(Participant))
        assert (participant.role_label, participant.email) == ("police", "petra@example.se")
    walk_page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "Rapportera en observation" in walk_page
    # the page form without JavaScript works too
    response = client.post("/report", content_type="multipart/form-data", data={
        "walk": str(walk_id), "category": "belysning", "lat": str(HERE[0]), "lon": str(HERE[1]),
        "description": XSS, "rating": "4", "photos": [(io.BytesIO(samples.png_bytes()), "p.png")]})
    assert response.status_code == 302 and response.headers["Location"] == f"/walks/{walk_id}"
    with app.app_context():
        obs = db.session.scalar(db.select(Observation))
        assert obs.source.value == "walk" and obs.walk_id == walk_id and obs.reporter.name == "Petra"
        assert len(obs.photos) == 1 and obs.safety_rating == 4
        obs_id = obs.id
    for url in (f"/walks/{walk_id}", f"/observations/{obs_id}"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_join_asks_for_name_and_role(app, client):
    with app.app_context():
        make_walk(code="NAME22")
    response = client.post("/j/NAME22", data={"name": "  ", "role_label": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Välj hur du deltar." in page
    response = client.post("/j/NAME22", data={"name": "", "role_label": "resident"})
    assert response.status_code == 400 and "Skriv ditt namn" in response.get_data(as_text=True)
    with app.app_context():
        assert count(User) == 0 and count(Participant) == 0


def test_unknown_code_and_finished_walk(app, client):
    with app.app_context():
        make_walk(status=WalkStatus.done, code="OVER22")
    response = client.get("/j/NOPE99")
    assert response.status_code == 302 and response.headers["Location"] == "/join"
    response = client.post("/join", data={"code": "nope99"})
    assert response.status_code == 400 and "Ingen vandring har den koden" in response.get_data(as_text=True)
    assert client.post("/join", data={"code": "over 22"}).headers["Location"] == "/j/OVER22"
    page = client.get("/j/OVER22").get_data(as_text=True)
    assert "Vandringen är avslutad" in page and 'name="role_label"' not in page
    response = client.post("/j/OVER22", data={"name": "Sen", "role_label": "resident"})
    assert response.status_code == 400
    with app.app_context():
        assert count(User) == 0


def test_signed_in_user_joins_without_a_guest_account(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(code="REGI22").id
    auth.login_as(Role.responder)
    page = client.get("/j/REGI22").get_data(as_text=True)
    assert 'name="name"' not in page
    assert client.post("/j/REGI22", data={"role_label": "property_owner"}).status_code == 302
    assert client.get(f"/walks/{walk_id}").status_code == 200
    with app.app_context():
        assert count(User) == len(Role)


def test_coordinator_sees_join_link_code_and_qr(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(code="QRQR22").id
    auth.login_as(Role.coordinator)
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "http://localhost/j/QRQR22" in page and "QRQR22" in page and "<svg" in page
    poster = client.get(f"/walks/{walk_id}/poster").get_data(as_text=True)
    assert "<svg" in poster and "QRQR22" in poster and "Skriv ut" in poster


def test_marking_a_walk_done_stops_additions(app, client, users, auth):
    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="STOP22")
        walk_id = walk.id
        obs_id = make_observation(users[Role.walker], walk).id
    auth.login_as(Role.coordinator)
    # "Mark as done" asks once more, in a page of its own (no JavaScript needed); nothing changes yet
    asked = client.post(f"/walks/{walk_id}/status", data={"status": "done"})
    assert asked.status_code == 200 and "Markera vandringen som klar?" in asked.get_data(as_text=True)
    assert 'name="confirmed" value="1"' in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Walk, walk_id).status is WalkStatus.ongoing
    assert client.post(f"/walks/{walk_id}/status", data={"status": "done", "confirmed": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Walk, walk_id).status is WalkStatus.done
    assert client.post(f"/walks/{walk_id}/status", data={"status": "bogus"}).status_code == 400
    auth.logout()
    auth.login_as(Role.walker)
    assert "Vandringen är avslutad" in client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert client.get(f"/observations/{obs_id}/edit").status_code == 403


def test_reporter_edits_own_observation_during_the_walk(app, client, users, auth):
    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="EDIT22")
        obs_id = make_observation(users[Role.walker], walk, description="Före").id
    auth.login_as(Role.walker)
    page = client.get(f"/observations/{obs_id}/edit").get_data(as_text=True)
    assert "Före" in page and 'name="version" value="1"' in page
    response = client.post(f"/observations/{obs_id}/edit", content_type="multipart/form-data", data={
        "category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1]), "description": "Efter",
        "version": "1", "photos": [(io.BytesIO(samples.webp_bytes()), "w.webp")]})
    assert response.status_code == 302
    with app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.description == "Efter" and obs.category.code == "klotter" and len(obs.photos) == 1
        edit = db.session.scalar(db.select(Event).filter_by(action="edited"))
        assert edit.data["description"] == ["Före", "Efter"]
    # a stale version is refused and the typed text is kept
    response = client.post(f"/observations/{obs_id}/edit", data={
        "category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1]), "description": "Tredje", "version": "1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Någon har ändrat observationen under tiden" in page and "Tredje" in page
    with app.app_context():
        assert db.session.get(Observation, obs_id).description == "Efter"


def test_failed_page_submit_keeps_values(app, client, users, auth):
    auth.login_as(Role.walker)
    response = client.post("/report", data={"category": "klotter", "lat": "", "lon": "",
                                            "description": "Klotter på muren", "rating": "7"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Välj en plats på kartan." in page
    assert "Klotter på muren" in page
    assert 'value="klotter" checked' in page and 'value="7" checked' in page
    with app.app_context():
        assert count(Observation) == 0


def test_walk_list_shows_only_my_walks(app, client, users, auth):
    with app.app_context():
        make_walk(participants=[users[Role.walker]], code="MINE33", title="Min vandring")
        make_walk(code="THEI33", title="Annans vandring")
    auth.login_as(Role.walker)
    page = client.get("/walks").get_data(as_text=True)
    assert "Min vandring" in page and "Annans vandring" not in page


def test_walk_page_summarises_states_and_marks_overdue(app, client, users, auth):
    from datetime import timedelta

    from walkapp.models import Status

    with app.app_context():
        walk = make_walk(participants=[users[Role.walker]], code="SUMM22")
        make_observation(users[Role.walker], walk)
        make_observation(users[Role.walker], walk, status=Status.assigned, due_date=local_today() - timedelta(days=1))
        make_observation(users[Role.walker], walk, status=Status.assigned, due_date=local_today() + timedelta(days=9))
        walk_id = walk.id
    auth.login_as(Role.coordinator)
    html = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert f'href="/inbox?walk={walk_id}&amp;status=assigned">Tilldelad <span>2</span>' in html
    assert f'href="/inbox?walk={walk_id}&amp;status=new">Ny <span>1</span>' in html
    assert html.count('class="overdue-text"') == 1


# --- limits for guests and join codes (issue 11, item 13) ----------------------------------

def guest_report(client, walk_id, photo=False, **fields):
    data = {"walk": str(walk_id), "category": "belysning", "lat": str(HERE[0]), "lon": str(HERE[1]), **fields}
    if photo:
        data["photos"] = [(io.BytesIO(samples.png_bytes()), "p.png")]
    return client.post("/api/v1/observations", data=data, content_type="multipart/form-data",
                       headers={"X-Walkapp-Outbox": "1", "Accept": "application/json"})


def join_as_guest(app, code, name, address="198.51.100.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post(f"/j/{code}", data={"name": name, "role_label": "resident"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_guests_are_limited_per_guest_and_per_walk(app_factory, users, auth):
    app = app_factory(GUEST_REPORTS_ALLOWED=2, WALK_GUEST_REPORTS_ALLOWED=3)
    with app.app_context():
        walk_id = make_walk(code="LIMT22").id
    petra = join_as_guest(app, "LIMT22", "Petra")
    assert guest_report(petra, walk_id).status_code == 201
    assert guest_report(petra, walk_id).status_code == 201
    refused = guest_report(petra, walk_id, description="Tredje lampan")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600
    [error] = refused.get_json()["errors"]
    assert error["field"] is None and "Du har skickat många rapporter på kort tid" in error["message"]
    # the page form (no JavaScript): the same answer on the form, with what was typed
    page = petra.post("/report", data={"walk": str(walk_id), "category": "belysning", "lat": str(HERE[0]),
                                       "lon": str(HERE[1]), "description": "Skrivet för hand"},
                      content_type="multipart/form-data")
    assert page.status_code == 429 and "Retry-After" in page.headers
    html = page.get_data(as_text=True)
    assert "Du har skickat många rapporter" in html and "Skrivet för hand" in html
    # another guest of the walk may send until the walk's own limit is reached
    olle = join_as_guest(app, "LIMT22", "Olle")
    assert guest_report(olle, walk_id).status_code == 201
    refused = guest_report(olle, walk_id)
    assert refused.status_code == 429
    assert "Vandringen har fått väldigt många rapporter från gäster" in refused.get_json()["errors"][0]["message"]
    with app.app_context():
        assert count(Observation) == 3
    # people with an account are not limited
    client = app.test_client()
    client.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    assert guest_report(client, walk_id).status_code == 201
    # once the window has passed, a guest may send again
    from walkapp.models import LoginFailure, utcnow
    from datetime import timedelta
    with app.app_context():
        db.session.execute(db.update(LoginFailure).values(at=utcnow() - timedelta(minutes=61)))
        db.session.commit()
    assert guest_report(petra, walk_id).status_code == 201


def test_guest_photo_bytes_are_limited_before_decoding(app_factory):
    size = len(samples.png_bytes())
    app = app_factory(GUEST_PHOTO_BYTES_ALLOWED=size + 10)
    with app.app_context():
        walk_id = make_walk(code="BYTE22").id
    guest = join_as_guest(app, "BYTE22", "Petra")
    assert guest_report(guest, walk_id, photo=True).status_code == 201
    refused = guest_report(guest, walk_id, photo=True)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Du har skickat många foton på kort tid" in refused.get_json()["errors"][0]["message"]
    # without a photo the report goes
    assert guest_report(guest, walk_id).status_code == 201
    with app.app_context():
        from walkapp.models import Photo
        assert count(Observation) == 2 and count(Photo) == 1


def test_join_codes_cannot_be_guessed(app_factory):
    app = app_factory(JOIN_CODE_FAILURES_ALLOWED=3)
    with app.app_context():
        make_walk(code="RIGHT2")
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    for guess in ("AAAAAA", "BBBBBB"):
        assert guesser.post("/join", data={"code": guess}).status_code == 400
    assert guesser.get("/j/CCCCCC").status_code == 302  # unknown: back to the form, counted too
    refused = guesser.post("/join", data={"code": "RIGHT2"})  # past the limit even a right code is not looked up
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "För många felaktiga koder från ditt nätverk" in refused.get_data(as_text=True)
    refused = guesser.get("/j/RIGHT2")
    assert refused.status_code == 429 and "Kvällsvandring" not in refused.get_data(as_text=True)
    # someone on another network is not affected
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.11"
    assert other.post("/join", data={"code": "RIGHT2"}).headers["Location"] == "/j/RIGHT2"
    # only a keyed hash of the address is stored
    from walkapp.models import LoginFailure
    with app.app_context():
        stored = db.session.scalars(db.select(LoginFailure.key_hash)).all()
        assert len(stored) == 3 and not any("192.0.2" in value for value in stored)


def test_joins_per_address_are_limited_and_the_form_keeps_its_values(app_factory):
    app = app_factory(JOINS_PER_ADDRESS_ALLOWED=2)
    with app.app_context():
        make_walk(code="MANY22")
    join_as_guest(app, "MANY22", "Ett", address="203.0.113.1")
    join_as_guest(app, "MANY22", "Två", address="203.0.113.1")
    third = app.test_client()
    third.environ_base["REMOTE_ADDR"] = "203.0.113.1"
    refused = third.post("/j/MANY22", data={"name": "Tredje Person", "role_label": "police",
                                            "email": "tre@example.se"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    html = refused.get_data(as_text=True)
    assert "Väldigt många har gått med från ditt nätverk" in html
    assert 'value="Tredje Person"' in html and 'value="tre@example.se"' in html
    with app.app_context():
        assert count(User) == 2
    join_as_guest(app, "MANY22", "Annan", address="203.0.113.2")


def test_client_address_comes_from_the_proxy_only_when_configured(app_factory):
    def blocked_after_one_failure(app, forwarded_for):
        first, second = app.test_client(), app.test_client()
        first.post("/join", data={"code": "AAAAAA"}, headers={"X-Forwarded-For": "198.51.100.1"})
        return second.post("/join", data={"code": "BBBBBB"},
                           headers={"X-Forwarded-For": forwarded_for}).status_code == 429

    # behind one proxy: each forwarded client counts on its own
    behind_proxy = app_factory(JOIN_CODE_FAILURES_ALLOWED=1, PROXY_FORWARDS=1)
    assert not blocked_after_one_failure(behind_proxy, "198.51.100.2")
    assert blocked_after_one_failure(behind_proxy, "198.51.100.1")


def test_client_address_ignores_forwarded_for_by_default(app_factory):
    # without PROXY_FORWARDS a client cannot pick its own address with a header
    direct = app_factory(JOIN_CODE_FAILURES_ALLOWED=1)
    first, second = direct.test_client(), direct.test_client()
    first.post("/join", data={"code": "AAAAAA"}, headers={"X-Forwarded-For": "198.51.100.1"})
    response = second.post("/join", data={"code": "BBBBBB"}, headers={"X-Forwarded-For": "198.51.100.2"})
    assert response.status_code == 429


def test_finished_walk_code_reveals_nothing_about_the_walk(app, client):
    with app.app_context():
        make_walk(status=WalkStatus.done, code="DONE33", title="Hemliga gränden", meeting_point="Bakom sporthallen")
    for response in (client.get("/j/DONE33"), client.post("/j/DONE33", data={"name": "Sen", "role_label": "resident"})):
        html = response.get_data(as_text=True)
        assert "Vandringen är avslutad" in html
        assert "Hemliga gränden" not in html and "Bakom sporthallen" not in html


def test_report_outside_a_walk_has_its_source_by_rule(app, client, users, auth):
    auth.login_as(Role.walker)
    assert 'name="source"' not in client.get("/report").get_data(as_text=True)
    # a walker reports as a resident, whatever the post says
    for source in ("", "field_group"):
        data = {"category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1])}
        if source:
            data["source"] = source
        assert client.post("/report", data=data).status_code == 302
    auth.logout()
    auth.login_as(Role.coordinator)
    assert 'name="source"' in client.get("/report").get_data(as_text=True)
    assert client.post("/report", data={"category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1]),
                                        "source": "police"}).status_code == 302
    with app.app_context():
        sources = [o.source for o in db.session.scalars(db.select(Observation).order_by(Observation.id))]
        assert sources == [Source.resident, Source.resident, Source.police]


def test_a_done_walk_never_goes_back_to_planned(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(code="DONE44", title="Klar vandring", status=WalkStatus.done).id
    auth.login_as(Role.coordinator)
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert 'name="status" value="ongoing"' in page and 'name="status" value="planned"' not in page
    response = client.post(f"/walks/{walk_id}/status", data={"status": "planned"}, follow_redirects=True)
    assert "Den här statusändringen går inte för vandringen." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Walk, walk_id).status is WalkStatus.done
    assert client.post(f"/walks/{walk_id}/status", data={"status": "ongoing"}).status_code == 302
    with app.app_context():
        assert db.session.get(Walk, walk_id).status is WalkStatus.ongoing


def test_after_the_walk_its_link_leads_to_what_happened(app, client, users, auth):
    with app.app_context():
        walk = make_walk(status=WalkStatus.done, code="DONE22", participants=[users[Role.walker]])
        walk_id, token = walk.id, walk.public_token
        obs_id = make_observation(users[Role.walker], walk).id
    # nothing published yet: the code says only that the walk has ended
    page = client.get("/j/DONE22").get_data(as_text=True)
    assert "Vandringen är avslutad" in page and f"/f/{token}" not in page
    with app.app_context():
        db.session.get(Observation, obs_id).is_public = True
        db.session.commit()
    page = client.get("/j/DONE22").get_data(as_text=True)
    assert f'href="/f/{token}"' in page and "Se vad som hänt efter vandringen" in page
    # a participant opening the link lands on the walk page, which links the public feedback page
    auth.login_as(Role.walker)
    response = client.get("/j/DONE22")
    assert response.headers["Location"] == f"/walks/{walk_id}"
    assert f'href="/f/{token}"' in client.get(f"/walks/{walk_id}").get_data(as_text=True)


class FormValues(HTMLParser):
    """What a browser without JavaScript sends from the page's form `form_id` (text, hidden, checked
    boxes, textareas), and the labels of its visible submit buttons."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.textarea = form_id, False, None
        self.values: dict[str, str] = {}
        self.submits: list[str] = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        kind = a.get("type", "text")
        if tag == "input" and a.get("name") and kind not in ("file", "submit", "button"):
            if kind not in ("radio", "checkbox") or "checked" in a:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[self.textarea] = ""
        elif tag == "button" and a.get("type", "submit") == "submit" and "hidden" not in a:
            self._button = ""

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data
        if self._button is not None:
            self._button += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "button" and self._button is not None:
            self.submits.append(self._button.strip())
            self._button = None


def form_values(page: str, form_id="report-form") -> FormValues:
    parser = FormValues(form_id)
    parser.feed(page)
    return parser


def test_a_report_refused_because_the_walk_ended_keeps_its_text_without_javascript(app, client, users, auth):
    with app.app_context():
        walk_id = make_walk(participants=[users[Role.walker]], code="ENDED2").id
    auth.login_as(Role.walker)
    assert client.get(f"/report?walk={walk_id}").status_code == 200
    with app.app_context():  # the coordinator marks the walk done while the walker types
        db.session.get(Walk, walk_id).status = WalkStatus.done
        db.session.commit()
    typed = {"walk": str(walk_id), "category": "klotter", "lat": str(HERE[0]), "lon": str(HERE[1]),
             "accuracy": "8.0", "description": "Klotter på tunnelns vägg", "rating": "3"}
    response = client.post("/report", content_type="multipart/form-data",
                           data={**typed, "photos": [(io.BytesIO(samples.png_bytes()), "p.png")]})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Vandringen är avslutad" in page and "Det du skrev finns kvar här" in page
    assert "Fotot du valde kunde inte behållas: välj det igen innan du behåller rapporten." in page
    form = form_values(page)
    # as typed, without the walk, and sent by the one button that keeps it as a report without walk
    assert {k: form.values.get(k) for k in typed} == {**typed, "walk": None}
    assert form.submits == ["Behåll som rapport utan vandring"]
    with app.app_context():
        assert count(Observation) == 0 and count(Event) == 0
    kept = client.post("/report", data=form.values)
    assert kept.status_code == 302
    with app.app_context():
        obs = db.session.scalar(db.select(Observation))
        assert kept.headers["Location"] == f"/observations/{obs.id}"
        assert (obs.walk_id, obs.description, obs.category.code, obs.safety_rating, obs.accuracy_m) == (
            None, "Klotter på tunnelns vägg", "klotter", 3, 8.0)
        assert (obs.lat, obs.lon, obs.source, obs.reporter_id) == (HERE[0], HERE[1], Source.resident, users[Role.walker])
        assert count(Observation) == 1 and count(Event) == 1
        walk = db.session.get(Walk, walk_id)
        assert walk.status is WalkStatus.done and walk.observations == []


def test_a_guest_refused_because_the_walk_ended_keeps_the_text_to_copy(app, client, users):
    with app.app_context():
        walk_id = make_walk(code="ENDED3").id
    client.post("/j/ENDED3", data={"name": "Gäst", "role_label": "resident"})
    with app.app_context():
        db.session.get(Walk, walk_id).status = WalkStatus.done
        db.session.commit()
    response = client.post("/report", data={"walk": str(walk_id), "category": "belysning", "lat": str(HERE[0]),
                                            "lon": str(HERE[1]), "description": "Lampan är trasig"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "gäster rapporterar bara på vandringar" in page
    assert form_values(page).values["description"] == "Lampan är trasig" and form_values(page).submits == []
    with app.app_context():
        assert count(Observation) == 0
