"""Mina uppgifter: a responder's organisation's open tasks, overdue first."""
from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import current_user
from sqlalchemy import case, nulls_last, select

from .. import maps, workflow
from ..access import allow
from ..extensions import db
from ..i18n import current_language, local_today
from ..labels import PRIORITY, STATUS
from ..models import Observation, Role, Status
from ..workflow import WORKING
from . import bp



def open_tasks(user):
    today = local_today()
    return db.session.scalars(
        select(Observation)
        .where(Observation.organisation_id == user.organisation_id, Observation.status.in_(WORKING))
        .options(db.joinedload(Observation.category), db.selectinload(Observation.photos))
        .order_by(case((Observation.due_date < today, 0), else_=1), nulls_last(Observation.due_date.asc()),
                  Observation.id)
    ).unique().all()


@bp.get("/tasks")
@allow(Role.responder)
def index():
    tasks = open_tasks(current_user)
    waiting = db.session.scalars(
        select(Observation).where(Observation.organisation_id == current_user.organisation_id,
                                  Observation.status == Status.fixed)
        .options(db.joinedload(Observation.category)).order_by(Observation.fixed_at.desc()).limit(50)
    ).unique().all()
    lang = current_language()
    pins = [maps.pin(o, category=o.category.name(lang), status=str(STATUS[o.status]),
                     url=url_for("observations.detail", obs_id=o.id), overdue=workflow.is_overdue(o)) for o in tasks]
    return render_template(
        "tasks/index.html", tasks=tasks, waiting=waiting, pins=pins, status_labels=STATUS, priorities=PRIORITY,
        is_overdue=workflow.is_overdue, map=maps.embed(maps.base_map(current_app.config, zoom=13)),
    )
