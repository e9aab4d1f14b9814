"""The file format shared by exports and imports: column names, aliases, cell escaping.

CSV headers are fixed Swedish identifiers (not translated: a file must read the
same whatever the UI language); GeoJSON properties use the English keys. The
importer reads both, plus a few common synonyms, case- and accent-insensitively.
"""
from __future__ import annotations

import re

# (key = GeoJSON property and English alias, CSV header) in export order.
EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("id", "id"),
    ("external_id", "externt_id"),
    ("category", "kategori"),
    ("category_name", "kategorinamn"),
    ("kind", "typ"),
    ("description", "beskrivning"),
    ("status", "status"),
    ("status_name", "statusnamn"),
    ("created", "skapad"),
    ("accepted", "bedömd"),
    ("fixed", "åtgärdad"),
    ("closed", "stängd"),
    ("lat", "lat"),
    ("lon", "lon"),
    ("address", "adress"),
    ("source", "källa"),
    ("source_detail", "avsändare"),
    ("organisation", "ansvarig"),
    ("priority", "prioritet"),
    ("due_date", "slutdatum"),
    ("walk", "vandring"),
    ("public_url", "publik_länk"),
]

# The import template: the columns most files need (the rest are optional, see the import page).
TEMPLATE_HEADERS = ["externt_id", "kategori", "beskrivning", "datum", "lat", "lon", "n", "e",
                    "adress", "avsändare"]

# Columns an import reads (key: accepted names, already folded by fold()).
IMPORT_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("externt_id", "extern_id", "external_id", "externalid", "ext_id", "arendenummer"),
    "category": ("kategori", "category"),
    "kind": ("typ", "kind"),
    "description": ("beskrivning", "description", "text"),
    "created": ("datum", "skapad", "created", "created_at", "date", "tidpunkt"),
    "lat": ("lat", "latitud", "latitude"),
    "lon": ("lon", "long", "lng", "longitud", "longitude"),
    "n": ("n", "norr", "nord", "northing", "sweref_n", "n_sweref"),
    "e": ("e", "ost", "east", "easting", "sweref_e", "e_sweref"),
    "x": ("x",),
    "y": ("y",),
    "address": ("adress", "address", "plats"),
    "source": ("kalla", "source"),
    "source_detail": ("avsandare", "source_detail", "uppgiftslamnare"),
    "organisation": ("ansvarig", "organisation", "organization", "ansvarig_organisation"),
    "priority": ("prioritet", "priority"),
    "due_date": ("slutdatum", "due_date", "deadline"),
}
# Columns of an export that an import deliberately does not read: imported items
# start as New, outside any walk, with their own numbers.
NOT_IMPORTED: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "category_name": ("kategorinamn", "category_name"),
    "status": ("status",),
    "status_name": ("statusnamn", "status_name"),
    "accepted": ("bedomd", "accepted"),
    "fixed": ("atgardad", "fixed"),
    "closed": ("stangd", "closed"),
    "walk": ("vandring", "walk"),
    "public_url": ("publik_lank", "public_url"),
}

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})


def fold(name: str) -> str:
    """A header as the importer compares it: trimmed, lower case, no accents, '_' for spaces."""
    name = name.replace("\ufeff", "").strip().strip('"').strip().lower().translate(_FOLD)
    return re.sub(r"[\s\-.]+", "_", name)


ALIAS_TO_KEY = {alias: key for key, names in IMPORT_ALIASES.items() for alias in names}
IGNORED_TO_KEY = {alias: key for key, names in NOT_IMPORTED.items() for alias in names}

# A spreadsheet reads a cell that starts with one of these as a formula (or a DDE call).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix an apostrophe so that spreadsheets show the text instead of running it.

    Reversible (see unneutralise): a text that itself starts with an apostrophe
    followed by a trigger or another apostrophe gets one more apostrophe.
    """
    if value and (value[0] in FORMULA_TRIGGERS
                  or (value[0] == "'" and len(value) > 1 and value[1] in FORMULA_TRIGGERS + ("'",))):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS + ("'",):
        return value[1:]
    return value
