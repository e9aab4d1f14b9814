"""Locale choice and locale-aware formatting (Flask-Babel)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user
from markupsafe import Markup, escape

LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}


def select_locale() -> str:
    """The user's stored choice, then the session's; otherwise Swedish.

    The browser's Accept-Language is deliberately not used: walkapp is Swedish
    first, and a shared phone on a walk should not switch language by itself.
    """
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_zone() -> ZoneInfo:
    """The municipality's time zone (BABEL_DEFAULT_TIMEZONE): for local days, hours and input."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    """Today in the municipality: due dates and periods are local days (UTC is a day behind after midnight)."""
    return datetime.now(local_zone()).date()


def month_label(key: str) -> str:
    """A calendar month "YYYY-MM" as the language writes a month and year ("dec. 2026")."""
    from babel.dates import format_skeleton

    year, month = (int(part) for part in key.split("-"))
    return format_skeleton("yMMM", date(year, month, 1), locale=get_locale() or "sv")


def current_language() -> str:
    return str(get_locale() or "sv")


def swedish(text) -> Markup:
    """Text that is Swedish whatever the page's language (the municipality's name, a Swedish column name),
    marked lang="sv" on a page in another language so that a screen reader reads it as Swedish (WCAG 3.1.2)."""
    if current_language() == "sv":
        return escape(text)
    return Markup('<span lang="sv">{}</span>').format(text)


def init_app(app) -> None:
    app.jinja_env.globals.update(
        current_language=current_language,
        language_names=LANGUAGE_NAMES,
    )
    app.jinja_env.filters.update(
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        number=lambda value: format_decimal(value) if value is not None else "",
        month=month_label,
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.filters["swedish"] = swedish
