"""The one state machine for observations: its states, the moves between them, who may make each.

Every status change goes through move(): it checks the role, the state and the
required fields, sets the timestamps, writes one Event and sends the
`observation_moved` signal (the hook for notifying responders and reporters).
Views and the API call it; nothing else changes a status.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l

from .extensions import db
from .i18n import local_today
from .models import (
    STAFF,
    Action,
    EventKind,
    Event,
    Follower,
    Kind,
    Observation,
    Organisation,
    Priority,
    Role,
    Status,
    Visibility,
    Walk,
    WalkStatus,
    utcnow,
)

signals = Namespace()
# Sent after every move, before commit: sender=the Observation, event=the Event.
observation_moved = signals.signal("observation-moved")

RESPONDERS = frozenset({Role.responder})

# --- state groups: every grouping of Status is named here, once -------------------------------
# (tuples, so that SQL `IN (...)` lists come out in a stable order)
# Not yet closed: still on someone's list (a fixed item waits for verification).
OPEN = (Status.new, Status.accepted, Status.assigned, Status.in_progress, Status.fixed)
# Closed: nothing more happens unless a coordinator reopens it.
CLOSED = (Status.verified, Status.wont_fix, Status.rejected, Status.duplicate)
# Unresolved: open and not yet fixed (Open311's "open"; the backlog of the lägesbild).
UNRESOLVED = tuple(s for s in OPEN if s is not Status.fixed)
# Being worked on by the assigned organisation: its task list, reminders, and what can be overdue.
WORKING = (Status.assigned, Status.in_progress)
# Fixed: awaiting verification or verified (the protocol's "fixed" count).
FIXED = (Status.fixed, Status.verified)
# Closed without a fix: declined for good (the protocol neither counts them fixed nor still open).
CLOSED_NOT_FIXED = (Status.wont_fix, Status.rejected)
# From assignment on, the item is the responsible organisation's task (they see it and its notes).
ORGANISATION_TASK = WORKING + FIXED


# --- walks: their own small rule ---------------------------------------------------------------
# A walk may start, finish, or be put back to planned before it is done; once done it may only be
# reopened (ongoing) for late additions, never go back to planned.
WALK_MOVES = {
    WalkStatus.planned: (WalkStatus.ongoing, WalkStatus.done),
    WalkStatus.ongoing: (WalkStatus.planned, WalkStatus.done),
    WalkStatus.done: (WalkStatus.ongoing,),
}


def walk_moves(walk: Walk) -> tuple[WalkStatus, ...]:
    return WALK_MOVES[walk.status]


def may_move_walk(walk: Walk, to: WalkStatus) -> bool:
    """Staying where it is is always fine (saving the walk's other fields)."""
    return to is walk.status or to in WALK_MOVES[walk.status]




@dataclass(frozen=True)
class Rule:
    sources: frozenset[Status]
    roles: frozenset[Role]
    requires: tuple[str, ...] = ()
    # target state; for reopen it depends on where the item is (see REOPEN_TO)
    target: Status | None = None


RULES: dict[Action, Rule] = {
    Action.accept: Rule(frozenset({Status.new}), STAFF, (), Status.accepted),
    Action.reject: Rule(frozenset({Status.new}), STAFF, ("reason",), Status.rejected),
    Action.duplicate: Rule(frozenset({Status.new, Status.accepted}), STAFF, ("duplicate_of",), Status.duplicate),
    # assigning a new item assesses it in the same step (triage in one form); assigning again moves an
    # assigned item to another organisation
    Action.assign: Rule(frozenset({Status.new, Status.accepted, Status.assigned}), STAFF,
                        ("organisation", "priority", "due_date"), Status.assigned),
    Action.wont_fix: Rule(frozenset({Status.accepted}), STAFF, ("reason",), Status.wont_fix),
    # responders act on their organisation's tasks; coordinators may record it for them
    Action.start: Rule(frozenset({Status.assigned}), RESPONDERS | STAFF, (), Status.in_progress),
    Action.fix: Rule(frozenset({Status.assigned, Status.in_progress}), RESPONDERS | STAFF, (), Status.fixed),
    Action.decline: Rule(frozenset({Status.assigned, Status.in_progress}), RESPONDERS, ("reason",), Status.accepted),
    Action.verify: Rule(frozenset({Status.fixed}), STAFF, (), Status.verified),
    Action.reopen: Rule(frozenset({Status.fixed, *CLOSED}), STAFF),
}
REOPEN_TO = {
    Status.fixed: Status.assigned,
    Status.verified: Status.assigned,
    Status.wont_fix: Status.accepted,
    Status.rejected: Status.new,
    Status.duplicate: Status.new,
}

ACTION_LABELS = {
    Action.accept: _l("Assess"),  # gives "Assessed"
    Action.reject: _l("Reject"),
    Action.duplicate: _l("Mark as duplicate"),
    Action.assign: _l("Assign"),
    Action.wont_fix: _l("Will not be fixed"),
    Action.start: _l("Start work"),
    Action.fix: _l("Mark as fixed"),
    Action.decline: _l("Not our responsibility"),
    Action.verify: _l("Mark as done"),  # gives "Done"
    Action.reopen: _l("Reopen"),
}


def action_label(action: Action, obs: Observation) -> str:
    """What the action's button says for this item: assigning a new item also assesses it."""
    if action is Action.assign and obs.status is Status.new:
        return _l("Assess and assign")
    return ACTION_LABELS[action]


class WorkflowError(Exception):
    """A refused move: {field: [messages]}; nothing was changed."""

    def __init__(self, errors: dict[str, list]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class MoveInput:
    reason: str = ""
    comment: str = ""
    public: bool = False
    organisation: Organisation | None = None
    priority: Priority | None = None
    due_date: date | None = None
    duplicate_of: Observation | None = None
    extra: dict = field(default_factory=dict)


def target_state(action: Action, obs: Observation) -> Status:
    rule = RULES[action]
    return rule.target or REOPEN_TO[obs.status]


def may(user, action: Action, obs: Observation) -> bool:
    """Whether this user may do this action on this item now (fields aside)."""
    rule = RULES[action]
    if obs.kind is Kind.positive or obs.status not in rule.sources or user.role not in rule.roles:
        return False
    if user.role is Role.responder:
        return user.organisation_id is not None and obs.organisation_id == user.organisation_id
    return True


# The usual next step first, the exceptions after.
ACTION_ORDER = (Action.accept, Action.assign, Action.start, Action.fix, Action.verify, Action.duplicate,
                Action.reject, Action.wont_fix, Action.decline, Action.reopen)


def allowed_actions(user, obs: Observation) -> list[Action]:
    return [action for action in ACTION_ORDER if may(user, action, obs)]


def suggested_organisation(obs: Observation) -> Organisation | None:
    """The organisation the assign form starts with: the item's own, else its category's default.
    Only a suggestion: what the coordinator then chooses (also "— none —") is what is assigned."""
    return obs.organisation or obs.category.default_organisation


def default_due_date(priority: Priority, today: date | None = None) -> date:
    days = current_app.config["DUE_DAYS"][priority.value]  # configurable per deployment
    return (today or local_today()) + timedelta(days=int(days))


def _check(user, action: Action, obs: Observation, data: MoveInput) -> None:
    if not may(user, action, obs):
        raise WorkflowError({"action": [_l("This action is not possible for this item now.")]})
    errors: dict[str, list] = {}
    for name in RULES[action].requires:
        value = getattr(data, name)
        if isinstance(value, str):
            value = value.strip()
        if not value:
            errors[name] = [REQUIRED_MESSAGES[name]]
    if data.organisation is not None and not data.organisation.active and action is Action.assign:
        errors["organisation"] = [_l("This organisation is deactivated.")]
    if action is Action.duplicate and data.duplicate_of is not None:
        original = data.duplicate_of
        if original.id == obs.id or original.status is Status.duplicate:
            errors["duplicate_of"] = [_l("Choose another item, not this one or a duplicate.")]
    if errors:
        raise WorkflowError(errors)


REQUIRED_MESSAGES = {
    "reason": _l("Give a reason."),
    "organisation": _l("Choose the responsible organisation."),
    "priority": _l("Choose a priority."),
    "due_date": _l("Choose a due date."),
    "duplicate_of": _l("Choose the item this duplicates."),
}


def move(user, obs: Observation, action: Action, data: MoveInput | None = None,
         now: datetime | None = None) -> Event:
    """Do one move; adds the Event to the session (the caller commits)."""
    data = data or MoveInput()
    _check(user, action, obs, data)
    now = now or utcnow()
    before, after = obs.status, target_state(action, obs)
    details: dict = dict(data.extra)

    if action is Action.accept:
        obs.accepted_at = now
    elif action is Action.assign:
        obs.organisation, obs.priority, obs.due_date = data.organisation, data.priority, data.due_date
        obs.assigned_at = now
        if before is Status.new:  # assessed and assigned in one step
            obs.accepted_at = now
            details["assessed"] = True
        details.update(organisation=data.organisation.name, priority=data.priority.value,
                       due_date=data.due_date.isoformat())
    elif action is Action.fix:
        obs.fixed_at = now
    elif action is Action.decline:
        details["organisation"] = obs.organisation.name if obs.organisation else None
        obs.organisation = None  # back with the coordinator, no longer the organisation's task
    elif action is Action.duplicate:
        merge_into(data.duplicate_of, obs, user, now)
        obs.duplicate_of = data.duplicate_of
        details["duplicate_of"] = data.duplicate_of.id
    elif action is Action.reopen:
        obs.closed_at = None
        if before is Status.duplicate:
            details["duplicate_of"] = obs.duplicate_of_id
            obs.duplicate_of = None
        if after in (Status.assigned, Status.accepted):
            obs.fixed_at = None
    if after in CLOSED:
        obs.closed_at = now
    obs.status = after

    text = "\n\n".join(part for part in (data.reason.strip(), data.comment.strip()) if part)
    event = Event(
        observation=obs, actor=user, created_at=now, action=action.value,
        from_status=before, to_status=after, comment=text,
        visibility=Visibility.public if data.public else Visibility.internal,
        data=details or None,
    )
    db.session.add(event)
    observation_moved.send(obs, event=event)
    return event


def merge_into(original: Observation, duplicate: Observation, user, now: datetime) -> None:
    """Photos and comments of a duplicate carry over to the original; both histories link."""
    for photo in list(duplicate.photos):
        photo.observation = original
    known = {f.email for f in db.session.scalars(db.select(Follower).filter_by(observation_id=original.id))}
    for follower in db.session.scalars(db.select(Follower).filter_by(observation_id=duplicate.id)):
        if follower.email in known:
            db.session.delete(follower)
        else:
            follower.observation = original
            known.add(follower.email)
    for event in duplicate.events:
        if event.comment and event.action in (EventKind.comment, EventKind.contribution, EventKind.reported):
            db.session.add(Event(
                observation=original, actor=event.actor, created_at=event.created_at,
                action=EventKind.comment, comment=event.comment, visibility=event.visibility,
                data={"from_duplicate": duplicate.id},
            ))
    if duplicate.description:
        db.session.add(Event(
            observation=original, actor=duplicate.reporter, created_at=duplicate.created_at,
            action=EventKind.comment, comment=duplicate.description, visibility=Visibility.internal,
            data={"from_duplicate": duplicate.id},
        ))
    db.session.add(Event(
        observation=original, actor=user, created_at=now, action=EventKind.merged,
        data={"duplicate": duplicate.id},
    ))


def add_comment(user, obs: Observation, text: str, public: bool = False) -> Event:
    text = (text or "").strip()
    if not text:
        raise WorkflowError({"comment": [_l("Write a comment.")]})
    if public and user.role not in STAFF:
        public = False  # only coordinators publish
    event = Event(observation=obs, actor=user, action=EventKind.comment, comment=text,
                  visibility=Visibility.public if public else Visibility.internal)
    db.session.add(event)
    return event


# History actions that are no moves (see detail.html's history for their labels).


def set_public(user, obs: Observation, public: bool, photos=()) -> Event | None:
    """Show (True) or hide (False) the item on the public pages; an Event records a change.
    Idempotent: asking for the state it is in changes nothing and records nothing.
    ``photos`` (the caller chose which may be shown: policy.can_publish_photo) are shown in the same
    step, named by the one Event."""
    photos = [p for p in photos if not p.is_public] if public else []
    if obs.is_public == public and not photos:
        return None
    obs.is_public = public
    for photo in photos:
        photo.is_public = True
    event = Event(observation=obs, actor=user, action=EventKind.published if public else EventKind.unpublished,
                  data={"photos": [p.id for p in photos]} if photos else None)
    db.session.add(event)
    return event


def set_photo_public(user, photo, public: bool) -> Event | None:
    """The same for one photo of an item; the Event is in the item's history and names the photo."""
    if photo.is_public == public:
        return None
    photo.is_public = public
    event = Event(observation=photo.observation, actor=user, action=EventKind.published if public else EventKind.unpublished,
                  data={"photo": photo.id})
    db.session.add(event)
    return event


def is_overdue(obs: Observation, today: date | None = None) -> bool:
    return (obs.due_date is not None and obs.status in (Status.assigned, Status.in_progress)
            and obs.due_date < (today or local_today()))
