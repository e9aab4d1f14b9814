"""walkapp: community safety walks (trygghetsvandringar), from observation to fix."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import ArgumentError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (  # noqa: F401 (notifications subscribes to the workflow's moves)
    access, assets, cli, config, errors, faces, health, i18n, inputs, mail, maps, notifications, photos, policy, request_log,
    security_headers, summaries,
)
from .admin import bp as admin_bp
from .api import bp as api_bp
from .auth import bp as auth_bp
from .exchange import bp as exchange_bp
from .extensions import babel, csrf, db, login_manager, migrate
from .main import bp as main_bp
from .models import Action, EventKind
from .observations import bp as observations_bp
from .open311 import bp as open311_bp
from .public import bp as public_bp
from .pwa import bp as pwa_bp
from .situation import bp as situation_bp
from .tasks import bp as tasks_bp
from .triage import bp as triage_bp
from .walks import bp as walks_bp

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, *, local: bool = False) -> Flask:
    """Build the app. ``local`` marks a developer's machine (the demo server)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("WALKAPP_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, test_config)
    if int(app.config.get("PROXY_FORWARDS") or 0) > 0:  # the client's address from X-Forwarded-For
        forwards = int(app.config["PROXY_FORWARDS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=forwards, x_proto=0, x_host=0)
    config.make_instance_folder(app)
    config.ensure_secret_key(app, local=local)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    i18n.init_app(app)
    login_manager.init_app(app)
    inputs.init_app(app)  # bounded <int:…> ids before any rule is added; control characters → 400
    access.init_app(app)
    policy.init_app(app)  # templates ask is_staff(current_user), can_comment(current_user, obs) …
    app.jinja_env.globals.update(Action=Action, EventKind=EventKind)  # history entries by kind
    security_headers.init_app(app)
    assets.init_app(app)
    maps.use_local_assets(lambda name: assets.static_url(app, name))
    photos.init_app(app)
    mail.init_app(app)
    health.init_app(app)
    request_log.init_app(app)
    faces.init_app(app)

    for blueprint in (main_bp, auth_bp, admin_bp, walks_bp, observations_bp, triage_bp, tasks_bp,
                      public_bp, api_bp, open311_bp, exchange_bp, situation_bp, pwa_bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    cli.init_app(app)

    if not app.testing:
        check_database(app)
    return app




def check_database(app: Flask) -> None:
    """Fail at start-up, in one line, when the database cannot be reached."""
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (OperationalError, ArgumentError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            url = db.engine.url.render_as_string(hide_password=True)
            raise config.StartupError(f"Cannot reach the database {url}: {reason}") from None
        except ModuleNotFoundError as exc:
            raise config.StartupError(
                f"Database driver missing ({exc.name}); install walkapp[postgres]."
            ) from None
