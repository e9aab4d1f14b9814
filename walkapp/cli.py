"""The ``walkapp`` command: the Flask CLI for this app plus our own commands.

Every walkapp command is registered on the ``main`` group itself (and on
``app.cli``, for ``flask --app walkapp`` and the tests' runner), so that listing
them — ``walkapp --help`` — needs no app, which refuses to build without a
SECRET_KEY. A command that needs the app builds it when it runs, and refuses
then with a one-line error.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
import flask_migrate
from email_validator import EmailNotValidError, validate_email
from flask import g
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate.cli import db as migrate_db_group
from werkzeug.serving import run_simple

import walkapp  # the package, for create_app at run time: the app factory registers these commands

from . import demo, faces, mail, reminders, schema, summaries
from .backup import BackupError, restore_backup, write_backup
from .categories import seed_default_categories
from .extensions import db
from .models import ApiKey, ApiToken, Organisation, Photo, Role, User, utcnow
from .privacy import audit, retention, subject_rights
from .tokens import create_api_key, create_token


def _create_app():
    return walkapp.create_app()


class WalkappGroup(FlaskGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # FlaskGroup builds the app to list the commands of app.cli; ours are all on
        # this group. (Commands of installed Flask plugins still run, unlisted.)
        return click.Group.list_commands(self, ctx)


@click.group(cls=WalkappGroup, create_app=_create_app)
def main() -> None:
    """walkapp: trygghetsvandringar. Configuration comes from the environment."""


@main.command("demo", with_appcontext=False)
@click.option("--port", default=5000, show_default=True, help="Port on 127.0.0.1.")
@click.option("--password", default="walkapp-demo", show_default=True, help="Password of every demo user.")
def demo_command(port: int, password: str) -> None:
    """Create the local database with demo data (idempotent) and serve it."""
    app = walkapp.create_app(local=True)
    url = f"http://127.0.0.1:{port}/"
    # Plain http on 127.0.0.1: a Secure cookie would never be sent back. Mails link to this server.
    app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False, BASE_URL=url.rstrip("/"),
                      TRUSTED_HOSTS=list(dict.fromkeys([*app.config["TRUSTED_HOSTS"], "127.0.0.1", "localhost"])))
    with app.app_context():
        demo.prepare_database()  # the same upgrade as `walkapp db upgrade`, with its copy
        logins = demo.seed(password)
    click.echo(f"\nwalkapp demo running at {url}\n")
    click.echo("Demo logins (password: %s):" % password)
    for role, email in logins:
        click.echo(f"  {role:<12} {email}")
    click.echo("")
    # app.run() refuses to start inside the flask CLI; serve with werkzeug directly.
    run_simple("127.0.0.1", port, app, threaded=True)


def validate_email_or_fail(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_name", help="Organisation (required for responders).")
@click.option("--name", default="", help="Display name (defaults to the e-mail's local part).")
@click.password_option(help="Password (asked for when omitted).")
@with_appcontext
def create_user_command(email: str, role: str, org_name: str | None, name: str, password: str) -> None:
    """Create a user who signs in with EMAIL and a password."""
    email = validate_email_or_fail(email)
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    if db.session.scalar(db.select(User).filter_by(email=email)):
        raise click.ClickException(f"A user with the e-mail {email} already exists.")
    organisation = None
    if org_name:
        organisation = db.session.scalar(db.select(Organisation).filter_by(name=org_name))
        if organisation is None:
            raise click.ClickException(f"No organisation named {org_name!r}.")
    if role == Role.responder.value and organisation is None:
        raise click.BadParameter("responders belong to an organisation", param_hint="--org")
    user = User(email=email, name=name or email.split("@")[0], role=Role(role), organisation=organisation)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {email}.")


@click.command("seed-categories")
@with_appcontext
def seed_categories_command() -> None:
    """Add the default categories that are missing (never changes existing ones)."""
    added = seed_default_categories()
    db.session.commit()
    click.echo(f"Added {added} categories.")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. the app or script using it.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Print a new personal API token for EMAIL (shown once; stored hashed)."""
    user = db.session.scalar(db.select(User).filter_by(email=validate_email_or_fail(email)))
    if user is None or not user.active:
        raise click.ClickException(f"No active user with the e-mail {email}.")
    token, plain = create_token(user, name)
    db.session.commit()
    click.echo(f"Token {token.id} for {user.email}. Send it as 'Authorization: Bearer <token>':")
    click.echo(plain)


