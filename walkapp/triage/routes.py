"""Coordinator pages: the inbox with filters, and bulk moves (an item's own page is observations.item)."""
from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, maps, workflow
from ..access import allow
from ..admin.forms import organisation_choices
from ..extensions import db
from ..labels import PRIORITY, SOURCE, STATUS
from ..models import Category, Kind, Organisation, Walk
from ..observations.filters import FilterError, ObservationFilter
from ..policy import STAFF
from ..redirects import safe_next
from . import bp, service
from .forms import BulkForm


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
    if "status" not in request.args and filters.kind is Kind.problem:  # opens on what is still open; "All" shows the rest
        filters.statuses = list(workflow.OPEN)
    sort = request.args.get("sort", "newest")
    try:
        page = inputs.parse_page(request.args.get("page"))
    except ValueError:
        abort(400)
    rows, total, counts = service.inbox(current_user, filters, sort, page)
    bulk = BulkForm()
    bulk.organisation_id.choices = organisation_choices()
    the_map = maps.embed(maps.base_map(current_app.config, zoom=13))
    return render_template(
        "triage/inbox.html", rows=rows, total=total, page=page, pages=max(1, -(-total // service.PAGE_SIZE)),
        sort=sort, sorts=list(service.SORTS), filters=filters, counts=counts,
        positive_count=service.count(current_user, replace(filters, kind=Kind.positive, statuses=[])),
        status_labels=STATUS, sources=SOURCE, priorities=PRIORITY, bulk=bulk, map=the_map,
        categories=db.session.scalars(db.select(Category).order_by(Category.sort_order)).all(),
        organisations=db.session.scalars(db.select(Organisation).order_by(Organisation.name)).all(),
        walks=db.session.scalars(db.select(Walk).order_by(Walk.starts_at.desc())).all(),
        is_overdue=workflow.is_overdue, open_statuses=list(workflow.OPEN),
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
