"""The walk protocol as a PDF (fpdf2), with a schematic overview map.

The overview is drawn from the data itself (route, numbered stops and
observations on a local projection with a scale bar), so it needs no tile
server and no internet.
"""
from __future__ import annotations

import math
from pathlib import Path

from flask_babel import format_date
from flask_babel import gettext as _
from fpdf import FPDF

from .protocol import Protocol

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu"]
BRAND = (15, 61, 62)


class ProtocolPDF(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=15)
        self.font_name = "Helvetica"
        for folder in FONT_DIRS:  # DejaVu covers all of Swedish and most of what people type
            regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
            if regular.exists() and bold.exists():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                self.font_name = "DejaVu"
                break

    def text_safe(self, value: str) -> str:
        if self.font_name == "DejaVu":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def footer(self):
        self.set_y(-12)
        self.set_font(self.font_name, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, self.text_safe(f"{self.title_text} · {self.page_no()}"), align="C")

    def heading(self, text: str, size: int = 14):
        self.set_font(self.font_name, "B", size)
        self.set_text_color(*BRAND)
        self.multi_cell(0, size * 0.55, self.text_safe(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def para(self, text: str, size: int = 10, bold: bool = False):
        self.set_font(self.font_name, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.text_safe(text), new_x="LMARGIN", new_y="NEXT")


def schematic(pdf: ProtocolPDF, protocol: Protocol, x0: float, y0: float, width: float, height: float) -> None:
    walk = protocol.walk
    route = [(c[1], c[0]) for c in (walk.route or {}).get("coordinates", [])]
    points = [(item.obs.lat, item.obs.lon, item) for item in protocol.items + protocol.positive]
    stops = [(s.lat, s.lon, s.number) for s in walk.stops]
    every = route + [(a, b) for a, b, _ in points] + [(a, b) for a, b, _ in stops]
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(x0, y0, width, height)
    if not every:
        return
    lat0 = sum(p[0] for p in every) / len(every)
    kx = math.cos(math.radians(lat0)) * 111_320  # metres per degree of longitude here
    ky = 111_320
    xs, ys = [p[1] * kx for p in every], [p[0] * ky for p in every]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 100.0)
    scale = min(width, height) * 0.85 / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def at(lat, lon):
        return x0 + width / 2 + (lon * kx - cx) * scale, y0 + height / 2 - (lat * ky - cy) * scale

    pdf.set_draw_color(11, 83, 148)
    pdf.set_line_width(0.8)
    for (a_lat, a_lon), (b_lat, b_lon) in zip(route, route[1:]):
        pdf.line(*at(a_lat, a_lon), *at(b_lat, b_lon))
    pdf.set_line_width(0.2)
    pdf.set_font(pdf.font_name, "B", 7)
    for lat, lon, number in stops:
        x, y = at(lat, lon)
        pdf.set_fill_color(11, 83, 148)
        pdf.set_text_color(255, 255, 255)
        pdf.rect(x - 2, y - 2, 4, 4, style="F")
        pdf.set_xy(x - 2, y - 2)
        pdf.cell(4, 4, str(number), align="C")
    for lat, lon, item in points:
        x, y = at(lat, lon)
        r, g, b = (int(item.obs.category.colour[i:i + 2], 16) for i in (1, 3, 5))
        pdf.set_fill_color(r, g, b)
        pdf.set_draw_color(255, 255, 255)
        pdf.ellipse(x - 2.6, y - 2.6, 5.2, 5.2, style="FD")
        pdf.set_text_color(255, 255, 255)
        pdf.set_xy(x - 2.6, y - 2.6)
        pdf.cell(5.2, 5.2, str(item.number), align="C")
    pdf.set_text_color(0, 0, 0)
    # scale bar: a round number of metres near a fifth of the width
    metres = 10 ** math.floor(math.log10(max(span / 5, 1)))
    for step in (1, 2, 5):
        if metres * step * scale <= width / 4:
            bar = metres * step
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.5)
    pdf.line(x0 + 4, y0 + height - 5, x0 + 4 + bar * scale, y0 + height - 5)
    pdf.set_font(pdf.font_name, "", 7)
    pdf.set_xy(x0 + 4, y0 + height - 10)
    pdf.cell(30, 4, f"{bar:g} m")
    pdf.set_line_width(0.2)


def render(protocol: Protocol) -> bytes:
    walk = protocol.walk
    title = f"{_('Walk protocol')}: {walk.title}"
    pdf = ProtocolPDF(title)
    pdf.add_page()
    pdf.heading(title, 16)
    pdf.para(f"{format_date(walk.starts_at, 'long')} · {walk.area or ''} · "
             + (_("Internal version") if not protocol.public else _("Public version")))
    pdf.ln(2)
    pdf.heading(_("Participants"), 12)
    for role, n, names in protocol.participants:
        pdf.para(f"{role}: {n}" + (f" ({', '.join(names)})" if names else ""))
    pdf.ln(2)
    pdf.heading(_("Overview"), 12)
    top = pdf.get_y()
    schematic(pdf, protocol, pdf.l_margin, top, pdf.epw, 95)
    pdf.set_y(top + 98)
    pdf.heading(_("Observations"), 12)
    for item in protocol.items:
        block(pdf, item)
    if protocol.positive:
        pdf.heading(_("Places that feel safe"), 12)
        for item in protocol.positive:
            block(pdf, item)
    pdf.heading(_("Summary"), 12)
    for state, n in protocol.counts:
        pdf.para(f"{state}: {n}")
    index = protocol.index
    if index.value is not None:
        interval = f" ({index.low}–{index.high})" if index.low is not None else ""
        pdf.para(_("Perceived safety index %(value)s%(interval)s, n = %(n)s (indicative; not comparable with SCB's survey)",
                   value=index.value, interval=interval, n=index.n))
    if protocol.follow_up:
        f = protocol.follow_up
        pdf.heading(_("Since the previous walk (%(date)s)", date=format_date(f["earlier"].starts_at, "medium")), 12)
        pdf.para(_("Fixed: %(fixed)s · still open: %(open)s · will not be fixed: %(wont)s · new now: %(new)s",
                   fixed=f["fixed"], open=f["still_open"], wont=f["wont_fix"], new=f["new"]))
        if f["index_then"].value is not None and f["index_now"].value is not None:
            pdf.para(_("Index then %(then)s, now %(now)s", then=f["index_then"].value, now=f["index_now"].value))
    return bytes(pdf.output())


def block(pdf: ProtocolPDF, item) -> None:
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    top = pdf.get_y()
    text_width = pdf.epw
    if item.photo_path:
        try:
            pdf.image(item.photo_path, x=pdf.l_margin + pdf.epw - 40, y=top, w=40)
            text_width = pdf.epw - 44
        except (OSError, RuntimeError, ValueError):
            pass
    pdf.set_font(pdf.font_name, "B", 11)
    pdf.multi_cell(text_width, 5.5, pdf.text_safe(f"{item.number}. {item.category} – {item.state}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 9)
    lines = [f"{_('Place')}: {item.place}"]
    if item.description:
        lines.append(item.description)
    if item.action:
        lines.append(f"{_('Proposed action')}: {item.action}")
    details = [x for x in (item.organisation, item.priority, item.due and f"{_('Due')} {item.due}") if x]
    if details:
        lines.append(" · ".join(details))
    lines += [f"{_('Internal note')}: {note}" for note in item.notes]
    for line in lines:
        pdf.multi_cell(text_width, 4.5, pdf.text_safe(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + (32 if item.photo_path else 0)) + 3)
