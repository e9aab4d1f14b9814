"""The one observation form, used by the report page and the JSON API alike."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from .. import inputs
from ..inputs import BoundedIntegerField, FiniteFloatField
from ..extensions import db
from ..labels import REPORTING_SOURCES, SOURCE
from ..models import Category

COMMENT_MAX = 2000


class ObservationForm(FlaskForm):
    """The fields as sent; ranges and lengths are checked by intake.problems (one rule for every way in)."""

    description_max = inputs.DESCRIPTION_MAX
    category = RadioField(_l("What did you see?"), validators=[InputRequired(_l("Choose a category."))])
    lat = FiniteFloatField(_l("Latitude"), validators=[InputRequired(_l("Choose a place on the map."))])
    lon = FiniteFloatField(_l("Longitude"), validators=[InputRequired(_l("Choose a place on the map."))])
    accuracy = FiniteFloatField(_l("Accuracy (m)"), validators=[Optional()])
    description = TextAreaField(
        _l("Description (optional)"),
        description=_l("Describe the place and the problem. Do not write names or other personal details."),
    )
    rating = BoundedIntegerField(_l("How safe do you feel here? (optional)"), validators=[Optional()])
    walk = BoundedIntegerField(_l("Walk"), validators=[Optional()])
    source = SelectField(_l("Reported by"), validators=[Optional()],
                         choices=[SelectChoice(s.value, SOURCE[s]) for s in REPORTING_SOURCES])
    kind = SelectField(_l("Kind"), validators=[Optional()],
                       choices=[SelectChoice(""), SelectChoice("problem"), SelectChoice("positive")])
    photos = MultipleFileField(_l("Photos"))
    follow = BooleanField(_l("Tell me by e-mail what happens with it"))
    # Made by the phone for each report, so that sending it again from its outbox makes no second item.
    client_key = StringField(validators=[Optional(),
                                         Regexp(r"^[A-Za-z0-9-]{8,40}$", message=_l("Invalid report key."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = db.session.scalars(
            db.select(Category).filter_by(active=True).order_by(Category.sort_order, Category.code)
        ).all()
        self.category.choices = [SelectChoice(c.code, c.name_sv) for c in self.categories]

    def selected_category(self) -> Category | None:
        return next((c for c in self.categories if c.code == self.category.data), None)

    def validate_kind(self, field):
        category = self.selected_category()
        if field.data and category is not None and field.data != category.kind.value:
            raise ValidationError(_l("The kind does not match the category."))


class ContributionForm(FlaskForm):
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=COMMENT_MAX)])
    photos = MultipleFileField(_l("Photos"))


