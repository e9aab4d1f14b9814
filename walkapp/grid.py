"""The map grid: fixed cells for the lägesbild's hot spots and the maps' clusters, the same for the
summary tables and for counting item by item.

A base cell is 1/2000° of latitude by 1/1000° of longitude (about 55 × 52 m in Härnösand). A map
shows cells of k × k base cells, k a power of two, chosen so that the area shown (the items' extent
or the map's box) spans at most GRID (hot spots) or CLUSTERS (map clusters) cells each way. Cells are
aligned to multiples of k counted from 0°, so a cell covers the same ground in every period, every
report and every pan of the map, and the summary tables can keep counts per cell at a few sizes
(LEVELS) instead of per item.
"""
from __future__ import annotations

import math

from sqlalchemy import Integer, cast, func

LAT_CELLS, LON_CELLS = 2000, 1000  # base cells per degree
GRID = 24  # hot spots: at most this many cells across the area shown
CLUSTERS = 32  # map clusters: at most this many across the map
# Cell sizes (in base cells) the summary tables keep. A view reads its own k's cells (above 64, the 64s
# folded): every size, as each size fewer would double or quadruple the rows a view reads.
LEVELS = (1, 2, 4, 8, 16, 32, 64)
EXTENT_LEVEL = 16  # the extent is measured in cells of this size (about 0.9 km), so both ways agree


def index(value: float, per_degree: int, k: int) -> int:
    """The cell of size k holding a latitude (per_degree LAT_CELLS) or longitude (LON_CELLS)."""
    return math.floor(value * (per_degree / k))


def index_sql(column, per_degree: int, k: int, dialect: str):
    """index() in SQL, giving the same integer (the same double product, floored)."""
    scaled = column * (per_degree / k)
    if dialect == "sqlite":  # SQLite's floor() is a Python callback per row; a cast truncates toward 0
        truncated = cast(scaled, Integer)
        return truncated - cast(scaled < truncated, Integer)
    return cast(func.floor(scaled), Integer)


def size_for(lat_cells: float, lon_cells: float, across: int = GRID) -> int:
    """The smallest k (a power of two) that covers a span of so many base cells in `across` cells."""
    k = 1
    while lat_cells / k > across or lon_cells / k > across:
        k *= 2
    return k


def size_for_extent(south: int, west: int, north: int, east: int) -> int:
    """k for an extent given as EXTENT_LEVEL cell indices (inclusive)."""
    return size_for((north - south + 1) * EXTENT_LEVEL, (east - west + 1) * EXTENT_LEVEL)


def size_for_box(bbox: tuple[float, float, float, float], across: int = GRID) -> int:
    min_lon, min_lat, max_lon, max_lat = bbox
    return size_for((max_lat - min_lat) * LAT_CELLS, (max_lon - min_lon) * LON_CELLS, across)


def level_for(k: int) -> int:
    """The largest stored cell size that divides k."""
    return max(level for level in LEVELS if level <= k)


def cells(k: int, counts: dict[tuple[int, int], int]) -> list[dict]:
    """The cells to draw: bounds in degrees and count, south-west first."""
    # integer products divided once: the bounds are the nearest doubles (62.608, not 62.608000000000004)
    return [{"south": y * k / LAT_CELLS, "west": x * k / LON_CELLS, "north": (y + 1) * k / LAT_CELLS,
             "east": (x + 1) * k / LON_CELLS, "n": n} for (y, x), n in sorted(counts.items()) if n]
