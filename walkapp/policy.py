"""Who may see and change what: walks, observations, their history and comments.

Route-level rules live in access.py; these are the object-level rules, each
as a check on one object and, where lists are filtered in the database, as a
SQL filter kept side by side with it so that the two cannot drift apart.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select, true

from .extensions import db
from .models import (
    STAFF, Event, Observation, Participant, Photo, PhotoStage, Role, Source, Status, Visibility, Walk, WalkStatus,
)
from .workflow import ORGANISATION_TASK

# STAFF (coordinators and admins) is defined next to Role in models and re-exported from here:
# views say @allow(*STAFF), objects ask is_staff(user).
# Marked public, yet never shown to the public: rejected reports and duplicates of another item.
NOT_SHOWN_PUBLICLY = (Status.duplicate, Status.rejected)


def shown_publicly(obs: Observation) -> bool:
    """What anyone may see: on the public feedback page, in the public protocol, as an export's
    public URL, and through Open311's reads."""
    return obs.is_public and obs.status not in NOT_SHOWN_PUBLICLY


def shown_publicly_sql():
    """shown_publicly() as a WHERE condition."""
    return Observation.is_public.is_(True) & Observation.status.not_in(NOT_SHOWN_PUBLICLY)


def photo_shown_publicly(photo: Photo) -> bool:
    """A photo is public only when marked so and its item is shown publicly: hiding, rejecting or
    marking an item a duplicate takes its photos off every public surface too. A photo that may
    show people is not shown until someone has reviewed it."""
    return photo.is_public and not needs_people_review(photo) and shown_publicly(photo.observation)


def needs_people_review(photo: Photo) -> bool:
    """Face detection marked the photo "may show people" and no one has redacted it or confirmed
    that no person can be identified."""
    return photo.may_show_people and photo.people_reviewed_at is None


def can_publish_photo(photo: Photo) -> bool:
    """A photo may be made public once face detection has looked at it (or a person has) and it
    needs no review: the one rule behind the photo's "Public" button."""
    checked = photo.faces_checked_at is not None or photo.people_reviewed_at is not None
    return checked and not needs_people_review(photo)


def can_redact_photo(user, photo: Photo) -> bool:
    """Coordinators redact any photo of an item they see; a responder their own after-photos."""
    if not can_view_observation(user, photo.observation):
        return False
    if is_staff(user):
        return True
    return (user.role is Role.responder and photo.uploader_id == user.id
            and photo.stage is PhotoStage.after)


def can_review_people(user, photo: Photo) -> bool:
    """Confirming "no person identifiable" is a coordinator's call."""
    return is_staff(user) and can_view_observation(user, photo.observation)


def is_staff(user) -> bool:
    return user.is_authenticated and user.role in STAFF


def is_admin(user) -> bool:
    """Accounts and Open311 API keys are the admin's alone."""
    return user.is_authenticated and user.role is Role.admin


def is_responder(user) -> bool:
    """Works on the tasks of an organisation (its task list, its reminders)."""
    return user.is_authenticated and user.role is Role.responder


def may_stay_signed_in(user) -> bool:
    """Responders open their tasks from mails, again and again: on their own device they may stay
    signed in (REMEMBER_RESPONDER_DAYS) instead of needing a new link each time."""
    return is_responder(user)


def is_participant(user, walk: Walk) -> bool:
    return user.is_authenticated and any(p.user_id == user.id for p in walk.participants)


def walks_taken_part_in(user):
    return select(Participant.walk_id).where(Participant.user_id == user.id)


# --- walks -------------------------------------------------------------------

def can_view_walk(user, walk: Walk) -> bool:
    return is_staff(user) or is_participant(user, walk)


def visible_walks(user):
    if is_staff(user):
        return true()
    if not user.is_authenticated:
        return false()
    return Walk.id.in_(walks_taken_part_in(user))


def can_manage_walk(user, walk: Walk | None) -> bool:
    """Plan, edit, start and finish a walk (walk=None: create one), see its summary, QR code and poster.
    Coordinators manage every walk; the route-level @allow(*STAFF) says the same for the URL."""
    return is_staff(user)


