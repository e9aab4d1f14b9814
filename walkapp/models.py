"""The data model: users and organisations, walks and their participants, observations with their
photos and history events, categories and API keys. Enum values are stored as plain strings."""
from __future__ import annotations

import enum
import math
import secrets
from datetime import date, datetime, timezone
from typing import Any, Optional

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlalchemy.types import TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from . import personal_data
from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def unindexed(column):
    """`+column` on SQLite: the column's index is not used for this term.

    SQLite keeps no statistics of how values spread, so it walks an index whenever a term allows it, even
    when most rows match: grouping then fetches every row through the index (3–4 times a scan and a
    sort), and a page in time order sorts every matching row where the time index would stop after a page.
    """
    if db.engine.dialect.name != "sqlite":
        return column
    return UnaryExpression(column.expression, operator=custom_op("+"), type_=column.type)

class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime stored; use an aware UTC datetime")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def str_enum(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


@event.listens_for(Engine, "connect")
def _sqlite_setup(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, and provide floor() as PostgreSQL has it."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        dbapi_connection.create_function("floor", 1, math.floor, deterministic=True)


class Role(str, enum.Enum):
    admin = "admin"
    coordinator = "coordinator"
    walker = "walker"
    responder = "responder"


# The roles that run the work (triage, walks, reports, admin pages): "staff" everywhere, named once here
# next to the roles. policy re-exports it; routes say @allow(*STAFF).
STAFF = frozenset({Role.coordinator, Role.admin})


class Action(str, enum.Enum):
    """The workflow's moves (workflow.RULES says who makes which, from where); each move is recorded
    as an Event whose action is the move's value."""

    accept = "accept"
    reject = "reject"
    duplicate = "duplicate"
    assign = "assign"
    wont_fix = "wont_fix"
    start = "start"
    fix = "fix"
    decline = "decline"
    verify = "verify"
    reopen = "reopen"


class EventKind(str, enum.Enum):
    """What else an item's history records. An Event's action is an Action (a move) or one of these."""

    reported = "reported"  # made on the page, the API or Open311
    imported = "imported"  # from a file (data: sender, file, row)
    edited = "edited"  # data: the changed fields
    contribution = "contribution"  # a reporter's added photo or note
    comment = "comment"
    merged = "merged"  # a duplicate's comments moved here (data: duplicate)
    published = "published"  # shown on the public feedback page (data: photo, for a photo)
    unpublished = "unpublished"
    redacted = "redacted"  # areas of a photo pixelated for good (data: photo, boxes: how many)
    people_reviewed = "people_reviewed"  # a coordinator saw no identifiable person in a photo (data: photo)


def event_action(value: str) -> str:
    """The stored text of a known event action; anything else is a programming error."""
    return (Action(value) if value in Action._value2member_map_ else EventKind(value)).value


class WalkStatus(str, enum.Enum):
    planned = "planned"
    ongoing = "ongoing"
    done = "done"


class Kind(str, enum.Enum):
    problem = "problem"
    positive = "positive"


class Source(str, enum.Enum):
    walk = "walk"
    field_group = "field_group"
    school = "school"
    social_services = "social_services"
    police = "police"
    municipal_company = "municipal_company"
    resident = "resident"
    open311 = "open311"
    import_ = "import"


class Status(str, enum.Enum):
    new = "new"
    accepted = "accepted"
    assigned = "assigned"
    in_progress = "in_progress"
    fixed = "fixed"
    verified = "verified"
    wont_fix = "wont_fix"
    rejected = "rejected"
    duplicate = "duplicate"


class Priority(str, enum.Enum):
    high = "high"
    normal = "normal"
    low = "low"


class Visibility(str, enum.Enum):
    internal = "internal"
    public = "public"


class PhotoStage(str, enum.Enum):
    before = "before"
    after = "after"


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Guests who join a walk by link have no e-mail and no password.
    email: Mapped[Optional[str]] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.walker)
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[Optional[str]] = mapped_column(String(8))
    # The session carries this token, not the id: rotating it (deactivation,
    # password change) ends every existing session of the user.
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: secrets.token_urlsafe(32)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Set when the person's data were erased (privacy/): the row stays, without name or e-mail, so that
    # their observations, history and walk participation keep counting; shown as "anonymised".
    anonymised_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    organisation: Mapped[Optional[Organisation]] = relationship(back_populates="members")

    @property
    def display_name(self) -> str:
        """The name to show anywhere a person is named: "anonymised" once erased."""
        if self.anonymised_at is not None:
            from flask_babel import gettext

            return gettext("anonymised")
        return self.name

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.rotate_session()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def rotate_session(self) -> None:
        self.session_token = secrets.token_urlsafe(32)

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email or self.name} {self.role.value}>"


