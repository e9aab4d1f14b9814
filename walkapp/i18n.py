"""Locale choice and locale-aware formatting (Flask-Babel)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user
from jinja2 import pass_context
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


# One date style per language, short and long (issue 15): day, month, year in that order in both
# languages, the month as a word, the time on a 24-hour clock in the municipality's zone.
#   sv: "2 dec. 2026", "2 december 2026", "2 dec. 2026 15:00", "2 december 2026 15:00"
#   en: "2 Dec 2026",  "2 December 2026", "2 Dec 2026 15:00",  "2 December 2026 15:00"
# "full" (posters) adds the weekday. Babel's own "short"/"medium" styles differ per page and per
# language ("2026-12-02", "12/16/26"), so they are not used; the filters map them to ours.
DATE_PATTERNS = {"short": "d MMM y", "long": "d MMMM y", "full": "EEEE d MMMM y"}
STYLE_OF = {"short": "short", "medium": "short", "long": "long", "full": "full"}
MONTH_PATTERN = "MMM y"
DECIMAL_PATTERN = "#,##0.0"  # one decimal, the language's decimal sign: sv "41,5", en "41.5"


def fmt_date(value, style: str = "short") -> str:
    """A date (or the local day of a datetime) in the language's short or long style."""
    if value is None or value == "":
        return ""
    return format_date(value, DATE_PATTERNS[STYLE_OF.get(style, "short")])


def fmt_datetime(value, style: str = "short") -> str:
    """A moment in the municipality's time zone: the date style, then "HH:mm"."""
    if value is None or value == "":
        return ""
    return format_datetime(value, DATE_PATTERNS[STYLE_OF.get(style, "short")] + " HH:mm")


def fmt_decimal(value, pattern: str = DECIMAL_PATTERN) -> str:
    """A figure with one decimal and the language's decimal sign ("41,5" in Swedish); "–" for none."""
    return "–" if value is None else format_decimal(value, format=pattern)


def month_label(key: str) -> str:
    """A calendar month "YYYY-MM" as the language writes a month and year ("dec. 2026")."""
    year, month = (int(part) for part in key.split("-"))
    return format_date(date(year, month, 1), MONTH_PATTERN)


def current_language() -> str:
    return str(get_locale() or "sv")


def swedish(text) -> Markup:
    """Text that is Swedish whatever the page's language (the municipality's name, a Swedish column name),
    marked lang="sv" on a page in another language so that a screen reader reads it as Swedish (WCAG 3.1.2)."""
    if current_language() == "sv":
        return escape(text)
    return Markup('<span lang="sv">{}</span>').format(text)


@pass_context
def swedish_filter(_context, text) -> Markup:
    """`swedish` as a template filter. Jinja computes a filter on a constant (`"lägesbild"|swedish`) once,
    when it compiles the template, in whichever language that page was first shown; a filter that takes the
    context is left to each rendering."""
    return swedish(text)


def init_app(app) -> None:
    app.jinja_env.globals.update(
        current_language=current_language,
        language_names=LANGUAGE_NAMES,
    )
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        number=lambda value: fmt_decimal(value) if value is not None else "",
        month=month_label,
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.filters["swedish"] = swedish_filter
