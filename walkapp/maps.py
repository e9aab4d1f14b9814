"""Folium map shells served with local Leaflet assets.

Folium's default asset lists point at CDNs. They are class attributes shared
by every map (and ``add_js_link`` appends to them in place), so they are
replaced once, at start-up, with new lists of local URLs; nothing else in
walkapp may call ``add_js_link``.
"""
from __future__ import annotations

from typing import Callable

import folium
from branca.element import CssLink, JavascriptLink
from folium.plugins import MarkerCluster
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


def base_map(config, location=None, zoom=None) -> folium.Map:
    m = folium.Map(
        location=location or config["MAP_CENTER"],
        zoom_start=zoom or config["MAP_ZOOM"],
        tiles=None,
        control_scale=True,
    )
    folium.TileLayer(
        tiles=config["TILE_URL"], attr=config["TILE_ATTRIBUTION"], name="map", max_zoom=19
    ).add_to(m)
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
