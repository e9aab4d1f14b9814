"""The lägesbild report (Lag 2023:196 om kommuners ansvar för brottsförebyggande arbete).

Structure as the law and Brå's guidance ask: *kartläggning* (what was reported, by category, source,
place, time of day and weekday, against the previous period and the same period a year earlier; hot
spots; the perceived-safety index with n and interval), *analys* (the coordinator's text and the
sources used and not used) and *åtgärder* (the action list per owner).

The figures come from the dashboard's own queries in one pass (stats.lagesbild with report=True) and
are frozen as JSON in the saved report, so that last tertial's report opens unchanged whatever happened
to the items since. Both versions read the same frozen figures; the public one leaves out the author's
name and small counts per place (fewer than SMALL_COUNT items in a grid cell), which could point at a
single resident's report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import safety_index

from flask_babel import format_date
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import fmt_date
from ..labels import SOURCE
from ..models import Category, SituationReport, Source, Walk
from . import stats
from .pdf import index_text

SMALL_COUNT = 3
HOTSPOT_ROWS = 10
HOUR_BANDS = ((0, 6), (6, 12), (12, 18), (18, 24))


def _index(index) -> dict:
    return {"n": index.n, "value": index.value, "low": index.low, "high": index.high}


def freeze(scope: stats.Scope, today: date) -> dict:
    """Every figure of the report as plain JSON, from one pass of the dashboard's queries."""
    data = stats.lagesbild(scope, today, report=True)
    comparison = data["comparison"]
    names = {row.id: row for row in db.session.execute(
        db.select(Category.id, Category.name_sv, Category.name_en, Category.colour))}
    by_name: dict[tuple, list] = {}
    for name_sv, name_en, colour, n in data["categories"]:
        by_name[(name_sv, name_en)] = [name_sv, name_en, colour, n, 0, 0]
    for key, column in (("previous", 4), ("year_earlier", 5)):
        for category_id, n in comparison[key]["categories"].items():
            row = names[category_id]
            by_name.setdefault((row.name_sv, row.name_en), [row.name_sv, row.name_en, row.colour, 0, 0, 0])[column] += n
    sources: dict[str, list] = {source.value: [source.value, n, 0, 0] for source, n in data["sources"]}
    for key, column in (("previous", 2), ("year_earlier", 3)):
        for source, n in comparison[key]["sources"].items():
            sources.setdefault(source.value, [source.value, 0, 0, 0])[column] += n
    hours, weekdays = data["clock"]
    hotspots = sorted(data["hotspots"], key=lambda cell: -cell["n"])
    return {
        "figures": data["figures"],
        "totals": [data["figures"]["new"], comparison["previous"]["total"], comparison["year_earlier"]["total"]],
        "previous_period": [d.isoformat() for d in comparison["previous"]["period"]],
        "year_earlier_period": [d.isoformat() for d in comparison["year_earlier"]["period"]],
        "categories": sorted(by_name.values(), key=lambda row: (-row[3], -row[4], row[0])),
        "sources": sorted(sources.values(), key=lambda row: (-row[1], -row[2], row[0])),
        "hours": hours,
        "weekdays": weekdays,
        "hotspots": hotspots,
        "index": _index(data["index"]),
        "trend": [[month, _index(index)] for month, index in data["trend"]],
        "organisations": [list(row) for row in data["organisations"]],
    }


def describe_scope(scope: stats.Scope, walk_title: str | None) -> str:
    parts = []
    if walk_title:
        parts.append(_("Area of the walk %(title)s", title=walk_title))
    if scope.polygon:
        parts.append(_("a drawn area"))
    elif scope.bbox:
        parts.append(_("a map area"))
    if scope.night is True:
        parts.append(_("Night (18–06)"))
    elif scope.night is False:
        parts.append(_("Day (06–18)"))
    if scope.weekday:
        parts.append(format_date(date(2024, 1, scope.weekday), "EEEE"))  # 1 January 2024 was a Monday
    return ", ".join(parts) or _("The whole municipality")


