"""Manifest, service worker and offline page; which pages the phone keeps for a walk.

The service worker (templates/pwa/sw.js) is written by hand rather than with Workbox: Workbox's
useful parts need its build step (workbox-build injecting the precache list) or a 60 KB runtime
loaded with importScripts; what walkapp needs is four small strategies, and the precache list
comes from the server's own manifest of hashed static files (assets.py), so a deploy that
changes any file changes sw.js and so its cache names.

A page is kept on the phone only when the server says so, with the header ``X-Walkapp-Offline:
keep`` (see ``mark_kept_pages``): the walk page, the report form and the walk's map items, for
walks the signed-in person may report on (policy.keeps_walk_offline). Photos and every other page
are never cached. The kept pages are cleared when the person signs out or someone else signs in.
"""
from __future__ import annotations

import re

from flask import Response, current_app, get_flashed_messages, jsonify, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import assets, inputs, maps, policy
from ..access import ANYONE, SIGNED_IN, allow
from ..extensions import db
from ..i18n import current_language
from ..models import Walk
from ..walks.routes import visible_walk_or_abort
from . import bp

KEEP_HEADER = "X-Walkapp-Offline"
SHELL = ("css/", "js/", "vendor/", "icons/", "img/")
LICENCE = re.compile(r"(LICEN[CS]E|\.txt$)", re.I)
THEME = "#0f3d3e"  # the manifest holds one theme colour; base.html's meta tags add the dark one


@bp.get("/manifest.webmanifest")
@allow(ANYONE)
def manifest():
    icon = lambda name, size, purpose: {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
        "type": "image/png", "purpose": purpose}
    body = {
        "id": "/",
        "name": _("walkapp – safety walks"),
        "short_name": _("Safety walk"),
        "description": _("Report what makes a place feel unsafe, with or without signal."),
        "lang": current_language(),
        "start_url": url_for("main.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": THEME,
        "theme_color": THEME,
        "icons": [icon("icon-192.png", 192, "any"), icon("icon-512.png", 512, "any"),
                  icon("maskable-192.png", 192, "maskable"), icon("maskable-512.png", 512, "maskable")],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


def tile_pattern() -> str:
    """A regular expression (for JavaScript) matching the configured tile URLs; empty when tiles are not kept."""
    if not current_app.config["OFFLINE_TILES"]:
        return ""
    pattern = re.escape(current_app.config["TILE_URL"])
    for placeholder, regex in (("{s}", "[a-z0-9-]+"), ("{z}", r"\d+"), ("{x}", r"\d+"), ("{y}", r"\d+"),
                               ("{r}", "(@2x)?")):
        pattern = pattern.replace(re.escape(placeholder), regex)
    return "^" + pattern + "$"


@bp.get("/sw.js")
@allow(ANYONE)
def service_worker():
    names = current_app.extensions["static_manifest"]
    body = render_template(
        "pwa/sw.js",
        version=assets.tree_hash(names),
        precache=[url for url in assets.hashed_urls(current_app, SHELL) if not LICENCE.search(url)],
        offline={code: url_for("pwa.offline", lang=code) for code in current_app.config["LANGUAGES"]},
        default_language=current_app.config["BABEL_DEFAULT_LOCALE"],
        tile_pattern=tile_pattern(),
        tile_budget=current_app.config["OFFLINE_TILE_BUDGET"],
        keep_header=KEEP_HEADER,
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
@allow(ANYONE)
def offline():
    """The page the service worker shows for a page not kept on the phone. Nobody's data is in it:
    it is cached once per language for everyone using the phone."""
    lang = request.args.get("lang")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_language()
    with force_locale(lang):
        html = render_template("pwa/offline.html", lang=lang)
    return html


@bp.get("/walks/<int:walk_id>/offline-tiles")
@allow(SIGNED_IN)
def offline_tiles(walk_id: int):
    """The map tiles of the walk's area that the phone may keep (none unless OFFLINE_TILES is on)."""
    walk = visible_walk_or_abort(walk_id)
    if not current_app.config["OFFLINE_TILES"] or not policy.keeps_walk_offline(current_user, walk):
        return jsonify(tiles=[])
    urls = maps.tile_urls(current_app.config["TILE_URL"], maps.walk_area(walk),
                          current_app.config["OFFLINE_TILE_BUDGET"])
    return jsonify(tiles=urls)


def kept_walk() -> Walk | None | bool:
    """The walk whose page this request is, for the pages kept offline; False for other pages."""
    if request.endpoint == "walks.view":
        return db.session.get(Walk, request.view_args["walk_id"])
    if request.endpoint in ("observations.report", "api.observations") and request.args.get("walk"):
        walk_id = request.args.get("walk")
        return db.session.get(Walk, inputs.parse_id(walk_id)) if inputs.is_id(walk_id) else False
    if request.endpoint == "observations.report":
        return None
    return False


@bp.after_app_request
def mark_kept_pages(response: Response) -> Response:
    if request.method != "GET" or response.status_code != 200 or not current_user.is_authenticated:
        return response
    walk = kept_walk()
    if walk is False:
        return response
    if (walk is None and request.endpoint == "observations.report" and policy.can_report_without_walk(current_user)) \
            or (walk is not None and policy.keeps_walk_offline(current_user, walk)):
        response.headers[KEEP_HEADER] = str(current_user.id)
    return response


@bp.app_template_global()
def page_flashes() -> list[tuple[str, str]]:
    """The flashed messages, for a page a person opens. The service worker's own fetches (precaching the
    offline page, keeping a walk's report form) are not navigations and must not use up a message such
    as "Tack! Din observation är sparad." that was meant for the next page the person sees."""
    if request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
        return []
    return get_flashed_messages(with_categories=True)
