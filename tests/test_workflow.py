"""The state machine: every move for every role from every state, and the required fields."""
from datetime import date, datetime, timezone

import pytest

from walkapp import workflow
from walkapp.extensions import db
from walkapp.models import Event, EventKind, Kind, Organisation, Photo, Priority, Role, Status, User
from walkapp.workflow import Action, MoveInput, WorkflowError

from .factories import make_observation

S, A = Status, Action
STAFF_MOVES = {
    S.new: {A.accept: S.accepted, A.assign: S.assigned, A.reject: S.rejected, A.duplicate: S.duplicate},
    S.accepted: {A.assign: S.assigned, A.wont_fix: S.wont_fix, A.duplicate: S.duplicate},
    S.assigned: {A.assign: S.assigned, A.start: S.in_progress, A.fix: S.fixed},
    S.in_progress: {A.fix: S.fixed},
    S.fixed: {A.verify: S.verified, A.reopen: S.assigned},
    S.verified: {A.reopen: S.assigned},
    S.wont_fix: {A.reopen: S.accepted},
    S.rejected: {A.reopen: S.new},
    S.duplicate: {A.reopen: S.new},
}
# Responders act only on their own organisation's assigned items.
RESPONDER_MOVES = {
    S.assigned: {A.start: S.in_progress, A.fix: S.fixed, A.decline: S.accepted},
    S.in_progress: {A.fix: S.fixed, A.decline: S.accepted},
}
EXPECTED = {
    Role.admin: STAFF_MOVES,
    Role.coordinator: STAFF_MOVES,
    Role.responder: RESPONDER_MOVES,
    Role.walker: {},
}


@pytest.fixture
def world(app, users):
    with app.app_context():
        org = db.session.scalar(db.select(Organisation).filter_by(name="Bostadsbolaget"))
        other = Organisation(name="Gatuavdelningen")
        db.session.add(other)
        db.session.commit()
        yield {"org": org, "other": other, "users": {r: db.session.get(User, i) for r, i in users.items()}}


def full_input(world, obs, original):
    return MoveInput(reason="Skäl", organisation=world["org"], priority=Priority.normal,
                     due_date=date(2027, 1, 31), duplicate_of=original)


def item_in(state, world):
    obs = make_observation(world["users"][Role.walker].id)
    obs.status = state
    obs.organisation = world["org"]
    if state is S.duplicate:
        obs.duplicate_of = make_observation(None)
    db.session.commit()
    return obs


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("state", list(Status))
def test_every_move_for_every_role(world, role, state):
    user = world["users"][role]
    for action in Action:
        obs = item_in(state, world)
        original = make_observation(None, lat=62.7)
        expected = EXPECTED[role].get(state, {}).get(action)
        if expected is None:
            with pytest.raises(WorkflowError):
                workflow.move(user, obs, action, full_input(world, obs, original))
            db.session.rollback()
            assert db.session.get(type(obs), obs.id).status is state
            assert action not in workflow.allowed_actions(user, obs)
        else:
            assert action in workflow.allowed_actions(user, obs)
            event = workflow.move(user, obs, action, full_input(world, obs, original))
            db.session.commit()
            assert obs.status is expected
            assert (event.from_status, event.to_status, event.actor_id) == (state, expected, user.id)


@pytest.mark.parametrize("action, fields", [
    (A.reject, ["reason"]), (A.wont_fix, ["reason"]), (A.decline, ["reason"]),
    (A.assign, ["organisation", "priority", "due_date"]), (A.duplicate, ["duplicate_of"]),
])
def test_required_fields(world, action, fields):
    state = {A.reject: S.new, A.wont_fix: S.accepted, A.decline: S.assigned,
             A.assign: S.accepted, A.duplicate: S.new}[action]
    role = Role.responder if action is A.decline else Role.coordinator
    obs = item_in(state, world)
    with pytest.raises(WorkflowError) as refused:
        workflow.move(world["users"][role], obs, action, MoveInput(reason="   "))
    assert sorted(refused.value.errors) == sorted(fields)
    assert obs.status is state
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 0


def test_responder_of_another_organisation_cannot_act(world):
    obs = item_in(S.assigned, world)
    obs.organisation = world["other"]
    db.session.commit()
    with pytest.raises(WorkflowError):
        workflow.move(world["users"][Role.responder], obs, A.fix)
    assert workflow.allowed_actions(world["users"][Role.responder], obs) == []


def test_positive_observations_skip_the_workflow(world):
    obs = item_in(S.new, world)
    obs.kind = Kind.positive
    assert workflow.allowed_actions(world["users"][Role.coordinator], obs) == []


