"""Rendering GeoReport v2 answers: the same data as XML (spec root elements, UTF-8, no
namespace) or JSON (ids and codes as strings, lat/long as numbers, booleans as booleans)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from flask import Response

XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _append(parent: ET.Element, name: str, value) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        # lists of values keep the singular child name the spec uses (formats/format, values/value...)
        child = LIST_CHILDREN.get(name, name[:-1])
        for item in value:
            _append(element, child, item)
    else:
        element.text = _xml_value(value)


LIST_CHILDREN = {"formats": "format", "endpoints": "endpoint", "attributes": "attribute", "values": "value"}


def respond(fmt: str, root: str, item: str | None, data, status: int = 200) -> Response:
    """data is a list of item dicts under <root><item>…</item></root>, or one dict as <root>."""
    if fmt == "json":
        return Response(json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")
    element = ET.Element(root)
    if item is None:
        for key, value in data.items():
            _append(element, key, value)
    else:
        for entry in data:
            child = ET.SubElement(element, item)
            for key, value in entry.items():
                _append(child, key, value)
    body = XML_DECLARATION + ET.tostring(element, encoding="utf-8")
    return Response(body, status=status, mimetype="text/xml", content_type="text/xml; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> Response:
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status)
