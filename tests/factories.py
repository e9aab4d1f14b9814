"""Small builders for test data (inside an app context)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from walkapp.config import Defaults

from walkapp import faces, photos
from walkapp.extensions import db
from walkapp.models import Category, Observation, Organisation, Participant, Photo, User, Walk, WalkStatus
from walkapp.situation import report, stats

from .photo_samples import jpeg_with_orientation_and_gps

HERE = (62.6323, 17.9379)  # Stora torget, Härnösand


def local_today() -> date:
    """The app's today (a local day in the municipality), which is not UTC's after midnight."""
    return datetime.now(ZoneInfo(Defaults.BABEL_DEFAULT_TIMEZONE)).date()


def make_walk(status=WalkStatus.ongoing, participants=(), code=None, **fields) -> Walk:
    walk = Walk(title=fields.pop("title", "Kvällsvandring"), starts_at=datetime.now(timezone.utc),
                status=status, join_code=code or f"W{db.session.scalar(db.select(db.func.count(Walk.id))) + 1}ABCD"[:6],
                meeting_lat=HERE[0], meeting_lon=HERE[1], **fields)
    for user_id in participants:
        walk.participants.append(Participant(user=db.session.get(User, user_id), role_label="resident"))
    db.session.add(walk)
    db.session.commit()
    db.session.refresh(walk)  # loaded, so its columns stay readable after the context ends
    return walk


def make_observation(reporter_id: int | None, walk: Walk | None = None, code="belysning",
                     lat=HERE[0], lon=HERE[1], **fields) -> Observation:
    category = db.session.scalar(db.select(Category).filter_by(code=code))
    obs = Observation(lat=lat, lon=lon, category=category, kind=category.kind,
                      reporter=db.session.get(User, reporter_id) if reporter_id else None,
                      walk=walk, **fields)
    db.session.add(obs)
    db.session.commit()
    db.session.refresh(obs)
    return obs


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def count_statements(app, func) -> int:
    """How many SQL statements func() runs (to show a page's query count does not grow)."""
    from sqlalchemy import event

    seen = []
    with app.app_context():
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            func()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def photograph_demo_walk(walk_id: int) -> dict:
    """Photos on the demo walk's items as a real walk has them: a before-photo on most items (landscape
    and portrait), an after-photo on the fixed and verified ones; some public, some not. Returns the
    photo ids by whether the public version may show them."""
    import io

    from PIL import Image, ImageDraw

    from walkapp import photos, policy
    from walkapp.models import Observation, PhotoStage, Status

    def jpeg(n: int, portrait: bool) -> bytes:
        size = (600, 800) if portrait else (800, 600)
        image = Image.new("RGB", size, (40 + 9 * n % 200, 90, 140))
        ImageDraw.Draw(image).rectangle((50, 50, size[0] - 50, size[1] - 50), outline=(255, 255, 255), width=12)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        return out.getvalue()

    observations = db.session.scalars(db.select(Observation).filter_by(walk_id=walk_id)
                                      .order_by(Observation.id)).all()
    for n, obs in enumerate(observations):
        if n % 4 == 3:
            continue  # some items have no photo
        before = photos.process(jpeg(n, n % 3 == 1), max_bytes=10_000_000, max_pixels=10_000_000)
        [photo] = photos.save_photos(obs, [before], obs.reporter)
        photo.is_public = n % 2 == 0
        if obs.status in (Status.fixed, Status.verified):
            after = photos.process(jpeg(n + 50, False), max_bytes=10_000_000, max_pixels=10_000_000)
            [done] = photos.save_photos(obs, [after], obs.reporter, PhotoStage.after)
            done.is_public = True
        db.session.commit()
    shown = {"internal": set(), "public": set(), "hidden": set()}
    for obs in observations:
        for photo in obs.photos:
            shown["internal"].add(photo.id)
            shown["public" if policy.photo_shown_publicly(photo) else "hidden"].add(photo.id)
    return shown


def route_values(app, walker_id: int, user_id: int | None = None) -> dict:
    """A value for every argument of the app's URL rules, on real rows: an ongoing walk with the walker
    in it, the walker's observation with a photo, a situation report (user_id: the user that admin
    routes act on, the walker by default). The role matrices and the fuzz sweep build their URLs on it."""
    with app.app_context():
        walker = db.session.get(User, walker_id)
        walk = Walk(title="Kvällsvandring", starts_at=datetime.now(timezone.utc),
                    status=WalkStatus.ongoing, join_code="ABC234")
        walk.participants.append(Participant(user=walker, role_label="resident"))
        category = db.session.scalar(db.select(Category).filter_by(code="belysning"))
        obs = Observation(lat=HERE[0], lon=HERE[1], category=category, kind=category.kind, reporter=walker, walk=walk)
        db.session.add_all([walk, obs])
        db.session.flush()
        processed = photos.process(jpeg_with_orientation_and_gps(), max_bytes=10**8, max_pixels=10**8)
        photos.save_photos(obs, [processed], walker)
        db.session.commit()
        # Face detection records its result on a worker thread; wait for it, so that the rows the
        # matrices compare before and after a refused call are at rest.
        assert faces.wait_idle()
        with app.test_request_context():
            today = local_today()
            saved = report.create(stats.Scope(today - timedelta(days=89), today), {}, "Lägesbild", "Analys",
                                  ["walk"], "", None, today)
        return {
            "report_id": saved.id, "user_id": user_id or walker_id,
            "org_id": db.session.scalar(db.select(Organisation.id)), "category_id": category.id,
            "filename": "css/walkapp.css", "walk_id": walk.id, "code": walk.join_code, "obs_id": obs.id,
            "photo_id": db.session.scalar(db.select(Photo.id)), "rendition": "thumb", "token": walk.public_token,
            "fmt": "json", "service_code": "belysning", "request_id": obs.id,
        }
