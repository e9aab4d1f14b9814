"""The public feedback page and My tasks."""
import re
from datetime import timedelta

from walkapp import faces, photos
from walkapp.extensions import db
from walkapp.models import Event, Observation, Organisation, Photo, Role, Status, User, Visibility, Walk

from . import photo_samples as samples
from .conftest import PASSWORD
from .factories import local_today, make_observation, make_walk


def add_photo(obs_id, walker_id, public):
    obs = db.session.get(Observation, obs_id)
    processed = photos.process(samples.png_bytes(), max_bytes=10**7, max_pixels=10**8)
    [photo] = photos.save_photos(obs, [processed], db.session.get(User, walker_id))
    db.session.commit()  # the caller commits what save_photos added
    assert faces.wait_idle()  # checked for people: a coordinator may publish it
    db.session.refresh(photo)
    photo.is_public = public
    db.session.commit()
    return photo.id


def test_public_page_shows_only_what_is_public(app, client, users):
    with app.app_context():
        walk = make_walk(code="PUBL22", title="Kvällsvandring Säter")
        token = walk.public_token
        shown = make_observation(users[Role.walker], walk, description="Mörk gångtunnel", status=Status.verified,
                                 is_public=True).id
        hidden = make_observation(users[Role.walker], walk, code="klotter", description="Hemlig sak").id
        wont = make_observation(users[Role.walker], walk, code="klotter", status=Status.wont_fix, is_public=True).id
        safe = make_observation(users[Role.walker], walk, code="trygg-plats", description="Ljust torg", is_public=True).id
        coordinator = db.session.get(User, users[Role.coordinator])
        for obs_id, text, visibility in ((shown, "Ny belysning på plats", Visibility.public),
                                         (shown, "Internt: budget från HEMAB", Visibility.internal),
                                         (wont, "Fastigheten är privat; vi kontaktar ägaren", Visibility.public)):
            db.session.add(Event(observation_id=obs_id, actor=coordinator, action="comment", comment=text,
                                 visibility=visibility))
        db.session.commit()
        public_photo = add_photo(shown, users[Role.walker], True)
        private_photo = add_photo(shown, users[Role.walker], False)
    response = client.get(f"/f/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kvällsvandring Säter" in html and "Mörk gångtunnel" in html and "Klar" in html
    assert "Ny belysning på plats" in html and "Fastigheten är privat" in html and "Ljust torg" in html
    assert "Hemlig sak" not in html and "Internt" not in html
    assert "Walker" not in html and "Coordinator" not in html  # no names
    assert f"/photos/{public_photo}/thumb.jpg" in html and f"/photos/{private_photo}/" not in html
    # counts by category include every item (no details)
    assert re.search(r"<td>Klotter</td><td>2</td>", html)
    assert client.get(f"/f/{token}/photos/{public_photo}/thumb.jpg").status_code == 200
    assert client.get(f"/f/{token}/photos/{private_photo}/thumb.jpg").status_code == 404
    assert client.get(f"/f/wrong-token/photos/{public_photo}/thumb.jpg").status_code == 404
    assert client.get("/f/not-a-token").status_code == 404
    assert hidden and safe


def test_coordinator_chooses_what_is_public(app, client, users, auth):
    with app.app_context():
        walk = make_walk(code="CHOS22")
        obs_id = make_observation(users[Role.walker], walk).id
        photo_id = add_photo(obs_id, users[Role.walker], False)
        token = walk.public_token
    auth.login_as(Role.coordinator)
    # the page's buttons carry the wanted state
    page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    assert page.count('name="public" value="1"') >= 2
    client.post(f"/observations/{obs_id}/public", data={"public": "1"})
    client.post(f"/photos/{photo_id}/public", data={"public": "1"})
    with app.app_context():
        assert db.session.get(Observation, obs_id).is_public and db.session.get(Photo, photo_id).is_public
    assert f"/photos/{photo_id}/thumb.jpg" in app.test_client().get(f"/f/{token}").get_data(as_text=True)
    auth.logout()
    auth.login_as(Role.walker)
    assert client.post(f"/observations/{obs_id}/public", data={"public": "0"}).status_code == 403


def test_two_coordinators_pressing_hide_both_hide(app, users, auth):
    """The forms carry the wanted state: pressing "hide" twice (two people on pages loaded while
    it was shown) hides it, once in the history; showing likewise, for the item and a photo."""
    with app.app_context():
        walk = make_walk(code="HIDE22")
        obs_id = make_observation(users[Role.walker], walk, is_public=True).id
        photo_id = add_photo(obs_id, users[Role.walker], True)
        db.session.add(User(email="kollega@example.se", name="Karin Kollega", role=Role.coordinator))
        db.session.scalar(db.select(User).filter_by(email="kollega@example.se")).set_password(PASSWORD)
        db.session.commit()
    one, two = app.test_client(), app.test_client()
    one.post("/login", data={"email": "coordinator@example.se", "password": PASSWORD})
    two.post("/login", data={"email": "kollega@example.se", "password": PASSWORD})
    for client in (one, two):
        page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
        assert 'name="public" value="0"' in page  # both see "hide"
    for client in (one, two):
        assert client.post(f"/observations/{obs_id}/public", data={"public": "0"}).status_code == 302
        assert client.post(f"/photos/{photo_id}/public", data={"public": "0"}).status_code == 302

    def state():
        with app.app_context():
            events = db.session.scalars(db.select(Event).filter_by(observation_id=obs_id).order_by(Event.id)).all()
            return (db.session.get(Observation, obs_id).is_public, db.session.get(Photo, photo_id).is_public,
                    [(e.action, (e.data or {}).get("photo")) for e in events])

    assert state() == (False, False, [("unpublished", None), ("unpublished", photo_id)])
    for client in (two, one):
        client.post(f"/observations/{obs_id}/public", data={"public": "1"})
        client.post(f"/photos/{photo_id}/public", data={"public": "1"})
    assert state() == (True, True, [("unpublished", None), ("unpublished", photo_id),
                                    ("published", None), ("published", photo_id)])
    history = one.get(f"/observations/{obs_id}").get_data(as_text=True).split('id="history"')[1]
    assert "dolde den från den offentliga återkopplingssidan" in history
    assert "visade den på den offentliga återkopplingssidan" in history
    assert "dolde ett foto från den offentliga återkopplingssidan" in history
    assert "Karin Kollega" in history
    # the public page follows
    with app.app_context():
        token = db.session.get(Walk, db.session.get(Observation, obs_id).walk_id).public_token
    assert f"/photos/{photo_id}/thumb.jpg" in app.test_client().get(f"/f/{token}").get_data(as_text=True)
    # a form without the wanted state changes nothing
    for path in (f"/observations/{obs_id}/public", f"/photos/{photo_id}/public"):
        assert one.post(path).status_code == 400
        assert one.post(path, data={"public": "yes"}).status_code == 400
    assert state()[:2] == (True, True) and len(state()[2]) == 4


def test_my_tasks_lists_the_organisations_open_tasks_overdue_first(app, client, users, auth):
    with app.app_context():
        org_id = db.session.get(User, users[Role.responder]).organisation_id
        other = Organisation(name="Annat bolag")
        db.session.add(other)
        db.session.commit()
        later = make_observation(users[Role.walker], status=Status.assigned, organisation_id=org_id,
                                 due_date=local_today() + timedelta(days=10), description="Senare").id
        late = make_observation(users[Role.walker], status=Status.in_progress, organisation_id=org_id,
                                due_date=local_today() - timedelta(days=1), description="Försenad sak").id
        make_observation(users[Role.walker], status=Status.assigned, organisation_id=other.id, description="Inte vår")
        make_observation(users[Role.walker], status=Status.verified, organisation_id=org_id, description="Klar sedan länge")
    auth.login_as(Role.responder)
    html = client.get("/tasks").get_data(as_text=True)
    listing = html[:html.index('class="map-frame"')]
    assert listing.index(f"#{late} ") < listing.index(f"#{later} ")
    assert "Inte vår" not in html and "Klar sedan länge" not in html
    assert "Försenad" in listing


def test_responder_gets_404_for_another_organisations_task_photos_and_feature(app, client, users, auth):
    with app.app_context():
        other = Organisation(name="Annat bolag")
        db.session.add(other)
        db.session.commit()
        obs_id = make_observation(users[Role.walker], status=Status.assigned, organisation_id=other.id).id
        photo_id = add_photo(obs_id, users[Role.walker], True)
    auth.login_as(Role.responder)
    assert client.get(f"/observations/{obs_id}").status_code == 404
    assert client.get(f"/photos/{photo_id}/thumb.jpg").status_code == 404
    assert client.get(f"/api/v1/observations/{obs_id}").status_code == 404
    assert client.get("/api/v1/observations").get_json()["features"] == []


def test_responder_on_someone_elses_walk_sees_no_internal_notes(app, client, users, auth):
    """Internal notes are for staff, and for a responder only on the own organisation's tasks."""
    with app.app_context():
        own_org = db.session.get(User, users[Role.responder]).organisation_id
        other = Organisation(name="Annat bolag")
        db.session.add(other)
        db.session.commit()
        walk = make_walk(code="RESP22")
        theirs = make_observation(users[Role.walker], walk, status=Status.assigned, organisation_id=other.id).id
        ours = make_observation(users[Role.walker], walk, status=Status.assigned, organisation_id=own_org).id
        coordinator = db.session.get(User, users[Role.coordinator])
        responder = db.session.get(User, users[Role.responder])
        for obs_id, actor, text, visibility in (
                (theirs, coordinator, "Nyckeln finns hos vaktmästaren", Visibility.internal),
                (theirs, coordinator, "Vi byter armaturen i veckan", Visibility.public),
                (theirs, responder, "Min egen anteckning", Visibility.internal),
                (ours, coordinator, "Budget klar för vårt uppdrag", Visibility.internal)):
            db.session.add(Event(observation_id=obs_id, actor=actor, action="comment", comment=text,
                                 visibility=visibility))
        db.session.commit()
    auth.login_as(Role.responder)
    joined = client.post("/j/RESP22", data={"role_label": "property_owner"})
    assert joined.status_code == 302
    page = client.get(f"/observations/{theirs}")
    assert page.status_code == 200  # a participant of the walk sees its items
    html = page.get_data(as_text=True)
    assert "Vi byter armaturen i veckan" in html and "Min egen anteckning" in html
    assert "Nyckeln finns hos vaktmästaren" not in html
    assert "Budget klar för vårt uppdrag" in client.get(f"/observations/{ours}").get_data(as_text=True)


def test_public_counts_leave_out_rejected_reports_and_duplicates(app, client, users):
    with app.app_context():
        walk = make_walk(code="CNTS22")
        make_observation(users[Role.walker], walk, code="klotter")
        make_observation(users[Role.walker], walk, code="klotter", status=Status.rejected, is_public=True)
        make_observation(users[Role.walker], walk, code="klotter", status=Status.duplicate, is_public=True)
        token = walk.public_token
    html = client.get(f"/f/{token}").get_data(as_text=True)
    assert re.search(r"<td>Klotter</td><td>1</td>", html)


def test_publish_an_item_with_its_photos_in_one_step(app, client, users, auth):
    """One press shows the item and its photos; the public page labels them Före/Efter; the photo
    buttons say what pressing does, the state is written beside it (issue 15)."""
    with app.app_context():
        walk = make_walk(code="ONCE22")
        obs_id = make_observation(users[Role.walker], walk).id
        before = add_photo(obs_id, users[Role.walker], False)
        after = add_photo(obs_id, users[Role.walker], False)
        db.session.get(Photo, after).stage = "after"
        db.session.commit()
        token = walk.public_token
    auth.login_as(Role.coordinator)
    page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    assert "Visa på den offentliga sidan med dess 2 foton" in page
    assert page.count("Gör offentlig") == 2 and page.count("Inte offentlig") == 2
    assert "Belysning, foto 1 av 2" in page  # alt text: category and which photo, not a file name
    assert client.post(f"/observations/{obs_id}/public", data={"public": "1", "with_photos": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Observation, obs_id).is_public
        assert db.session.get(Photo, before).is_public and db.session.get(Photo, after).is_public
        published = db.session.scalars(db.select(Event).filter_by(observation_id=obs_id, action="published")).all()
        assert [e.data for e in published] == [{"photos": [before, after]}]  # one step in the history
    page = client.get(f"/observations/{obs_id}").get_data(as_text=True)
    assert page.count("Dölj") >= 2 and "Gör offentlig" not in page and "visade den och dess 2 foton" in page
    public = app.test_client().get(f"/f/{token}").get_data(as_text=True)
    assert re.search(rf"/photos/{before}/thumb.jpg.*?<figcaption>Före</figcaption>", public, re.S)
    assert re.search(rf"/photos/{after}/thumb.jpg.*?<figcaption>Efter</figcaption>", public, re.S)


def test_showing_without_photos_leaves_the_photos_hidden(app, client, users, auth):
    with app.app_context():
        obs_id = make_observation(users[Role.walker], make_walk(code="NOPH22")).id
        photo_id = add_photo(obs_id, users[Role.walker], False)
    auth.login_as(Role.coordinator)
    client.post(f"/observations/{obs_id}/public", data={"public": "1"})
    with app.app_context():
        assert db.session.get(Observation, obs_id).is_public and not db.session.get(Photo, photo_id).is_public
