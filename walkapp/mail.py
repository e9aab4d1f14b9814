"""E-mail through an outbox.

queue() renders a mail in the recipient's language and adds it to the session,
so it is committed together with the change it reports. After the request has
committed, its new mails are sent at once; whatever could not be sent (SMTP
down) waits for `walkapp send-mail`, which retries with backoff. A mail is
claimed before sending so that two senders never send the same row.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from contextlib import nullcontext

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import event, or_, select, update

from .extensions import db
from .models import OutboxMail, utcnow

CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)


def links_context():
    """Links in mails need an address: the request's, or BASE_URL from cron and scripts."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])


def queue(recipient: str, template: str, locale: str | None = None, dedupe_key: str | None = None,
          **context) -> OutboxMail | None:
    """Render templates/mail/<template>.{subject.txt,txt,html} and add the mail to the session."""
    if dedupe_key and db.session.scalar(select(OutboxMail.id).filter_by(dedupe_key=dedupe_key)):
        return None
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", subject=subject, **context)
    mail = OutboxMail(recipient=recipient, subject=" ".join(subject.split()), body_text=text,
                      body_html=html, dedupe_key=dedupe_key)
    db.session.add(mail)
    return mail


def _message(mail: OutboxMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.recipient
    message["Message-ID"] = make_msgid(domain=config["MAIL_DEFAULT_SENDER"].rpartition("@")[2].strip(">") or None)
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


def _smtp():
    config = current_app.config
    timeout = config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        server = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        if config["MAIL_USE_TLS"]:
            server.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        server.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return server


def _claim(mail_id: int, now) -> bool:
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
               or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
        .values(claimed_until=now + CLAIM)
    )
    db.session.commit()
    return result.rowcount == 1


def send(ids: list[int]) -> tuple[int, int]:
    """Send these outbox mails (those still unsent and unclaimed); returns (sent, failed)."""
    sent = failed = 0
    server = None
    try:
        for mail_id in ids:
            now = utcnow()
            if not _claim(mail_id, now):
                continue
            mail = db.session.get(OutboxMail, mail_id)
            try:
                server = server or _smtp()
                server.send_message(_message(mail))
            except (OSError, smtplib.SMTPException) as exc:
                mail.attempts += 1
                mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                mail.next_attempt_at = now + min(timedelta(minutes=2 ** mail.attempts), MAX_BACKOFF)
                mail.claimed_until = None
                db.session.commit()
                failed += 1
                server = None  # reconnect for the next one
                continue
            mail.sent_at, mail.claimed_until = utcnow(), None
            mail.attempts += 1
            db.session.commit()
            sent += 1
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return sent, failed


def send_due(limit: int = 200) -> tuple[int, int]:
    """Send what is due now (for `walkapp send-mail` from cron)."""
    ids = db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.id).limit(limit)
    ).all()
    return send(list(ids))


# Remember the mails each transaction adds; once it commits they are ready to send.
@event.listens_for(db.session, "pending_to_persistent")
def _remember(session, instance):
    if isinstance(instance, OutboxMail):
        session.info.setdefault("new_mail", []).append(instance.id)


@event.listens_for(db.session, "after_commit")
def _committed(session):
    new = session.info.pop("new_mail", [])
    if new:
        try:
            g.setdefault("mail_to_send", []).extend(new)
        except RuntimeError:  # no app context (a plain script): cron sends them
            pass


@event.listens_for(db.session, "after_rollback")
def _rolled_back(session):
    session.info.pop("new_mail", None)


def send_committed() -> tuple[int, int]:
    """Send the mails committed so far in this app context."""
    ids = g.pop("mail_to_send", None)
    return send(ids) if ids else (0, 0)


def init_app(app) -> None:
    @app.after_request
    def send_new_mail(response):
        try:
            send_committed()
        except Exception:  # never fail the user's request over mail; `walkapp send-mail` retries
            db.session.rollback()
            current_app.logger.exception("sending mail failed")
        return response
