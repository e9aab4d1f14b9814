from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import privacy, routes  # noqa: E402,F401
