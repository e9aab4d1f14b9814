"""The walk protocol's content, shared by the printable page and the PDF.

Two versions: internal (names, internal notes, every photo) and public (no
names, no internal notes, only what policy shows publicly: the items and the
photos anyone may see). Every item carries its own #id, as in the inbox, tasks,
mails and on the public page.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import photos, policy
from ..extensions import db
from ..labels import PARTICIPANT_ROLES, PRIORITY, STATUS
from ..models import Action, Kind, Observation, Participant, PhotoStage, Status, Visibility, Walk
from ..workflow import CLOSED_NOT_FIXED, FIXED
from . import safety_index



@dataclass
class Shot:
    """One photo of an item as the protocol shows it: before or after."""
    photo_id: int
    data: bytes | None  # the stored thumbnail's JPEG
    after: bool


@dataclass
class Item:
    number: int  # the item's #id
    obs: Observation
    category: str
    place: str
    photos: list[Shot]
    description: str
    action: str
    organisation: str
    priority: str
    due: str
    state: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Protocol:
    walk: Walk
    public: bool
    participants: list[tuple[str, int, list[str]]]
    items: list[Item]
    positive: list[Item]
    counts: list[tuple[str, int]]
    index: safety_index.SafetyIndex
    follow_up: dict | None
    summary: str = ""  # the closing meeting's summary
    actions: list[Item] = field(default_factory=list)  # problems with an owner: the action list


# The moves whose comment says what is to be done (the action list's "proposed action").
PROPOSING = (Action.accept, Action.assign, Action.wont_fix)


def _proposed_action(obs: Observation, public: bool):
    """The latest assignment or decision event with a text: what is to be done."""
    for event in reversed(obs.events):
        if event.action in PROPOSING and event.comment:
            if public and event.visibility is not Visibility.public:
                continue
            return event
    return None


def _shots(obs: Observation, public: bool) -> list[Shot]:
    """The first before-photo and the first after-photo the version may show."""
    shown = [p for p in obs.photos if policy.photo_shown_publicly(p)] if public else list(obs.photos)
    shots = []
    for stage in (PhotoStage.before, PhotoStage.after):
        photo = next((p for p in sorted(shown, key=lambda p: (p.created_at, p.id)) if p.stage is stage), None)
        if photo is not None:
            try:
                data = photos.storage().read(photo.storage_key, "thumb")
            except FileNotFoundError:
                data = None
            shots.append(Shot(photo.id, data, stage is PhotoStage.after))
    return shots


def build(walk: Walk, public: bool, lang: str) -> Protocol:
    observations = db.session.scalars(
        select(Observation).where(Observation.walk_id == walk.id, Observation.status != Status.duplicate)
        .options(db.joinedload(Observation.category), db.joinedload(Observation.organisation),
                 db.selectinload(Observation.photos), db.selectinload(Observation.events))
        .order_by(Observation.created_at, Observation.id)
    ).unique().all()
    if public:
        observations = [o for o in observations if policy.shown_publicly(o)]
    items, positive = [], []
    for obs in observations:
        action = _proposed_action(obs, public)
        notes = [] if public else [e.comment for e in obs.events
                                   if e.comment and e.visibility is Visibility.internal and e is not action]
        item = Item(
            number=obs.id, obs=obs, category=obs.category.name(lang),
            place=obs.address or f"{obs.lat:.5f}, {obs.lon:.5f}",
            photos=_shots(obs, public),
            description=obs.description, action=action.comment if action else "",
            organisation=obs.organisation.name if obs.organisation else "",
            priority=str(PRIORITY[obs.priority]) if obs.priority else "",
            due=obs.due_date.isoformat() if obs.due_date else "",
            state=str(STATUS[obs.status]), notes=notes,
        )
        (positive if obs.kind is Kind.positive else items).append(item)
    participants = db.session.scalars(
        select(Participant).where(Participant.walk_id == walk.id).options(db.joinedload(Participant.user))
    ).all()
    by_role: dict[str, list[str]] = {}
    for participant in participants:
        by_role.setdefault(participant.role_label, []).append(participant.user.display_name)
    roles = [(str(PARTICIPANT_ROLES.get(code, code)), len(names), [] if public else sorted(names))
             for code, names in sorted(by_role.items())]
    counts = Counter(item.state for item in items)
    index = _index(walk, observations)
    actions = sorted((i for i in items if i.organisation),
                     key=lambda i: (i.organisation, i.obs.due_date is None, i.obs.due_date or 0, i.number))
    return Protocol(walk=walk, public=public, participants=roles, items=items, positive=positive,
                    counts=sorted(counts.items()), index=index,
                    follow_up=follow_up(walk, public, observations, index),
                    summary=walk.meeting_summary or "", actions=actions)


def _index(walk: Walk, observations) -> safety_index.SafetyIndex:
    """From the ratings given at the walk's observations and at its stops."""
    return safety_index.from_ratings([o.safety_rating for o in observations if o.safety_rating]
                                     + [s.safety_rating for s in walk.stops if s.safety_rating])


def follow_up(walk: Walk, public: bool, observations, index: safety_index.SafetyIndex) -> dict | None:
    """What changed since the earlier walk on the same route, counted the same way as this protocol:
    `observations` and `index` are this walk's, as build() shows them."""
    earlier = walk.follow_up_of
    if earlier is None:
        return None
    before = db.session.scalars(select(Observation).where(Observation.walk_id == earlier.id,
                                                          Observation.status != Status.duplicate)).all()
    if public:
        before = [o for o in before if policy.shown_publicly(o)]
    problems = [o for o in before if o.kind is Kind.problem]
    return {
        "earlier": earlier,
        "fixed": sum(o.status in FIXED for o in problems),
        "still_open": sum(o.status not in FIXED and o.status not in CLOSED_NOT_FIXED
                          for o in problems),
        "wont_fix": sum(o.status is Status.wont_fix for o in problems),
        "new": sum(o.kind is Kind.problem for o in observations),
        "index_then": _index(earlier, before),
        "index_now": index,
    }
