"""Language tags and how well a team's language serves a customer's.

Tags are BCP 47 (`pt-BR`, `zh-Hans`); Babel's CLDR data parses them and fills in the
likely script, so `zh-CN` and `zh-Hans-CN` are one language while `zh-TW` (Traditional)
is not a base match for a Simplified team.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum
from functools import lru_cache

import msgspec
from babel.core import Locale, UnknownLocaleError, get_global

from .errors import UnknownLanguage

__all__ = ["Lang", "Match", "best_match", "parse_lang"]


class Match(IntEnum):
    """How well a team language fits; lower is better so it sorts first."""

    exact = 0
    base = 1
    fallback = 2

    def __str__(self) -> str:
        return self.name


class Lang(msgspec.Struct, frozen=True):
    """A canonical language tag: language, script (made explicit) and optional region."""

    language: str
    script: str
    region: str | None = None
    tag: str = ""

    def __str__(self) -> str:
        return self.tag


@lru_cache(maxsize=4096)
def parse_lang(tag: str, field: str = "language") -> Lang:
    """Parse a BCP 47 tag; UnknownLanguage names `field` when it is malformed or unknown."""
    text = tag.strip() if isinstance(tag, str) else ""
    if not text or "_" in text or text != tag:
        raise UnknownLanguage(field, f'"{tag}" is not a BCP 47 language tag')
    try:
        locale = Locale.parse(text, sep="-")
    except (ValueError, UnknownLocaleError, TypeError):
        raise UnknownLanguage(field, f'"{tag}" is not a BCP 47 language tag') from None
    script = locale.script or _likely_script(locale.language, locale.territory)
    canonical = "-".join(p for p in (locale.language, locale.script, locale.territory) if p)
    return Lang(locale.language, script, locale.territory, canonical)


def _likely_script(language: str, region: str | None) -> str:
    likely = get_global("likely_subtags")
    for key in (f"{language}_{region}" if region else None, language, f"und_{region}"):
        if key and key in likely:
            parts = likely[key].split("_")
            if len(parts) >= 3:
                return parts[1]
    return "Zyyy"


def match(team: Lang, wanted: Lang) -> Match | None:
    """exact: same language, script and region; base: same language and script."""
    if (team.language, team.script) != (wanted.language, wanted.script):
        return None
    return Match.exact if team.region == wanted.region else Match.base


@lru_cache(maxsize=65536)
def best_match(
    team_languages: Sequence[Lang], wanted: Lang, accepts: Iterable[Lang] = ()
) -> tuple[Match, Lang] | None:
    """The best (match, team language) for a customer wanting `wanted`, or None.

    A fallback is a team language that exactly or basically matches a language the
    customer said they accept.
    """
    best: tuple[Match, Lang] | None = None
    for lang in team_languages:
        level = match(lang, wanted)
        if level is not None and (best is None or level < best[0]):
            best = (level, lang)
    if best is not None:
        return best
    for accepted in accepts:
        for lang in team_languages:
            if match(lang, accepted) is not None:
                return (Match.fallback, lang)
    return None
