"""The bounds of what a request may carry, in one place.

Ids are INTEGER columns on PostgreSQL (1…2^31−1); page numbers, filter lists, dates and coordinates
have sane ranges too. Values outside them are refused before they reach the database (where they
would raise overflow errors, i.e. 500s):

- ``<int:…>`` in every route is the bounded :class:`IdConverter`, so ``/observations/1e30`` is a 404;
- :func:`refuse_control_characters` (before every request) answers 400 to NUL and other control
  characters in query strings, form values and JSON strings (tab/newline only in multi-line fields);
- the parse helpers below (ids, id lists, pages, dates, moments, coordinates) and the WTForms
  fields built on them are used by filters, triage, the API, Open311, the importer and walks.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from wtforms import DateField, DateTimeLocalField, FloatField, IntegerField

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER
MAX_INT = 2**31 - 1
MAX_PAGE = 100_000
MAX_IDS = 1_000  # ids in one filter or bulk action
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_OFFSET = timedelta(hours=14)  # the widest UTC offset in use (Kiribati)
MIN_MOMENT = datetime(MIN_YEAR, 1, 1, tzinfo=timezone.utc)
MAX_MOMENT = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
# form fields that hold several lines of text (or a JSON/CSV payload)
MULTILINE_FIELDS = frozenset({"description", "comment", "reason", "payload", "stops", "route"})
# An observation, by every way in (report page, API, Open311, import): walkapp/observations/intake.py
DESCRIPTION_MAX = 4_000
ADDRESS_MAX = 300  # Observation.address
SOURCE_DETAIL_MAX = 120  # Observation.source_detail
EXTERNAL_ID_MAX = 120  # Observation.external_id
RATING_MIN, RATING_MAX = 1, 10  # how safe one feels
ACCURACY_MAX_M = 100_000
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IdConverter(IntegerConverter):
    """``<int:…>`` within the id range: an id no column can hold matches no route (404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    """Call before blueprints are registered: the converter is looked up as rules are added."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_control_characters)


# --- control characters --------------------------------------------------------------------

def has_control(value: str, *, multiline: bool = False) -> bool:
    return bool((CONTROL_BUT_LINES if multiline else CONTROL).search(value))


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_strings(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


class ControlCharacters(BadRequest):
    """400 naming the field (Open311 clients see the description)."""

    def __init__(self, field: str):
        super().__init__(f"{field} must not contain control characters (such as NUL)")
        self.field = field


def _offending(pairs, multiline=frozenset()) -> str | None:
    for key, value in pairs:
        if has_control(key) or has_control(value, multiline=key in multiline):
            return key
    return None


def refuse_control_characters() -> None:
    """400 for NUL and other control characters anywhere in the request's values."""
    if has_control(request.path):  # e.g. %00 in a token or code in the path
        raise ControlCharacters("path")
    args = request.args.items(multi=True)
    if has_control(" ".join(f"{key} {value}" for key, value in args)):
        raise ControlCharacters(_offending(request.args.items(multi=True)) or "query")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        form = request.form
        if (has_control(" ".join(f"{key} {value}" for key, value in form.items(multi=True)
                                 if key not in MULTILINE_FIELDS))
                or any(has_control(value, multiline=True) for key in MULTILINE_FIELDS for value in form.getlist(key))):
            raise ControlCharacters(_offending(form.items(multi=True), MULTILINE_FIELDS) or "form")
        if request.is_json:
            data = request.get_json(silent=True)
            if any(has_control(s, multiline=True) for s in _json_strings(data)):
                raise ControlCharacters("json")


# --- parse helpers: each raises ValueError with nothing to say but "out of range" -------------

def parse_int(value, *, low: int = -MAX_INT, high: int = MAX_INT) -> int:
    text = str(value).strip()
    if len(text) > 12:  # no long digit strings to int() (CPython's limit is 4300, still slow)
        raise ValueError("number out of range")
    number = int(text)
    if not low <= number <= high:
        raise ValueError("number out of range")
    return number


def parse_id(value) -> int:
    return parse_int(value, low=1, high=MAX_ID)


def is_id(value) -> bool:
    try:
        parse_id(value)
    except (TypeError, ValueError):
        return False
    return True


def parse_ids(values, *, limit: int = MAX_IDS) -> list[int]:
    """Ids from repeated values and/or comma lists; more than ``limit`` is refused."""
    parts = [v for raw in values for v in str(raw).split(",") if v.strip()]
    if len(parts) > limit:
        raise ValueError(f"more than {limit} ids")
    return [parse_id(v) for v in parts]


def parse_page(value, default: int = 1) -> int:
    if value in (None, ""):
        return default
    return parse_int(value, low=1, high=MAX_PAGE)


def check_date(day: date) -> date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError("date out of range")
    return day


def parse_date(value: str) -> date:
    return check_date(date.fromisoformat(value.strip()))


def check_moment(moment: datetime) -> datetime:
    """An aware moment within range; its offset within ±14 h (no overflow on conversion)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    offset = moment.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET or not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError("time out of range")
    moment = moment.astimezone(timezone.utc)  # cannot overflow within MIN_YEAR…MAX_YEAR
    if not MIN_MOMENT <= moment <= MAX_MOMENT:
        raise ValueError("time out of range")
    return moment


def parse_moment(value: str, *, naive_as_utc: bool = True) -> datetime:
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None and not naive_as_utc:
        raise ValueError("time zone missing")
    return check_moment(moment)


def finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def parse_float(value) -> float:
    return finite(float(str(value).strip()))


def parse_lat(value) -> float:
    lat = parse_float(value)
    if not -90 <= lat <= 90:
        raise ValueError("latitude out of range")
    return lat


def parse_lon(value) -> float:
    lon = parse_float(value)
    if not -180 <= lon <= 180:
        raise ValueError("longitude out of range")
    return lon


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """min_lon,min_lat,max_lon,max_lat, each finite and on the globe."""
    parts = value.split(",")
    if len(parts) != 4:
        raise ValueError("bbox needs four numbers")
    box = (parse_lon(parts[0]), parse_lat(parts[1]), parse_lon(parts[2]), parse_lat(parts[3]))
    if box[0] > box[2] or box[1] > box[3]:
        raise ValueError("bbox corners swapped")
    return box


# --- form fields ------------------------------------------------------------------------------

def _out_of_range():
    from flask_babel import gettext as _
    return _("The value is out of range.")


class BoundedIntegerField(IntegerField):
    """An IntegerField that refuses numbers no column can hold."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not -MAX_INT <= self.data <= MAX_INT:
            self.data = None
            raise ValueError(_out_of_range())


class FiniteFloatField(FloatField):
    """A FloatField that refuses NaN and infinities (they pass NumberRange)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not math.isfinite(self.data):
            self.data = None
            raise ValueError(_out_of_range())


class BoundedDateField(DateField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not MIN_YEAR <= self.data.year <= MAX_YEAR:
            self.data = None
            raise ValueError(_out_of_range())


class BoundedDateTimeLocalField(DateTimeLocalField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not MIN_YEAR <= self.data.year <= MAX_YEAR:
            self.data = None
            raise ValueError(_out_of_range())
