"""The walk protocol and the lägesbild report as PDFs (fpdf2).

Layout rules both documents keep (tests/test_documents.py checks them on the rendered file):
- every item is one block, measured before it is drawn, that moves whole to the next page when it does
  not fit; its photos sit inside it, before and after side by side under their labels, the text beside;
- nothing is drawn over anything else: images never overlap images or text;
- every item is numbered by its #id, as everywhere else in the product;
- decimals are written as the reader's language writes them (41,5 in Swedish).

The overview map is drawn from the data itself (route, stops, items on a local projection with a
scale bar), so it needs no tile server and no internet.
"""
from __future__ import annotations

import io

import math
from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image

from ..i18n import fmt_date, fmt_decimal
from .protocol import Item, Protocol

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu"]
BRAND = (15, 61, 62)
STOP_BLUE = (11, 83, 148)
PHOTO_W = 38.0  # mm: the box each photo is fitted into
PHOTO_GAP = 4.0
LABEL_H = 4.5


def decimal(value) -> str:
    """One decimal, as the current language writes it ("41,5" in Swedish)."""
    return fmt_decimal(value)


def index_text(index) -> str:
    interval = f" ({decimal(index.low)}–{decimal(index.high)})" if index.low is not None else ""
    return _("Perceived safety index %(value)s%(interval)s, n = %(n)s (indicative; not comparable with SCB's survey)",
             value=decimal(index.value), interval=interval, n=index.n)


