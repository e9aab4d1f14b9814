"""Coordinator triage over HTTP: inbox filters, moves, conflicts, bulk, duplicates, escaping, query counts."""
import re
from datetime import timedelta

import pytest

from walkapp.extensions import db
from walkapp.models import Category, Event, Observation, Organisation, Priority, Role, Source, Status, Walk

from .factories import count, count_statements, local_today, make_observation, make_walk

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def org(app):
    with app.app_context():
        organisation = Organisation(name="HEMAB")
        db.session.add(organisation)
        db.session.commit()
        return organisation.id




def test_inbox_filters_and_counts(app, client, users, auth, org):
    with app.app_context():
        walk = make_walk(code="INBX22", title="Centrum")
        a = make_observation(users[Role.walker], walk, description="Lampan vid kiosken").id
        b = make_observation(users[Role.walker], None, code="klotter", status=Status.assigned,
                             organisation_id=org, due_date=local_today() - timedelta(days=3),
                             priority=Priority.high, source=Source.field_group).id
        c = make_observation(users[Role.walker], None, code="klotter", status=Status.fixed).id
        walk_id = walk.id
    auth.login_as(Role.coordinator)

    def shown(query=""):
        html = client.get("/inbox" + query).get_data(as_text=True)
        return {int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)}, html

    ids, html = shown()
    assert ids == {a, b, c}
    assert re.search(r"Ny <span>1</span>", html) and re.search(r"Tilldelad <span>1</span>", html)
    assert shown("?status=assigned")[0] == {b}
    assert shown("?status=new,fixed")[0] == {a, c}
    assert shown("?category=klotter")[0] == {b, c}
    assert shown(f"?walk={walk_id}")[0] == {a}
    assert shown("?source=field_group")[0] == {b}
    assert shown(f"?organisation={org}")[0] == {b}
    assert shown("?priority=high")[0] == {b}
    assert shown("?overdue=1")[0] == {b}
    assert shown("?q=kiosken")[0] == {a}
    assert shown(f"?q=%23{c}")[0] == {c}
    assert shown(f"?from={local_today().isoformat()}")[0] == {a, b, c}
    assert shown(f"?to={(local_today() - timedelta(days=1)).isoformat()}")[0] == set()
    # counts follow the other filters but not the status filter itself
    html = shown("?category=klotter&status=fixed")[1]
    assert re.search(r"Åtgärdad <span>1</span>", html) and re.search(r"Tilldelad <span>1</span>", html)
    # overdue is marked in the list
    assert "Försenad" in shown("?status=assigned")[1]
    # bad filters get a message, not a 500
    response = client.get("/inbox?status=nope&from=igår")
    assert response.status_code == 200 and "Okänd status." in response.get_data(as_text=True)


def test_inbox_and_map_query_counts_do_not_grow(app, client, users, auth, org):
    def make(n):
        with app.app_context():
            walk = db.session.scalar(db.select(Walk)) or make_walk(code="MANY22")
            cats = db.session.scalars(db.select(Category)).all()
            for i in range(n):
                db.session.add(Observation(lat=62.63 + i * 1e-5, lon=17.93, category=cats[i % len(cats)],
                                           kind=cats[i % len(cats)].kind, walk=walk, organisation_id=org,
                                           description=f"Sak {i}"))
            db.session.commit()

    auth.login_as(Role.coordinator)

    def pages():
        assert client.get("/inbox").status_code == 200
        assert client.get("/api/v1/observations?bbox=17.9,62.6,18.0,62.7").status_code == 200

    make(10)
    few = count_statements(app, pages)
    make(490)
    assert count_statements(app, pages) == few


