from walkapp import demo
from walkapp.extensions import db
from walkapp.models import Event, Observation, Organisation, Role, Status, User, Walk, WalkStatus


def test_demo_seed_is_idempotent_and_complete(app):
    with app.app_context():
        logins = demo.seed("demo-password")
        demo.seed("demo-password")
        assert {role for role, _ in logins} == {r.value for r in Role}
        assert db.session.scalar(db.select(db.func.count(Walk.id))) == 2
        assert db.session.scalar(db.select(db.func.count(Organisation.id))) == 4
        walk = db.session.scalar(db.select(Walk).filter_by(join_code=demo.DEMO_WALK_CODE))
        assert walk.status is WalkStatus.done and len(walk.stops) >= 5
        observations = db.session.scalars(db.select(Observation).filter_by(walk_id=walk.id)).all()
        assert 18 <= len(observations) <= 25
        states = {o.status for o in observations}
        assert states == set(Status)
        assert len({o.category_id for o in observations}) >= 10
        assert db.session.scalar(db.select(db.func.count(Event.id))) > 20
        for role, email in logins:
            user = db.session.scalar(db.select(User).filter_by(email=email))
            assert user.role.value == role and user.check_password("demo-password")
        assigned = [o for o in observations if o.status is Status.assigned]
        assert all(o.organisation and o.priority and o.due_date for o in assigned)


def test_demo_reports_from_other_sources_fill_the_lagesbild(app, client, auth):
    """Placed relative to today: the default period (last 90 days), its previous period and the same
    period a year earlier all hold items from several sources."""
    from datetime import timedelta

    from walkapp.models import Source, utcnow

    with app.app_context():
        demo.seed("demo-password")
        other = db.session.scalars(db.select(Observation).filter_by(walk_id=None)).all()
        assert len({o.source for o in other}) >= 5 and Source.walk not in {o.source for o in other}
        now = utcnow()
        ages = [(now - o.created_at).days for o in other]
        assert any(a < 90 for a in ages) and any(90 <= a < 180 for a in ages) and any(365 <= a < 455 for a in ages)
    client.post("/login", data={"email": "samordnare@demo.walkapp.se", "password": "demo-password"})
    html = client.get("/lagesbild").get_data(as_text=True)
    assert '<span class="figure">0</span> <span class="label">nya</span>' not in html
