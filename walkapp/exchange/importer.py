"""CSV imports of other actors' observations (police, schools, the field group ...).

plan() reads and validates a whole file without writing anything: every row is
either to be created, to be skipped (its (source, external id) is already in the
database) or has errors. apply() writes a plan that has no errors, all in one
transaction: every item starts as New with an "imported" event.

Files: UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252 (what
Excel's "CSV (semikolonavgränsad)" writes); ';', ',' or tab as separator,
decided from the header line. Columns: see columns.py and the import page.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from pyproj import Transformer
from sqlalchemy import insert, select

from .. import inputs
from ..i18n import local_zone
from ..extensions import db
from ..labels import PRIORITY, SOURCE
from ..models import Category, Event, Kind, Observation, Organisation, Source, Status, Visibility, utcnow
from ..situation import summaries
from .columns import ALIAS_TO_KEY, IGNORED_TO_KEY, fold, unneutralise

TEXT_MAX = 10_000
DETAIL_MAX = 120  # Observation.source_detail
EXTERNAL_ID_MAX = 120
ADDRESS_MAX = 300
MAX_COLUMNS = 200  # the template has about 20; room for exports with extra columns
MAX_HEADER_CHARS = 20_000

# SWEREF 99 TM (EPSG:3006): northings in Sweden are about 6.1-7.7 million metres,
# eastings about 0.2-1.0 million, so an x/y pair can be told apart by size.
NORTHING_RANGE = (6_000_000, 7_800_000)
EASTING_RANGE = (150_000, 1_100_000)
# EPSG:3006's area of use (with a margin).
SWEREF_AREA = {"lat": (54.5, 69.5), "lon": (10.0, 24.5)}

_transformer: Transformer | None = None


def sweref_to_wgs84(northing: float, easting: float) -> tuple[float, float]:
    """(lat, lon) in WGS 84 of a SWEREF 99 TM point."""
    global _transformer
    if _transformer is None:
        _transformer = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
    lon, lat = _transformer.transform(easting, northing)
    return lat, lon


def max_bytes() -> int:
    return int(current_app.config["IMPORT_MAX_BYTES"])


def max_rows() -> int:
    return int(current_app.config["IMPORT_MAX_ROWS"])


class ImportFileError(Exception):
    """The file as a whole cannot be read (nothing per row to show)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class PlannedRow:
    row: int
    values: dict
    existing_id: int | None = None
    existing_detail: str = ""

    @property
    def skip(self) -> bool:
        return self.existing_id is not None