class Walk(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meeting_point: Mapped[str] = mapped_column(String(200), default="")
    meeting_lat: Mapped[Optional[float]] = mapped_column(Float)
    meeting_lon: Mapped[Optional[float]] = mapped_column(Float)
    route: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)  # GeoJSON LineString
    status: Mapped[WalkStatus] = mapped_column(str_enum(WalkStatus), default=WalkStatus.planned)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    # The public feedback page's address: unguessable, unlike the join code.
    public_token: Mapped[str] = mapped_column(
        String(43), unique=True, default=lambda: secrets.token_urlsafe(32)
    )
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    # A follow-up walk names the earlier walk on the same route.
    follow_up_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("walk.id"))
    # The closing meeting's summary, written by the coordinator; printed in both protocol versions.
    meeting_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[Optional[User]] = relationship()
    follow_up_of: Mapped[Optional["Walk"]] = relationship(remote_side=[id])
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="walk", cascade="all, delete-orphan"
    )
    stops: Mapped[list["Stop"]] = relationship(
        back_populates="walk", cascade="all, delete-orphan", order_by="Stop.number"
    )
    observations: Mapped[list["Observation"]] = relationship(back_populates="walk")


class Stop(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walk.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    safety_rating: Mapped[Optional[int]] = mapped_column(Integer)

    walk: Mapped[Walk] = relationship(back_populates="stops")
    __table_args__ = (
        UniqueConstraint("walk_id", "number"),
        CheckConstraint("safety_rating BETWEEN 1 AND 10", name="stop_rating"),
    )


class Participant(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walk.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role_label: Mapped[str] = mapped_column(String(40))
    email: Mapped[Optional[str]] = mapped_column(String(254))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    walk: Mapped[Walk] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()
    __table_args__ = (UniqueConstraint("walk_id", "user_id"),)


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_sv: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    colour: Mapped[str] = mapped_column(String(7), default="#555555")
    icon: Mapped[str] = mapped_column(String(40), default="other")
    kind: Mapped[Kind] = mapped_column(str_enum(Kind), default=Kind.problem)
    default_organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    default_organisation: Mapped[Optional[Organisation]] = relationship()

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_sv


class Observation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[Optional[float]] = mapped_column(Float)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[Kind] = mapped_column(str_enum(Kind), default=Kind.problem)
    source: Mapped[Source] = mapped_column(str_enum(Source), default=Source.walk)
    source_detail: Mapped[str] = mapped_column(String(120), default="")
    external_id: Mapped[Optional[str]] = mapped_column(String(120))  # import id, or Open311 token
    # The reporter's device's id for this report: sending it again (an outbox retry) makes no second item.
    client_key: Mapped[Optional[str]] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(300), default="")
    reporter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    walk_id: Mapped[Optional[int]] = mapped_column(ForeignKey("walk.id"), index=True)
    safety_rating: Mapped[Optional[int]] = mapped_column(Integer)
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.new, index=True)
    priority: Mapped[Optional[Priority]] = mapped_column(str_enum(Priority))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"), index=True)
    due_date: Mapped[Optional[date]] = mapped_column(Date)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # The description looks like it holds a personnummer, phone number or e-mail address
    # (personal_data.py): set whenever the description is set, shown in the inbox for review.
    may_hold_personal_data: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    duplicate_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("observation.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    assigned_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    fixed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship()
    reporter: Mapped[Optional[User]] = relationship()
    walk: Mapped[Optional[Walk]] = relationship(back_populates="observations")
    organisation: Mapped[Optional[Organisation]] = relationship()
    duplicate_of: Mapped[Optional["Observation"]] = relationship(remote_side=[id])
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="observation", order_by="Photo.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["Event"]] = relationship(
        back_populates="observation", order_by="Event.id", cascade="all, delete-orphan"
    )

    @validates("description")
    def _check_personal_data(self, key, value):
        self.may_hold_personal_data = personal_data.looks_personal(value)
        return value

    # SQLAlchemy's own optimistic locking: every UPDATE checks and bumps version.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_observation_lat_lon", "lat", "lon"),
        UniqueConstraint("source", "external_id", name="uq_observation_source_external_id"),
        UniqueConstraint("reporter_id", "client_key", name="uq_observation_reporter_id_client_key"),
        CheckConstraint("safety_rating BETWEEN 1 AND 10", name="observation_rating"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coords"),
    )


