"""One filter language for observation lists: the inbox, its map and the JSON API.

Filters live in the query string (bookmarkable, shareable): status, category,
walk, source, organisation, priority, overdue, personal, from, to, q, bbox, since.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, or_, select

from .. import inputs
from ..i18n import local_today, local_zone
from ..models import Category, Kind, Observation, Priority, Source, Status, unindexed
from ..workflow import WORKING



class FilterError(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


MAX_VERTICES = 50


ALL_STATUSES = "all"


def inside(polygon):
    """Point in polygon as plain SQL (ray casting: an odd number of edge crossings is inside),
    after a bounding-box test that the lat/lon index can serve."""
    lons, lats = [p[0] for p in polygon], [p[1] for p in polygon]
    x, y = Observation.lon, Observation.lat
    crossings = sum(
        case((and_((y < yi) != (y < yj), x < (xj - xi) * (y - yi) / (yj - yi) + xi), 1), else_=0)
        for (xi, yi), (xj, yj) in zip(polygon, polygon[1:] + polygon[:1]) if yi != yj
    )
    return and_(Observation.lat.between(min(lats), max(lats)), Observation.lon.between(min(lons), max(lons)),
                crossings.op("%")(2) == 1)


def parse_polygon(value: str | None):
    """'lon,lat;lon,lat;…' with 3 to 50 vertices, else None."""
    if not value:
        return None
    pairs = value.split(";")
    if len(pairs) > MAX_VERTICES:
        return None
    try:
        points = tuple((inputs.parse_float(a), inputs.parse_float(b)) for a, b in (pair.split(",") for pair in pairs))
    except ValueError:
        return None
    if not 3 <= len(points) <= MAX_VERTICES or not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in points):
        return None
    if len({x for x, _ in points}) < 2 or len({y for _, y in points}) < 2:  # a line encloses nothing
        return None
    return points


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


@dataclass
class ObservationFilter:
    statuses: list[Status] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    kind: Kind | None = None
    walk_id: int | None = None
    organisation_id: int | None = None
    priority: Priority | None = None
    overdue: bool = False
    personal: bool = False  # only those whose description may hold personal data
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    bbox: tuple[float, float, float, float] | None = None
    area: tuple[tuple[float, float], ...] | None = None  # a drawn polygon, (lon, lat) vertices
    since: datetime | None = None

    @classmethod
    def from_args(cls, args) -> "ObservationFilter":
        """Parse request args; the same key may repeat (?status=new&status=fixed) or use commas."""
        def values(key):
            found = [v for raw in args.getlist(key) for v in _split(raw)]
            if len(found) > inputs.MAX_IDS:
                raise ValueError(key)
            return found

        f, errors = cls(), {}

        def parse(key, convert, message):
            try:
                return convert()
            except (ValueError, TypeError):
                errors[key] = [message]
                return None

        # "all" asks for every status in so many words (the inbox without one shows the open items)
        f.statuses = parse("status", lambda: [Status(v) for v in values("status") if v != ALL_STATUSES],
                           _("Unknown status.")) or []
        f.sources = parse("source", lambda: [Source(v) for v in values("source")], _("Unknown source.")) or []
        f.categories = parse("category", lambda: values("category"), _("Too many categories.")) or []
        if args.get("kind"):
            f.kind = parse("kind", lambda: Kind(args["kind"]), _("Unknown kind."))
        if args.get("walk"):
            f.walk_id = parse("walk", lambda: inputs.parse_id(args["walk"]), _("Give the walk as a number."))
        if args.get("organisation"):
            f.organisation_id = parse("organisation", lambda: inputs.parse_id(args["organisation"]), _("Unknown organisation."))
        if args.get("priority"):
            f.priority = parse("priority", lambda: Priority(args["priority"]), _("Unknown priority."))
        f.overdue = args.get("overdue") in ("1", "true", "on", "yes")
        f.personal = args.get("personal") in ("1", "true", "on", "yes")
        for key, attr in (("from", "date_from"), ("to", "date_to")):
            if args.get(key):
                setattr(f, attr, parse(key, lambda k=key: inputs.parse_date(args[k]), _("Give the date as YYYY-MM-DD.")))
        f.text = (args.get("q") or "").strip()[:200]
        if args.get("bbox"):
            f.bbox = parse("bbox", lambda: inputs.parse_bbox(args["bbox"]), _("Give bbox as min_lon,min_lat,max_lon,max_lat."))
        if args.get("area"):
            f.area = parse_polygon(args["area"])
            if f.area is None:
                errors["area"] = [_("The drawn area could not be read; draw it again (3 to 50 corners).")]
        if args.get("since"):
            f.since = parse("since", lambda: inputs.parse_moment(args["since"], naive_as_utc=False), _("Give since as an ISO 8601 time with a time zone."))
        if errors:
            raise FilterError(errors)
        return f

    def matching(self, counts: dict[Status, int]) -> int:
        """How many of these counts per state the status filter lets through (all, when it chooses none)."""
        return sum(n for status, n in counts.items() if not self.statuses or status in self.statuses)

    def apply(self, query, *, with_status: bool = True, status_index: bool = True):
        """The filters as WHERE terms; status_index=False keeps SQLite off the status index (models.unindexed)."""
        conditions = []
        if with_status and self.statuses:
            status = Observation.status if status_index else unindexed(Observation.status)
            conditions.append(status.in_(self.statuses))
        if self.categories:
            conditions.append(Observation.category_id.in_(
                select(Category.id).where(Category.code.in_(self.categories))
            ))
        if self.sources:
            conditions.append(Observation.source.in_(self.sources))
        if self.kind is not None:
            conditions.append(Observation.kind == self.kind)
        if self.walk_id is not None:
            conditions.append(Observation.walk_id == self.walk_id)
        if self.organisation_id is not None:
            conditions.append(Observation.organisation_id == self.organisation_id)
        if self.priority is not None:
            conditions.append(Observation.priority == self.priority)
        if self.overdue:
            conditions.append(and_(Observation.status.in_(WORKING), Observation.due_date < local_today()))
        if self.personal:
            conditions.append(Observation.may_hold_personal_data.is_(True))
        zone = local_zone()
        if self.date_from:
            conditions.append(Observation.created_at >= datetime.combine(self.date_from, time.min, zone))
        if self.date_to:
            conditions.append(Observation.created_at < datetime.combine(self.date_to + timedelta(days=1), time.min, zone))
        if self.text:
            pattern = f"%{self.text.replace('%', '').replace('_', '')}%"
            conditions.append(or_(Observation.description.ilike(pattern),
                                  Observation.id == (inputs.parse_id(self.text.lstrip("#")) if inputs.is_id(self.text.lstrip("#")) else -1)))
        if self.bbox:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            conditions.append(and_(Observation.lat.between(min_lat, max_lat), Observation.lon.between(min_lon, max_lon)))
        if self.area:
            conditions.append(inside(self.area))
        if self.since is not None:
            conditions.append(Observation.updated_at >= self.since)
        return query.where(*conditions) if conditions else query

    def to_args(self, **changes) -> dict:
        """The filter as query-string arguments (for links that keep the current view)."""
        args = {
            "status": ",".join(s.value for s in self.statuses), "category": ",".join(self.categories),
            "source": ",".join(s.value for s in self.sources), "walk": self.walk_id,
            "kind": self.kind.value if self.kind else None,
            "organisation": self.organisation_id, "priority": self.priority.value if self.priority else None,
            "overdue": "1" if self.overdue else None, "personal": "1" if self.personal else None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None, "q": self.text,
            "area": ";".join(f"{x:.6f},{y:.6f}" for x, y in self.area) if self.area else None,
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}

