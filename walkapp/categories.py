"""The default categories (problems and safe places, with Swedish and English names, colours and
icons) and their seeding."""
from __future__ import annotations

from .extensions import db
from .models import Category, Kind

# code, Swedish name, English name, colour, icon, kind
DEFAULT_CATEGORIES = [
    ("belysning", "Belysning", "Lighting", "#b45309", "lightbulb", Kind.problem),
    ("skadegorelse", "Skadegörelse", "Vandalism", "#b91c1c", "hammer", Kind.problem),
    ("klotter", "Klotter", "Graffiti", "#7e22ce", "spray", Kind.problem),
    ("vegetation", "Vegetation / skymd sikt", "Vegetation / blocked view", "#15803d", "tree", Kind.problem),
    ("nedskrapning", "Nedskräpning", "Litter", "#4d7c0f", "trash", Kind.problem),
    ("dold-plats", "Dold plats", "Hidden corner", "#374151", "eye-off", Kind.problem),
    ("trafik", "Trafik / övergångsställe", "Traffic / crossing", "#c2410c", "crossing", Kind.problem),
    ("gangvag", "Gångväg / framkomlighet", "Footpath / accessibility", "#0e7490", "path", Kind.problem),
    ("skyltning", "Skyltning / orientering", "Signage / wayfinding", "#1d4ed8", "sign", Kind.problem),
    ("overgivet", "Övergivet fordon / byggnad", "Abandoned vehicle / building", "#57534e", "car", Kind.problem),
    ("trygg-plats", "Trygg plats", "Safe place", "#047857", "heart", Kind.positive),
    ("annat", "Annat", "Other", "#475569", "other", Kind.problem),
]


ICONS = sorted({row[4] for row in DEFAULT_CATEGORIES})


def seed_default_categories() -> int:
    """Add missing default categories by code; existing ones keep their edits."""
    existing = set(db.session.scalars(db.select(Category.code)))
    added = 0
    for order, (code, sv, en, colour, icon, kind) in enumerate(DEFAULT_CATEGORIES):
        if code in existing:
            continue
        db.session.add(
            Category(code=code, name_sv=sv, name_en=en, colour=colour, icon=icon, kind=kind, sort_order=order)
        )
        added += 1
    return added
