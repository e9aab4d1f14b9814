from flask import Blueprint

bp = Blueprint("triage", __name__)

from . import routes  # noqa: E402,F401