def test_side_effects_timestamps_and_events(world):
    coordinator, responder = world["users"][Role.coordinator], world["users"][Role.responder]
    obs = item_in(S.new, world)
    t = lambda h: datetime(2026, 11, 25, h, tzinfo=timezone.utc)  # noqa: E731
    workflow.move(coordinator, obs, A.accept, now=t(8))
    workflow.move(coordinator, obs, A.assign, MoveInput(organisation=world["org"], priority=Priority.high,
                                                        due_date=date(2026, 12, 2)), now=t(9))
    workflow.move(responder, obs, A.fix, MoveInput(comment="Ny lampa"), now=t(10))
    workflow.move(coordinator, obs, A.verify, MoveInput(public=True, comment="Kontrollerat"), now=t(11))
    db.session.commit()
    assert (obs.accepted_at, obs.assigned_at, obs.fixed_at, obs.closed_at) == (t(8), t(9), t(10), t(11))
    assert obs.priority is Priority.high and obs.due_date == date(2026, 12, 2)
    events = db.session.scalars(db.select(Event).order_by(Event.id)).all()
    assert [e.action for e in events] == ["accept", "assign", "fix", "verify"]
    assert events[1].data == {"organisation": "Bostadsbolaget", "priority": "high", "due_date": "2026-12-02"}
    assert events[3].visibility.value == "public" and events[3].comment == "Kontrollerat"
    workflow.move(coordinator, obs, A.reopen, MoveInput(comment="Lampan är trasig igen"))
    assert obs.status is S.assigned and obs.closed_at is None and obs.fixed_at is None


def test_decline_returns_item_to_coordinator(world):
    obs = item_in(S.assigned, world)
    event = workflow.move(world["users"][Role.responder], obs, A.decline, MoveInput(reason="Inte vår mark"))
    assert obs.status is S.accepted and obs.organisation is None
    assert event.comment == "Inte vår mark" and event.data == {"organisation": "Bostadsbolaget"}


def test_duplicate_carries_photos_and_comments_and_links_both(world):
    coordinator = world["users"][Role.coordinator]
    original = item_in(S.accepted, world)
    dup = make_observation(world["users"][Role.walker].id, description="Samma lampa")
    db.session.add(Photo(observation=dup, storage_key="k" * 20, width=10, height=10))
    workflow.add_comment(coordinator, dup, "Ringde HEMAB")
    db.session.commit()
    workflow.move(coordinator, dup, A.duplicate, MoveInput(duplicate_of=original))
    db.session.commit()
    assert dup.status is S.duplicate and dup.duplicate_of_id == original.id and dup.closed_at
    assert len(original.photos) == 1 and dup.photos == []
    texts = [e.comment for e in original.events if e.action == "comment"]
    assert "Samma lampa" in texts and "Ringde HEMAB" in texts
    assert any(e.action == "merged" and e.data == {"duplicate": dup.id} for e in original.events)
    assert dup.events[-1].data == {"duplicate_of": original.id}
    with pytest.raises(WorkflowError):  # not onto itself
        workflow.move(coordinator, original, A.duplicate, MoveInput(duplicate_of=original))


def test_assign_refuses_deactivated_organisation(world):
    world["other"].active = False
    obs = item_in(S.accepted, world)
    with pytest.raises(WorkflowError) as refused:
        workflow.move(world["users"][Role.coordinator], obs, A.assign,
                      MoveInput(organisation=world["other"], priority=Priority.low, due_date=date(2027, 1, 1)))
    assert "organisation" in refused.value.errors


def test_moves_send_the_signal(world):
    received = []

    def listener(sender, event):
        received.append((sender.id, event.action))

    workflow.observation_moved.connect(listener)
    try:
        obs = item_in(S.new, world)
        workflow.move(world["users"][Role.coordinator], obs, A.accept)
    finally:
        workflow.observation_moved.disconnect(listener)
    assert received == [(obs.id, "accept")]


def test_overdue_and_default_due_dates(world):
    obs = item_in(S.assigned, world)
    obs.due_date = date(2026, 11, 1)
    assert workflow.is_overdue(obs, today=date(2026, 11, 25))
    obs.status = S.fixed
    assert not workflow.is_overdue(obs, today=date(2026, 11, 25))
    assert workflow.default_due_date(Priority.high, date(2026, 11, 25)) == date(2026, 12, 2)
    assert workflow.default_due_date(Priority.low, date(2026, 11, 25)) == date(2027, 2, 23)


def test_history_records_only_known_event_kinds(app):
    """An event's action is a move or an EventKind, stored as the same plain text as before."""
    with app.app_context():
        assert Event(action=EventKind.comment).action == "comment"
        assert Event(action=Action.fix).action == "fix"
        assert type(Event(action=EventKind.published).action) is str
        with pytest.raises(ValueError):
            Event(action="assigned")  # a state's name is not a move
