"""Lägesbild (situational picture), walk protocols and the perceived-safety index."""
from flask import Blueprint

bp = Blueprint("situation", __name__)

from . import summaries  # noqa: E402,F401 (the summary tables and their flush hooks)
from . import routes  # noqa: E402,F401
