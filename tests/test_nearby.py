"""One "nearby" search: the duplicate check on the report page and the item page's duplicate candidates."""
import math

from walkapp.extensions import db
from walkapp.models import Role, User
from walkapp.observations.service import distance_m, nearby_open
from walkapp.observations.changes import duplicate_candidates

from .factories import HERE, make_observation


def east_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    return lat, lon + metres / (111_320 * math.cos(math.radians(lat)))


def test_both_searches_find_an_item_due_east_within_the_radius(app, users):
    """At 62.6° N a degree of longitude is about 51 km: a box that assumes 55 km misses items
    east and west at the edge of the radius."""
    with app.app_context():
        here = make_observation(users[Role.walker], lat=HERE[0], lon=HERE[1])
        lat, lon = east_of(*HERE, 145)
        east = make_observation(users[Role.walker], lat=lat, lon=lon)
        far_lat, far_lon = east_of(*HERE, 160)
        make_observation(users[Role.walker], lat=far_lat, lon=far_lon)
        assert round(distance_m(*HERE, lat, lon)) == 145
        assert [(o.id, round(d)) for o, d in duplicate_candidates(here, radius_m=150)] == [(east.id, 145)]
        coordinator = db.session.get(User, users[Role.coordinator])
        found = nearby_open(coordinator, *HERE, "belysning", radius_m=150)
        assert [(o.id, round(d)) for o, d in found] == [(here.id, 0), (east.id, 145)]