def create(scope: stats.Scope, query: dict, title: str, analysis: str, sources_used: list[str],
           sources_not_used: str, user, today: date) -> SituationReport:
    walk_title = None
    if scope.walk_id is not None:
        walk = db.session.get(Walk, scope.walk_id)
        walk_title = walk.title if walk else None
    figures = freeze(scope, today)
    figures["area"] = describe_scope(scope, walk_title)
    report = SituationReport(
        title=title, period_start=scope.start, period_end=scope.end,
        scope={key: value for key, value in query.items() if value not in (None, "")},
        analysis=analysis, sources_used=sources_used, sources_not_used=sources_not_used,
        figures=figures, created_by=user)
    db.session.add(report)
    db.session.commit()
    return report


@dataclass
class ReportView:
    """A saved report as one version shows it (labels in the reader's language)."""
    report: SituationReport
    public: bool
    figures: dict
    categories: list[tuple]  # (name, colour, now, previous, year earlier)
    sources: list[tuple]  # (label, now, previous, year earlier)
    hour_bands: list[tuple[str, int]]
    weekdays: list[tuple[str, int]]
    hotspots: list[dict]  # every cell the version shows (for the map)
    top_places: list[dict]
    sources_used: list[str]
    sources_unused: list[str]
    author: str | None

    @property
    def category_rows(self) -> list[tuple]:
        return [(name, n, before, year) for name, _colour, n, before, year in self.categories]

    @property
    def hour_rows(self) -> list[tuple]:
        return [(label, n, None) for label, n in self.hour_bands]

    @property
    def weekday_rows(self) -> list[tuple]:
        return [(label, n, None) for label, n in self.weekdays]

    @property
    def index(self) -> safety_index.SafetyIndex:
        return safety_index.SafetyIndex(**self.figures["index"])

    @property
    def trend(self) -> list[tuple]:
        return [(month, safety_index.SafetyIndex(**index)) for month, index in self.figures["trend"]]

    @property
    def index_text(self) -> str:
        return index_text(self.index) if self.index.value is not None else _("No ratings in this period.")

    @property
    def no_places_text(self) -> str:
        """Why the list of places is empty: nothing reported, or (public) no place with enough reports."""
        if self.figures["hotspots"] and self.public:
            return _("No place has %(n)s or more reports.", n=SMALL_COUNT)
        return _("Nothing in this period.")

    @property
    def totals_text(self) -> str:
        now, before, year = self.figures["totals"]
        p, y = self.figures["previous_period"], self.figures["year_earlier_period"]
        return _("New reports: %(now)s this period, %(before)s the previous period (%(p1)s – %(p2)s), "
                 "%(year)s the same period a year earlier (%(y1)s – %(y2)s).",
                 now=now, before=before, year=year,
                 p1=fmt_date(date.fromisoformat(p[0])), p2=fmt_date(date.fromisoformat(p[1])),
                 y1=fmt_date(date.fromisoformat(y[0])), y2=fmt_date(date.fromisoformat(y[1])))


def source_label(code: str) -> str:
    try:
        return str(SOURCE[Source(code)])
    except (ValueError, KeyError):
        return code


def view(report: SituationReport, public: bool, lang: str) -> ReportView:
    f = report.figures
    hotspots = [c for c in f["hotspots"] if not public or c["n"] >= SMALL_COUNT]
    used = set(report.sources_used)
    return ReportView(
        report=report, public=public, figures=f,
        categories=[(en if lang == "en" else sv, colour, n, before, year)
                    for sv, en, colour, n, before, year in f["categories"]],
        sources=[(source_label(code), n, before, year) for code, n, before, year in f["sources"]],
        hour_bands=[(f"{a:02d}–{b:02d}", sum(f["hours"][a:b])) for a, b in HOUR_BANDS],
        weekdays=[(format_date(date(2024, 1, day), "EEEE"), n) for day, n in enumerate(f["weekdays"], start=1)],
        hotspots=hotspots, top_places=hotspots[:HOTSPOT_ROWS],
        sources_used=[source_label(code) for code in report.sources_used],
        sources_unused=[str(label) for source, label in SOURCE.items() if source.value not in used],
        author=None if public or report.created_by is None else report.created_by.display_name,
    )