class DocumentPDF(FPDF):
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
        self.set_text_color(0, 0, 0)

    def room(self) -> float:
        return self.page_break_trigger - self.get_y()

    def keep(self, height: float) -> None:
        """Start a new page unless `height` mm fit on this one."""
        if height > self.room():
            self.add_page()

    def heading(self, text: str, size: int = 14, keep_with: float = 15):
        self.set_font(self.font_name, "B", size)
        self.keep(size * 0.55 + keep_with)  # a heading never ends a page alone
        self.set_text_color(*BRAND)
        self.multi_cell(0, size * 0.55, self.text_safe(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def para(self, text: str, size: int = 10, bold: bool = False, width: float = 0):
        self.set_font(self.font_name, "B" if bold else "", size)
        self.multi_cell(width, size * 0.5, self.text_safe(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def text_height(self, text: str, width: float, line: float, size: int, bold: bool = False) -> float:
        self.set_font(self.font_name, "B" if bold else "", size)
        return self.multi_cell(width, line, self.text_safe(text), dry_run=True, output="HEIGHT")

    def table_rows(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...], size: int = 8):
        """A table whose header repeats on each page; a row never splits."""
        self.set_font(self.font_name, "", size)
        self.set_fill_color(255, 255, 255)
        self.set_text_color(0, 0, 0)
        self.keep(20)
        style = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=BRAND)
        with self.table(col_widths=widths, text_align="LEFT", line_height=size * 0.55,
                        headings_style=style, repeat_headings=1,
                        cell_fill_color=(240, 244, 244), cell_fill_mode="ROWS") as table:
            table.row([self.text_safe(h) for h in header])
            for row in rows:
                table.row([self.text_safe(str(c)) for c in row])
        self.ln(2)


# --- the overview map ----------------------------------------------------------

def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_label(pdf: DocumentPDF, x: float, y: float, text: str, half: float, taken: list, frame) -> tuple:
    """Where a marker's label goes: the first spot around the marker that hits no marker and no other
    label, inside the frame; failing that, the spot that hits least."""
    w, h = pdf.get_string_width(text) + 1.2, 3.4
    gap = half + 0.4
    spots = [(x + gap, y - h / 2), (x - gap - w, y - h / 2), (x - w / 2, y - gap - h), (x - w / 2, y + gap),
             (x + gap, y - gap - h + 0.8), (x + gap, y + gap - 0.8), (x - gap - w, y - gap - h + 0.8),
             (x - gap - w, y + gap - 0.8)]
    for far in (2.5, 5.0):
        spots += [(x + gap + far, y - h / 2), (x - gap - w - far, y - h / 2),
                  (x - w / 2, y - gap - h - far), (x - w / 2, y + gap + far)]
    best, best_hits = None, None
    for sx, sy in spots:
        box = (sx, sy, sx + w, sy + h)
        if box[0] < frame[0] or box[1] < frame[1] or box[2] > frame[2] or box[3] > frame[3]:
            continue
        hits = sum(_overlaps(box, other) for other in taken)
        if hits == 0:
            return box
        if best_hits is None or hits < best_hits:
            best, best_hits = box, hits
    return best or (x + gap, y - h / 2, x + gap + w, y + h / 2)


def overview_map(pdf: DocumentPDF, protocol: Protocol, x0: float, y0: float, width: float, height: float) -> None:
    """Route, stops (squares, "S1"…) and items (circles, their #id), each label placed where it hides
    no marker and no other label; stops drawn last, outlined, so an item never hides one."""
    walk = protocol.walk
    route = [(c[1], c[0]) for c in (walk.route or {}).get("coordinates", [])]
    points = [(item.obs.lat, item.obs.lon, item) for item in protocol.items + protocol.positive]
    stops = [(s.lat, s.lon, s.number) for s in walk.stops]
    every = route + [(a, b) for a, b, _ in points] + [(a, b) for a, b, _ in stops]
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, width, height)
    if not every:
        return
    lat0 = sum(p[0] for p in every) / len(every)
    kx = math.cos(math.radians(lat0)) * 111_320  # metres per degree of longitude here
    ky = 111_320
    xs, ys = [p[1] * kx for p in every], [p[0] * ky for p in every]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 100.0)
    scale = min(width, height) * 0.78 / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def at(lat, lon):
        return x0 + width / 2 + (lon * kx - cx) * scale, y0 + height / 2 - (lat * ky - cy) * scale

    pdf.set_draw_color(*STOP_BLUE)
    pdf.set_line_width(0.8)
    for (a_lat, a_lon), (b_lat, b_lon) in zip(route, route[1:]):
        pdf.line(*at(a_lat, a_lon), *at(b_lat, b_lon))
    pdf.set_line_width(0.25)
    r_item, r_stop = 1.6, 1.8
    item_xy = [(*at(lat, lon), item) for lat, lon, item in points]
    stop_xy = [(*at(lat, lon), number) for lat, lon, number in stops]
    taken = [(x - r_item, y - r_item, x + r_item, y + r_item) for x, y, _ in item_xy]
    taken += [(x - r_stop, y - r_stop, x + r_stop, y + r_stop) for x, y, _ in stop_xy]
    frame = (x0 + 1, y0 + 1, x0 + width - 1, y0 + height - 12)  # the scale bar keeps the bottom
    for x, y, item in item_xy:
        r, g, b = (int(item.obs.category.colour[i:i + 2], 16) for i in (1, 3, 5))
        pdf.set_fill_color(r, g, b)
        pdf.set_draw_color(255, 255, 255)
        pdf.ellipse(x - r_item, y - r_item, 2 * r_item, 2 * r_item, style="FD")
    for x, y, _number in stop_xy:  # on top of the items, outlined
        pdf.set_fill_color(*STOP_BLUE)
        pdf.set_draw_color(255, 255, 255)
        pdf.set_line_width(0.5)
        pdf.rect(x - r_stop, y - r_stop, 2 * r_stop, 2 * r_stop, style="FD")
    pdf.set_line_width(0.2)
    labels = [(x, y, f"S{number}", r_stop, True) for x, y, number in stop_xy]
    labels += [(x, y, str(item.number), r_item, False) for x, y, item in item_xy]
    for x, y, text, half, is_stop in labels:
        pdf.set_font(pdf.font_name, "B", 7)
        box = _place_label(pdf, x, y, text, half, taken, frame)
        taken.append(box)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_text_color(*(STOP_BLUE if is_stop else (0, 0, 0)))
        pdf.set_xy(box[0], box[1])
        pdf.cell(box[2] - box[0], box[3] - box[1], text, align="C", fill=True)
    pdf.set_text_color(0, 0, 0)
    scale_bar(pdf, x0 + 4, y0 + height - 5, width, span, scale)


