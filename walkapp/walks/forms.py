import json
import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from ..inputs import BoundedDateTimeLocalField, FiniteFloatField
from ..i18n import local_zone
from ..labels import PARTICIPANT_ROLES, WALK_STATUS

MAX_STOPS = 50


class WalkForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    area = StringField(_l("Area"), validators=[Optional(), Length(max=200)])
    starts_at = BoundedDateTimeLocalField(_l("Date and time"), validators=[InputRequired()],
                                   format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    meeting_point = StringField(_l("Meeting point"), validators=[Optional(), Length(max=200)],
                                description=_l("For example: Stora torget, by the fountain."))
    meeting_lat = FiniteFloatField(validators=[Optional()])
    meeting_lon = FiniteFloatField(validators=[Optional()])
    stops = HiddenField(default="[]")
    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, label) for s, label in WALK_STATUS.items()])
    follow_up_of = SelectField(_l("Follow-up of an earlier walk"), coerce=int, validators=[Optional()],
                               description=_l("A follow-up walk on the same route shows what changed since."))
    meeting_summary = TextAreaField(
        _l("Summary of the closing meeting"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 6},
        description=_l("What was agreed, who will do what. Printed in the protocol, also in its public version: "
                       "write no names."))

    def validate_meeting_lat(self, field):
        for value, low, high in ((field.data, -90, 90), (self.meeting_lon.data, -180, 180)):
            if value is not None and (not math.isfinite(value) or not low <= value <= high):
                raise ValidationError(_l("Choose the meeting point on the map."))

    def validate_stops(self, field):
        """Stops come from the map editor as JSON: [{"name": str, "lat": num, "lon": num}, ...]."""
        try:
            stops = json.loads(field.data or "[]")
            if not isinstance(stops, list) or len(stops) > MAX_STOPS:
                raise ValueError
            cleaned = []
            for stop in stops:
                lat, lon = float(stop["lat"]), float(stop["lon"])
                if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError
                cleaned.append({"name": str(stop.get("name", ""))[:200].strip(), "lat": lat, "lon": lon})
        except (ValueError, TypeError, KeyError):
            raise ValidationError(_l("The route could not be read; draw it again.")) from None
        self.cleaned_stops = cleaned

    def starts_at_utc(self):
        from datetime import timezone

        return self.starts_at.data.replace(tzinfo=local_zone()).astimezone(timezone.utc)


class JoinForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=120)],
                       render_kw={"autocomplete": "name"})
    role_label = RadioField(_l("You take part as"), validators=[InputRequired(_l("Choose how you take part."))],
                            choices=[SelectChoice(code, label) for code, label in PARTICIPANT_ROLES.items()])
    email = EmailField(_l("E-mail (optional)"), validators=[Optional(), Email(), Length(max=254)],
                       description=_l("Only if you want to hear what happens with the observations."),
                       render_kw={"autocomplete": "email", "inputmode": "email"})


class CodeForm(FlaskForm):
    code = StringField(_l("Join code"), validators=[DataRequired(), Length(max=16)],
                       render_kw={"autocapitalize": "characters", "autocomplete": "off"})
