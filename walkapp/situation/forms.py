"""The form that saves a lägesbild report."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import SOURCE


class ReportForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    analysis = TextAreaField(
        _l("Analysis"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 10},
        description=_l("What the survey shows, the likely causes, and what should be prioritised. "
                       "Printed in both versions: write no names."))
    sources_used = SelectMultipleField(
        _l("Sources used"), option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        description=_l("The reports in walkapp from these sources are counted in the figures."))
    sources_not_used = TextAreaField(
        _l("Sources not used, and why"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3},
        description=_l("For example: the police's own lägesbild, the school survey, SCB's survey."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources_used.choices = [(source.value, label) for source, label in SOURCE.items()]
        if not self.is_submitted() and self.sources_used.data is None:
            self.sources_used.data = [source.value for source in SOURCE]
