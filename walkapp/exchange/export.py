"""Exports of any filtered set of observations: CSV for Swedish Excel, plain CSV, GeoJSON.

One SELECT (with its many-to-one rows joined in) feeds a generator that writes
the file in chunks, so the number of queries does not depend on the number of
rows and large exports do not sit in memory.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Iterable, Iterator

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..i18n import current_language, local_zone
from ..labels import STATUS
from ..models import Observation
from ..observations import geojson
from ..observations.filters import ObservationFilter
from ..triage.service import SORTS
from .columns import EXPORT_COLUMNS, TEMPLATE_HEADERS, neutralise

VARIANTS = ("excel", "utf8")
CHUNK_ROWS = 500


def export_query(user, filters: ObservationFilter, sort: str = "newest"):
    query = (
        select(Observation)
        .where(policy.visible_observations(user))
        .options(joinedload(Observation.category), joinedload(Observation.organisation),
                 joinedload(Observation.walk))
        .order_by(*SORTS.get(sort, SORTS["newest"]))
    )
    return filters.apply(query).execution_options(yield_per=CHUNK_ROWS)


def observations(user, filters: ObservationFilter, sort: str = "newest") -> Iterator[Observation]:
    """The rows, read lazily: a streamed response iterates after the view's own context
    (and its database session) has been torn down, inside a fresh one."""
    query = export_query(user, filters, sort)
    yield from db.session.scalars(query)


def public_url(obs: Observation) -> str:
    if obs.walk is None or not policy.shown_publicly(obs):
        return ""
    return url_for("public.walk", token=obs.walk.public_token, _external=True)


class Recorder:
    """Turns observations into {key: value} records (values still typed)."""

    def __init__(self):
        self.lang = current_language()
        self.status_names = {status: str(label) for status, label in STATUS.items()}

    def __call__(self, obs: Observation) -> dict:
        return {
            "id": obs.id,
            "external_id": obs.external_id or "",
            "category": obs.category.code,
            "category_name": obs.category.name(self.lang),
            "kind": obs.kind.value,
            "description": obs.description or "",
            "status": obs.status.value,
            "status_name": self.status_names[obs.status],
            "created": obs.created_at,
            "accepted": obs.accepted_at,
            "fixed": obs.fixed_at,
            "closed": obs.closed_at,
            "lat": obs.lat,
            "lon": obs.lon,
            "address": obs.address or "",
            "source": obs.source.value,
            "source_detail": obs.source_detail or "",
            "organisation": obs.organisation.name if obs.organisation else "",
            "priority": obs.priority.value if obs.priority else "",
            "due_date": obs.due_date,
            "walk": obs.walk.title if obs.walk else "",
            "public_url": public_url(obs),
        }


# --- CSV ------------------------------------------------------------------------

class CsvDialect:
    """excel: what Swedish Excel opens with a double click (UTF-8 with BOM, ';', decimal
    comma, local times Excel recognises as dates); utf8: plain RFC 4180 CSV (',' and
    ISO 8601 times with their UTC offset)."""

    def __init__(self, variant: str):
        self.variant = variant if variant in VARIANTS else "excel"
        self.excel = self.variant == "excel"
        self.delimiter = ";" if self.excel else ","
        self.zone = local_zone()

    def cell(self, key: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            local = value.astimezone(self.zone)
            return local.strftime("%Y-%m-%d %H:%M:%S") if self.excel else local.isoformat(timespec="seconds")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float):
            text = repr(value)  # the shortest text that reads back as the same number
            return text.replace(".", ",") if self.excel else text
        if isinstance(value, int):
            return str(value)
        return neutralise(str(value))


def csv_chunks(records: Iterable[dict], variant: str) -> Iterator[str]:
    dialect = CsvDialect(variant)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    if dialect.excel:
        buffer.write("\ufeff")
    writer.writerow([header for _, header in EXPORT_COLUMNS])
    for n, record in enumerate(records, 1):
        writer.writerow([dialect.cell(key, record[key]) for key, _ in EXPORT_COLUMNS])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_export(rows: Iterable[Observation], variant: str) -> Iterator[bytes]:
    record = Recorder()
    for chunk in csv_chunks((record(obs) for obs in rows), variant):
        yield chunk.encode("utf-8")


def template_csv() -> bytes:
    """The import template: headers only, in the Excel variant (users fill it in Excel)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(TEMPLATE_HEADERS)
    return buffer.getvalue().encode("utf-8")


# --- GeoJSON --------------------------------------------------------------------

def feature(obs: Observation, lang: str, local) -> dict:
    """The GeoJSON Feature of observations/geojson.py, with the export's own external_id and public_url."""
    props = geojson.properties(obs, lang, local)
    props.update(external_id=obs.external_id or None, public_url=public_url(obs) or None)
    return geojson.feature(obs, props)


def geojson_export(rows: Iterable[Observation]) -> Iterator[bytes]:
    lang, local = current_language(), local_zone()
    yield b'{"type": "FeatureCollection", "features": ['
    buffer: list[str] = []
    first = True
    for obs in rows:
        buffer.append(("" if first else ",\n") + json.dumps(feature(obs, lang, local), ensure_ascii=False))
        first = False
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer).encode("utf-8")
            buffer = []
    buffer.append("]}\n")
    yield "".join(buffer).encode("utf-8")