def scale_bar(pdf: FPDF, x: float, y: float, width: float, span: float, scale: float) -> None:
    """A bar of a round number of metres (1, 2 or 5 × 10ⁿ) near a fifth of a map ``width`` mm wide
    showing ``span`` metres at ``scale`` mm per metre, drawn from (x, y) with its label above."""
    metres = 10 ** math.floor(math.log10(max(span / 5, 1)))
    bar = metres
    for step in (1, 2, 5):
        if metres * step * scale <= width / 4:
            bar = metres * step
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.5)
    pdf.line(x, y, x + bar * scale, y)
    pdf.set_font(pdf.font_name, "", 7)
    pdf.set_xy(x, y - 5)
    pdf.cell(30, 4, f"{bar:g} m")
    pdf.set_line_width(0.2)


def map_legend(pdf: DocumentPDF, protocol: Protocol) -> None:
    pdf.set_font(pdf.font_name, "", 8)
    y = pdf.get_y() + 1
    x = pdf.l_margin
    pdf.set_fill_color(*STOP_BLUE)
    pdf.rect(x, y + 0.6, 3, 3, style="F")
    pdf.set_xy(x + 4, y)
    pdf.cell(60, 4.2, pdf.text_safe(_("Stop (S1, S2 …)")))
    pdf.set_fill_color(120, 120, 120)
    pdf.ellipse(x + 64, y + 0.6, 3, 3, style="F")
    pdf.set_xy(x + 68, y)
    pdf.cell(100, 4.2, pdf.text_safe(_("Observation, by its number (#id); colour by category")))
    pdf.ln(5)
    stops = " · ".join(f"S{s.number} {s.name}".strip() for s in protocol.walk.stops)
    if stops:
        pdf.para(stops, 8)
    pdf.ln(2)


# --- items ----------------------------------------------------------------------

def _photo_box(data: bytes) -> tuple[float, float]:
    """Width and height (mm) of a photo fitted into PHOTO_W × PHOTO_W."""
    with Image.open(io.BytesIO(data)) as image:
        w, h = image.size
    if w >= h:
        return PHOTO_W, PHOTO_W * h / w
    return PHOTO_W * w / h, PHOTO_W


def item_lines(item: Item) -> list[str]:
    lines = [f"{_('Place')}: {item.place}"]
    if item.description:
        lines.append(item.description)
    if item.action:
        lines.append(f"{_('Proposed action')}: {item.action}")
    details = [x for x in (item.organisation, item.priority, item.due and f"{_('Due')} {item.due}") if x]
    if details:
        lines.append(" · ".join(details))
    lines += [f"{_('Internal note')}: {note}" for note in item.notes]
    return lines


