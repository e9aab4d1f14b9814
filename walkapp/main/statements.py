"""The privacy notice (GDPR art. 13) and the accessibility statement (DOS-lagen, DIGG's model).

The texts are in the templates (templates/main/privacy.html, accessibility.html), translated
through gettext; what differs per municipality comes from the configuration (config.py:
CONTROLLER_NAME, CONTROLLER_CONTACT, DPO_CONTACT, ACCESSIBILITY_*, PRIVACY_EXTRA, the
RETENTION_* periods).
"""
from __future__ import annotations

from datetime import date

from flask import current_app, render_template

from ..access import ANYONE, allow
from ..i18n import current_language
from . import bp


def localized(value) -> str:
    """A configured free text: a plain string, or a mapping by language ({"sv": …, "en": …})."""
    if isinstance(value, dict):
        return value.get(current_language()) or value.get("sv") or next(iter(value.values()), "")
    return str(value or "")


def controller() -> dict:
    config = current_app.config
    return {
        "name": localized(config.get("CONTROLLER_NAME")) or config["MUNICIPALITY"],
        "contact": localized(config.get("CONTROLLER_CONTACT")),
        "dpo": localized(config.get("DPO_CONTACT")),
    }


def retention() -> dict:
    config = current_app.config
    return {key: int(config[f"RETENTION_{key.upper()}"])
            for key in ("closed_item_months", "walk_guest_months", "unpublished_photo_months", "log_days")}


def assessed_on() -> date | None:
    value = current_app.config.get("ACCESSIBILITY_ASSESSED")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@bp.get("/integritet")
@allow(ANYONE)
def privacy():
    return render_template("main/privacy.html", controller=controller(), retention=retention(),
                           extra=localized(current_app.config.get("PRIVACY_EXTRA")))


@bp.get("/tillganglighet")
@allow(ANYONE)
def accessibility():
    config = current_app.config
    return render_template(
        "main/accessibility.html", controller=controller(), assessed=assessed_on(),
        report_contact=localized(config.get("ACCESSIBILITY_CONTACT")) or controller()["contact"],
        extra_gaps=[localized(gap) for gap in config.get("ACCESSIBILITY_GAPS") or []],
        extra=localized(config.get("ACCESSIBILITY_EXTRA")),
    )
