"""Retention (gallring), register extracts and erasure: planted personal data strings must be gone
from a dump of the whole database afterwards, while the observations stay."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import Text, cast, select

from walkapp import faces, photos
from walkapp.extensions import db
from walkapp.models import (
    ApiKey, ApiKeyUsage, ApiToken, Event, Follower, LoginFailure, LoginLink, Observation, OutboxMail,
    Participant, PrivacyAudit, Role, Source, Status, User, Walk, WalkStatus,
)
from walkapp.privacy import audit

from .conftest import create_user
from .factories import make_observation, make_walk
from .photo_samples import jpeg_with_orientation_and_gps

NOW = datetime.now(timezone.utc)
LONG_AGO = NOW - timedelta(days=800)

# Distinctive, ASCII-only strings (JSON escapes other characters, which would hide them from a dump).
ANNA = {"name": "Anna Plantedsson", "email": "anna.planted@example.se", "token": "Annas PLANTEDTOKEN",
        "follower": "anna.follows@example.se"}
GUEST = {"name": "Gustav Guestplanted", "email": "gustav.guestplanted@example.se"}
OPEN311 = {"first_name": "Olle311planted", "last_name": "Lastplanted311", "phone": "+46709998877",
           "device_id": "device-PLANTED-42", "account_id": "acct-PLANTED-7", "email": "olle.planted311@example.se"}
MAIL = {"recipient": "mailto.planted@example.se", "body": "Mailbody PLANTED secret"}
BERTIL = {"name": "Bertil Otherplanted", "email": "bertil.otherplanted@example.se"}
# Anna keeps her account (her name and address stay there); her old item and walk forget her.
AGED = [ANNA["follower"], GUEST["name"], GUEST["email"],
        *OPEN311.values(), MAIL["recipient"], MAIL["body"]]


def photo_of(obs, uploader):
    processed = photos.process(jpeg_with_orientation_and_gps(), max_bytes=10**8, max_pixels=10**8)
    return photos.save_photos(obs, [processed], uploader)[0]


def plant(app) -> dict:
    """Personal data in every place, aged past every retention limit; plus a recent person, Bertil."""
    with app.app_context():
        coordinator = (db.session.scalar(select(User).filter_by(email="coordinator@example.se"))
                       or create_user(Role.coordinator))
        anna = create_user(Role.walker, email=ANNA["email"], name=ANNA["name"])
        bertil = create_user(Role.walker, email=BERTIL["email"], name=BERTIL["name"])
        db.session.add(ApiToken(user=anna, name=ANNA["token"], token_hash="1" * 64))
        old_walk = make_walk(status=WalkStatus.done, title="Old walk")
        old_walk.starts_at = LONG_AGO
        guest = User(name=GUEST["name"], role=Role.walker, is_guest=True)
        old_walk.participants.append(Participant(user=guest, role_label="resident", email=GUEST["email"]))
        old_walk.participants.append(Participant(user=anna, role_label="resident", email=ANNA["email"]))
        new_walk = make_walk(title="New walk", code="NEW234")
        new_walk.participants.append(Participant(user=bertil, role_label="resident", email=BERTIL["email"]))
        db.session.commit()
        closed = dict(status=Status.verified, closed_at=LONG_AGO)
        anna_obs = make_observation(anna.id, old_walk, description="Broken lamp", **closed)
        db.session.add(Event(observation=anna_obs, actor=anna, action="reported", to_status=Status.new))
        db.session.add(Event(observation=anna_obs, actor=coordinator, action="comment", comment="Fixed soon"))
        db.session.add(Follower(observation=anna_obs, email=ANNA["follower"]))
        unpublished = photo_of(anna_obs, anna)
        published = photo_of(anna_obs, anna)
        published.is_public = True
        guest_obs = make_observation(guest.id, old_walk, description="Dark path")  # still open
        open311_obs = make_observation(None, None, description="Pothole", source=Source.open311,
                                       external_id="tok", **closed)
        db.session.add(Event(observation=open311_obs, action="reported", to_status=Status.new,
                             data={"open311": {"key": "Client", "attributes": {}, **OPEN311}}))
        db.session.add(Follower(observation=open311_obs, email=OPEN311["email"]))
        bertil_obs = make_observation(bertil.id, new_walk, description="Bench")
        db.session.add(Follower(observation=make_observation(None), email=BERTIL["email"]))
        old = NOW - timedelta(days=90)
        db.session.add(OutboxMail(recipient=MAIL["recipient"], subject="Update", body_text=MAIL["body"],
                                  body_html=MAIL["body"], sent_at=old, created_at=old,
                                  dedupe_key=f"event:1:{MAIL['recipient']}"))
        db.session.add(LoginLink(user=bertil, token_hash="2" * 64, created_at=old, expires_at=old))
        db.session.add(LoginFailure(scope="login", key_hash="3" * 64, at=old))
        key = ApiKey(name="Client", key_hash="4" * 64)
        db.session.add(key)
        db.session.flush()
        db.session.add(ApiKeyUsage(key_id=key.id, window_start=old, count=3))
        db.session.commit()
        return {"anna": anna.id, "bertil": bertil.id, "guest": guest.id, "anna_obs": anna_obs.id,
                "guest_obs": guest_obs.id, "bertil_obs": bertil_obs.id, "unpublished": unpublished.storage_key,
                "published": published.storage_key, "observations": db.session.scalar(
                    select(db.func.count()).select_from(Observation))}


def dump(app) -> str:
    """The whole database as text: SQLite's iterdump, or every column of every table cast to text."""
    faces.wait_idle()  # face detection has recorded its result: the dump is of a database at rest
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            connection = db.engine.raw_connection()
            try:
                return "\n".join(connection.driver_connection.iterdump())
            finally:
                connection.close()
        lines = []
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(*[cast(c, Text) for c in table.columns])).all()
            lines += [f"{table.name}: {row}" for row in rows]
        return "\n".join(lines)


