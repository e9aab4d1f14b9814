"""Export and import pages (being written)."""
from . import bp  # noqa: F401