def can_report_on_walk(user, walk: Walk) -> bool:
    """Participants add to a walk until the coordinator marks it done."""
    return walk.status is not WalkStatus.done and (is_staff(user) or is_participant(user, walk))


def can_report_without_walk(user) -> bool:
    """Registered users report outside walks (e.g. the field group's rounds); guests do not."""
    return user.is_authenticated and not user.is_guest


def chooses_report_source(user) -> bool:
    """Coordinators record reports for others (the field group, a school, the police …) and say whose
    they are; everyone else reports as themselves."""
    return is_staff(user)


def report_source(user, walk: Walk | None, chosen: str | None) -> Source:
    """Where a report from the report form comes from: the walk it was made on; off a walk, the source a
    coordinator chose, else a resident's own report."""
    if walk is not None:
        return Source.walk
    if chooses_report_source(user) and chosen:
        return Source(chosen)
    return Source.resident


# --- observations --------------------------------------------------------------

def is_organisations_task(user, obs: Observation) -> bool:
    """The item is a task of the responder's own organisation."""
    return (user.is_authenticated and is_responder(user) and user.organisation_id is not None
            and obs.organisation_id == user.organisation_id and obs.status in ORGANISATION_TASK)


def can_view_observation(user, obs: Observation) -> bool:
    if not user.is_authenticated:
        return False
    if is_staff(user):
        return True
    if is_organisations_task(user, obs):
        return True
    if obs.reporter_id == user.id:
        return True
    return obs.walk_id is not None and obs.walk_id in set(
        p.walk_id for p in user_participations(user)
    )


def visible_observations(user):
    """SQL filter matching can_view_observation()."""
    if not user.is_authenticated:
        return false()
    if is_staff(user):
        return true()
    clauses = [
        Observation.reporter_id == user.id,
        Observation.walk_id.in_(walks_taken_part_in(user)),
    ]
    if is_responder(user) and user.organisation_id:
        clauses.append(
            (Observation.organisation_id == user.organisation_id)
            & Observation.status.in_(ORGANISATION_TASK)
        )
    return or_(*clauses)


def can_edit_observation(user, obs: Observation) -> bool:
    """Reporters edit their own items while their walk is ongoing (or, off-walk, while new)."""
    if not user.is_authenticated or obs.reporter_id != user.id:
        return False
    if obs.walk is not None:
        return obs.walk.status is WalkStatus.ongoing
    return obs.status is Status.new


def can_contribute(user, obs: Observation) -> bool:
    """Add a photo or comment to an item already reported (instead of a duplicate)."""
    if not can_view_observation(user, obs):
        return False
    if obs.walk is not None and obs.walk.status is WalkStatus.done:
        return is_staff(user)
    return True


def can_comment(user, obs: Observation) -> bool:
    """Comments on an item's history are the work talk of coordinators and the responders who do
    the work; walkers add to an item through a contribution (photo or note) instead."""
    if not can_view_observation(user, obs) or user.is_guest:
        return False
    return is_staff(user) or is_responder(user)


def can_view_event(user, event: Event) -> bool:
    """One history entry of an item the user may see. Internal notes are for staff, for their own
    author, and for responders on their own organisation's tasks: a responder who joined someone
    else's walk sees its items as a walker does."""
    if event.visibility is Visibility.public:
        return True
    if not user.is_authenticated:
        return False
    return is_staff(user) or event.actor_id == user.id or is_organisations_task(user, event.observation)


def user_participations(user):
    return db.session.scalars(select(Participant).where(Participant.user_id == user.id)).all()


def keeps_walk_offline(user, walk: Walk) -> bool:
    """The pages of a walk one may still report on (walk page, report form, its items) are kept on the
    phone by the service worker, so that they open without signal (issue #14)."""
    return user.is_authenticated and can_report_on_walk(user, walk)


# Templates ask these, under the same names, instead of comparing roles themselves.
TEMPLATE_GLOBALS = (is_staff, is_admin, is_responder, can_manage_walk, can_report_without_walk, can_comment,
                    can_edit_observation, can_contribute, chooses_report_source)


def init_app(app) -> None:
    app.jinja_env.globals.update({rule.__name__: rule for rule in TEMPLATE_GLOBALS})