def found(app, strings) -> list[str]:
    text = dump(app)
    return [s for s in strings if s in text]


def run(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


# --- retention ---------------------------------------------------------------------------------

def test_retention_leaves_no_aged_personal_data(app, runner):
    planted = plant(app)
    assert found(app, AGED) == AGED  # planted where a dump sees them

    output = run(runner, "retention")

    assert found(app, AGED) == []
    assert BERTIL["name"] in dump(app) and BERTIL["email"] in dump(app)  # recent: kept
    assert "Retention applied." in output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Observation)) == planted["observations"]
        for model in (LoginLink, LoginFailure, ApiKeyUsage, OutboxMail):
            assert db.session.scalar(select(db.func.count()).select_from(model)) == 0, model
        anna = db.session.get(User, planted["anna"])
        assert anna.email == ANNA["email"] and anna.active  # her account lives on; only the old item forgot her
        assert db.session.scalars(select(Participant.email).filter_by(user_id=anna.id)).all() == [None]
        assert {e.actor_id for e in db.session.scalars(select(Event).filter_by(observation_id=planted["anna_obs"]))
                } & {anna.id} == set()
        assert db.session.get(Observation, planted["anna_obs"]).reporter.anonymised_at is not None
        assert db.session.get(Observation, planted["guest_obs"]).reporter_id == planted["guest"]
        guest = db.session.get(User, planted["guest"])
        assert guest.anonymised_at is not None and guest.name == "" and not guest.active
        assert db.session.get(Observation, planted["bertil_obs"]).reporter_id == planted["bertil"]
        store = photos.storage()
        assert not store.exists(planted["unpublished"], "display") and store.exists(planted["published"], "display")
        assert [e.action for e in db.session.scalars(select(PrivacyAudit))] == ["retention"]


