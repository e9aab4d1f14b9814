"""The lägesbild report as a PDF: kartläggning, analys, åtgärder (Lag 2023:196), from the figures
frozen in the saved report. Same layout rules as the protocol (pdf.py)."""
from __future__ import annotations

import math

from flask_babel import gettext as _

from ..i18n import fmt_date, fmt_datetime, month_label
from .pdf import DocumentPDF, decimal, scale_bar
from .report import ReportView


def hotspot_map(pdf: DocumentPDF, cells: list[dict], top: list[dict], x0: float, y0: float,
                width: float, height: float) -> None:
    """The grid cells shaded by their count, the top places numbered as in the table below."""
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, width, height)
    if not cells:
        return
    south, north = min(c["south"] for c in cells), max(c["north"] for c in cells)
    west, east = min(c["west"] for c in cells), max(c["east"] for c in cells)
    kx = math.cos(math.radians((south + north) / 2)) * 111_320
    ky = 111_320
    span_x, span_y = max((east - west) * kx, 1.0), max((north - south) * ky, 1.0)
    scale = min((width - 10) / span_x, (height - 16) / span_y)
    ox = x0 + (width - span_x * scale) / 2
    oy = y0 + 4 + (height - 16 - span_y * scale) / 2

    def at(lat, lon):
        return ox + (lon - west) * kx * scale, oy + (north - lat) * ky * scale

    most = max(c["n"] for c in cells)
    for cell in cells:
        share = cell["n"] / most
        x1, y1 = at(cell["north"], cell["west"])
        x2, y2 = at(cell["south"], cell["east"])
        shade = int(235 - 180 * share)
        pdf.set_fill_color(220, shade, shade)
        pdf.set_draw_color(127, 29, 29)
        pdf.rect(x1, y1, max(x2 - x1, 0.8), max(y2 - y1, 0.8), style="FD")
    pdf.set_font(pdf.font_name, "B", 7)
    for rank, cell in enumerate(top, start=1):
        x1, y1 = at(cell["north"], cell["west"])
        x2, y2 = at(cell["south"], cell["east"])
        pdf.set_fill_color(255, 255, 255)
        pdf.set_xy((x1 + x2) / 2 - 2.2, (y1 + y2) / 2 - 1.7)
        pdf.cell(4.4, 3.4, str(rank), align="C", fill=True, border=1)
    scale_bar(pdf, x0 + 4, y0 + height - 4, width, span_x, scale)


def render(r: ReportView) -> bytes:
    """The report's three parts: survey (figures, hot spots, perceived safety), analysis, actions."""
    report, f = r.report, r.figures
    title = f"{_('Situational picture')}: {report.title}"
    pdf = DocumentPDF(title)
    pdf.add_page()
    pdf.heading(report.title, 16)
    pdf.para(f"{fmt_date(report.period_start, 'long')} – {fmt_date(report.period_end, 'long')} · {f['area']} · "
             + (_("Public version") if r.public else _("Internal version")))
    pdf.para(_("Figures as of %(date)s.", date=fmt_datetime(report.created_at))
             + (" " + _("Created by %(name)s.", name=r.author) if r.author else ""), 8)
    pdf.ln(3)
    survey(pdf, r)
    analysis(pdf, r)
    pdf.heading("3. " + _("Actions (åtgärder)"), 14)
    pdf.table_rows([_("Organisation"), _("Open"), _("Overdue"), _("Fixed"), _("Median days")],
                   [[name, open_, overdue, fixed, decimal(median)] for name, open_, overdue, fixed, median in
                    f["organisations"]] or [[_("Nothing assigned yet."), "", "", "", ""]], (70, 25, 25, 25, 35))
    return bytes(pdf.output())


def survey(pdf: DocumentPDF, r: ReportView) -> None:
    """1. Survey (kartläggning): the figures, by category, source, hour and weekday, then places."""
    pdf.heading("1. " + _("Survey (kartläggning)"), 14)
    g = r.figures["figures"]
    pdf.table_rows([_("new"), _("open"), _("fixed"), _("overdue"), _("median days to fix"), _("fixed before the due date")],
                   [[g["new"], g["open"], g["fixed"], g["overdue"], decimal(g["median_days"]),
                     f"{g['on_time_share']} %" if g["on_time_share"] is not None else "–"]],
                   (25, 25, 25, 25, 40, 40), size=9)
    pdf.para(r.totals_text, 9)
    pdf.ln(2)
    columns = [_("This period"), _("Previous period"), _("A year earlier")]
    pdf.heading(_("By category"), 12)
    pdf.table_rows([_("Category")] + columns, [list(row) for row in r.category_rows], (75, 35, 35, 35))
    pdf.heading(_("By source"), 12)
    pdf.table_rows([_("Source")] + columns, [list(row) for row in r.sources], (75, 35, 35, 35))
    pdf.heading(_("By time of day"), 12)
    pdf.table_rows([label for label, _n in r.hour_bands], [[n for _label, n in r.hour_bands]], (45, 45, 45, 45))
    pdf.heading(_("By weekday"), 12)
    pdf.table_rows([label for label, _n in r.weekdays], [[n for _label, n in r.weekdays]], (26, 26, 26, 26, 26, 25, 25))
    hot_spots(pdf, r)
    pdf.heading(_("Perceived safety"), 12)
    pdf.para(r.index_text)
    pdf.ln(1)
    pdf.table_rows([_("Month"), _("Index"), _("Confidence interval"), "n"],
                   [[month_label(month), decimal(i.value) if i.value is not None else "–",
                     f"{decimal(i.low)}–{decimal(i.high)}" if i.low is not None else "–", i.n]
                    for month, i in r.trend], (50, 40, 60, 30))


def hot_spots(pdf: DocumentPDF, r: ReportView) -> None:
    pdf.heading(_("Hot spots"), 12, keep_with=105)
    top = pdf.get_y()
    hotspot_map(pdf, r.hotspots, r.top_places, pdf.l_margin, top, pdf.epw, 95)
    pdf.set_y(top + 97)
    caption = _("The places with the most reports")
    if r.public:
        caption += " (" + _("places with fewer than %(n)s reports are left out", n=3) + ")"
    pdf.para(caption, 8)
    pdf.table_rows(["", _("Area (south-west corner)"), _("Number")],
                   [[rank, f"{c['south']:.4f}, {c['west']:.4f}", c["n"]] for rank, c in enumerate(r.top_places, 1)]
                   or [["", r.no_places_text, ""]], (12, 120, 48))


def analysis(pdf: DocumentPDF, r: ReportView) -> None:
    """2. Analysis (analys): the coordinator's text and the sources used and not used."""
    report = r.report
    pdf.heading("2. " + _("Analysis (analys)"), 14)
    pdf.para(report.analysis)
    pdf.ln(2)
    pdf.heading(_("Sources used"), 12)
    pdf.para(", ".join(r.sources_used) or "–")
    pdf.ln(1)
    pdf.heading(_("Sources not used"), 12)
    pdf.para(", ".join(r.sources_unused) or "–")
    if report.sources_not_used:
        pdf.para(report.sources_not_used)
    pdf.ln(2)
