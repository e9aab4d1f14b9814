from flask import Blueprint

bp = Blueprint("observations", __name__)

from . import item, routes  # noqa: E402,F401