def test_map_endpoint_clusters_when_the_view_holds_too_many(app_factory, users):
    app = app_factory(MAP_MAX_POINTS=20)
    with app.app_context():
        category = db.session.scalar(db.select(Category))
        for i in range(60):
            db.session.add(Observation(lat=62.60 + (i % 10) * 0.005, lon=17.90 + (i // 10) * 0.005,
                                       category=category, kind=category.kind))
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    town = client.get("/api/v1/observations?bbox=17.8,62.5,18.1,62.8").get_json()
    assert town["clustered"] is True
    assert sum(f["properties"]["count"] for f in town["features"]) == 60
    street = client.get("/api/v1/observations?bbox=17.899,62.599,17.901,62.601").get_json()
    assert "clustered" not in street and len(street["features"]) == 1
    extent = client.get("/api/v1/observations/extent").get_json()["bbox"]
    assert extent == pytest.approx([17.90, 62.60, 17.925, 62.645])


def test_assign_then_verify_through_the_item_page(app, client, users, auth, org):
    with app.app_context():
        obs_id = make_observation(users[Role.walker]).id
    auth.login_as(Role.coordinator)
    page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    assert "Bedöm" in page and "Bedöm och tilldela" in page  # assess alone, or assess and assign at once
    assert client.post(f"/observations/{obs_id}/move", data={"action": "accept", "version": "1"}).status_code == 302
    response = client.post(f"/observations/{obs_id}/move", data={
        "action": "assign", "version": "2", "organisation_id": str(org), "priority": "high", "due_date": ""})
    assert response.status_code == 302
    with app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.status is Status.assigned and obs.organisation_id == org
        assert obs.due_date == local_today() + timedelta(days=7)  # default for high priority
    client.post(f"/observations/{obs_id}/move", data={"action": "fix", "version": "3", "comment": "Bytt lampa"})
    client.post(f"/observations/{obs_id}/move", data={"action": "verify", "version": "4", "public": "y",
                                                        "comment": "Kontrollerat på plats"})
    html = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    history = html[html.index('id="history"'):]
    for text in ("Ny → Bedömd", "Bedömd → Tilldelad", "HEMAB", "Tilldelad → Åtgärdad", "Åtgärdad → Klar",
                 "Kontrollerat på plats", "Coordinator"):
        assert text in history
    with app.app_context():
        assert [e.action for e in db.session.scalars(db.select(Event).order_by(Event.id))] == [
            "accept", "assign", "fix", "verify"]


def test_move_missing_reason_keeps_input(app, client, users, auth):
    with app.app_context():
        obs_id = make_observation(users[Role.walker]).id
    auth.login_as(Role.coordinator)
    response = client.post(f"/observations/{obs_id}/move", data={"action": "reject", "version": "1",
                                                                   "reason": "", "comment": "Mitt utkast"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Ange ett skäl." in html and "Mitt utkast" in html
    with app.app_context():
        assert db.session.get(Observation, obs_id).status is Status.new and count(Event) == 0


def test_concurrent_edits_conflict_and_keep_input(app, users, auth, org):
    with app.app_context():
        obs_id = make_observation(users[Role.walker], description="Original").id
        from walkapp.models import User
        db.session.add(User(email="kollega@example.se", name="Karin Kollega", role=Role.coordinator))
        kollega = db.session.scalar(db.select(User).filter_by(email="kollega@example.se"))
        kollega.set_password("correct horse battery")
        db.session.commit()
    one, two = app.test_client(), app.test_client()
    one.post("/login", data={"email": "kollega@example.se", "password": "correct horse battery"})
    two.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    version = re.search(r'name="version" value="(\d+)"', one.get(f"/observations/{obs_id}").get_data(as_text=True)).group(1)
    assert re.search(r'name="version" value="(\d+)"', two.get(f"/observations/{obs_id}").get_data(as_text=True)).group(1) == version
    first = one.post(f"/observations/{obs_id}/triage", data={
        "version": version, "category": "belysning", "lat": "62.6323", "lon": "17.9379", "description": "Första"})
    assert first.status_code == 302
    late = two.post(f"/observations/{obs_id}/triage", data={
        "version": version, "category": "klotter", "lat": "62.6323", "lon": "17.9379", "description": "Min egen text"})
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Ändrad av Karin Kollega" in html and "under tiden" in html
    assert "Min egen text" in html  # their input, to re-apply
    assert "Första" in html  # the item as it is now
    with app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.description == "Första" and obs.category.code == "belysning"
    # a move with the stale version conflicts too, and changes nothing
    late_move = two.post(f"/observations/{obs_id}/move", data={"action": "reject", "version": version, "reason": "Fel"})
    assert late_move.status_code == 409 and "Fel" in late_move.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Observation, obs_id).status is Status.new


def test_bulk_assign_fifty_writes_fifty_events(app, client, users, auth, org):
    with app.app_context():
        category = db.session.scalar(db.select(Category).filter_by(code="belysning"))
        items = [Observation(lat=62.63, lon=17.93, category=category, kind=category.kind, status=Status.accepted)
                 for _ in range(50)]
        db.session.add_all(items)
        db.session.commit()
        ids = [o.id for o in items]
    auth.login_as(Role.coordinator)
    response = client.post("/inbox/bulk", data={"ids": [str(i) for i in ids], "action": "assign",
                                                 "organisation_id": str(org), "priority": "low", "due_date": ""})
    assert response.status_code == 302
    with app.app_context():
        assert count(Event) == 50
        assert db.session.scalar(db.select(db.func.count(Observation.id)).filter_by(status=Status.assigned)) == 50


def test_bulk_is_all_or_nothing(app, client, users, auth):
    with app.app_context():
        fresh = make_observation(users[Role.walker]).id
        done = make_observation(users[Role.walker], status=Status.verified).id
    auth.login_as(Role.coordinator)
    client.post("/inbox/bulk", data={"ids": [str(fresh), str(done)], "action": "reject", "reason": "Ej relevant"})
    with app.app_context():
        assert count(Event) == 0 and db.session.get(Observation, fresh).status is Status.new
    page = client.get("/inbox").get_data(as_text=True)
    assert f"#{done}" in page and "inget har ändrats" in page
    client.post("/inbox/bulk", data={"ids": [str(fresh)], "action": "reject", "reason": ""})
    assert "Ange ett skäl." in client.get("/inbox").get_data(as_text=True)


def test_duplicate_from_nearby_list(app, client, users, auth):
    with app.app_context():
        original = make_observation(users[Role.walker], description="Första rapporten").id
        dup = make_observation(users[Role.walker], lat=62.63235, description="Andra rapporten").id
    auth.login_as(Role.coordinator)
    page = client.get(f"/observations/{dup}").get_data(as_text=True)
    assert f'name="duplicate_of" value="{original}"' in page
    response = client.post(f"/observations/{dup}/move", data={"action": "duplicate", "version": "1",
                                                                "duplicate_of": str(original)})
    assert response.status_code == 302
    html = client.get(f"/observations/{original}").get_data(as_text=True)
    assert "Andra rapporten" in html and f"#{dup}" in html
    assert f"#{original}" in client.get(f"/observations/{dup}").get_data(as_text=True)


def test_user_text_is_escaped_in_inbox_and_detail(app, client, users, auth):
    with app.app_context():
        db.session.add(Organisation(name=XSS))
        category = db.session.scalar(db.select(Category).filter_by(code="annat"))
        category.name_sv = XSS
        walk = make_walk(code="XSSX22", title=XSS)
        db.session.commit()
        obs = make_observation(users[Role.walker], walk, code="annat", description=XSS,
                               status=Status.assigned,
                               organisation_id=db.session.scalar(db.select(Organisation.id)))
        obs_id, walk_id = obs.id, walk.id
    auth.login_as(Role.coordinator)
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    # each page shows the hostile text (walk title, description, category or organisation name), escaped
    for url in ("/inbox", f"/observations/{obs_id}", "/walks", f"/walks/{walk_id}", "/admin/organisations"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert XSS not in html, url
        assert escaped in html, url


def test_responder_acts_only_on_own_tasks(app, client, users, auth):
    with app.app_context():
        from walkapp.models import User
        responder = db.session.get(User, users[Role.responder])
        mine = make_observation(users[Role.walker], status=Status.assigned, organisation_id=responder.organisation_id).id
        other_org = Organisation(name="Annan")
        db.session.add(other_org)
        db.session.commit()
        theirs = make_observation(users[Role.walker], status=Status.assigned, organisation_id=other_org.id).id
    auth.login_as(Role.responder)
    assert client.get(f"/observations/{theirs}").status_code == 404
    assert client.post(f"/observations/{theirs}/move", data={"action": "fix", "version": "1"}).status_code == 404
    assert client.post(f"/observations/{mine}/move", data={"action": "decline", "version": "1", "reason": "Inte vår mark"}).status_code == 302
    with app.app_context():
        obs = db.session.get(Observation, mine)
        assert obs.status is Status.accepted and obs.organisation_id is None
    assert client.get(f"/observations/{mine}").status_code == 404  # no longer theirs
    assert client.get("/inbox").status_code == 403


def test_move_and_bulk_go_back_only_within_the_site(app, client, users, auth):
    with app.app_context():
        obs_id = make_observation(users[Role.walker]).id
        other = make_observation(users[Role.walker]).id
    auth.login_as(Role.coordinator)
    response = client.post(f"/observations/{obs_id}/move", data={
        "action": "accept", "version": "1", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == f"/observations/{obs_id}"
    response = client.post("/inbox/bulk", data={"ids": [str(other)], "action": "accept", "back": "//evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    response = client.post("/inbox/bulk", data={"ids": [str(other)], "action": "accept", "back": "/inbox?status=new"})
    assert response.headers["Location"] == "/inbox?status=new"
    # control characters: refused before anything changes
    with app.app_context():
        third = make_observation(users[Role.walker]).id
    response = client.post(f"/observations/{third}/move", data={
        "action": "accept", "version": "1", "next": "/\t/evil.example"})
    assert response.status_code == 400
    response = client.post("/inbox/bulk", data={"ids": [str(third)], "action": "accept", "back": "/\n/x"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Observation, third).status is Status.new


def colleagues(app):
    """Two coordinators signed in on their own clients."""
    from walkapp.models import User

    with app.app_context():
        db.session.add(User(email="kollega@example.se", name="Karin Kollega", role=Role.coordinator))
        db.session.scalar(db.select(User).filter_by(email="kollega@example.se")).set_password("correct horse battery")
        db.session.commit()
    one, two = app.test_client(), app.test_client()
    one.post("/login", data={"email": "kollega@example.se", "password": "correct horse battery"})
    two.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    return one, two


def at_the_same_moment(app, send):
    """Run send() (a colleague's whole request) when this request first writes, i.e. after both
    requests have read the item and passed the version check: the race two gunicorn workers run."""
    from sqlalchemy import event

    state = {"done": False}

    def colleague_first(session, flush_context, instances):
        if state["done"] or not any(isinstance(o, Observation) for o in session.dirty):
            return
        state["done"] = True
        with app.app_context():  # the colleague's request: its own context, session and connection
            state["response"] = send()

    event.listen(db.session, "before_flush", colleague_first)
    return state, lambda: event.remove(db.session, "before_flush", colleague_first)


def test_two_moves_at_the_same_moment_the_loser_gets_409_with_input_kept(app, users, auth, org):
    """Both read version 1 and pass the check; the colleague's assignment commits first. The loser's
    write (flushed early by the notifications) finds the row changed: 409, own input kept, nothing
    of theirs written (was a 500 from StaleDataError)."""
    with app.app_context():
        obs_id = make_observation(users[Role.walker], status=Status.accepted).id
    one, two = colleagues(app)
    state, stop = at_the_same_moment(app, lambda: one.post(f"/observations/{obs_id}/move", data={
        "action": "assign", "version": "1", "organisation_id": str(org), "priority": "high", "due_date": ""}))
    try:
        late = two.post(f"/observations/{obs_id}/move", data={
            "action": "assign", "version": "1", "organisation_id": str(org), "priority": "low", "due_date": "",
            "comment": "Min egen kommentar"})
    finally:
        stop()
    assert state["response"].status_code == 302  # the colleague's move won
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Ändrad av Karin Kollega" in html and "Min egen kommentar" in html
    with app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.status is Status.assigned and obs.priority is Priority.high
        assert [e.action for e in db.session.scalars(db.select(Event))] == ["assign"]


def test_bulk_move_racing_a_single_move_changes_nothing(app, users, auth, org):
    with app.app_context():
        a = make_observation(users[Role.walker]).id
        b = make_observation(users[Role.walker]).id
    one, two = colleagues(app)
    state, stop = at_the_same_moment(app, lambda: one.post(f"/observations/{b}/move", data={
        "action": "reject", "version": "1", "reason": "Ej vårt"}))
    try:
        response = two.post("/inbox/bulk", data={"ids": [str(a), str(b)], "action": "accept"})
    finally:
        stop()
    assert state["response"].status_code == 302 and response.status_code == 302
    assert "Någon ändrade några av ärendena under tiden" in two.get("/inbox").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Observation, a).status is Status.new
        assert db.session.get(Observation, b).status is Status.rejected
        assert [e.action for e in db.session.scalars(db.select(Event))] == ["reject"]


def test_only_staff_and_responders_comment_and_the_page_offers_the_form_to_the_same_people(app, client, users, auth):
    """policy.can_comment decides both the form on the item page and the post it sends."""
    with app.app_context():
        from walkapp.models import User
        responder = db.session.get(User, users[Role.responder])
        walk = make_walk(code="KOMM22", participants=[users[Role.walker]])
        obs_id = make_observation(users[Role.walker], walk, status=Status.assigned,
                                  organisation_id=responder.organisation_id).id
    form = f'action="/observations/{obs_id}/comment"'
    expected = {Role.walker: (False, 403), Role.responder: (True, 302), Role.coordinator: (True, 302),
                Role.admin: (True, 302)}
    for role, (offered, status) in expected.items():
        auth.login_as(role)
        assert (form in client.get(f"/observations/{obs_id}").get_data(as_text=True)) is offered, role
        assert client.post(f"/observations/{obs_id}/comment", data={"comment": f"Från {role.value}"}).status_code == status, role
        auth.logout()
    with app.app_context():
        comments = db.session.scalars(db.select(Event.comment).filter_by(observation_id=obs_id, action="comment")
                                      .order_by(Event.id)).all()
    assert comments == ["Från responder", "Från coordinator", "Från admin"]


def test_due_date_hint_and_default_follow_due_days(app, client, users, auth, org):
    app.config["DUE_DAYS"] = {"high": 2, "normal": 10, "low": 20}
    with app.app_context():
        obs_id = make_observation(users[Role.walker]).id
    auth.login_as(Role.coordinator)
    assert client.post(f"/observations/{obs_id}/move", data={"action": "accept", "version": "1"}).status_code == 302
    page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    assert "Tomt: 2 dagar för hög, 10 för normal, 20 för låg prioritet." in page
    assert "7 dagar" not in page
    response = client.post(f"/observations/{obs_id}/move", data={
        "action": "assign", "version": "2", "organisation_id": str(org), "priority": "low", "due_date": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Observation, obs_id).due_date == local_today() + timedelta(days=20)


def test_coordinator_assesses_and_assigns_a_new_item_in_one_step(app, client, users, auth, org):
    with app.app_context():
        obs_id = make_observation(users[Role.walker]).id
    auth.login_as(Role.coordinator)
    response = client.post(f"/observations/{obs_id}/move", data={
        "action": "assign", "version": "1", "organisation_id": str(org), "priority": "high", "due_date": ""})
    assert response.status_code == 302
    with app.app_context():
        obs = db.session.get(Observation, obs_id)
        assert obs.status is Status.assigned and obs.organisation_id == org
        assert obs.accepted_at is not None and obs.accepted_at == obs.assigned_at
        [event] = db.session.scalars(db.select(Event).filter_by(observation_id=obs_id)).all()
        assert (event.from_status, event.to_status, event.data["assessed"]) == (Status.new, Status.assigned, True)
    # the words match the states they give
    page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    assert "Ny → Tilldelad" in page


def test_inbox_opens_on_open_items_and_all_shows_the_closed_too(app, client, users, auth):
    with app.app_context():
        open_id = make_observation(users[Role.walker], status=Status.fixed).id
        closed_id = make_observation(users[Role.walker], status=Status.verified).id
    auth.login_as(Role.coordinator)
    html = client.get("/inbox").get_data(as_text=True)
    assert f"#{open_id} " in html and f"#{closed_id} " not in html
    assert re.search(r'<a href="/inbox" aria-current="page">Öppna <span>1</span>', html)
    every = client.get("/inbox?status=all").get_data(as_text=True)
    assert f"#{open_id} " in every and f"#{closed_id} " in every
    assert re.search(r'<a href="/inbox\?status=all" aria-current="page">Alla <span>2</span>', every)
    # the filter form keeps "all" when filtering further
    assert '<input type="hidden" name="status" value="all">' in every


def test_this_tertial_reads_as_english(app, client, users, auth):
    auth.login_as(Role.coordinator)
    client.post("/language", data={"lang": "en"})
    html = client.get("/lagesbild").get_data(as_text=True)
    assert "This four-month period" in html and "tertial" not in html.lower().replace("value=\"tertial\"", "")


def inbox_plan(app, client, query: str) -> str:
    """SQLite's plan for the inbox page's list query."""
    from sqlalchemy import event

    seen = []
    with app.app_context():
        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("SELECT observation.id") and "LIMIT" in statement:
                seen.append((statement, parameters))
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            assert client.get("/inbox" + query).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        statement, parameters = seen[0]
        rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return " | ".join(row[-1] for row in rows)


def test_inbox_page_walks_the_time_index_when_most_items_match(app, client, users, auth):
    """SQLite knows nothing of how states spread: for the open items, newest first, it would take the
    status index and sort every open item (65 ms at 100k); the summary counts tell the inbox to walk the
    time index instead, which stops after a page. A rare state still uses the status index."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL's planner has statistics")
        category = db.session.scalar(db.select(Category))
        db.session.add_all([Observation(lat=62.63, lon=17.94, category=category, kind=category.kind,
                                        status=Status.duplicate if i == 0 else Status.new) for i in range(40)])
        db.session.commit()
    auth.login_as(Role.coordinator)
    open_items = inbox_plan(app, client, "")
    assert "ix_observation_created_at" in open_items and "TEMP B-TREE" not in open_items
    rare = inbox_plan(app, client, "?status=duplicate")
    assert "ix_observation_status" in rare
