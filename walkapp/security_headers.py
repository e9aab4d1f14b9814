"""HTTP security headers, set by Flask-Talisman on every response.

The Content-Security-Policy lets scripts run only from our own files, or inline when they carry the
request's nonce (the map scripts folium writes into our pages: ``<script nonce="{{ csp_nonce() }}">``),
so injected markup cannot run script. Pages may not be framed (clickjacking), and cross-origin requests
such as map tiles send only our origin as referrer, never a path holding a token (/f/…, /login/link/…).
TLS and its redirect belong to the proxy in front; HSTS is sent on requests that arrived over https.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask_talisman import Talisman

def policy(app: Flask) -> dict[str, str]:
    tiles = urlsplit(app.config["TILE_URL"])
    host = tiles.netloc
    if "{" in host:  # a subdomain placeholder ({s}.tile…, tile-{s}.…): CSP allows a wildcard leftmost only
        host = "*." + host.split(".", 1)[1]
    tile_origin = f"{tiles.scheme}://{host}" if host else ""
    return {
        "default-src": "'self'",
        "script-src": "'self'",  # and the nonce, added per request
        "style-src": "'self' 'unsafe-inline'",  # style attributes carry category colours
        "img-src": f"'self' data: blob: {tile_origin}".strip(),  # blob: previews of photos being sent
        # the service worker fetches the tiles of a walk's area itself when OFFLINE_TILES is on
        "connect-src": f"'self' {tile_origin}".strip() if app.config.get("OFFLINE_TILES") else "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_app(app: Flask) -> None:
    # one Talisman per app: it keeps its app and settings on itself
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,
        content_security_policy=policy(app),
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # cookie flags stay ours (config.py: secure by default, relaxed only for the local demo)
        session_cookie_secure=False,
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