class Photo(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observation.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[PhotoStage] = mapped_column(str_enum(PhotoStage), default=PhotoStage.before)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploader_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Face detection after upload (walkapp/faces.py): when it ran, the boxes it suggests (display
    # pixels, [x, y, w, h]) and whether the photo may show people. policy.can_publish_photo reads them.
    faces_checked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    face_boxes: Mapped[Optional[list[Any]]] = mapped_column(JSON)
    may_show_people: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Someone looked: redacted it, or confirmed that no person can be identified.
    people_reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    redacted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    observation: Mapped[Observation] = relationship(back_populates="photos")
    uploader: Mapped[Optional[User]] = relationship()


class Event(db.Model):
    """Immutable history of an observation; comments are events too."""

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observation.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[Optional[Status]] = mapped_column(str_enum(Status))
    to_status: Mapped[Optional[Status]] = mapped_column(str_enum(Status))
    comment: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility), default=Visibility.internal
    )
    data: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)

    observation: Mapped[Observation] = relationship(back_populates="events")
    actor: Mapped[Optional[User]] = relationship()

    @validates("action")
    def _known_action(self, key, value) -> str:
        return event_action(value)


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginLink(db.Model):
    """A single-use sign-in link (e-mailed); only the token's SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    next_url: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """One counted use of something rate-limited (rates.py): a failed password sign-in (scope
    "login", auth/throttle.py), a guest's report or photo bytes, a join or a wrong join code
    (limits.py). ``amount`` is 1, or the bytes of an upload. Only an HMAC of what is counted (the
    address tried, the client's IP address, the guest's or walk's id) is kept, so the table is no
    list of who did what; rows older than their scope's window are deleted as new ones come.
    The table keeps its first name, from when it counted sign-in failures only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(30), default="login", server_default="login")
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMail(db.Model):
    """A mail written in the same transaction as the change it reports; sent after commit.

    The bodies are blanked once it is sent or has failed for good (failed_at):
    they may hold sign-in links.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Same key, same mail: a reminder digest or a notice is never queued twice.
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    # Will never be sent (a broken address, refused by the SMTP server): not retried.
    failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class Follower(db.Model):
    """Someone who asked to hear what happens with an observation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observation.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="sv")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    observation: Mapped[Observation] = relationship()
    __table_args__ = (UniqueConstraint("observation_id", "email"),)


class ApiKey(db.Model):
    """A key for Open311 clients (e.g. FixaMinGata); only its SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requests_per_hour: Mapped[int] = mapped_column(Integer, default=1000)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class ApiKeyUsage(db.Model):
    """Requests per key and hour, in the database so that every worker sees the same count."""

    key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SituationReport(db.Model):
    """A saved lägesbild report (Lag 2023:196): the figures frozen as JSON when it was made, so that an
    earlier period's report opens unchanged, with the coordinator's analysis and the sources used."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # the area: walk, bbox, drawn polygon, time filters
    analysis: Mapped[str] = mapped_column(Text, default="")
    sources_used: Mapped[list[str]] = mapped_column(JSON)
    sources_not_used: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    created_by: Mapped[Optional[User]] = relationship()


class PrivacyAudit(db.Model):
    """Who exported or erased a person's data, and each retention run that changed something
    (privacy/audit.py). The person is named only by a keyed hash of their e-mail address."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(10))  # "web" or "cli"
    action: Mapped[str] = mapped_column(String(20))  # export, erase, retention
    subject_hash: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)

    actor: Mapped[Optional[User]] = relationship()


class PendingDelete(db.Model):
    """A photo storage key whose files must go (photos.delete_later): written in the same transaction
    as the change that stops naming the key, removed once the files are deleted. A deletion that
    fails (a storage error, a legal hold) leaves the row, and `walkapp retention` tries again, so
    no file is left behind that no row names. The key is random: no personal data here."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
