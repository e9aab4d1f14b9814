"""Demo data for `walkapp demo`: Härnösand, four organisations, one user per
role and a finished evening walk with observations in every state.

Seeding is idempotent: it runs only when the demo walk does not exist yet;
demo users' passwords are (re)set to the one given on the command line.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask_babel import force_locale

from . import schema
from .categories import seed_default_categories
from .extensions import db
from .labels import SOURCE
from .models import (
    Action,
    Category,
    Event,
    EventKind,
    Kind,
    Observation,
    Organisation,
    Participant,
    Priority,
    Role,
    Source,
    Status,
    Stop,
    User,
    Visibility,
    Walk,
    WalkStatus,
)
from .workflow import RULES

DEMO_WALK_CODE = "DEMO01"
ONGOING_WALK_CODE = "KVALL2"

ORGANISATIONS = [
    ("Härnösandshus AB", "Bostadsbolag"),
    ("HEMAB", "Kommunalt energi- och återvinningsbolag"),
    ("Gatuavdelningen", "Kommunal förvaltning"),
    ("Polisen Härnösand", "Polis"),
]
CATEGORY_OWNERS = {
    "belysning": "HEMAB",
    "nedskrapning": "HEMAB",
    "skadegorelse": "Härnösandshus AB",
    "klotter": "Härnösandshus AB",
    "dold-plats": "Härnösandshus AB",
    "vegetation": "Gatuavdelningen",
    "trafik": "Gatuavdelningen",
    "gangvag": "Gatuavdelningen",
    "skyltning": "Gatuavdelningen",
    "overgivet": "Polisen Härnösand",
}
USERS = [
    (Role.admin, "admin@demo.walkapp.se", "Alva Admin", None),
    (Role.coordinator, "samordnare@demo.walkapp.se", "Sara Samordnare", None),
    (Role.walker, "vandrare@demo.walkapp.se", "Vera Vandrare", None),
    (Role.responder, "hus@demo.walkapp.se", "Rolf på Härnösandshus", "Härnösandshus AB"),
]
# The route: Stora torget → Nybrogatan → Östanbäcken → Södra Vägen (approximate).
ROUTE = [
    (62.6323, 17.9379), (62.6312, 17.9352), (62.6298, 17.9330),
    (62.6285, 17.9365), (62.6290, 17.9410), (62.6308, 17.9432),
]
STOPS = ["Stora torget", "Nybrogatan", "Östanbäcken", "Gångtunneln", "Södra vägen", "Busshållplatsen"]

# (category, description, status, offset along the route, rating, public)
OBSERVATIONS = [
    ("belysning", "Gatlyktan vid gångvägen är trasig, helt mörkt", Status.new, 0.05, 3, False),
    ("belysning", "Två armaturer släckta i gångtunneln", Status.assigned, 0.55, 2, True),
    ("belysning", "Blinkande lampa vid busskuren", Status.fixed, 0.95, 5, True),
    ("belysning", "Mörk parkering bakom affären", Status.verified, 0.35, 4, True),
    ("skadegorelse", "Krossad ruta i cykelförrådet", Status.in_progress, 0.2, 4, True),
    ("skadegorelse", "Sönderslagen bänk", Status.new, 0.75, 5, False),
    ("klotter", "Klotter på tunnelväggen", Status.accepted, 0.6, 4, True),
    ("klotter", "Klotter på elskåp", Status.wont_fix, 0.8, 6, True),
    ("vegetation", "Buskar skymmer sikten vid gångvägen", Status.assigned, 0.45, 3, True),
    ("vegetation", "Häcken växer ut över trottoaren", Status.new, 0.15, 6, False),
    ("nedskrapning", "Mycket skräp runt återvinningsstationen", Status.fixed, 0.65, 5, True),
    ("dold-plats", "Dold hörna bakom garagen", Status.accepted, 0.4, 2, False),
    ("trafik", "Övergångsställe utan belysning", Status.assigned, 0.9, 3, True),
    ("gangvag", "Trasig asfalt, lätt att snubbla", Status.rejected, 0.3, 6, False),
    ("skyltning", "Ingen skylt mot busshållplatsen", Status.new, 0.85, 6, False),
    ("overgivet", "Övergiven bil sedan flera veckor", Status.duplicate, 0.7, 5, False),
    ("overgivet", "Bil utan skyltar på parkeringen", Status.assigned, 0.72, 5, True),
    ("annat", "Hög musik och folksamling på kvällarna", Status.new, 0.1, 4, False),
    ("trygg-plats", "Välbelyst torg med folk i rörelse", Status.new, 0.0, 9, True),
    ("trygg-plats", "Ny belysning i parken känns bra", Status.new, 0.5, 8, True),
]
# How each state was reached, for the history.
PATHS = {
    Status.new: [],
    Status.accepted: [Status.accepted],
    Status.assigned: [Status.accepted, Status.assigned],
    Status.in_progress: [Status.accepted, Status.assigned, Status.in_progress],
    Status.fixed: [Status.accepted, Status.assigned, Status.fixed],
    Status.verified: [Status.accepted, Status.assigned, Status.fixed, Status.verified],
    Status.wont_fix: [Status.accepted, Status.wont_fix],
    Status.rejected: [Status.rejected],
    Status.duplicate: [Status.duplicate],
}


def prepare_database() -> None:
    """Bring the instance database to the newest schema (creates it if needed), as
    `walkapp db upgrade` does: a copy of the file first, a clear stop on failure."""
    schema.upgrade()


def along_route(t: float) -> tuple[float, float]:
    """A point a fraction t along the route, nudged so pins do not overlap."""
    segments = len(ROUTE) - 1
    i = min(int(t * segments), segments - 1)
    f = t * segments - i
    (a_lat, a_lon), (b_lat, b_lon) = ROUTE[i], ROUTE[i + 1]
    return a_lat + (b_lat - a_lat) * f + 0.00008, a_lon + (b_lon - a_lon) * f - 0.0001


def seed(password: str) -> list[tuple[str, str]]:
    seed_default_categories()
    orgs = {}
    for name, kind in ORGANISATIONS:
        org = db.session.scalar(db.select(Organisation).filter_by(name=name))
        if org is None:
            org = Organisation(name=name, kind=kind)
            db.session.add(org)
        orgs[name] = org
    db.session.flush()
    for category in db.session.scalars(db.select(Category)):
        if category.default_organisation_id is None and category.code in CATEGORY_OWNERS:
            category.default_organisation = orgs[CATEGORY_OWNERS[category.code]]

    users = {}
    for role, email, name, org_name in USERS:
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if user is None:
            user = User(email=email, name=name, role=role, organisation=orgs.get(org_name))
            db.session.add(user)
        if not user.check_password(password):
            user.set_password(password)
        users[role] = user
    db.session.flush()

    if db.session.scalar(db.select(Walk).filter_by(join_code=DEMO_WALK_CODE)) is None:
        _seed_walk(users, orgs)
    if db.session.scalar(db.select(Walk).filter_by(join_code=ONGOING_WALK_CODE)) is None:
        _seed_ongoing_walk(users)
        _seed_other_sources(users, orgs)
    db.session.commit()
    return [(role.value, email) for role, email, _, _ in USERS]


# Reports from the municipality's other sources for the lägesbild: (source, category, days ago, rating,
# fixed after days or None). Placed relative to today, over fifteen months, so that a fresh demo always
# shows the last 90 days, the previous period and the same period a year earlier.
OTHER_SOURCES = [
    (Source.field_group, "klotter", 3, 4, None), (Source.police, "skadegorelse", 9, 3, None),
    (Source.school, "dold-plats", 14, 3, 6), (Source.resident, "belysning", 20, 4, 5),
    (Source.social_services, "annat", 27, 4, None), (Source.field_group, "nedskrapning", 33, 5, 3),
    (Source.police, "overgivet", 41, 5, 12), (Source.resident, "trafik", 48, 3, None),
    (Source.school, "gangvag", 55, 6, 9), (Source.field_group, "klotter", 63, 5, 4),
    (Source.municipal_company, "belysning", 71, 4, 2), (Source.resident, "vegetation", 80, 6, 20),
    (Source.police, "skadegorelse", 96, 4, 7), (Source.field_group, "belysning", 110, 3, 15),
    (Source.school, "klotter", 125, 5, 8), (Source.resident, "nedskrapning", 140, 6, 4),
    (Source.social_services, "dold-plats", 160, 3, 30), (Source.police, "overgivet", 180, 5, 21),
    (Source.field_group, "vegetation", 210, 6, 11), (Source.resident, "belysning", 240, 4, 6),
    (Source.school, "trafik", 270, 4, 18), (Source.field_group, "klotter", 300, 5, 5),
    (Source.police, "skadegorelse", 335, 3, 9), (Source.resident, "belysning", 362, 3, 14),
    (Source.field_group, "dold-plats", 370, 2, 25), (Source.school, "nedskrapning", 380, 5, 6),
    (Source.police, "annat", 395, 4, None), (Source.resident, "vegetation", 420, 5, 12),
    (Source.social_services, "klotter", 440, 4, 10), (Source.field_group, "belysning", 455, 3, 7),
]


def _seed_other_sources(users, orgs) -> None:
    coordinator = users[Role.coordinator]
    categories = {c.code: c for c in db.session.scalars(db.select(Category))}
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    with force_locale("sv"):  # the municipality's own data is written in Swedish
        source_names = {source: str(label) for source, label in SOURCE.items()}
    for n, (source, code, days_ago, rating, fixed_after) in enumerate(OTHER_SOURCES):
        category = categories[code]
        created = now - timedelta(days=days_ago, hours=n % 9)
        lat, lon = along_route((n * 0.37) % 1.0)
        obs = Observation(
            lat=lat + 0.0015 * ((n % 5) - 2), lon=lon + 0.002 * ((n % 3) - 1), accuracy_m=15.0,
            category=category, description=f"{category.name_sv} ({source_names[source]})",
            kind=category.kind, source=source, reporter=coordinator, safety_rating=rating,
            status=Status.new, is_public=False, created_at=created,
        )
        db.session.add(obs)
        db.session.add(Event(observation=obs, actor=coordinator, created_at=created, action=EventKind.reported,
                             to_status=Status.new))
        target = Status.verified if fixed_after and days_ago > 60 else Status.fixed if fixed_after else (
            Status.assigned if n % 2 else Status.accepted)
        _replay(obs, target, created, coordinator, users[Role.responder], orgs, obs)
        if fixed_after and obs.fixed_at:
            obs.fixed_at = created + timedelta(days=fixed_after)


def _seed_ongoing_walk(users) -> None:
    """Tonight's walk, open for reporting, so the demo can be tried at once."""
    now = datetime.now(timezone.utc)
    walk = Walk(
        title="Trygghetsvandring Östanbäcken",
        area="Östanbäcken",
        starts_at=now.replace(minute=0, second=0, microsecond=0),
        meeting_point="Östanbäckens centrum",
        meeting_lat=ROUTE[2][0],
        meeting_lon=ROUTE[2][1],
        status=WalkStatus.ongoing,
        join_code=ONGOING_WALK_CODE,
        created_by=users[Role.coordinator],
    )
    walk.participants = [Participant(user=users[Role.walker], role_label="resident")]
    db.session.add(walk)


