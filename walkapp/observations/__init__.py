from flask import Blueprint

bp = Blueprint("observations", __name__)

from . import routes  # noqa: E402,F401
