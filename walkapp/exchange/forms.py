from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..labels import REPORTING_SOURCES, SOURCE


def source_choices():
    return [SelectChoice("", _l("Choose …"))] + [SelectChoice(s.value, SOURCE[s]) for s in REPORTING_SOURCES]


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ".csv,text/csv,.txt,text/plain"},
                     description=_l("Semicolon- or comma-separated, as Excel saves “CSV UTF-8”."))
    source = SelectField(_l("Source"), choices=source_choices(),
                         validators=[InputRequired(_l("Choose where the observations come from."))],
                         description=_l("Recorded on every imported item (and used for rows without a källa)."))
    sender = StringField(_l("Sender"), validators=[Optional(), Length(max=120)],
                         description=_l("Who the file is from, e.g. a school's or a police area's name. "
                                        "Stored with every item; the file name if left empty."))
