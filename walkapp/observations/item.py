"""The item's page and what is posted from it: workflow moves, comments, showing it or a photo on the
public page, a coordinator's edit. The inbox and its bulk moves are triage's."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import maps, policy, redaction, workflow
from ..access import SIGNED_IN, allow
from ..admin.forms import organisation_choices
from ..extensions import db
from ..i18n import current_language
from ..labels import PARTICIPANT_ROLES, PRIORITY, SOURCE, STATUS
from ..models import Action, Category, Observation, Photo
from ..policy import STAFF
from ..redirects import safe_next
from . import bp, changes, service
from .item_forms import CommentForm, EditForm, MoveForm
from .routes import visible_or_abort


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
    actions = workflow.allowed_actions(current_user, obs)
    move_form = move_form or MoveForm(formdata=None)
    move_form.organisation_id.choices = organisation_choices(obs.organisation_id)
    if move_form.organisation_id.data is None:
        suggested = workflow.suggested_organisation(obs)
        move_form.organisation_id.data = suggested.id if suggested else 0
    if edit_form is None and policy.is_staff(current_user):
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
        actions=actions, action_labels={a: workflow.action_label(a, obs) for a in actions}, move_form=move_form,
        edit_form=edit_form, comment_form=comment_form or CommentForm(formdata=None),
        candidates=changes.duplicate_candidates(obs) if Action.duplicate in actions else [],
        conflict=conflict, errors=errors or {}, events=events,
        overdue=workflow.is_overdue(obs), photo_controls=redaction.controls(current_user, obs.photos),
    ), status


@bp.post("/observations/<int:obs_id>/move")
@allow(SIGNED_IN)
def move(obs_id: int):
    obs = visible_or_abort(obs_id)
    next_url = safe_next(request.form.get("next"), url_for("observations.detail", obs_id=obs.id))
    form = MoveForm()
    form.organisation_id.choices = organisation_choices()
    if not form.validate():
        return render_detail(obs, move_form=form, errors=form.errors, status=400)
    after_photos = []
    if form.action.data == Action.fix.value:
        try:  # the after-photo goes through the same pipeline as every photo
            after_photos = service.read_photos(request.files.getlist("photos"), already=len(obs.photos))
        except service.InvalidInput as exc:
            return render_detail(obs, move_form=form, errors=exc.errors, status=400)
    try:
        changes.move_from_form(current_user, obs, form, after_photos)
    except changes.Conflict as conflict:
        return render_detail(conflict.obs, move_form=form, conflict=changes.last_change(conflict.obs), status=409)
    except workflow.WorkflowError as exc:
        db.session.rollback()
        return render_detail(obs, move_form=form, errors=exc.errors, status=400)
    flash(_("Saved: %(status)s.", status=STATUS[obs.status]), "success")
    return redirect(next_url)


def wanted_public() -> bool:
    """The state the form asks for: public=1 shows, public=0 hides (never "the other one")."""
    value = request.form.get("public")
    if value not in ("0", "1"):
        abort(400)
    return value == "1"


def public_flash(public: bool) -> None:
    flash(_("Shown on the public feedback page.") if public else _("Hidden from the public feedback page."), "success")


@bp.post("/observations/<int:obs_id>/public")
@allow(*STAFF)
def set_public(obs_id: int):
    """Coordinators choose what the walk's public feedback page shows."""
    obs = visible_or_abort(obs_id)
    public = wanted_public()
    try:
        changes.set_public(current_user, obs, public, with_photos=request.form.get("with_photos") == "1")
    except changes.Conflict as conflict:
        return render_detail(conflict.obs, conflict=changes.last_change(conflict.obs), status=409)
    public_flash(public)
    return redirect(url_for("observations.detail", obs_id=obs.id))


@bp.post("/photos/<int:photo_id>/public")
@allow(*STAFF)
def set_photo_public(photo_id: int):
    photo = db.get_or_404(Photo, photo_id)
    public = wanted_public()
    try:
        changes.set_photo_public(current_user, photo, public)
    except changes.PhotoNeedsReview as exc:
        flash(exc.message, "error")
    else:
        public_flash(public)
    return redirect(url_for("observations.detail", obs_id=photo.observation_id))


@bp.post("/photos/<int:photo_id>/no-people")
@allow(*STAFF)
def confirm_no_people(photo_id: int):
    """A coordinator looked at a photo marked "may show people": no person can be identified."""
    photo = db.get_or_404(Photo, photo_id)
    if not policy.can_review_people(current_user, photo):
        abort(404)
    redaction.confirm_no_people(current_user, photo)
    flash(_("Reviewed: no person can be identified in the photo."), "success")
    return redirect(url_for("observations.detail", obs_id=photo.observation_id))


@bp.post("/observations/<int:obs_id>/comment")
@allow(SIGNED_IN)
def comment(obs_id: int):
    obs = visible_or_abort(obs_id)
    if not policy.can_comment(current_user, obs):
        abort(403)
    form = CommentForm()
    if not form.validate():
        return render_detail(obs, comment_form=form, errors=form.errors, status=400)
    workflow.add_comment(current_user, obs, form.comment.data, form.public.data)
    db.session.commit()
    flash(_("Comment added."), "success")
    return redirect(url_for("observations.detail", obs_id=obs.id) + "#history")


@bp.post("/observations/<int:obs_id>/triage")
@allow(*STAFF)
def staff_edit(obs_id: int):
    """A coordinator corrects the category, place or description."""
    obs = visible_or_abort(obs_id)
    form = EditForm()
    form.category.choices = [c.code for c in db.session.scalars(db.select(Category))]
    if not form.validate() or not (-90 <= (form.lat.data or 0) <= 90 and -180 <= (form.lon.data or 0) <= 180):
        return render_detail(obs, edit_form=form, errors=form.errors or {"lat": [_("Choose a place on the map.")]}, status=400)
    try:
        changes.edit_from_form(current_user, obs, form)
    except changes.Conflict as conflict:
        return render_detail(conflict.obs, edit_form=form, conflict=changes.last_change(conflict.obs), status=409)
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("observations.detail", obs_id=obs.id))


