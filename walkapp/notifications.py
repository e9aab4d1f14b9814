"""Who hears about a move, by e-mail (subscribed to workflow.observation_moved).

The mails are queued in the same transaction as the move (see mail.py).
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale

from . import mail, signin_links
from .extensions import db
from .labels import PRIORITY
from .models import Event, Follower, Observation, Role, Status, User, Visibility
from .policy import is_responder, is_staff
from .workflow import Action, observation_moved


def _category(obs: Observation, locale: str | None) -> str:
    return obs.category.name(locale or "sv")


def task_url(obs: Observation) -> str:
    """Where a task link leads after signing in (a path on this site)."""
    return mail.site_path("observations.detail", obs_id=obs.id)


def place(obs: Observation) -> dict:
    """Where the task is, for the mail: the address, else the coordinates, and the item page with its map."""
    return {"place": obs.address or f"{obs.lat:.5f}, {obs.lon:.5f}",
            "map_url": mail.site_url("observations.detail", obs_id=obs.id)}


def notify_assigned(obs: Observation, event: Event) -> None:
    """Each member of the organisation gets the task with a link that signs them in."""
    members = [u for u in obs.organisation.members if u.active and u.email and is_responder(u)]
    for user in members:
        with force_locale(user.locale or "sv"):
            priority = str(PRIORITY[obs.priority])
        mail.queue(
            user.email, "task_assigned", user.locale, dedupe_key=f"event:{event.id}:{user.email}",
            name=user.name, obs=obs, category=_category(obs, user.locale), priority=priority,
            due=obs.due_date, comment=event.comment,  # the organisation sees the coordinator's notes
            url=signin_links.for_task(user, task_url(obs)), remember_days=current_app.config["REMEMBER_RESPONDER_DAYS"],
            **place(obs),
        )
    contact = obs.organisation.email
    if contact and contact not in {u.email for u in members}:
        mail.queue(
            contact, "task_assigned", None, dedupe_key=f"event:{event.id}:{contact}",
            name=obs.organisation.name, obs=obs, category=_category(obs, None),
            priority=str(PRIORITY[obs.priority]), due=obs.due_date, comment=event.comment,
            url=mail.site_url("auth.request_link"), remember_days=0, **place(obs),
        )


def coordinators_for(obs: Observation) -> list[User]:
    """Whoever assigned it; if that person is gone, every active coordinator."""
    assigner = db.session.scalar(
        db.select(User).join(Event, Event.actor_id == User.id)
        .where(Event.observation_id == obs.id, Event.action == Action.assign.value)
        .order_by(Event.id.desc()).limit(1)
    )
    if assigner is not None and assigner.active and assigner.email and is_staff(assigner):
        return [assigner]
    return db.session.scalars(
        db.select(User).where(User.role == Role.coordinator, User.active.is_(True), User.email.is_not(None))
    ).all()


def notify_coordinator(obs: Observation, event: Event, organisation_name: str) -> None:
    for user in coordinators_for(obs):
        mail.queue(
            user.email, "task_update", user.locale, dedupe_key=f"event:{event.id}:{user.email}",
            name=user.name, obs=obs, category=_category(obs, user.locale), action=event.action,
            actor=event.actor.display_name if event.actor else "", organisation=organisation_name,
            comment=event.comment, url=mail.site_url("observations.detail", obs_id=obs.id),
        )


def notify_followers(obs: Observation, event: Event) -> None:
    """Reporters who asked to hear back: fixed, verified or will not be fixed."""
    walk_url = (mail.site_url("public.walk", token=obs.walk.public_token)
                if obs.walk is not None and obs.is_public else "")
    comment = event.comment if event.visibility is Visibility.public else ""
    for follower in db.session.scalars(db.select(Follower).filter_by(observation_id=obs.id)):
        mail.queue(
            follower.email, "follower_update", follower.locale,
            dedupe_key=f"event:{event.id}:{follower.email}",
            category=_category(obs, follower.locale), status=event.to_status.value, comment=comment, url=walk_url,
        )


@observation_moved.connect
def on_move(obs: Observation, event: Event) -> None:
    db.session.flush()  # ids for the links and dedupe keys
    _notify(obs, event)


def _notify(obs: Observation, event: Event) -> None:
    action = Action(event.action)
    if action is Action.assign:
        notify_assigned(obs, event)
    elif action in (Action.fix, Action.decline) and event.actor and is_responder(event.actor):
        name = obs.organisation.name if obs.organisation else (event.data or {}).get("organisation") or ""
        notify_coordinator(obs, event, name)
    if event.to_status in (Status.fixed, Status.verified, Status.wont_fix) and event.from_status != event.to_status:
        notify_followers(obs, event)
