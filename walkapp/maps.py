"""Folium map shells served with local Leaflet assets.

Folium's default asset lists point at CDNs. They are class attributes shared
by every map (and ``add_js_link`` appends to them in place), so they are
replaced once, at start-up, with new lists of local URLs; nothing else in
walkapp may call ``add_js_link``.
"""
from __future__ import annotations

import math
from typing import Callable

import folium
from branca.element import CssLink, JavascriptLink, MacroElement
from flask_babel import gettext as _
from folium.plugins import MarkerCluster
from jinja2 import Template
from markupsafe import Markup

VENDOR = "vendor"


def use_local_assets(url: Callable[[str], str]) -> None:
    """``url`` turns a file name under static/ into its URL (the content-hashed one, see assets.py)."""
    folium.Map.default_js = [("leaflet", url(f"{VENDOR}/leaflet/leaflet.js"))]
    folium.Map.default_css = [("leaflet_css", url(f"{VENDOR}/leaflet/leaflet.css"))]
    MarkerCluster.default_js = [
        ("markerclusterjs", url(f"{VENDOR}/markercluster/leaflet.markercluster.js"))
    ]
    MarkerCluster.default_css = [
        ("markerclustercss", url(f"{VENDOR}/markercluster/MarkerCluster.css")),
        ("markerclusterdefaultcss", url(f"{VENDOR}/markercluster/MarkerCluster.Default.css")),
    ]


class Controls(MacroElement):
    """Leaflet's zoom buttons, metric scale bar and attribution prefix in the page's language.

    Leaflet's own strings are English ("Zoom in", "A JavaScript library for interactive maps") and
    its scale bar shows feet and miles too; folium has no options for them, so the map is made
    without them and they are added here with translated titles.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.zoom({{ this.zoom|tojson }}).addTo({{ this._parent.get_name() }});
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix|tojson }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "Controls"
        self.zoom = {"zoomInTitle": _("Zoom in"), "zoomOutTitle": _("Zoom out")}
        self.prefix = str(Markup('<a href="https://leafletjs.com" title="{}">Leaflet</a>').format(
            _("A JavaScript library for interactive maps")))


def tile_attribution(config) -> str:
    """The configured tile attribution, or OpenStreetMap's in the page's language."""
    return config["TILE_ATTRIBUTION"] or _(
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')


def base_map(config, location=None, zoom=None) -> folium.Map:
    m = folium.Map(
        location=location or config["MAP_CENTER"],
        zoom_start=zoom or config["MAP_ZOOM"],
        tiles=None,
        zoom_control=False,
    )
    folium.TileLayer(
        tiles=config["TILE_URL"], attr=tile_attribution(config), name="map", max_zoom=19
    ).add_to(m)
    Controls().add_to(m)
    return m


def embed(m: folium.Map) -> dict[str, Markup]:
    """Render a map into parts for our own page layout.

    Only the asset links, the map's div and its script are taken: folium's
    page header also sets a viewport that forbids zooming (bad for
    accessibility) and full-page styles that would fight our layout.
    """
    figure = m.get_root()
    figure.render()
    assets = "\n".join(
        child.render()
        for child in figure.header._children.values()
        if isinstance(child, (JavascriptLink, CssLink))
    )
    return {
        "id": m.get_name(),
        "assets": Markup(assets),
        "html": Markup(figure.html.render()),
        "script": Markup(figure.script.render()),
    }


# --- numbered pins (static/js/pins.js: tasks, the public walk page, the walk protocol) ---------------

def pin(obs, *, category: str, status: str, number: int | None = None, url: str | None = None,
        overdue: bool = False) -> dict:
    """One pin, as pins.js draws it; ``number`` matches the page's list (the item's id by default)."""
    return {
        "lat": obs.lat, "lon": obs.lon, "n": obs.id if number is None else number, "category": category,
        "colour": obs.category.colour, "status": status, "positive": obs.kind.value == "positive",
        "overdue": overdue, "url": url,
    }


# --- tiles kept on the phone for a walk (issue #14) -----------------------------------------

OFFLINE_ZOOMS = range(15, 19)
AREA_MARGIN_DEG = 0.002  # about 200 m around the route and stops


def tile_xy(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The slippy-map tile (x, y) holding a point (Web Mercator, as OpenStreetMap)."""
    n = 2 ** zoom
    lat = max(min(lat, 85.0511), -85.0511)
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def walk_area(walk) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) around the walk's route, stops and meeting point, or None."""
    points = [(s.lat, s.lon) for s in walk.stops]
    if walk.meeting_lat is not None and walk.meeting_lon is not None:
        points.append((walk.meeting_lat, walk.meeting_lon))
    if walk.route and walk.route.get("type") == "LineString":
        points += [(lat, lon) for lon, lat, *_ in walk.route.get("coordinates", [])]
    if not points:
        return None
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    m = AREA_MARGIN_DEG
    return min(lats) - m, min(lons) - m, max(lats) + m, max(lons) + m


def tile_urls(template: str, area: tuple[float, float, float, float] | None, budget: int,
              zooms=OFFLINE_ZOOMS) -> list[str]:
    """The tile URLs covering ``area``, zoom by zoom from the widest, whole zooms only, at most ``budget``."""
    if area is None:
        return []
    south, west, north, east = area
    urls: list[str] = []
    for z in zooms:
        x0, y0 = tile_xy(north, west, z)
        x1, y1 = tile_xy(south, east, z)
        if len(urls) + (x1 - x0 + 1) * (y1 - y0 + 1) > budget:
            break
        urls += [template.replace("{s}", "a").replace("{r}", "").replace("{z}", str(z))
                 .replace("{x}", str(x)).replace("{y}", str(y))
                 for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return urls
