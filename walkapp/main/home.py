"""What the home page shows each role: the few things that matter to them now, as a list (the
accessible alternative) with the same items as pins on a small map. Every query has a fixed limit or
is an aggregate, so the page's query count does not grow with the number of items."""
from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import and_, case, func, select

from .. import policy, workflow
from . import bp
from ..extensions import db
from ..i18n import current_language, local_today
from ..labels import STATUS
from ..models import Kind, Observation, Participant, Role, Status, Walk, WalkStatus
from ..workflow import WORKING

LIST_SIZE = 8


def _items(query):
    return db.session.scalars(
        query.options(db.joinedload(Observation.category), db.joinedload(Observation.walk))
        .limit(LIST_SIZE)
    ).unique().all()


def pins(items, link) -> list[dict]:
    """The list's items as numbered pins (the number is the item's id, as in the list)."""
    lang = current_language()
    return [{"lat": o.lat, "lon": o.lon, "n": o.id, "category": o.category.name(lang), "colour": o.category.colour,
             "status": str(STATUS[o.status]), "url": link(o), "overdue": workflow.is_overdue(o),
             "positive": o.kind is Kind.positive} for o in items]


def public_link(obs: Observation) -> str | None:
    """A public item is shown on its walk's public feedback page; items off a walk have no public page."""
    return url_for("public.walk", token=obs.walk.public_token) if obs.walk is not None else None


def item_link(obs: Observation) -> str:
    return url_for("observations.detail", obs_id=obs.id)


def for_public() -> dict:
    items = _items(select(Observation).where(policy.shown_publicly_sql())
                   .order_by(Observation.updated_at.desc(), Observation.id.desc()))
    return {"items": items, "pins": pins(items, public_link), "link": public_link}


def my_walks(user) -> list[Walk]:
    """The walks I take part in: ongoing first, then planned, then the latest done."""
    order = case((Walk.status == WalkStatus.ongoing, 0), (Walk.status == WalkStatus.planned, 1), else_=2)
    return db.session.scalars(
        select(Walk).join(Participant, Participant.walk_id == Walk.id).where(Participant.user_id == user.id)
        .order_by(order, Walk.starts_at.desc()).limit(LIST_SIZE)
    ).all()


def for_walker(user) -> dict:
    items = _items(select(Observation).where(Observation.reporter_id == user.id)
                   .order_by(Observation.created_at.desc(), Observation.id.desc()))
    return {"walks": my_walks(user), "items": items, "pins": pins(items, item_link), "link": item_link}


def for_responder(user) -> dict:
    today = local_today()
    query = (select(Observation)
             .where(Observation.organisation_id == user.organisation_id, Observation.status.in_(WORKING))
             .order_by(case((Observation.due_date < today, 0), else_=1), Observation.due_date.asc(),
                       Observation.id))
    items = _items(query) if user.organisation_id else []
    total, overdue = _counts(Observation.organisation_id == user.organisation_id, today) if items else (0, 0)
    return {"items": items, "pins": pins(items, item_link), "link": item_link,
            "counts": {"tasks": total, "overdue": overdue}}


def _counts(where, today) -> tuple[int, int]:
    working = Observation.status.in_(WORKING)
    row = db.session.execute(select(
        func.count(Observation.id).filter(working),
        func.count(Observation.id).filter(and_(working, Observation.due_date < today)),
    ).where(where)).one()
    return row[0], row[1]


def for_staff(user) -> dict:
    today = local_today()
    working = Observation.status.in_(WORKING)
    new, overdue, fixed = db.session.execute(select(
        func.count(Observation.id).filter(Observation.status == Status.new),
        func.count(Observation.id).filter(and_(working, Observation.due_date < today)),
        func.count(Observation.id).filter(Observation.status == Status.fixed),
    ).where(Observation.kind == Kind.problem)).one()
    items = _items(select(Observation).where(Observation.status == Status.new)
                   .order_by(Observation.created_at.desc(), Observation.id.desc()))
    ongoing = db.session.scalars(select(Walk).where(Walk.status != WalkStatus.done)
                                 .order_by(Walk.starts_at.asc()).limit(3)).all()
    return {"items": items, "pins": pins(items, item_link), "link": item_link, "walks": ongoing,
            "counts": {"new": new, "overdue": overdue, "fixed": fixed}}


def for_user(user) -> tuple[str, dict]:
    """(which view of the home page, what it shows)."""
    if not user.is_authenticated:
        return "public", for_public()
    if policy.is_staff(user):
        return "staff", for_staff(user)
    if user.role is Role.responder:
        return "responder", for_responder(user)
    return "walker", for_walker(user)


def report_url(user) -> str | None:
    """Where "Report" in the menu leads: the report form; for a guest, who reports on walks only, the
    form of the latest walk they may still report on (None when there is none)."""
    if not user.is_authenticated:
        return None
    if policy.can_report_without_walk(user):
        return url_for("observations.report")
    walks = db.session.scalars(
        select(Walk).join(Participant, Participant.walk_id == Walk.id)
        .where(Participant.user_id == user.id, Walk.status != WalkStatus.done)
        .order_by(Walk.starts_at.desc()).limit(1)
    ).all()
    return url_for("observations.report", walk=walks[0].id) if walks else None


@bp.app_template_global("report_url")
def current_report_url() -> str | None:
    """The menu's and home page's "Report" link for whoever is signed in (see report_url)."""
    return report_url(current_user)
