from flask import Blueprint

bp = Blueprint("walks", __name__)

from . import routes  # noqa: E402,F401
