"""Lägesbild dashboard and walk protocols (page and PDF)."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import inputs, maps, policy
from ..access import allow
from ..extensions import db
from ..i18n import current_language, fmt_date, local_today
from ..labels import SOURCE
from ..models import SituationReport, Walk
from ..observations.filters import parse_polygon
from ..policy import STAFF
from . import bp, pdf, protocol, report, report_pdf, stats
from .forms import ReportForm

WEEKDAYS = range(1, 8)
SCOPE_ARGS = ("period", "from", "to", "walk", "bbox", "area", "time", "weekday")


def parse_scope(args, today: date) -> tuple[stats.Scope, str]:
    period = args.get("period", stats.DEFAULT_PERIOD)
    if period not in stats.PERIODS:
        period = stats.DEFAULT_PERIOD
    first = last = None
    if period == "custom":
        try:
            start = inputs.parse_date(args["from"]) if args.get("from") else None
            end = inputs.parse_date(args["to"]) if args.get("to") else None
            first, last = stats.period_bounds(period, today, start, end)
        except ValueError:
            # the form keeps "Custom" and the typed dates to correct; the figures shown are the default
            # period's, and the page's heading says which dates they are
            flash(_("Give both dates of the custom period as YYYY-MM-DD, the first before the last."), "error")
    elif period != stats.DEFAULT_PERIOD:
        first, last = stats.period_bounds(period, today)
    if first is None:
        first, last = stats.default_bounds(today)
    bbox = None
    if args.get("bbox"):
        try:
            box = inputs.parse_bbox(args["bbox"])
            if box[0] < box[2] and box[1] < box[3]:
                bbox = box
        except ValueError:
            pass
    walk_id = args.get("walk", type=inputs.parse_id)
    night = {"night": True, "day": False}.get(args.get("time", ""))
    weekday = args.get("weekday", type=inputs.parse_int)
    polygon = parse_polygon(args.get("area"))
    if args.get("area") and polygon is None:
        flash(_("The drawn area could not be read; draw it again (3 to 50 corners)."), "error")
    return stats.Scope(first, last, bbox, walk_id, polygon, night, weekday if weekday in WEEKDAYS else None), period


@bp.get("/lagesbild")
@allow(*STAFF)
def dashboard():
    today = local_today()
    scope, period = parse_scope(request.args, today)
    data = stats.lagesbild(scope, today)
    lang = current_language()
    return render_template(
        "situation/dashboard.html", scope=scope, period=period, data=data,
        category_rows=[(en if lang == "en" else sv, n, colour) for sv, en, colour, n in data["categories"]],
        source_rows=[(str(SOURCE[source]), n, None) for source, n in data["sources"]],
        walks=db.session.scalars(db.select(Walk).order_by(Walk.starts_at.desc())).all(),
        map=maps.embed(maps.base_map(current_app.config, zoom=13)), args=request.args,
    )


def load_protocol(walk_id: int):
    walk = db.get_or_404(Walk, walk_id)
    if not policy.can_manage_walk(current_user, walk):  # the walk's protocol is its organiser's document
        abort(403)
    version = request.args.get("version", "internal")
    if version not in ("internal", "public"):
        abort(400)
    return protocol.build(walk, version == "public", current_language())


@bp.get("/walks/<int:walk_id>/protocol")
@allow(*STAFF)
def protocol_page(walk_id: int):
    data = load_protocol(walk_id)
    walk = data.walk
    centre = [walk.meeting_lat, walk.meeting_lon] if walk.meeting_lat else None
    pins = [maps.pin(i.obs, number=i.number, category=i.category, status=i.state)
            for i in data.items + data.positive]
    return render_template("situation/protocol.html", p=data, pins=pins,
                           map=maps.embed(maps.base_map(current_app.config, location=centre, zoom=15)))


@bp.get("/walks/<int:walk_id>/protocol.pdf")
@allow(*STAFF)
def protocol_pdf(walk_id: int):
    data = load_protocol(walk_id)
    name = f"protokoll-{data.walk.id}-{'offentlig' if data.public else 'intern'}.pdf"
    return Response(pdf.render(data), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


def version_arg() -> bool:
    """True for the public version."""
    version = request.args.get("version", "internal")
    if version not in ("internal", "public"):
        abort(400)
    return version == "public"


@bp.route("/lagesbild/reports/new", methods=["GET", "POST"])
@allow(*STAFF)
def report_new():
    """Save a lägesbild report for the dashboard's period and area (carried in the query string)."""
    today = local_today()
    scope, period = parse_scope(request.args, today)
    form = ReportForm()
    if request.method == "GET" and not form.title.data:
        form.title.data = _("Situational picture %(start)s – %(end)s",
                            start=fmt_date(scope.start), end=fmt_date(scope.end))
    if form.validate_on_submit():
        query = {key: request.args.get(key) for key in SCOPE_ARGS}
        query.update({"from": scope.start.isoformat(), "to": scope.end.isoformat(), "period": "custom"})
        saved = report.create(scope, query, form.title.data.strip(), form.analysis.data.strip(),
                              form.sources_used.data or [], (form.sources_not_used.data or "").strip(),
                              current_user, today)
        flash(_("The report is saved."), "success")
        return redirect(url_for("situation.report_page", report_id=saved.id))
    return render_template("situation/report_form.html", form=form, scope=scope,
                           args={key: request.args.get(key) for key in SCOPE_ARGS if request.args.get(key)}), \
        400 if form.errors else 200


@bp.get("/lagesbild/reports")
@allow(*STAFF)
def reports():
    saved = db.session.scalars(db.select(SituationReport).order_by(SituationReport.created_at.desc())).all()
    return render_template("situation/reports.html", reports=saved)


@bp.get("/lagesbild/reports/<int:report_id>")
@allow(*STAFF)
def report_page(report_id: int):
    data = report.view(db.get_or_404(SituationReport, report_id), version_arg(), current_language())
    return render_template("situation/report.html", r=data,
                           map=maps.embed(maps.base_map(current_app.config, zoom=13)))


@bp.get("/lagesbild/reports/<int:report_id>.pdf")
@allow(*STAFF)
def report_pdf_file(report_id: int):
    data = report.view(db.get_or_404(SituationReport, report_id), version_arg(), current_language())
    name = f"lagesbild-{report_id}-{'offentlig' if data.public else 'intern'}.pdf"
    return Response(report_pdf.render(data), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})
