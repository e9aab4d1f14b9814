"""One way out: the GeoJSON Feature of an observation, as the JSON API and the GeoJSON export give it.

Both write :func:`feature` with the properties of :func:`properties`; the API adds what its own pages
need (``colour``, ``icon``, ``mine``, ``version``, ``overdue``, ``photos``, ``url``), the export what a
coordinator's file needs (``external_id``, ``public_url``). README's "GeoJSON" section documents the shape.
"""
from __future__ import annotations

from datetime import datetime, tzinfo

from ..labels import STATUS
from ..models import Observation


def moment(value: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 in the municipality's time, with its UTC offset, to the second."""
    return value.astimezone(zone).isoformat(timespec="seconds") if value else None


def properties(obs: Observation, lang: str, zone: tzinfo) -> dict:
    """What every observation feature says; text is data (clients escape it); absent values are null."""
    return {
        "id": obs.id,
        "category": obs.category.code,
        "category_name": obs.category.name(lang),
        "kind": obs.kind.value,
        "status": obs.status.value,
        "status_name": str(STATUS[obs.status]),
        "description": obs.description or "",
        "rating": obs.safety_rating,
        "accuracy_m": obs.accuracy_m,
        "address": obs.address or None,
        "source": obs.source.value,
        "source_detail": obs.source_detail or None,
        "organisation": obs.organisation.name if obs.organisation else None,
        "priority": obs.priority.value if obs.priority else None,
        "due_date": obs.due_date.isoformat() if obs.due_date else None,
        "walk": obs.walk_id,
        "walk_title": obs.walk.title if obs.walk else None,
        "created_at": moment(obs.created_at, zone),
        "updated_at": moment(obs.updated_at, zone),
        "accepted_at": moment(obs.accepted_at, zone),
        "fixed_at": moment(obs.fixed_at, zone),
        "closed_at": moment(obs.closed_at, zone),
    }


def feature(obs: Observation, props: dict) -> dict:
    return {
        "type": "Feature",
        "id": obs.id,
        # RFC 7946: WGS 84, longitude first.
        "geometry": {"type": "Point", "coordinates": [obs.lon, obs.lat]},
        "properties": props,
    }