def test_retention_and_erasure_keep_the_record_and_the_figures(app, runner, users, client, auth):
    """The observations' export and the lägesbild's figures read the same before and after."""
    from walkapp.situation import stats

    plant(app)

    def record():
        with app.test_request_context():
            scope = stats.Scope(LONG_AGO.date() - timedelta(days=1), NOW.date())
            figures = stats.lagesbild(scope, NOW.date())
        return client.get("/export/observations.csv").get_data(as_text=True), figures

    auth.login_as(Role.coordinator)
    before = record()
    run(runner, "retention")
    run(runner, "personal-data", "erase", BERTIL["email"], "--yes")
    assert record() == before


def test_retention_dry_run_changes_nothing_and_second_run_is_a_no_op(app, runner):
    plant(app)
    before = dump(app)
    output = run(runner, "retention", "--dry-run")
    assert "Dry run" in output and dump(app) == before
    assert any(line.split()[0] != "0" for line in output.splitlines()[1:])  # it found what is due

    run(runner, "retention")
    after_first = dump(app)
    second = run(runner, "retention")
    assert dump(app) == after_first
    assert all(line.split()[0] == "0" for line in second.splitlines()[1:])


def test_anonymised_reporter_reads_anonymiserad(app, runner, client, auth):
    planted = plant(app)
    run(runner, "retention")
    auth.login_as(Role.coordinator)
    page = client.get(f"/observations/{planted['anna_obs']}").get_data(as_text=True)
    assert "anonymiserad" in page and ANNA["name"] not in page
    walk_page = client.get(f"/walks/{db_walk_id(app, 'Old walk')}").get_data(as_text=True)
    assert "anonymiserad" in walk_page and GUEST["name"] not in walk_page


def db_walk_id(app, title):
    with app.app_context():
        return db.session.scalar(select(Walk.id).filter_by(title=title))


# --- register extract and erasure -----------------------------------------------------------------

ANNA_DATA = [ANNA["name"], ANNA["email"], ANNA["token"], "Broken lamp"]
GUEST_DATA = [GUEST["name"], GUEST["email"], "Dark path"]
OTHERS = [BERTIL["name"], BERTIL["email"], "Bench", GUEST["name"], OPEN311["phone"]]


def test_export_holds_the_persons_data_and_nobody_elses(app, runner):
    plant(app)
    text = run(runner, "personal-data", "export", ANNA["email"])
    extracted = json.loads(text)
    assert [s for s in ANNA_DATA if s not in text] == []
    assert [s for s in OTHERS if s in text] == []
    assert [w["walk"] for w in extracted["walk_participations"]] == ["Old walk"]
    assert "Fixed soon" not in text  # the coordinator's comment is not Anna's

    guest_text = run(runner, "personal-data", "export", GUEST["email"])  # a guest, found by the address they gave
    assert [s for s in GUEST_DATA if s not in guest_text] == []
    assert ANNA["name"] not in guest_text

    open311_text = run(runner, "personal-data", "export", OPEN311["email"].upper())
    assert [s for s in OPEN311.values() if s not in open311_text] == []
    with app.app_context():
        entries = audit.entries()
        assert [e.action for e in entries] == ["export"] * 3
        assert entries[-1].subject_hash == audit.subject_hash(ANNA["email"])
    assert ANNA["email"] not in "\n".join(line for line in dump(app).splitlines() if "privacy_audit" in line)


