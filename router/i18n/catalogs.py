"""Gettext catalogs from `locales/`, compiled in memory at start, and locale negotiation.

The `.po` files are the source; nothing compiled is committed. A catalog that does not
load is an error at start, never a silent fall back to English (Babel's
`Translations.load` would return NullTranslations).
"""

from __future__ import annotations

import io
from functools import cached_property
from pathlib import Path

from babel import Locale
from babel.core import UnknownLocaleError, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from ..domain.errors import CatalogError

__all__ = ["LOCALES_DIR", "Catalogs", "available_locales", "negotiate"]

LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "locales"
DOMAIN = "messages"
SOURCE = "en"


def available_locales(directory: Path = LOCALES_DIR) -> list[str]:
    return sorted(p.parent.parent.name for p in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def negotiate(tag: str, available: list[str]) -> str:
    """The best catalog for a BCP 47 tag, falling back along its chain to English.

    `pt-BR` -> pt_BR; `de-AT` -> de; `zh-CN` -> zh_Hans (the likely script); `zh-Hant-TW`
    -> en (Simplified is not a Traditional reader's language); `sv-FI` -> sv; `nb` -> en.
    """
    try:
        locale = Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError, TypeError):
        return SOURCE
    script = locale.script  # Babel fills in the likely script (zh-CN -> Hans)
    candidates = []
    if locale.territory:
        candidates.append(f"{locale.language}_{locale.territory}")
    if script:
        candidates.append(f"{locale.language}_{script}")
    candidates.append(locale.language)
    for candidate in candidates:
        if candidate in available:
            return candidate
    if locale.language == "zh":  # zh_Hans must not serve a Traditional reader, nor vice versa
        return SOURCE
    found = negotiate_locale([locale.language], [a for a in available if "_" not in a])
    if found:
        return found
    sibling = sorted(a for a in available if a.split("_")[0] == locale.language)
    return sibling[0] if sibling else SOURCE  # pt-PT reads pt_BR better than English


class Catalogs:
    """Every catalog of `locales/`, compiled once; `get(locale)` gives its translations."""

    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self.directory = directory
        self._translations: dict[str, Translations] = {}
        self._negotiated: dict[str, str] = {}
        for code in available_locales(directory):
            self._translations[code] = self._compile(code)
        if SOURCE not in self._translations:
            raise CatalogError(f"no {SOURCE} catalog in {directory}")

    def _compile(self, code: str) -> Translations:
        path = self.directory / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        try:
            with path.open("rb") as f:
                catalog = read_po(f, locale=code, domain=DOMAIN)
        except Exception as err:
            raise CatalogError(f"{path}: {err}") from err
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        return Translations(fp=buf, domain=DOMAIN)

    @cached_property
    def locales(self) -> list[str]:
        return sorted(self._translations)

    def negotiate(self, tag: str) -> str:
        """Memoised: customers' tags are a small set, and parsing one costs microseconds."""
        found = self._negotiated.get(tag)
        if found is None:
            found = self._negotiated[tag] = negotiate(tag, self.locales)
        return found

    def get(self, code: str) -> Translations:
        return self._translations[code]
