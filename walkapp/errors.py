"""Error pages in the site's layout, JSON under /api/, and under a blueprint that registers its own
format (Open311's GeoReport v2 <errors>) in that format."""
from typing import Callable

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from .extensions import db


def messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        403: _("You do not have permission to see this page."),
        404: _("The page was not found."),
        405: _("That action is not allowed here."),
        413: _("The upload is too large."),
        500: _("Something went wrong on our side. Try again in a moment."),
    }


def rollback() -> None:
    """Forget the failed transaction first: on PostgreSQL an aborted one refuses every further
    statement, and the error page itself reads the database (the signed-in user)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a broken connection: the page is still rendered
        db.session.remove()


def format_errors_under(app, prefix: str, render: Callable) -> None:
    """Errors under this URL prefix are answered by render(code, description) instead (a machine
    format of the blueprint's own; description is the English one of the HTTP error)."""
    app.extensions.setdefault("walkapp_error_formats", {})[prefix] = render


def render_error(code: int, message: str, field: str | None = None, description: str | None = None):
    rollback()
    for prefix, render in current_app.extensions.get("walkapp_error_formats", {}).items():
        if request.path.startswith(prefix):
            return render(code, description or message)
    if request.path.startswith("/api/"):
        return jsonify(errors=[{"field": field, "message": message}]), code
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        rollback()  # before gettext: choosing the language reads the signed-in user
        return render_error(
            400,
            _("The form had expired or was sent from elsewhere. Go back, reload the page and try again."),
            field="csrf_token",  # the phone's outbox retries these with a fresh token
        )

    @app.errorhandler(SecurityError)
    def unknown_host(error):
        """A Host header not in TRUSTED_HOSTS: no URL can be built for it, so a page of its own."""
        if request.path.startswith("/api/"):
            return render_error(400, _("This site is not found at this address."), field="host")
        return render_template("errors/unknown_host.html", site=current_app.config["BASE_URL"]), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        rollback()
        return render_error(error.code or 500, messages().get(error.code, error.description),
                            description=error.description)

    @app.errorhandler(500)
    def server_error(error):
        rollback()
        return render_error(500, messages()[500])
