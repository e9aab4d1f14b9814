"""Exports (CSV for Swedish Excel, plain CSV, GeoJSON) and CSV imports of other actors' observations."""
from flask import Blueprint

bp = Blueprint("exchange", __name__)

from . import routes  # noqa: E402,F401
