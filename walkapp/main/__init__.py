from flask import Blueprint

bp = Blueprint("main", __name__)

from . import routes, statements  # noqa: E402,F401