@dataclass
class Plan:
    filename: str
    source: Source
    sender: str
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def to_create(self) -> list[PlannedRow]:
        return [r for r in self.rows if not r.skip]

    @property
    def to_skip(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.skip]

    @property
    def rows_with_errors(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len({e.row for e in self.errors} - {r.row for r in self.rows})


# --- reading the file ------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(_("This is an Excel workbook, not a CSV file. In Excel, choose "
                                "Save as › CSV UTF-8 and upload that file."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig"), "UTF-8"
        except UnicodeDecodeError:
            try:
                return data.decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError:
                pass
    raise ImportFileError(_("The file could not be read as text. Save it as CSV UTF-8 and try again."))


def sniff_delimiter(text: str) -> str:
    """Decided by the header line, which (unlike descriptions) has no stray separators."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def too_many_columns() -> str:
    return _("The file has more than %(n)d columns. Keep the template's columns and remove the others.",
             n=MAX_COLUMNS)


def check_header_size(header: str, delimiter: str) -> None:
    """Refuse a huge header before the csv module and map_header() work through it."""
    if header.count(delimiter) >= MAX_COLUMNS or len(header) > MAX_HEADER_CHARS:
        raise ImportFileError(too_many_columns())


def read_table(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """(header, [(row number, cells)], encoding); row 1 is the header, as in Excel."""
    if len(data) > max_bytes():
        raise ImportFileError(_("The file is larger than %(mb)s MB. Split it into smaller files.",
                                mb=max_bytes() // (1024 * 1024) or 1))
    text, encoding = decode(data)
    if "\x00" in text:
        raise ImportFileError(_("The file could not be read as text. Save it as CSV UTF-8 and try again."))
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    delimiter = sniff_delimiter(text)
    check_header_size(text.split("\n", 1)[0], delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    limit = max_rows()
    try:
        header = next(reader)
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, or Excel's ;;;; rows
            if len(cells) > MAX_COLUMNS:
                raise ImportFileError(too_many_columns())
            if len(rows) >= limit:
                raise ImportFileError(_("The file has more than %(n)d rows. Split it into smaller files.", n=limit))
            rows.append((number, cells))
    except csv.Error as exc:
        raise ImportFileError(_("The file is not valid CSV near row %(row)d: %(error)s",
                                row=reader.line_num, error=str(exc))) from None
    return header, rows, encoding


# --- one cell at a time -----------------------------------------------------------

class CellError(ValueError):
    pass


def clean(cell: str) -> str:
    return unneutralise(cell.strip())


def parse_number(text: str) -> float:
    """62.6323, 62,6323 (Swedish Excel) and 6 948 053 all read; 1.234,5 does not."""
    text = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace("\u2212", "-")
    if "," in text:
        if "." in text or text.count(",") > 1:
            raise CellError(_("Not a number: %(value)s", value=text))
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise CellError(_("Not a number: %(value)s", value=text)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise CellError(_("Not a number: %(value)s", value=text))
    return value


def parse_moment(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A date (midnight, local time) or a date and time; without a UTC offset it is local time."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise CellError(_("Give the date as YYYY-MM-DD or YYYY-MM-DD HH:MM.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment.year < 1990:
        raise CellError(_("The date is too far back."))
    try:
        moment = inputs.check_moment(moment)  # no overflow in comparing or converting it
    except ValueError:
        raise CellError(_("Give the date as YYYY-MM-DD or YYYY-MM-DD HH:MM.")) from None
    if moment > now + timedelta(days=1):
        raise CellError(_("The date is in the future."))
    return moment.astimezone(now.tzinfo)


def parse_day(text: str) -> date:
    """A date; a date with a time (as spreadsheets sometimes write dates back) keeps the date."""
    try:
        try:
            return inputs.check_date(date.fromisoformat(text))
        except ValueError:
            return inputs.check_date(datetime.fromisoformat(text).date())
    except ValueError:
        raise CellError(_("Give the date as YYYY-MM-DD.")) from None


class Lookups:
    """Names the file may use for categories, sources, priorities, kinds and organisations."""

    def __init__(self):
        self.categories: dict[str, Category] = {}
        for category in db.session.scalars(select(Category)):
            for name in (category.code, category.name_sv, category.name_en):
                self.categories.setdefault(name.strip().lower(), category)
        self.organisations = {o.name.strip().lower(): o for o in db.session.scalars(select(Organisation))}
        self.sources = self._labels(SOURCE)
        self.priorities = self._labels(PRIORITY)
        self.kinds = {"problem": Kind.problem, "positive": Kind.positive, "positiv": Kind.positive}

    @staticmethod
    def _labels(labels: dict) -> dict:
        names = {}
        for member, label in labels.items():
            names[member.value.lower()] = member
            for lang in ("sv", "en"):
                with force_locale(lang):
                    names[str(label).strip().lower()] = member
        return names


# --- the whole file -------------------------------------------------------------------

def map_header(header: list[str]) -> tuple[dict[str, int], list[str], list[str], dict[int, str]]:
    """({key: column index}, not imported, unknown, {index: header as written})."""
    columns: dict[str, int] = {}
    written: dict[int, str] = {}
    not_imported, unknown = [], []
    for index, raw in enumerate(header):
        name = fold(raw)
        shown = raw.replace("\ufeff", "").strip()
        written[index] = shown
        if not name:
            continue
        key = ALIAS_TO_KEY.get(name)
        if key is None:
            (not_imported if name in IGNORED_TO_KEY else unknown).append(shown)
            continue
        if key in columns:
            raise ImportFileError(_("The columns %(a)s and %(b)s mean the same thing; keep one of them.",
                                    a=written[columns[key]], b=shown))
        columns[key] = index
    if "category" not in columns:
        raise ImportFileError(_("The file has no column “kategori”. The first row must hold the column "
                                "names; download the template to see them."))
    pairs = [("lat", "lon"), ("n", "e"), ("x", "y")]
    for a, b in pairs:
        if (a in columns) != (b in columns):
            missing = b if a in columns else a
            raise ImportFileError(_("The column “%(name)s” is missing: positions need both columns of a pair "
                                    "(lat and lon, or n and e).", name=missing))
    if not any(a in columns for a, _b in pairs):
        raise ImportFileError(_("The file has no position columns: use lat and lon (WGS 84) or n and e "
                                "(SWEREF 99 TM)."))
    return columns, not_imported, unknown, written


def plan(data: bytes, filename: str, source: Source, sender: str = "") -> Plan:
    header, rows, encoding = read_table(data)
    columns, not_imported, unknown, written = map_header(header)
    result = Plan(filename=filename, source=source, sender=sender.strip())
    if encoding == "Windows-1252":
        result.warnings.append(_("The file was read as Windows-1252 text (not UTF-8). Check that å, ä and ö "
                                 "look right below."))
    ignored = not_imported + unknown
    if ignored:
        result.warnings.append(_("These columns are not imported: %(names)s.", names=", ".join(ignored)))

    lookups = Lookups()
    zone = local_zone()
    now = utcnow()
    seen: dict[tuple[Source, str], int] = {}
    width = len(header)
    for number, cells in rows:
        errors: list[RowError] = []
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            errors.append(RowError(number, "", _("The row has more cells than there are columns. "
                                                  "Put text with separators in quotes.")))
        cells = cells + [""] * (width - len(cells))

        def cell(key: str) -> str:
            return clean(cells[columns[key]]) if key in columns else ""

        def fail(key: str, message: str) -> None:
            errors.append(RowError(number, written.get(columns.get(key, -1), key), message))

        values = parse_row(cell, fail, lookups, result, zone, now, set(columns))
        if not errors and values is not None and values["external_id"]:
            key = (values["source"], values["external_id"])
            if key in seen:
                fail("external_id", _("The same external id as row %(row)d.", row=seen[key]))
            else:
                seen[key] = number
        if errors:
            result.errors.extend(errors)
        elif values is not None:
            result.rows.append(PlannedRow(number, values))

    mark_existing(result.rows)
    without_id = sum(1 for r in result.rows if not r.values["external_id"])
    if without_id:
        result.warnings.append(ngettext(
            "%(num)d row has no external id: importing the file again would create it again.",
            "%(num)d rows have no external id: importing the file again would create them again.", without_id))
    return result


def parse_row(cell, fail, lookups: Lookups, result: Plan, zone: ZoneInfo, now: datetime,
              present: set[str]) -> dict | None:
    """The row's values, or None after calling fail() for each problem."""
    failed = []

    def error(key, message):
        failed.append(key)
        fail(key, message)

    values: dict = {}
    code = cell("category")
    category = lookups.categories.get(code.lower()) if code else None
    if not code:
        error("category", _("Give a category."))
    elif category is None:
        error("category", _("Unknown category: %(value)s.", value=code))
    values["category"] = category

    kind_text = cell("kind")
    values["kind"] = category.kind if category else None
    if kind_text:
        kind = lookups.kinds.get(kind_text.lower())
        if kind is None:
            error("kind", _("Give the kind as problem or positive."))
        values["kind"] = kind

    values["description"] = cell("description")
    if len(values["description"]) > TEXT_MAX:
        error("description", _("The text is longer than %(n)d characters.", n=TEXT_MAX))
    values["address"] = cell("address")
    if len(values["address"]) > ADDRESS_MAX:
        error("address", _("The text is longer than %(n)d characters.", n=ADDRESS_MAX))
    values["external_id"] = cell("external_id")
    if len(values["external_id"]) > EXTERNAL_ID_MAX:
        error("external_id", _("The text is longer than %(n)d characters.", n=EXTERNAL_ID_MAX))

    source_text = cell("source")
    values["source"] = result.source
    if source_text:
        values["source"] = lookups.sources.get(source_text.lower())
        if values["source"] is None:
            error("source", _("Unknown source: %(value)s.", value=source_text))
    detail = cell("source_detail") or result.sender or result.filename
    values["source_detail"] = detail[:DETAIL_MAX]
    if cell("source_detail") and len(cell("source_detail")) > DETAIL_MAX:
        error("source_detail", _("The text is longer than %(n)d characters.", n=DETAIL_MAX))

    values["organisation"] = None
    if cell("organisation"):
        values["organisation"] = lookups.organisations.get(cell("organisation").lower())
        if values["organisation"] is None:
            error("organisation", _("Unknown organisation: %(value)s. Add it under Administration first.",
                                    value=cell("organisation")))
    values["priority"] = None
    if cell("priority"):
        values["priority"] = lookups.priorities.get(cell("priority").lower())
        if values["priority"] is None:
            error("priority", _("Give the priority as high, normal or low."))
    values["due_date"] = None
    if cell("due_date"):
        try:
            values["due_date"] = parse_day(cell("due_date"))
        except CellError as exc:
            error("due_date", str(exc))
    values["created"] = None
    if cell("created"):
        try:
            values["created"] = parse_moment(cell("created"), zone, now)
        except CellError as exc:
            error("created", str(exc))

    position = parse_position(cell, error, present)
    if position is not None:
        values["lat"], values["lon"] = position
    return None if failed else values


def parse_position(cell, error, present: set[str]) -> tuple[float, float] | None:
    """WGS 84 lat/lon if given, else SWEREF 99 TM n/e (or x/y, told apart by size)."""
    if cell("lat") or cell("lon"):
        try:
            lat = parse_number(cell("lat")) if cell("lat") else None
        except CellError as exc:
            error("lat", str(exc))
            lat = None
        try:
            lon = parse_number(cell("lon")) if cell("lon") else None
        except CellError as exc:
            error("lon", str(exc))
            lon = None
        if lat is None or lon is None:
            if not cell("lat"):
                error("lat", _("Give both lat and lon."))
            if not cell("lon"):
                error("lon", _("Give both lat and lon."))
            return None
        if not -90 <= lat <= 90:
            error("lat", _("Latitude must be between -90 and 90. SWEREF 99 TM coordinates go in the "
                           "columns n and e."))
        if not -180 <= lon <= 180:
            error("lon", _("Longitude must be between -180 and 180. SWEREF 99 TM coordinates go in the "
                           "columns n and e."))
        return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None

    for north_key, east_key in (("n", "e"), ("x", "y")):
        if not (cell(north_key) or cell(east_key)):
            continue
        numbers = {}
        for key in (north_key, east_key):
            if not cell(key):
                error(key, _("Give both coordinates of the point."))
                continue
            try:
                numbers[key] = parse_number(cell(key))
            except CellError as exc:
                error(key, str(exc))
        if len(numbers) < 2:
            return None
        northing, easting = numbers[north_key], numbers[east_key]
        if north_key == "x":  # surveyors' x is north, GIS x is east: the sizes decide
            if in_range(easting, NORTHING_RANGE) and in_range(northing, EASTING_RANGE):
                northing, easting = easting, northing
        if not in_range(northing, NORTHING_RANGE) or not in_range(easting, EASTING_RANGE):
            error(north_key, _("Not a SWEREF 99 TM position in Sweden: northing (N) is about 6 100 000–7 700 000 "
                               "and easting (E) about 200 000–1 000 000 metres."))
            return None
        lat, lon = sweref_to_wgs84(northing, easting)
        if not (in_range(lat, SWEREF_AREA["lat"]) and in_range(lon, SWEREF_AREA["lon"])):
            error(north_key, _("Not a SWEREF 99 TM position in Sweden: northing (N) is about 6 100 000–7 700 000 "
                               "and easting (E) about 200 000–1 000 000 metres."))
            return None
        return lat, lon
    error(next(k for k in ("lat", "n", "x") if k in present),
          _("Give a position: lat and lon, or n and e (SWEREF 99 TM)."))
    return None


def in_range(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def mark_existing(rows: list[PlannedRow], chunk: int = 500) -> None:
    """Rows whose (source, external id) is already in the database are skipped, not imported again."""
    wanted = {(r.values["source"], r.values["external_id"]): r for r in rows if r.values["external_id"]}
    ids = sorted({external_id for _source, external_id in wanted})
    for start in range(0, len(ids), chunk):
        query = select(Observation.id, Observation.source, Observation.external_id, Observation.source_detail) \
            .where(Observation.external_id.in_(ids[start:start + chunk]))
        for obs_id, source, external_id, detail in db.session.execute(query):
            row = wanted.get((source, external_id))
            if row is not None:
                row.existing_id, row.existing_detail = obs_id, detail


# --- writing --------------------------------------------------------------------

class PlanHasErrors(Exception):
    pass


def apply(result: Plan, user) -> tuple[int, int]:
    """Create the plan's new rows (the caller commits); returns (created, skipped).

    Bulk INSERTs (observations, then their events) rather than one ORM object per
    row: ten thousand rows take a second instead of several.
    """
    if not result.ok:
        raise PlanHasErrors()
    now = utcnow()
    rows = result.to_create
    if not rows:
        return 0, len(result.to_skip)
    observations = [
        {
            "lat": v["lat"], "lon": v["lon"], "category_id": v["category"].id, "kind": v["kind"],
            "description": v["description"], "address": v["address"], "source": v["source"],
            "source_detail": v["source_detail"], "external_id": v["external_id"] or None,
            "status": Status.new, "organisation_id": v["organisation"].id if v["organisation"] else None,
            "priority": v["priority"], "due_date": v["due_date"], "is_public": False, "version": 1,
            "created_at": v["created"] or now, "updated_at": now,
        }
        for v in (row.values for row in rows)
    ]
    ids = db.session.scalars(
        insert(Observation).returning(Observation.id, sort_by_parameter_order=True), observations).all()
    events = [
        {
            "observation_id": obs_id, "actor_id": user.id, "created_at": now, "action": "imported",
            "to_status": Status.new, "visibility": Visibility.internal, "comment": "",
            "data": {"file": result.filename[:200], "row": row.row, "sender": row.values["source_detail"]},
        }
        for obs_id, row in zip(ids, rows, strict=True)
    ]
    db.session.execute(insert(Event), events)
    summaries.add_inserted(ids)  # the bulk INSERT bypassed the session's flush hooks
    return len(ids), len(result.to_skip)
