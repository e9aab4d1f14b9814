"""Walk pages: list, create/edit, the participants' map, joining by link or code."""
from __future__ import annotations

import json

import segno
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from markupsafe import Markup

from .. import limits, maps, policy, workflow
from ..i18n import fmt_date, local_zone
from ..access import ANYONE, SIGNED_IN, allow
from ..extensions import db
from ..labels import PARTICIPANT_ROLES, STATUS, WALK_STATUS
from ..models import Observation, Participant, Walk, WalkStatus
from ..observations import service as observations
from ..observations.filters import ObservationFilter
from ..policy import STAFF
from . import bp, service
from .forms import CodeForm, JoinForm, WalkForm


def visible_walk_or_abort(walk_id: int) -> Walk:
    walk = db.get_or_404(Walk, walk_id)
    if not policy.can_view_walk(current_user, walk):
        abort(404)
    return walk


def join_url(walk: Walk) -> str:
    return url_for("walks.join", code=walk.join_code, _external=True)


def feedback_url(walk: Walk) -> str:
    return url_for("public.walk", token=walk.public_token, _external=True)


def qr_svg(url: str, scale: int = 6) -> Markup:
    # segno writes the SVG itself from a URL we built: no user text inside.
    return Markup(segno.make(url, error="m").svg_inline(scale=scale, dark="#000", light="#fff"))


@bp.get("/walks")
@allow(SIGNED_IN)
def index():
    walks = db.session.scalars(
        db.select(Walk).where(policy.visible_walks(current_user)).order_by(Walk.starts_at.desc())
    ).all()
    return render_template("walks/index.html", walks=walks, walk_status=WALK_STATUS)


def managed_walk_or_abort(walk_id: int) -> Walk:
    walk = db.get_or_404(Walk, walk_id)
    if not policy.can_manage_walk(current_user, walk):
        abort(403)
    return walk


@bp.route("/walks/new", methods=["GET", "POST"])
@bp.route("/walks/<int:walk_id>/edit", methods=["GET", "POST"])
@allow(*STAFF)
def edit(walk_id: int | None = None):
    walk = managed_walk_or_abort(walk_id) if walk_id else None
    if walk is None and not policy.can_manage_walk(current_user, None):
        abort(403)
    form = WalkForm(obj=walk)
    form.follow_up_of.choices = [(0, "—")] + [
        (w.id, f"{w.title} ({fmt_date(w.starts_at)})")
        for w in db.session.scalars(db.select(Walk).order_by(Walk.starts_at.desc())) if w != walk]
    if request.method == "GET" and walk is not None:
        form.starts_at.data = walk.starts_at.astimezone(local_zone()).replace(tzinfo=None)
        form.status.data = walk.status.value
        form.follow_up_of.data = walk.follow_up_of_id or 0
        form.stops.data = json.dumps([{"name": s.name, "lat": s.lat, "lon": s.lon} for s in walk.stops])
    if form.validate_on_submit():
        if walk is not None and not workflow.may_move_walk(walk, WalkStatus(form.status.data)):
            form.status.errors.append(_("This status change is not possible for the walk."))
        else:
            walk = service.save_walk(walk, form, current_user)
            flash(_("The walk is saved."), "success")
            return redirect(url_for("walks.view", walk_id=walk.id))
    centre = [walk.meeting_lat, walk.meeting_lon] if walk and walk.meeting_lat else None
    the_map = maps.embed(maps.base_map(current_app.config, location=centre, zoom=15))
    return render_template("walks/form.html", form=form, walk=walk, map=the_map), 400 if form.errors else 200


@bp.get("/walks/<int:walk_id>")
@allow(SIGNED_IN)
def view(walk_id: int):
    walk = visible_walk_or_abort(walk_id)
    rows = db.session.scalars(observations.list_query(current_user, ObservationFilter(walk_id=walk.id))).unique().all()
    centre = [walk.meeting_lat, walk.meeting_lon] if walk.meeting_lat else None
    the_map = maps.embed(maps.base_map(current_app.config, location=centre, zoom=15))
    participants = db.session.scalars(
        db.select(Participant).filter_by(walk_id=walk.id).options(db.joinedload(Participant.user))
    ).all()
    manages = policy.can_manage_walk(current_user, walk)
    summary = {status: n for status, n in db.session.execute(
        db.select(Observation.status, db.func.count()).where(Observation.walk_id == walk.id)
        .group_by(Observation.status)) if n} if manages else {}
    return render_template(
        "walks/view.html", walk=walk, observations=rows, map=the_map, summary=summary,
        is_overdue=workflow.is_overdue,
        walk_status=WALK_STATUS, walk_moves=workflow.walk_moves(walk), status_labels=STATUS, roles=PARTICIPANT_ROLES,
        participants=participants,
        can_report=policy.can_report_on_walk(current_user, walk),
        can_manage=manages,
        route=json.dumps(walk.route) if walk.route else "null",
        stops=json.dumps([{"n": s.number, "name": s.name, "lat": s.lat, "lon": s.lon} for s in walk.stops]),
        join_url=join_url(walk),
        qr=qr_svg(join_url(walk), 4) if manages else None,
    )


