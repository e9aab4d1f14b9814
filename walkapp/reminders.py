"""Weekly digests of overdue and soon-due tasks, per organisation member (for cron)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from . import mail, signin_links
from .extensions import db
from .i18n import local_today
from .models import Observation, Organisation
from .policy import is_responder
from .workflow import WORKING



def period_key(today) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def queue_reminders() -> int:
    """Queue one digest per member and week; a second run in the same week adds nothing."""
    today = local_today()
    soon_until = today + timedelta(days=current_app.config["REMINDER_SOON_DAYS"])
    queued = 0
    for organisation in db.session.scalars(select(Organisation).filter_by(active=True)):
        tasks = db.session.scalars(
            select(Observation).where(Observation.organisation_id == organisation.id,
                                      Observation.status.in_(WORKING), Observation.due_date <= soon_until)
            .options(db.joinedload(Observation.category)).order_by(Observation.due_date)
        ).unique().all()
        overdue = [o for o in tasks if o.due_date < today]
        soon = [o for o in tasks if o.due_date >= today]
        if not tasks:
            continue
        for user in organisation.members:
            if not (user.active and user.email and is_responder(user)):
                continue
            key = f"reminder:{organisation.id}:{user.id}:{period_key(today)}"
            queued += mail.queue(
                user.email, "reminder", user.locale, dedupe_key=key, name=user.name,
                organisation=organisation, overdue=overdue, soon=soon,
                url=signin_links.for_task(user, mail.site_path("tasks.index")),
            ) is not None
    db.session.commit()
    return queued