def _seed_walk(users, orgs) -> None:
    coordinator, walker = users[Role.coordinator], users[Role.walker]
    now = datetime.now(timezone.utc)
    start = (now - timedelta(days=6)).replace(hour=17, minute=30, second=0, microsecond=0)
    walk = Walk(
        title="Trygghetsvandring centrum",
        area="Centrum / Östanbäcken",
        starts_at=start,
        meeting_point="Stora torget, vid fontänen",
        meeting_lat=ROUTE[0][0],
        meeting_lon=ROUTE[0][1],
        route={"type": "LineString", "coordinates": [[lon, lat] for lat, lon in ROUTE]},
        status=WalkStatus.done,
        join_code=DEMO_WALK_CODE,
        created_by=coordinator,
    )
    walk.stops = [
        Stop(number=n, name=name, lat=lat, lon=lon)
        for n, (name, (lat, lon)) in enumerate(zip(STOPS, ROUTE), start=1)
    ]
    walk.participants = [
        Participant(user=walker, role_label="adult_volunteer"),
        Participant(user=coordinator, role_label="other"),
    ]
    db.session.add(walk)
    categories = {c.code: c for c in db.session.scalars(db.select(Category))}
    first_of = {}
    for n, (code, text, status, t, rating, public) in enumerate(OBSERVATIONS):
        lat, lon = along_route(t)
        created = start + timedelta(minutes=4 * n + 5)
        category = categories[code]
        obs = Observation(
            lat=lat, lon=lon, accuracy_m=8.0, category=category, description=text,
            kind=category.kind, source=Source.walk, reporter=walker if n % 3 else coordinator,
            walk=walk, safety_rating=rating, status=Status.new, is_public=public, created_at=created,
        )
        first_of.setdefault(code, obs)
        db.session.add(obs)
        db.session.add(Event(observation=obs, actor=obs.reporter, created_at=created, action=EventKind.reported,
                             to_status=Status.new))
        if category.kind is Kind.positive:
            continue
        _replay(obs, status, created, coordinator, users[Role.responder], orgs, first_of[code])


