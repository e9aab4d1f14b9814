"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) with mySociety's
servicerequestupdates extension, in XML and JSON."""
from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

from . import routes  # noqa: E402,F401
