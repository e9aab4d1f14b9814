"""The inbox's bulk move (an item's own forms are observations.item_forms)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from ..inputs import BoundedDateField
from ..labels import PRIORITY
from ..models import Action, Priority
from ..observations.item_forms import TEXT_MAX


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
