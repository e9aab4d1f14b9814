"""Coordinator pages: the inbox with filters, bulk moves, and the moves/edits/comments
posted from an item's page."""
from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, maps, policy, redaction, workflow
from ..access import SIGNED_IN, STAFF, allow
from ..extensions import db
from ..labels import PRIORITY, SOURCE, STATUS
from ..models import Category, Kind, Organisation, Photo, Walk
from ..observations import service as observations
from ..observations.filters import FilterError, ObservationFilter
from ..observations.routes import render_detail, visible_or_abort
from ..redirects import safe_next
from . import bp, service
from .forms import BulkForm, CommentForm, EditForm, MoveForm


def organisation_choices():
    from ..admin.forms import organisation_choices as choices

    return choices()


@bp.get("/inbox")
@allow(*STAFF)
def inbox():
    try:
        filters = ObservationFilter.from_args(request.args)
    except FilterError as exc:
        for messages in exc.errors.values():
            flash(" ".join(messages), "error")
        filters = ObservationFilter()
    if filters.kind is None:  # safe places skip the workflow: they have their own tab
        filters.kind = Kind.problem
    sort = request.args.get("sort", "newest")
    try:
        page = inputs.parse_page(request.args.get("page"))
    except ValueError:
        abort(400)
    rows, total = service.inbox(current_user, filters, sort, page)
    bulk = BulkForm()
    bulk.organisation_id.choices = organisation_choices()
    the_map = maps.embed(maps.base_map(current_app.config, zoom=13))
    return render_template(
        "triage/inbox.html", rows=rows, total=total, page=page, pages=max(1, -(-total // service.PAGE_SIZE)),
        sort=sort, sorts=list(service.SORTS), filters=filters, counts=service.status_counts(current_user, filters),
        positive_count=service.count(current_user, replace(filters, kind=Kind.positive, statuses=[])),
        status_labels=STATUS, sources=SOURCE, priorities=PRIORITY, bulk=bulk, map=the_map,
        categories=db.session.scalars(db.select(Category).order_by(Category.sort_order)).all(),
        organisations=db.session.scalars(db.select(Organisation).order_by(Organisation.name)).all(),
        walks=db.session.scalars(db.select(Walk).order_by(Walk.starts_at.desc())).all(),
        is_overdue=workflow.is_overdue,
    )


@bp.post("/inbox/bulk")
@allow(*STAFF)
def bulk_move():
    form = BulkForm()
    form.organisation_id.choices = organisation_choices()
    back = safe_next(request.form.get("back"), url_for("triage.inbox"))
    try:
        ids = inputs.parse_ids(request.form.getlist("ids"))
    except ValueError:
        flash(_("Select at most %(n)d items at a time.", n=inputs.MAX_IDS), "error")
        return redirect(back)
    if not form.validate():
        flash(_("Please correct the marked fields."), "error")
        return redirect(back)
    try:
        done = service.bulk_move(current_user, ids, form)
    except workflow.WorkflowError as exc:
        for messages in exc.errors.values():
            flash(" ".join(str(m) for m in messages), "error")
        return redirect(back)
    flash(_("%(n)d items updated.", n=done), "success")
    return redirect(back)


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
    if form.action.data == workflow.Action.fix.value:
        try:  # the after-photo goes through the same pipeline as every photo
            after_photos = observations.read_photos(request.files.getlist("photos"), already=len(obs.photos))
        except observations.InvalidInput as exc:
            return render_detail(obs, move_form=form, errors=exc.errors, status=400)
    try:
        service.move_from_form(current_user, obs, form, after_photos)
    except service.Conflict as conflict:
        return render_detail(conflict.obs, move_form=form, conflict=service.last_change(conflict.obs), status=409)
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
        service.set_public(current_user, obs, public)
    except service.Conflict as conflict:
        return render_detail(conflict.obs, conflict=service.last_change(conflict.obs), status=409)
    public_flash(public)
    return redirect(url_for("observations.detail", obs_id=obs.id))


@bp.post("/photos/<int:photo_id>/public")
@allow(*STAFF)
def set_photo_public(photo_id: int):
    photo = db.get_or_404(Photo, photo_id)
    public = wanted_public()
    try:
        service.set_photo_public(current_user, photo, public)
    except service.PhotoNeedsReview as exc:
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
def edit(obs_id: int):
    obs = visible_or_abort(obs_id)
    form = EditForm()
    form.category.choices = [c.code for c in db.session.scalars(db.select(Category))]
    if not form.validate() or not (-90 <= (form.lat.data or 0) <= 90 and -180 <= (form.lon.data or 0) <= 180):
        return render_detail(obs, edit_form=form, errors=form.errors or {"lat": [_("Choose a place on the map.")]}, status=400)
    try:
        service.edit_from_form(current_user, obs, form)
    except service.Conflict as conflict:
        return render_detail(conflict.obs, edit_form=form, conflict=service.last_change(conflict.obs), status=409)
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("observations.detail", obs_id=obs.id))


