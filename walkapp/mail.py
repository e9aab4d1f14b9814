"""E-mail through an outbox, sent outside the web request.

queue() renders a mail in the recipient's language and adds it to the session,
so it is committed together with the change it reports. Once the request has
committed, its new mails are handed to this process's sender thread, which
sends them after the response: the request never waits for SMTP, whatever the
server does. Whatever could not be sent (SMTP down) waits for
`walkapp send-mail`, which retries with backoff. A mail is claimed before
sending so that two senders (threads, processes, cron) never send the same row.

Once sent, a mail's bodies are blanked in the same transaction that marks it
sent: sign-in links in them must not stay usable at rest. Recipient, subject
and times stay for the audit. A mail that can never be sent (a broken address,
an SMTP 5xx answer) gets failed_at and is not retried; the others go on.
Bodies and links are never logged.

Every link in a mail is built by site_url() from BASE_URL, never from the
request, whose Host header the sender of the request chooses.
"""
from __future__ import annotations

import logging
import os
import queue as queue_module
import smtplib
import ssl
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select, update

from . import committed
from .extensions import db
from .models import OutboxMail, utcnow

CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
log = logging.getLogger(__name__)


class InvalidAddress(ValueError):
    """Not one plain e-mail address (a list, a display name, a line break …)."""


def normalise_address(value: str) -> str:
    """One valid address, lower-cased; raises InvalidAddress otherwise.

    Addresses become mail headers: a line break would add headers (Bcc: …), a
    comma more recipients. Used wherever an address enters and again when sending.
    """
    if not isinstance(value, str) or not value or any(c in value for c in "\r\n,;<>"):
        raise InvalidAddress(value)
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InvalidAddress(value) from None


def site_url(endpoint: str, **values) -> str:
    """An absolute URL on this site from config BASE_URL (its path prefix kept), never from the request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def site_path(endpoint: str, **values) -> str:
    """The path part of site_url() (where a sign-in link leads afterwards)."""
    return urlsplit(site_url(endpoint, **values)).path


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
    message["To"] = normalise_address(mail.recipient)
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
        .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
               or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
        .values(claimed_until=now + CLAIM)
    )
    db.session.commit()
    return result.rowcount == 1


def _permanent(exc: Exception) -> bool:
    """Will this mail never go, however often it is retried?"""
    if isinstance(exc, (InvalidAddress, ValueError)):
        return True  # the address or a header cannot be written
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return exc.smtp_code >= 500
    return False


def _blank(mail: OutboxMail) -> None:
    """No link (and so no usable token) is kept once a mail is done with."""
    mail.body_text = mail.body_html = ""


def send(ids: list[int]) -> tuple[int, int]:
    """Send these outbox mails (those still unsent and unclaimed); returns (sent, failed).

    One mail that fails does not stop the others.
    """
    sent = failed = 0
    server = None
    try:
        for mail_id in ids:
            now = utcnow()
            if not _claim(mail_id, now):
                continue
            mail = db.session.get(OutboxMail, mail_id)
            try:
                message = _message(mail)
                server = server or _smtp()
                server.send_message(message)
            except (OSError, ValueError, smtplib.SMTPException) as exc:
                mail.attempts += 1
                mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                mail.claimed_until = None
                if _permanent(exc):
                    mail.failed_at = utcnow()
                    _blank(mail)
                else:
                    mail.next_attempt_at = now + min(timedelta(minutes=2 ** mail.attempts), MAX_BACKOFF)
                db.session.commit()
                log.warning("mail %s not sent (%s)", mail.id, type(exc).__name__)
                failed += 1
                if not isinstance(exc, (InvalidAddress, ValueError, smtplib.SMTPRecipientsRefused)):
                    server = _close(server)  # reconnect for the next one
                continue
            mail.sent_at, mail.claimed_until = utcnow(), None
            mail.attempts += 1
            _blank(mail)
            db.session.commit()
            sent += 1
    finally:
        _close(server)
    return sent, failed


def _close(server) -> None:
    if server is not None:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return None


def send_due(limit: int = 200) -> tuple[int, int]:
    """Send what is due now (for `walkapp send-mail` from cron)."""
    ids = db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
                                    OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.id).limit(limit)
    ).all()
    return send(list(ids))


def _ready(ids: list[int]) -> None:
    """Mails whose transaction committed: sent after the response (or by send_committed() in a CLI)."""
    try:
        g.setdefault("mail_to_send", []).extend(ids)
    except RuntimeError:  # no app context (a plain script): cron sends them
        pass


committed.on_commit(OutboxMail, _ready)


def send_committed() -> tuple[int, int]:
    """Send the mails committed so far in this app context, here and now (CLI commands)."""
    ids = g.pop("mail_to_send", None)
    return send(ids) if ids else (0, 0)


class Sender:
    """One thread per process that runs jobs (sending, slow mail work) after the response.

    It sleeps until a job is handed to it. A job lost with the process (a
    restart) leaves its mails in the outbox for `walkapp send-mail`.
    """

    def __init__(self, name: str = "walkapp-mail"):
        self.name = name
        self.jobs: queue_module.Queue = queue_module.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = None

    def submit(self, app, function, *args) -> None:
        with self.lock:
            if self.pid != os.getpid():  # a forked worker: the parent's thread is not ours
                self.jobs, self.thread, self.pid = queue_module.Queue(), None, os.getpid()
            self.jobs.put((app, function, args))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, args=(self.jobs,), name=self.name,
                                               daemon=True)
                self.thread.start()

    @staticmethod
    def _run(jobs: queue_module.Queue) -> None:
        while True:
            app, function, args = jobs.get()
            try:
                with app.app_context():
                    try:
                        function(*args)
                    except Exception as exc:
                        db.session.rollback()
                        # The type only: a message or traceback may carry an address or a link.
                        app.logger.error("background job %s failed (%s)", function.__name__, type(exc).__name__)
            finally:
                jobs.task_done()

    def wait_idle(self, timeout: float = 60) -> bool:
        """Wait until every job handed over so far is done (for tests); False on timeout."""
        done = threading.Event()

        def join():
            self.jobs.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)


sender = Sender()


def later(function, *args) -> None:
    """Run function(*args) in an app context on the sender thread, after the response when in a request."""
    if has_request_context():
        g.setdefault("mail_jobs", []).append((function, args))
    else:
        sender.submit(current_app._get_current_object(), function, *args)


def wait_idle(timeout: float = 60) -> bool:
    return sender.wait_idle(timeout)


def init_app(app) -> None:
    @app.teardown_request
    def send_new_mail(exc=None):
        """Hand the request's committed mails and mail jobs to the sender thread, once the response
        is made; SMTP is never called in the request."""
        app = current_app._get_current_object()
        ids = g.pop("mail_to_send", None)
        if ids:
            sender.submit(app, send, ids)
        for function, args in g.pop("mail_jobs", []):
            sender.submit(app, function, *args)
