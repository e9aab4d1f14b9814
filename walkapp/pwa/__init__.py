"""The installable app: web app manifest, service worker, offline page, a walk's tiles (issue #14)."""
from flask import Blueprint

bp = Blueprint("pwa", __name__)

from . import routes  # noqa: E402,F401
