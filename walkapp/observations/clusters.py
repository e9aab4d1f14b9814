"""Clusters for maps that hold too many items to draw: counts on the map grid (grid.py), each drawn
at the mean position of its items.

A staff member's map filtered at most by kind, state and category reads the summary table of places
(summaries.SummaryPlace: rows per cell, whatever the number of items), counting whole cells that touch
the box; anything else (a walker's or a responder's own items, other filters) is counted item by item
inside the box.
"""
from __future__ import annotations

from sqlalchemy import func, select

from .. import grid, policy
from ..extensions import db
from ..models import Category, Observation
from ..summaries import MICRO, SummaryPlace, enabled

LAT, LON = grid.LAT_CELLS, grid.LON_CELLS


def from_summary(user, filters) -> bool:
    """Whether the summary of places can answer this map."""
    return (enabled() and policy.is_staff(user) and filters.bbox is not None and filters.area is None
            and not (filters.sources or filters.walk_id is not None or filters.organisation_id is not None
                     or filters.priority is not None or filters.overdue or filters.personal or filters.date_from
                     or filters.date_to or filters.text or filters.since is not None))


def summary_cells(filters) -> dict:
    """{(y, x): [n, lat_sum, lon_sum]} for the map's box, from the summary of places."""
    k = grid.size_for_box(filters.bbox, grid.CLUSTERS)
    level = grid.level_for(k)
    fold = k // level
    min_lon, min_lat, max_lon, max_lat = filters.bbox
    t = SummaryPlace
    query = (select(t.y, t.x, func.sum(t.n), func.sum(t.lat_sum), func.sum(t.lon_sum))
             .where(t.level == level, t.n > 0,
                    t.y.between(grid.index(min_lat, LAT, level), grid.index(max_lat, LAT, level)),
                    t.x.between(grid.index(min_lon, LON, level), grid.index(max_lon, LON, level)))
             .group_by(t.y, t.x))
    if filters.kind is not None:
        query = query.where(t.kind == filters.kind.value)
    if filters.statuses:
        query = query.where(t.status.in_([s.value for s in filters.statuses]))
    if filters.categories:
        ids = db.session.scalars(select(Category.id).where(Category.code.in_(filters.categories))).all()
        query = query.where(t.dim == "category", t.value.in_([str(i) for i in ids]))
    else:
        query = query.where(t.dim == "all")
    cells: dict[tuple[int, int], list[int]] = {}
    for y, x, n, lat_sum, lon_sum in db.session.execute(query):
        cell = cells.setdefault((y // fold, x // fold), [0, 0, 0])
        cell[0] += int(n)
        cell[1] += int(lat_sum)
        cell[2] += int(lon_sum)
    return cells


def item_cells(user, filters) -> dict:
    """{(y, x): [n, mean lat, mean lon]} counted item by item inside the box."""
    k = grid.size_for_box(filters.bbox, grid.CLUSTERS)
    dialect = db.engine.dialect.name
    gy, gx = grid.index_sql(Observation.lat, LAT, k, dialect), grid.index_sql(Observation.lon, LON, k, dialect)
    query = filters.apply(select(gy, gx, func.count(), func.avg(Observation.lat), func.avg(Observation.lon))
                          .where(policy.visible_observations(user))).group_by(gy, gx)
    return {(int(y), int(x)): [n, lat, lon] for y, x, n, lat, lon in db.session.execute(query)}


def collection(cells: dict, mean=None) -> dict:
    """The clusters as GeoJSON; `mean` turns a cell's sums into its position (summary cells)."""
    features = []
    for _, value in sorted(cells.items()):
        n, lat, lon = mean(value) if mean else value
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                         "properties": {"cluster": True, "count": n}})
    return {"type": "FeatureCollection", "features": features, "clustered": True}


def summary_mean(value: list[int]) -> tuple[int, float, float]:
    n, lat_sum, lon_sum = value
    return n, lat_sum / n / MICRO, lon_sum / n / MICRO