# The forward move that brings an item into a state (the first in the workflow's rules: accept, not
# decline, into accepted): what the replayed history records for each step.
MOVE_INTO: dict[Status, Action] = {}
for _action, _rule in RULES.items():
    if _rule.target is not None:
        MOVE_INTO.setdefault(_rule.target, _action)


def _replay(obs, target, created, coordinator, responder, orgs, original) -> None:
    """Record the moves that led to the demo state, one Event per move."""
    at = created
    for step in PATHS[target]:
        at += timedelta(days=1)
        actor = responder if step in (Status.in_progress, Status.fixed) else coordinator
        comment = ""
        if step is Status.accepted:
            obs.accepted_at = at
        elif step is Status.assigned:
            obs.organisation = obs.category.default_organisation or orgs["Gatuavdelningen"]
            obs.priority = Priority.high if obs.safety_rating and obs.safety_rating <= 3 else Priority.normal
            obs.due_date = (at + timedelta(days=14 if obs.priority is Priority.high else 30)).date()
            obs.assigned_at = at
            if obs.organisation.name != "Härnösandshus AB":
                actor = coordinator
        elif step is Status.fixed:
            obs.fixed_at = at
            comment = "Åtgärdat."
        elif step in (Status.verified, Status.wont_fix, Status.rejected, Status.duplicate):
            obs.closed_at = at
            comment = {
                Status.wont_fix: "Elskåpet byts ut i vår; klottret tas bort då.",
                Status.rejected: "Kontrollerat på plats, asfalten är hel.",
                Status.duplicate: "Samma bil som tidigare anmälan.",
            }.get(step, "")
            if step is Status.duplicate and original is not obs:
                obs.duplicate_of = original
        db.session.add(Event(
            observation=obs, actor=actor, created_at=at, action=MOVE_INTO[step],
            from_status=obs.status, to_status=step, comment=comment,
            visibility=Visibility.public if comment else Visibility.internal,
        ))
        obs.status = step