@bp.post("/walks/<int:walk_id>/status")
@allow(*STAFF)
def set_status(walk_id: int):
    walk = managed_walk_or_abort(walk_id)
    try:
        to = WalkStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if not workflow.may_move_walk(walk, to):
        flash(_("This status change is not possible for the walk."), "error")
        return redirect(url_for("walks.view", walk_id=walk.id))
    if to is WalkStatus.done and request.form.get("confirmed") != "1":  # ending a walk is asked once more
        return render_template("walks/confirm_done.html", walk=walk)
    walk.status = to
    db.session.commit()
    flash(_("The walk is now: %(status)s.", status=WALK_STATUS[walk.status]), "success")
    return redirect(url_for("walks.view", walk_id=walk.id))


@bp.get("/walks/<int:walk_id>/poster")
@allow(*STAFF)
def poster(walk_id: int):
    """A printable page with the QR code and join code, for the pre-meeting."""
    walk = managed_walk_or_abort(walk_id)
    feedback = request.args.get("page") == "feedback"
    url = feedback_url(walk) if feedback else join_url(walk)
    return render_template("walks/poster.html", walk=walk, qr=qr_svg(url, 10), join_url=url, feedback=feedback)


@bp.route("/join", methods=["GET", "POST"])
@allow(ANYONE)
def enter_code():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            walk = service.find_by_code_limited(form.code.data)
        except limits.LimitReached as exc:
            return code_refused(form, exc)
        if walk is not None:
            return redirect(url_for("walks.join", code=walk.join_code))
        form.code.errors.append(_("No walk has this code. Check it and try again."))
    return render_template("walks/enter_code.html", form=form), 400 if form.errors else 200


def code_refused(form, exc: limits.LimitReached):
    form.code.errors = [*form.code.errors, exc.message]
    return (render_template("walks/enter_code.html", form=form), 429,
            {"Retry-After": str(exc.retry_after)})


@bp.route("/j/<code>", methods=["GET", "POST"])
@allow(ANYONE)
def join(code: str):
    try:
        walk = service.find_by_code_limited(code)
    except limits.LimitReached as exc:
        return code_refused(CodeForm(formdata=None, data={"code": code[:20]}), exc)
    if walk is None:
        flash(_("No walk has this code. Check it and try again."), "error")
        return redirect(url_for("walks.enter_code"))
    if policy.is_participant(current_user, walk) and request.method == "GET":
        return redirect(url_for("walks.view", walk_id=walk.id))
    finished = walk.status is WalkStatus.done
    form = JoinForm()
    error, headers = None, {}
    if form.validate_on_submit():
        try:
            if not current_user.is_authenticated and not finished:
                limits.check_join()
            user = service.join(walk, current_user, form)
        except service.JoinRefused as exc:
            error = exc.message
        except limits.LimitReached as exc:
            error, headers = exc.message, {"Retry-After": str(exc.retry_after)}
        else:
            if not current_user.is_authenticated:
                limits.count_join()
                db.session.commit()
                session.permanent = True  # a guest stays in for the evening
                login_user(user)
            flash(_("Welcome to the walk! Report what you see with the big button."), "success")
            return redirect(url_for("walks.view", walk_id=walk.id))
    status = 429 if headers else 400 if (form.errors or error) else 200
    # A finished walk's code tells only that it has ended, and leads to its public feedback page once
    # that shows something: not what or where the walk was.
    feedback = url_for("public.walk", token=walk.public_token) if finished and service.has_public_items(walk) else None
    return render_template("walks/join.html", walk=walk, form=form, error=error, finished=finished,
                           feedback=feedback), status, headers
