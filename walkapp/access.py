"""The one permission mechanism: every view declares who may call it.

    @bp.get("/admin/users")
    @allow(Role.admin)
    def users(): ...

A before-request hook enforces the declaration. A view without one is refused
for everybody (fail closed), and tests/test_access.py fails on it.
Object-level rules (whose observation, which organisation) are checked by the
view through the domain functions, on top of this.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, abort, current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .extensions import csrf
from .models import Role
from .tokens import bearer_token, user_for_token

ANYONE = "anyone"
SIGNED_IN = "signed_in"

# Endpoints that Flask or extensions register without our decorator.
BUILTIN_RULES = {"static": frozenset({ANYONE})}


def allow(*who: str | Role, csrf: bool = True) -> Callable:
    """Declare who may call a view: ANYONE, SIGNED_IN, or one or more roles.

    csrf=False only for machine endpoints that authenticate every request
    themselves (Open311 with its api_key) and never use the session cookie.
    """
    if not who:
        raise ValueError("allow() needs at least one rule")

    def decorate(view: Callable) -> Callable:
        view.access_rule = frozenset(w.value if isinstance(w, Role) else w for w in who)
        view.csrf_checked = csrf
        return view

    return decorate


def rule_for(app: Flask, endpoint: str) -> frozenset[str] | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None) or BUILTIN_RULES.get(endpoint)


def is_allowed(rule: frozenset[str], user) -> bool:
    if ANYONE in rule:
        return True
    if not user.is_authenticated:
        return False
    return SIGNED_IN in rule or user.role.value in rule


def api_error(status: int, message: str):
    response = jsonify(errors=[{"field": None, "message": message}])
    response.status_code = status
    return abort(response)


def authenticate_bearer() -> bool:
    """Use the request's bearer token, if it carries one, instead of the session.

    A request with a token is not a browser form post, so CSRF does not apply;
    a bad token is refused outright rather than falling back to the cookie.
    """
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return False
    user = user_for_token(token)
    if user is None:
        api_error(401, _("Invalid or revoked API token."))
    g._login_user = user  # Flask-Login's per-request user
    return True


def enforce() -> None:
    if request.endpoint is None:  # no route matched: Flask answers 404/405
        return None
    view = current_app.view_functions.get(request.endpoint)
    if (not authenticate_bearer() and current_app.config.get("WTF_CSRF_ENABLED", True)
            and getattr(view, "csrf_checked", True)):
        csrf.protect()
    rule = rule_for(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("view %s declares no access rule", request.endpoint)
        abort(403)
    if is_allowed(rule, current_user):
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            api_error(401, _("Sign in or send an API token."))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


def init_app(app: Flask) -> None:
    app.before_request(enforce)
