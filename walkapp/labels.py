"""Translated display names for the domain's codes (one place for all of them)."""
from flask_babel import lazy_gettext as _l

from .models import Priority, Source, Status, WalkStatus

STATUS = {
    Status.new: _l("New"),
    Status.accepted: _l("Assessed"),
    Status.assigned: _l("Assigned"),
    Status.in_progress: _l("In progress"),
    Status.fixed: _l("Fixed"),
    Status.verified: _l("Done"),
    Status.wont_fix: _l("Will not be fixed"),
    Status.rejected: _l("Rejected"),
    Status.duplicate: _l("Duplicate"),
}

WALK_STATUS = {
    WalkStatus.planned: _l("Planned"),
    WalkStatus.ongoing: _l("Ongoing"),
    WalkStatus.done: _l("Done"),
}

SOURCE = {
    Source.walk: _l("Safety walk"),
    Source.field_group: _l("Field group"),
    Source.school: _l("School"),
    Source.social_services: _l("Social services"),
    Source.police: _l("Police"),
    Source.municipal_company: _l("Municipal company"),
    Source.resident: _l("Resident"),
    Source.open311: _l("Open311"),
    Source.import_: _l("Import"),
}
# Sources a person can pick when reporting outside a walk.
REPORTING_SOURCES = [
    Source.field_group, Source.school, Source.social_services,
    Source.police, Source.municipal_company, Source.resident,
]

PRIORITY = {Priority.high: _l("High"), Priority.normal: _l("Normal"), Priority.low: _l("Low")}

# A walk participant's role label (stored as the code).
PARTICIPANT_ROLES = {
    "police": _l("Police"),
    "property_owner": _l("Property owner"),
    "adult_volunteer": _l("Adults in town (Vuxna på stan)"),
    "field_group": _l("Field group"),
    "resident": _l("Resident"),
    "politician": _l("Politician"),
    "other": _l("Other"),
}