def block(pdf: DocumentPDF, item: Item) -> None:
    """One item: heading and text on the left, its photos side by side on the right; measured first and
    moved whole to the next page when it does not fit on this one."""
    shots = [(shot, _photo_box(shot.data)) for shot in item.photos if shot.data]
    photos_w = len(shots) * PHOTO_W + max(len(shots) - 1, 0) * PHOTO_GAP
    text_w = pdf.epw - (photos_w + PHOTO_GAP if shots else 0)
    title = f"#{item.number} {item.category} – {item.state}"
    lines = item_lines(item)
    text_h = pdf.text_height(title, text_w, 5.5, 11, bold=True) + sum(
        pdf.text_height(line, text_w, 4.5, 9) for line in lines)
    photo_h = LABEL_H + max(h for _, (_, h) in shots) if shots else 0
    height = max(text_h, photo_h) + 4
    pdf.keep(height)
    top = pdf.get_y()
    x = pdf.l_margin + text_w + PHOTO_GAP
    pdf.set_font(pdf.font_name, "B", 8)
    for shot, (w, h) in shots:
        pdf.set_xy(x, top)
        pdf.cell(PHOTO_W, LABEL_H - 0.5, pdf.text_safe(_("After") if shot.after else _("Before")))
        pdf.image(io.BytesIO(shot.data), x=x, y=top + LABEL_H, w=w, h=h)
        x += PHOTO_W + PHOTO_GAP
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(pdf.font_name, "B", 11)
    pdf.multi_cell(text_w, 5.5, pdf.text_safe(title), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(pdf.font_name, "", 9)
    for line in lines:
        pdf.multi_cell(text_w, 4.5, pdf.text_safe(line), new_x="LMARGIN", new_y="NEXT", align="L")
    bottom = top + height
    pdf.set_draw_color(210, 210, 210)
    pdf.line(pdf.l_margin, bottom - 1.5, pdf.l_margin + pdf.epw, bottom - 1.5)
    pdf.set_y(bottom)


def render(protocol: Protocol) -> bytes:
    walk = protocol.walk
    title = f"{_('Walk protocol')}: {walk.title}"
    pdf = DocumentPDF(title)
    pdf.add_page()
    pdf.heading(title, 16)
    pdf.para(f"{fmt_date(walk.starts_at, 'long')} · {walk.area or ''} · "
             + (_("Internal version") if not protocol.public else _("Public version")))
    pdf.ln(2)
    pdf.heading(_("Participants"), 12)
    for role, n, names in protocol.participants:
        pdf.para(f"{role}: {n}" + (f" ({', '.join(names)})" if names else ""))
    pdf.ln(2)
    pdf.heading(_("Overview"), 12, keep_with=110)
    top = pdf.get_y()
    overview_map(pdf, protocol, pdf.l_margin, top, pdf.epw, 100)
    pdf.set_y(top + 101)
    map_legend(pdf, protocol)
    if protocol.summary:
        pdf.heading(_("Summary of the closing meeting"), 12)
        pdf.para(protocol.summary)
        pdf.ln(2)
    pdf.heading(_("Observations"), 12, keep_with=40)
    for item in protocol.items:
        block(pdf, item)
    if protocol.positive:
        pdf.heading(_("Places that feel safe"), 12, keep_with=40)
        for item in protocol.positive:
            block(pdf, item)
    if protocol.actions:
        pdf.heading(_("Action list"), 12)
        pdf.table_rows([_("No."), _("Category"), _("Owner"), _("Priority"), _("Due"), _("Status")],
                       [[f"#{i.number}", i.category, i.organisation, i.priority or "–", i.due or "–", i.state]
                        for i in protocol.actions], (12, 38, 50, 22, 24, 34))
    pdf.heading(_("Summary"), 12)
    for state, n in protocol.counts:
        pdf.para(f"{state}: {n}")
    if protocol.index.value is not None:
        pdf.para(index_text(protocol.index))
    if protocol.follow_up:
        f = protocol.follow_up
        pdf.ln(2)
        pdf.heading(_("Since the previous walk (%(date)s)", date=fmt_date(f["earlier"].starts_at)), 12)
        pdf.para(_("Fixed: %(fixed)s · still open: %(open)s · will not be fixed: %(wont)s · new now: %(new)s",
                   fixed=f["fixed"], open=f["still_open"], wont=f["wont_fix"], new=f["new"]))
        if f["index_then"].value is not None and f["index_now"].value is not None:
            pdf.para(_("Index then %(then)s, now %(now)s", then=decimal(f["index_then"].value),
                       now=decimal(f["index_now"].value)))
    return bytes(pdf.output())
