from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError

from ..inputs import BoundedIntegerField
from ..categories import ICONS
from ..extensions import db
from ..models import ApiKey, Category, Kind, Organisation, Role, User

ROLE_LABELS = {
    Role.admin: _l("Administrator"),
    Role.coordinator: _l("Coordinator"),
    Role.walker: _l("Walker"),
    Role.responder: _l("Responder"),
}
KIND_LABELS = {Kind.problem: _l("Problem"), Kind.positive: _l("Positive (safe place)")}


def organisation_choices(include_inactive_id: int | None = None):
    orgs = db.session.scalars(db.select(Organisation).order_by(Organisation.name))
    return [SelectChoice(0, _l("— none —"))] + [
        SelectChoice(o.id, o.name) for o in orgs if o.active or o.id == include_inactive_id
    ]


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()])
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    password = PasswordField(
        _l("New password"),
        validators=[Optional(), Length(min=10, message=_l("Use at least 10 characters."))],
        render_kw={"autocomplete": "new-password"},
        description=_l("Leave empty to keep the current password."),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, obj=user, **kwargs)
        self.user = user
        self.organisation_id.choices = organisation_choices(user.organisation_id if user else None)
        if user is not None and not self.is_submitted():
            self.role.data = user.role.value
            self.organisation_id.data = user.organisation_id or 0
        if user is None:
            self.password.label.text = _l("Password")
            self.password.description = ""
            self.password.validators = [DataRequired(), self.password.validators[1]]

    def validate_email(self, field):
        email = field.data.strip().lower()
        other = db.session.scalar(db.select(User).filter_by(email=email))
        if other is not None and other is not self.user:
            raise ValidationError(_l("Another user already has this e-mail."))
        field.data = email

    def validate_organisation_id(self, field):
        if self.role.data == Role.responder.value and not field.data:
            raise ValidationError(_l("A responder must belong to an organisation."))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = StringField(_l("Type"), validators=[Length(max=60)],
                       description=_l("For example housing company, municipal company, department."))
    email = EmailField(_l("Contact e-mail"), validators=[Optional(), Email(), Length(max=254)])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, organisation: Organisation | None = None, **kwargs):
        super().__init__(*args, obj=organisation, **kwargs)
        self.organisation = organisation

    def validate_name(self, field):
        field.data = field.data.strip()
        other = db.session.scalar(db.select(Organisation).filter_by(name=field.data))
        if other is not None and other is not self.organisation:
            raise ValidationError(_l("An organisation with this name already exists."))


class CategoryForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40),
                    Regexp(r"^[a-z0-9-]+$", message=_l("Use lower-case letters, digits and hyphens."))],
    )
    name_sv = StringField(_l("Name in Swedish"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=80)])
    colour = StringField(_l("Colour"), validators=[DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$")],
                         render_kw={"type": "color"})
    icon = SelectField(_l("Icon"), choices=[SelectChoice(i) for i in ICONS])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    default_organisation_id = SelectField(_l("Default responsible organisation"), coerce=int)
    sort_order = BoundedIntegerField(_l("Order"), default=0, validators=[Optional()])
    active = BooleanField(_l("In use"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, category: Category | None = None, **kwargs):
        super().__init__(*args, obj=category, **kwargs)
        self.category = category
        if category is not None and not self.is_submitted():
            self.kind.data = category.kind.value
            self.default_organisation_id.data = category.default_organisation_id or 0
        self.default_organisation_id.choices = organisation_choices(
            category.default_organisation_id if category else None
        )

    def validate_code(self, field):
        other = db.session.scalar(db.select(Category).filter_by(code=field.data))
        if other is not None and other is not self.category:
            raise ValidationError(_l("Another category already has this code."))


class MemberForm(FlaskForm):
    """A responder in an organisation, added by a coordinator."""
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password (optional)"),
        validators=[Optional(), Length(min=10, message=_l("Use at least 10 characters."))],
        render_kw={"autocomplete": "new-password"},
        description=_l("Without a password the member signs in with a link sent by e-mail."),
    )

    def validate_email(self, field):
        field.data = field.data.strip().lower()
        if db.session.scalar(db.select(User).filter_by(email=field.data)) is not None:
            raise ValidationError(_l("Another user already has this e-mail."))


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name of the client"), validators=[DataRequired(), Length(max=120)],
                       description=_l("For example FixaMinGata."))
    requests_per_hour = BoundedIntegerField(_l("Requests per hour"), default=1000,
                                     validators=[DataRequired(), NumberRange(min=1, max=100000)])

    def validate_name(self, field):
        if db.session.scalar(db.select(ApiKey).filter_by(name=field.data.strip())) is not None:
            raise ValidationError(_l("A key with this name already exists."))


class PersonForm(FlaskForm):
    """A data subject, by e-mail address: for a register extract or an erasure."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    show = SubmitField(_l("Show register extract"))
    download = SubmitField(_l("Download as JSON"))


class EraseForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    confirmed = BooleanField(_l("I have checked that the request comes from this person; erase their data."))
    asked = HiddenField()  # set on the confirmation page: an unticked box there is an error


class AuditSearchForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    search = SubmitField(_l("Show this person's entries"))
