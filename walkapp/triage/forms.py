from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..inputs import BoundedDateField, BoundedIntegerField, FiniteFloatField
from ..labels import PRIORITY
from ..models import Priority
from ..workflow import Action

TEXT_MAX = 4000


class MoveForm(FlaskForm):
    """Fields of every workflow move; the workflow decides which are required."""
    action = SelectField(choices=[SelectChoice(a.value) for a in Action])
    version = BoundedIntegerField(validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=TEXT_MAX)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=TEXT_MAX)])
    public = BooleanField(_l("Show the comment on the public feedback page"))
    organisation_id = SelectField(_l("Responsible organisation"), coerce=int, validators=[Optional()])
    priority = SelectField(_l("Priority"), validators=[Optional()],
                           choices=[SelectChoice(p.value, label) for p, label in PRIORITY.items()],
                           default=Priority.normal.value)
    due_date = BoundedDateField(_l("Due date"), validators=[Optional()])
    duplicate_of = BoundedIntegerField(_l("Duplicate of item number"), validators=[Optional()])


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[InputRequired(), Length(max=TEXT_MAX)])
    public = BooleanField(_l("Public (shown on the feedback page)"))


class EditForm(FlaskForm):
    version = BoundedIntegerField(validators=[InputRequired()])
    category = SelectField(_l("Category"))
    lat = FiniteFloatField(_l("Latitude"), validators=[InputRequired(), NumberRange(min=-90, max=90)])
    lon = FiniteFloatField(_l("Longitude"), validators=[InputRequired(), NumberRange(min=-180, max=180)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class BulkForm(FlaskForm):
    action = SelectField(_l("Action"), choices=[
        SelectChoice(Action.accept.value, _l("Assess")),
        SelectChoice(Action.assign.value, _l("Assign")),
        SelectChoice(Action.reject.value, _l("Reject")),
    ])
    reason = TextAreaField(_l("Reason (for reject)"), validators=[Optional(), Length(max=TEXT_MAX)])
    organisation_id = SelectField(_l("Responsible organisation"), coerce=int, validators=[Optional()])
    priority = SelectField(_l("Priority"), choices=[SelectChoice(p.value, label) for p, label in PRIORITY.items()],
                           default=Priority.normal.value)
    due_date = BoundedDateField(_l("Due date (empty: by priority)"), validators=[Optional()])
