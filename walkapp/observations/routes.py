"""Pages for reporting and viewing observations, and the photo view."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, limits, maps, photos, policy, redaction, workflow
from ..admin.forms import organisation_choices
from ..i18n import current_language
from ..access import SIGNED_IN, allow
from ..extensions import db
from ..labels import PARTICIPANT_ROLES, PRIORITY, SOURCE, STATUS
from ..models import Category, Observation, Photo, Walk
from . import bp, service
from .forms import ObservationForm


def visible_or_abort(obs_id: int) -> Observation:
    obs = db.get_or_404(Observation, obs_id)
    if not policy.can_view_observation(current_user, obs):
        abort(404)  # what one may not see does not exist for one
    return obs


def report_map(walk: Walk | None, location=None):
    centre = location or ([walk.meeting_lat, walk.meeting_lon] if walk and walk.meeting_lat else None)
    return maps.embed(maps.base_map(current_app.config, location=centre, zoom=17))


@bp.route("/report", methods=["GET", "POST"])
@allow(SIGNED_IN)
def report():
    walk_id = request.values.get("walk", type=inputs.parse_id)
    walk = db.session.get(Walk, walk_id) if walk_id else None
    if walk is not None and not policy.can_view_walk(current_user, walk):
        abort(404)
    if walk is not None and not policy.can_report_on_walk(current_user, walk):
        flash(_("This walk is finished; new observations can no longer be added."), "error")
        return redirect(url_for("walks.view", walk_id=walk.id))
    if walk is None and not policy.can_report_without_walk(current_user):
        abort(403)
    form = ObservationForm()
    errors, headers = {}, {}
    if request.method == "POST":
        try:
            obs = service.create_observation(current_user, form)
        except service.InvalidInput as exc:
            errors = exc.errors
        except limits.LimitReached as exc:  # the form comes back as typed, with when to send again
            errors, headers = {"form": [exc.message]}, {"Retry-After": str(exc.retry_after)}
        else:
            flash(_("Thank you! Your observation is saved."), "success")
            return redirect(url_for("walks.view", walk_id=walk.id) if walk else url_for("observations.detail", obs_id=obs.id))
    location = [form.lat.data, form.lon.data] if not errors.get("lat") and form.lat.data is not None and form.lon.data is not None else None
    return render_template(
        "observations/report.html", form=form, walk=walk, errors=errors,
        map=report_map(walk, location), sources=SOURCE,
        may_choose_source=policy.chooses_report_source(current_user),
    ), 429 if headers else 400 if errors else 200, headers


@bp.get("/observations/<int:obs_id>")
@allow(SIGNED_IN)
def detail(obs_id: int):
    return render_detail(visible_or_abort(obs_id))


def render_detail(obs: Observation, *, move_form=None, edit_form=None, comment_form=None,
                  conflict=None, errors=None, status: int = 200):
    """The item's page: everything about it and what this user may do now.

    After a refused or conflicting post, the user's own input comes back in the
    form it was typed into, next to the item's current state.
    """
    from ..triage.forms import CommentForm, EditForm, MoveForm
    from ..triage.service import duplicate_candidates

    staff = policy.is_staff(current_user)
    actions = workflow.allowed_actions(current_user, obs)
    move_form = move_form or MoveForm(formdata=None)
    move_form.organisation_id.choices = organisation_choices(obs.organisation_id)
    if move_form.organisation_id.data is None:
        suggested = workflow.suggested_organisation(obs)
        move_form.organisation_id.data = suggested.id if suggested else 0
    if edit_form is None and staff:
        edit_form = EditForm(formdata=None, data={"category": obs.category.code, "lat": obs.lat,
                                                  "lon": obs.lon, "description": obs.description})
    if edit_form is not None:
        edit_form.category.choices = [(c.code, c.name(current_language())) for c in
                                      db.session.scalars(db.select(Category).order_by(Category.sort_order))]
    small_map = maps.base_map(current_app.config, location=[obs.lat, obs.lon], zoom=17)
    events = [e for e in obs.events if policy.can_view_event(current_user, e)]
    return render_template(
        "observations/detail.html", obs=obs, map=maps.embed(small_map),
        status_labels=STATUS, sources=SOURCE, roles=PARTICIPANT_ROLES, priorities=PRIORITY,
        priority_names={p.value: label for p, label in PRIORITY.items()},
        can_edit=policy.can_edit_observation(current_user, obs), staff=staff,
        can_comment=policy.can_comment(current_user, obs),
        actions=actions, action_labels=workflow.ACTION_LABELS, move_form=move_form,
        edit_form=edit_form, comment_form=comment_form or CommentForm(formdata=None),
        candidates=duplicate_candidates(obs) if workflow.Action.duplicate in actions else [],
        conflict=conflict, errors=errors or {}, events=events,
        overdue=workflow.is_overdue(obs), photo_controls=redaction.controls(current_user, obs.photos),
    ), status


@bp.route("/observations/<int:obs_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit(obs_id: int):
    obs = visible_or_abort(obs_id)
    if not policy.can_edit_observation(current_user, obs):
        abort(403)
    form = ObservationForm()
    errors, headers = {}, {}
    if request.method == "GET":
        form.category.data, form.lat.data, form.lon.data = obs.category.code, obs.lat, obs.lon
        form.description.data, form.rating.data = obs.description, obs.safety_rating
    else:
        try:
            service.update_observation(current_user, obs, form, request.form.get("version", type=int))
        except service.InvalidInput as exc:
            errors = exc.errors
        except limits.LimitReached as exc:
            errors, headers = {"form": [exc.message]}, {"Retry-After": str(exc.retry_after)}
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("observations.detail", obs_id=obs.id))
    location = [obs.lat, obs.lon] if errors.get("lat") else [form.lat.data, form.lon.data]
    return render_template(
        "observations/report.html", form=form, walk=obs.walk, errors=errors, obs=obs,
        map=report_map(obs.walk, location), sources=SOURCE, may_choose_source=False,
    ), 429 if headers else 400 if errors else 200, headers


@bp.get("/photos/<int:photo_id>/<any(display, thumb):rendition>.jpg")
@allow(SIGNED_IN)
def photo(photo_id: int, rendition: str):
    photo = db.get_or_404(Photo, photo_id)
    if not policy.can_view_observation(current_user, photo.observation):
        abort(404)
    return photos.send(photo, rendition)
