"""Data subjects' rights for admins: a register extract (GDPR art. 15) as a page or JSON, erasure
(art. 17) after a confirmation step, and the privacy audit log. The address is always posted,
never put in a URL (which would land in logs and browser history)."""
import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import photos
from ..access import allow
from ..extensions import db
from ..models import Role
from ..privacy import audit, subject_rights
from . import bp
from .forms import AuditSearchForm, EraseForm, PersonForm

# What the counts in the audit log's entries mean (privacy/subject_rights.erase, privacy/retention.RULES).
COUNT_LABELS = {
    "found": _l("Data found"),
    "accounts": _l("Accounts anonymised"),
    "participant_emails": _l("Participants' e-mail addresses removed"),
    "walk_participant_emails": _l("Participants' e-mail addresses removed"),
    "followers": _l("Followers removed"),
    "closed_item_followers": _l("Followers removed"),
    "open311_contacts": _l("Open311 contact details removed"),
    "closed_item_open311_contacts": _l("Open311 contact details removed"),
    "mails": _l("Mails deleted"),
    "rate_counts": _l("Rate counts deleted"),
    "closed_item_reporters": _l("Reporters anonymised"),
    "walk_guests": _l("Guest accounts anonymised"),
    "unpublished_photos": _l("Unpublished photos deleted"),
    "sign_in_links": _l("Sign-in links deleted"),
    "key_usage": _l("API key usage counts deleted"),
}

# The fields of a register extract (privacy/subject_rights.extract), for the readable page.
FIELD_LABELS = {
    "id": _l("Identifier"), "name": _l("Name"), "email": _l("E-mail address"), "role": _l("Role"),
    "guest": _l("Guest"), "organisation": _l("Organisation"), "language": _l("Language"),
    "active": _l("Can sign in"), "created_at": _l("Created"), "last_login_at": _l("Last signed in"),
    "anonymised_at": _l("Anonymised"), "api_tokens": _l("API tokens"), "sign_in_links": _l("Sign-in links"),
    "expires_at": _l("Expires"), "used_at": _l("Used"), "revoked_at": _l("Revoked"),
    "last_used_at": _l("Last used"), "walk_id": _l("Walk number"), "walk": _l("Walk"),
    "walk_starts_at": _l("Walk starts"), "joined_at": _l("Joined"), "category": _l("Category"),
    "description": _l("Description"), "address": _l("Address"), "lat": _l("Latitude"),
    "lon": _l("Longitude"), "status": _l("Status"), "observation_id": _l("Observation number"),
    "action": _l("Action"), "comment": _l("Comment"), "public": _l("Public"), "contact": _l("Contact details"),
    "first_name": _l("First name"), "last_name": _l("Last name"), "phone": _l("Phone"),
    "device_id": _l("Device id"), "account_id": _l("Account id"), "subject": _l("Subject"),
    "sent_at": _l("Sent"), "title": _l("Title"),
}


def privacy_page(form: PersonForm, status: int = 200):
    """The page that asks for the person, with the photo files still waiting to be deleted."""
    waiting, since = photos.pending_summary()
    return render_template("admin/privacy.html", form=form, waiting=waiting, since=since), status


@bp.get("/privacy")
@allow(Role.admin)
def privacy():
    return privacy_page(PersonForm(formdata=None))


@bp.post("/privacy/extract")
@allow(Role.admin)
def privacy_extract():
    form = PersonForm()
    if not form.validate():
        return privacy_page(form, 400)
    email = subject_rights.normalise(form.email.data)
    extracted = subject_rights.extract(email)
    found = subject_rights.holds_anything(extracted)
    audit.record("export", {"found": int(found)}, actor=current_user, email=email)
    db.session.commit()
    if form.download.data:
        response = Response(json.dumps(extracted, ensure_ascii=False, indent=2), mimetype="application/json")
        response.headers["Content-Disposition"] = "attachment; filename=register-extract.json"
        response.headers["Cache-Control"] = "no-store"
        return response
    erase_form = EraseForm(formdata=None, data={"email": email})
    return render_template("admin/privacy_extract.html", extract=extracted, found=found, erase_form=erase_form,
                           fields=FIELD_LABELS)


@bp.post("/privacy/erase")
@allow(Role.admin)
def privacy_erase():
    form = EraseForm()
    if not form.validate():
        return privacy_page(PersonForm(formdata=None), 400)
    email = subject_rights.normalise(form.email.data)
    if current_user.email == email:
        flash(_("You cannot erase yourself."), "error")
        return privacy_page(PersonForm(formdata=None), 400)
    found = subject_rights.holds_anything(subject_rights.extract(email))
    if not form.confirmed.data or not found:
        if form.asked.data and found:
            form.confirmed.errors = [_("Tick the box to confirm the erasure.")]
        form.asked.data = "1"
        return render_template("admin/privacy_erase.html", form=form, found=found), 400 if form.errors else 200
    counts = subject_rights.erase(email)
    audit.record("erase", counts, actor=current_user, email=email)
    db.session.commit()
    flash(_("The person's data are erased; what they reported stays, anonymised."), "success")
    return redirect(url_for("admin.privacy_audit"))


@bp.route("/privacy/audit", methods=["GET", "POST"])
@allow(Role.admin)
def privacy_audit():
    """The newest entries; posted an address, only the entries about it (found by its keyed hash)."""
    form = AuditSearchForm() if request.method == "POST" else AuditSearchForm(formdata=None)
    if request.method == "POST" and not form.validate():
        return render_template("admin/privacy_audit.html", entries=[], labels=COUNT_LABELS, form=form), 400
    email = subject_rights.normalise(form.email.data) if form.email.data else None
    return render_template("admin/privacy_audit.html", entries=audit.entries(email), labels=COUNT_LABELS,
                           form=form, searched=email)
