"""Customer-facing language: catalogs, locale negotiation, rendering of updates."""

from .catalogs import Catalogs, available_locales, negotiate
from .render import Update, render

__all__ = ["Catalogs", "Update", "available_locales", "negotiate", "render"]
