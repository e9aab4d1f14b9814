"""Lägesbild (situational picture), walk protocols and the perceived-safety index."""
from flask import Blueprint

bp = Blueprint("situation", __name__)

from . import routes  # noqa: E402,F401