@click.command("revoke-token")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke the API token with this number (see create-token's output)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"No token {token_id}.")
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    click.echo(f"Token {token_id} is revoked.")


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send the outbox's due mails (run from cron, e.g. every 5 minutes)."""
    sent, failed = mail.send_due()
    # Counts only: no address or link in the output (it goes to cron's mail and logs).
    click.echo(f"Sent {sent}, failed {failed}.")
    if failed:
        raise SystemExit(1)


@click.command("check-photos")
@with_appcontext
def check_photos_command() -> None:
    """Look for faces in every photo not checked yet (after upgrading, or if the server stopped
    before its worker got to a photo); a photo with a face waits for review before it can be public."""
    checked = faces.check_unchecked()
    flagged = db.session.scalar(db.select(db.func.count(Photo.id)).where(Photo.may_show_people.is_(True),
                                                                         Photo.people_reviewed_at.is_(None)))
    click.echo(f"Checked {checked} photos; {flagged} may show people and wait for review.")


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Mail each organisation's members a digest of overdue and soon-due tasks (once a week)."""
    queued = reminders.queue_reminders()
    sent, failed = mail.send_committed()
    click.echo(f"Queued {queued} reminders; sent {sent}, failed {failed} (will retry).")


@click.command("rebuild-summaries")
@with_appcontext
def rebuild_summaries_command() -> None:
    """Recount the lägesbild's and the inbox's summary tables from the items (after a restore, a bulk
    change in SQL, or a change of BABEL_DEFAULT_TIMEZONE; the migration that adds them runs it once)."""
    counted = summaries.rebuild()
    db.session.commit()
    click.echo(f"Summaries rebuilt from {counted} items.")


@click.command("create-api-key")
@click.argument("name")
@click.option("--per-hour", default=1000, show_default=True, help="Request limit per hour.")
@with_appcontext
def create_api_key_command(name: str, per_hour: int) -> None:
    """Create an Open311 API key for the client NAME; the key is printed once."""
    if db.session.scalar(db.select(ApiKey).filter_by(name=name)) is not None:
        raise click.ClickException(f"A key named {name!r} already exists.")
    key, plain = create_api_key(name, per_hour)
    db.session.commit()
    click.echo(f"Open311 key {key.id} for {name} (shown once, stored hashed):")
    click.echo(plain)


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Only list what is due; change nothing.")
@with_appcontext
def retention_command(dry_run: bool) -> None:
    """Apply the retention plan (RETENTION_* settings): run it daily from cron.

    First, the photo files a failed deletion left behind are deleted (or, dry, listed)."""
    deleted = retention.retry_pending_deletes(dry_run=dry_run)
    counts = retention.run(dry_run=dry_run)
    waiting = retention.waiting_deletes()
    click.echo("Dry run: nothing is changed." if dry_run else "Retention applied.")
    if not dry_run:
        click.echo(f"  {deleted:>6}  delete the photo files an earlier, failed deletion left")
    for rule in retention.RULES:  # counts only: nothing personal goes to cron's mail
        click.echo(f"  {counts[rule.name]:>6}  {rule.description}")
    if waiting or dry_run:  # the keys are random names, nothing personal
        click.echo(f"  {len(waiting):>6}  photo files waiting to be deleted"
                   + (": the storage refused, see the log; the next run tries again" if waiting and not dry_run
                      else "")
                   + "".join(f"\n          {key}" for key in waiting))


@click.group("personal-data")
def personal_data_group() -> None:
    """Register extracts (GDPR art. 15) and erasure (art. 17) by e-mail address."""


@personal_data_group.command("export")
@click.argument("email")
@with_appcontext
def personal_data_export_command(email: str) -> None:
    """Print every personal datum held about EMAIL as JSON."""
    email = validate_email_or_fail(email)
    extracted = subject_rights.extract(email)
    audit.record("export", {"found": int(subject_rights.holds_anything(extracted))}, via="cli", email=email)
    db.session.commit()
    click.echo(json.dumps(extracted, ensure_ascii=False, indent=2))


@personal_data_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def personal_data_erase_command(email: str, yes: bool) -> None:
    """Erase EMAIL's personal data; what they reported stays, anonymised."""
    email = validate_email_or_fail(email)
    if not subject_rights.holds_anything(subject_rights.extract(email)):
        raise click.ClickException(f"Nothing is held about {email}.")
    if not yes:
        click.confirm(f"Erase every personal datum of {email}? This cannot be undone", abort=True)
    counts = subject_rights.erase(email)
    audit.record("erase", counts, via="cli", email=email)
    db.session.commit()
    click.echo("Erased: " + ", ".join(f"{name} {n}" for name, n in counts.items()) + ".")


@click.command("upgrade")
@click.option("-d", "--directory", default=None, help="Migration script directory.")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (no copy is made).")
@click.option("--tag", default=None, help="Arbitrary tag, passed to env.py.")
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments for env.py.")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade_command(directory, sql, tag, x_arg, revision) -> None:
    """Upgrade the database (a SQLite file is copied next to itself first).

    Each migration runs in its own transaction: when one fails, this stops with
    the revision and the reason, and the database stays at the last good one.
    """

    directory = directory or g.get("directory")  # `walkapp db -d DIR upgrade`, as Flask-Migrate
    x_arg = x_arg or None  # the group's -x values are added by Flask-Migrate's get_config
    if sql:
        flask_migrate.upgrade(directory, revision, sql=True, tag=tag, x_arg=x_arg)
        return
    result = schema.upgrade(directory, revision, tag=tag, x_arg=x_arg)
    count = len(result.steps)
    if count:
        click.echo(f"Upgraded the database from revision {result.before or '(none: empty)'} to "
                   f"{result.after} ({count} migration{'' if count == 1 else 's'}).")
    else:
        click.echo(f"Nothing to upgrade: the database is at revision {result.before}.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(file: str) -> None:
    """Write FILE: a consistent snapshot of the database and every photo, with checksums."""
    try:
        manifest = write_backup(Path(file))
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {file}: {_counts(manifest)}.")
    if manifest.missing_photos:
        # Deleted while the backup ran (their rows are in the snapshot): say so, and fail the cron job.
        raise click.ClickException(f"{len(manifest.missing_photos)} photo files vanished during the backup.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(file: str) -> None:
    """Restore FILE (made by `walkapp backup`) into this new, empty instance; checksums are verified."""
    try:
        manifest = restore_backup(Path(file))
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {file} (made on {manifest.database} at {manifest.created_at}): {_counts(manifest)}.")
    click.echo("Run `walkapp db upgrade` if this walkapp is newer than the one that made the backup.")


def _counts(manifest) -> str:
    return f"{manifest.counts.get('observation', 0)} observations, {manifest.counts.get('photo', 0)} photos " \
           f"({manifest.counts.get('photo files', 0)} files), {sum(manifest.counts.values())} rows and files in all"


# Flask-Migrate's `db` group with our upgrade in place of its own.
db_group = click.Group(
    "db",
    params=migrate_db_group.params,
    callback=migrate_db_group.callback,
    help=migrate_db_group.help,
    commands={**migrate_db_group.commands, "upgrade": db_upgrade_command},
)

COMMANDS = (create_user_command, seed_categories_command, create_token_command,
            revoke_token_command, send_mail_command, send_reminders_command,
            create_api_key_command, backup_command, restore_command, retention_command, personal_data_group,
            check_photos_command, rebuild_summaries_command, db_group)
for _command in COMMANDS:
    main.add_command(_command)


def init_app(app) -> None:
    # Also on app.cli: replaces the `db` group Flask-Migrate added there.
    for command in COMMANDS:
        app.cli.add_command(command)