def test_erase_on_the_command_line(app, runner):
    planted = plant(app)
    person = [*ANNA_DATA[:3], ANNA["email"]]

    refused = runner.invoke(args=["personal-data", "erase", ANNA["email"]], input="n\n")
    assert refused.exit_code != 0 and found(app, person) == person  # not confirmed: nothing changed

    run(runner, "personal-data", "erase", ANNA["email"], "--yes")
    assert found(app, person) == []
    assert found(app, [BERTIL["name"], BERTIL["email"], GUEST["name"]]) == [BERTIL["name"], BERTIL["email"],
                                                                           GUEST["name"]]
    run(runner, "personal-data", "erase", GUEST["email"], "--yes")
    run(runner, "personal-data", "erase", OPEN311["email"], "--yes")
    assert found(app, GUEST_DATA[:2] + list(OPEN311.values())) == []
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Observation)) == planted["observations"]
        assert db.session.get(Observation, planted["anna_obs"]).reporter_id == planted["anna"]
        assert db.session.get(User, planted["anna"]).anonymised_at is not None
        assert [e.action for e in audit.entries()] == ["erase"] * 3
    again = runner.invoke(args=["personal-data", "erase", ANNA["email"], "--yes"])
    assert again.exit_code != 0 and "Nothing is held" in again.output


def test_export_refuses_a_bad_address(runner):
    result = runner.invoke(args=["personal-data", "export", "not-an-address"])
    assert result.exit_code != 0 and "EMAIL" in result.output


def test_admin_extract_page_json_and_erasure(app, client, users, auth):
    planted = plant(app)
    auth.login_as(Role.admin)
    assert client.get("/admin/privacy").status_code == 200

    page = client.post("/admin/privacy/extract", data={"email": ANNA["email"], "show": "1"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and ANNA["name"] in text and ANNA["token"] in text and BERTIL["name"] not in text

    download = client.post("/admin/privacy/extract", data={"email": ANNA["email"], "download": "1"})
    assert download.mimetype == "application/json" and "attachment" in download.headers["Content-Disposition"]
    assert download.get_json()["accounts"][0]["name"] == ANNA["name"]

    bad = client.post("/admin/privacy/extract", data={"email": "not-an-address"})
    assert bad.status_code == 400 and "not-an-address" in bad.get_data(as_text=True)

    ask = client.post("/admin/privacy/erase", data={"email": ANNA["email"]})
    assert ask.status_code == 200 and "confirmed" in ask.get_data(as_text=True)
    unticked = client.post("/admin/privacy/erase", data={"email": ANNA["email"], "asked": "1"})
    assert unticked.status_code == 400 and found(app, [ANNA["name"]]) == [ANNA["name"]]

    done = client.post("/admin/privacy/erase", data={"email": ANNA["email"], "asked": "1", "confirmed": "y"})
    assert done.status_code == 302 and found(app, [ANNA["name"], ANNA["email"]]) == []
    log = client.get("/admin/privacy/audit").get_data(as_text=True)
    assert "Radering" in log and "Registerutdrag" in log and ANNA["email"] not in log
    hers = client.post("/admin/privacy/audit", data={"email": ANNA["email"].upper()}).get_data(as_text=True)
    nobody = client.post("/admin/privacy/audit", data={"email": "nobody@example.se"}).get_data(as_text=True)
    assert hers.count('class="card"') == 3 and "Inget registrerat" in nobody  # show, download, erase
    detail = client.get(f"/observations/{planted['anna_obs']}").get_data(as_text=True)
    assert "anonymiserad" in detail


def test_admin_cannot_erase_themselves(app, client, users, auth):
    auth.login_as(Role.admin)
    response = client.post("/admin/privacy/erase", data={"email": "admin@example.se", "asked": "1", "confirmed": "y"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, users[Role.admin]).anonymised_at is None


def test_retention_follows_the_configured_plan(app_factory):
    """Limits longer than the planted data's age: nothing is due."""
    app = app_factory(RETENTION_CLOSED_ITEM_MONTHS=120, RETENTION_WALK_GUEST_MONTHS=120,
                      RETENTION_UNPUBLISHED_PHOTO_MONTHS=120, RETENTION_LOG_DAYS=3650)
    plant(app)
    before = dump(app)
    output = run(app.test_cli_runner(), "retention")
    assert dump(app) == before and all(line.split()[0] == "0" for line in output.splitlines()[1:])
