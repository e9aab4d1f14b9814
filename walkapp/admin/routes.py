"""Administration of users (admins), organisations and categories (coordinators too)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import mail, policy, signin_links, tokens
from ..access import allow
from ..auth.service import revoke_access
from ..extensions import db
from ..models import ApiKey, Category, Kind, Organisation, Role, User, utcnow
from ..policy import STAFF
from . import bp
from .forms import KIND_LABELS, ROLE_LABELS, ApiKeyForm, CategoryForm, MemberForm, OrganisationForm, UserForm


@bp.get("/")
@allow(*STAFF)
def index():
    return render_template("admin/index.html")


# --- users -----------------------------------------------------------------

@bp.get("/users")
@allow(Role.admin)
def users():
    rows = db.session.scalars(
        db.select(User).filter_by(is_guest=False).options(db.joinedload(User.organisation))
        .order_by(User.active.desc(), User.name)
    )
    return render_template("admin/users.html", users=rows, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow(Role.admin)
def edit_user(user_id: int | None = None):
    user = db.get_or_404(User, user_id) if user_id else None
    form = UserForm(user=user)
    if form.validate_on_submit():
        if user is None:
            user = User()
            db.session.add(user)
        user.email = form.email.data
        user.name = form.name.data.strip()
        user.role = Role(form.role.data)
        user.organisation_id = form.organisation_id.data or None
        if form.password.data:
            user.set_password(form.password.data)
            revoke_access(user)  # a reset password: every earlier way in ends
        db.session.commit()
        flash(_("Saved %(name)s.", name=user.name), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user), 400 if form.errors else 200


@bp.post("/users/<int:user_id>/active")
@allow(Role.admin)
def toggle_user(user_id: int):
    user = db.get_or_404(User, user_id)
    if user == current_user:
        flash(_("You cannot deactivate yourself."), "error")
        return redirect(url_for("admin.users"))
    user.active = not user.active
    revoke_access(user)  # signed out; tokens and links issued before do not come back on reactivation
    db.session.commit()
    if user.active:
        flash(_("%(name)s can sign in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and signed out.", name=user.name), "success")
    return redirect(url_for("admin.users"))


# --- organisations ---------------------------------------------------------

@bp.get("/organisations")
@allow(*STAFF)
def organisations():
    rows = db.session.scalars(
        db.select(Organisation).order_by(Organisation.active.desc(), Organisation.name)
    )
    return render_template("admin/organisations.html", organisations=rows)


@bp.route("/organisations/new", methods=["GET", "POST"])
@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@allow(*STAFF)
def edit_organisation(org_id: int | None = None):
    organisation = db.get_or_404(Organisation, org_id) if org_id else None
    form = OrganisationForm(organisation=organisation)
    if form.validate_on_submit():
        if organisation is None:
            organisation = Organisation()
            db.session.add(organisation)
        form.populate_obj(organisation)
        db.session.commit()
        flash(_("Saved %(name)s.", name=organisation.name), "success")
        return redirect(url_for("admin.organisations"))
    return render_organisation(organisation, form, MemberForm(formdata=None))


def render_organisation(organisation, form, member_form, status=None):
    members = organisation.members if organisation else []
    return (
        render_template("admin/organisation_form.html", form=form, organisation=organisation,
                        members=sorted(members, key=lambda u: (not u.active, u.name)), member_form=member_form),
        status or (400 if form.errors or member_form.errors else 200),
    )


@bp.post("/organisations/<int:org_id>/members")
@allow(*STAFF)
def add_member(org_id: int):
    organisation = db.get_or_404(Organisation, org_id)
    member_form = MemberForm()
    if not member_form.validate():
        return render_organisation(organisation, OrganisationForm(organisation=organisation, formdata=None), member_form)
    user = User(email=member_form.email.data, name=member_form.name.data.strip(), role=Role.responder,
                organisation=organisation)
    if member_form.password.data:
        user.set_password(member_form.password.data)
    db.session.add(user)
    db.session.flush()
    mail.queue(user.email, "invitation", None, name=user.name, organisation=organisation.name,
               url=signin_links.for_task(user, mail.site_path("tasks.index")))
    db.session.commit()
    flash(_("%(name)s is added and invited by e-mail.", name=user.name), "success")
    return redirect(url_for("admin.edit_organisation", org_id=org_id))


@bp.post("/organisations/<int:org_id>/members/<int:user_id>/active")
@allow(*STAFF)
def toggle_member(org_id: int, user_id: int):
    """Coordinators (de)activate responders of an organisation; other accounts are the admin's."""
    user = db.get_or_404(User, user_id)
    if user.organisation_id != org_id or not policy.is_responder(user):
        abort(404)
    user.active = not user.active
    revoke_access(user)
    db.session.commit()
    flash(_("Saved %(name)s.", name=user.name), "success")
    return redirect(url_for("admin.edit_organisation", org_id=org_id))


@bp.post("/organisations/<int:org_id>/active")
@allow(*STAFF)
def toggle_organisation(org_id: int):
    """Deactivation hides an organisation from new choices; its history stays."""
    organisation = db.get_or_404(Organisation, org_id)
    organisation.active = not organisation.active
    db.session.commit()
    flash(_("Saved %(name)s.", name=organisation.name), "success")
    return redirect(url_for("admin.organisations"))


# --- categories ------------------------------------------------------------

@bp.get("/categories")
@allow(*STAFF)
def categories():
    rows = db.session.scalars(
        db.select(Category).options(db.joinedload(Category.default_organisation))
        .order_by(Category.sort_order, Category.code)
    )
    return render_template("admin/categories.html", categories=rows, kind_labels=KIND_LABELS)


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@allow(*STAFF)
def edit_category(category_id: int | None = None):
    category = db.get_or_404(Category, category_id) if category_id else None
    form = CategoryForm(category=category)
    if form.validate_on_submit():
        if category is None:
            category = Category()
            db.session.add(category)
        category.code = form.code.data
        category.name_sv = form.name_sv.data.strip()
        category.name_en = form.name_en.data.strip()
        category.colour = form.colour.data.lower()
        category.icon = form.icon.data
        category.kind = Kind(form.kind.data)
        category.default_organisation_id = form.default_organisation_id.data or None
        category.sort_order = form.sort_order.data or 0
        category.active = form.active.data
        db.session.commit()
        flash(_("Saved %(name)s.", name=category.name_sv), "success")
        return redirect(url_for("admin.categories"))
    return (
        render_template("admin/category_form.html", form=form, category=category),
        400 if form.errors else 200,
    )


# --- Open311 API keys ----------------------------------------------------------

@bp.route("/api-keys", methods=["GET", "POST"])
@allow(Role.admin)
def api_keys():
    """Name and create keys for Open311 clients (shown once), and revoke them."""
    form = ApiKeyForm()
    new_key = None
    if form.validate_on_submit():
        key, new_key = tokens.create_api_key(form.name.data.strip(), form.requests_per_hour.data)
        db.session.commit()
        flash(_("Key created. Copy it now: it is not shown again."), "success")
        form = ApiKeyForm(formdata=None)
    keys = db.session.scalars(db.select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name)).all()
    return render_template("admin/api_keys.html", form=form, keys=keys, new_key=new_key), 400 if form.errors else 200


@bp.post("/api-keys/<int:key_id>/revoke")
@allow(Role.admin)
def revoke_api_key(key_id: int):
    key = db.get_or_404(ApiKey, key_id)
    key.revoked_at = key.revoked_at or utcnow()
    db.session.commit()
    flash(_("Key %(name)s is revoked.", name=key.name), "success")
    return redirect(url_for("admin.api_keys"))
