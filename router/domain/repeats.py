"""Repeat escalations: the same customer, or the same skill and summary words, again within
30 days, so the causes behind them can be found.

Cases sharing a key form a chain while each follows the one before it within the window
(30 days); a chain of two or more cases that reaches into the report's window is a
repeat. Its count is the chain's length, earlier cases of the 30 days before the window
included (they are what the repeat repeats).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Literal

import msgspec

from .facts import Facts, ms

__all__ = ["REPEAT_WINDOW", "Repeat", "repeats"]

REPEAT_WINDOW = timedelta(days=30)
MAX_LISTED = 50  # repeats listed per kind, most cases first
MAX_IDS = 20  # case ids named per repeat, latest first

RepeatKind = Literal["customer", "topic"]


class Repeat(msgspec.Struct, frozen=True, kw_only=True):
    """Cases of one customer, or of one skill with the same summary words, in a chain."""

    kind: RepeatKind
    customer: str = ""
    skill: str = ""
    words: str = ""
    cases: int
    first: datetime
    last: datetime
    ids: list[str]


def _instant(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _chains(items: list[Facts], gap: int, since: int) -> Iterable[list[Facts]]:
    """`items` (sorted by creation) cut wherever one case comes more than `gap` ms after
    the one before it: the chains of two or more that reach `since`."""
    chain = [items[0]]
    for f in items[1:]:
        if f.created - chain[-1].created > gap:
            if len(chain) > 1 and chain[-1].created >= since:
                yield chain
            chain = []
        chain.append(f)
    if len(chain) > 1 and chain[-1].created >= since:
        yield chain


def _grouped(ordered: list[Facts], kind: RepeatKind) -> dict[tuple[str, str, str], list[Facts]]:
    """Cases by customer, or by skill and summary words (a summary with no words: none),
    each group in the order of `ordered`. The keys are bare strings while grouping (a
    report groups every case of the window twice) and made (customer, skill, words) after."""
    groups: dict[object, list[Facts]] = defaultdict(list)
    if kind == "customer":
        for f in ordered:
            if f.customer:
                groups[f.customer].append(f)
        return {(k, "", ""): v for k, v in groups.items() if len(v) > 1}  # type: ignore[misc]
    for f in ordered:
        if f.words:
            groups[f.skill, f.words].append(f)
    return {("", *k): v for k, v in groups.items() if len(v) > 1}  # type: ignore[misc]


def _of_kind(ordered: list[Facts], kind: RepeatKind, since: int, gap: int) -> list[Repeat]:
    chains = [  # (-cases, -last, key, chain): sorted before any Repeat is built
        (-len(chain), -chain[-1].created, key, chain)
        for key, items in _grouped(ordered, kind).items()
        for chain in _chains(items, gap, since)
    ]
    chains.sort(key=lambda c: c[:3])
    return [
        Repeat(
            kind=kind,
            customer=customer,
            skill=skill,
            words=words,
            cases=len(chain),
            first=_instant(chain[0].created),
            last=_instant(chain[-1].created),
            ids=[f.case for f in reversed(chain[-MAX_IDS:])],
        )
        for _, _, (customer, skill, words), chain in chains[:MAX_LISTED]
    ]


def repeats(
    facts: Iterable[Facts], since: datetime, window: timedelta = REPEAT_WINDOW
) -> list[Repeat]:
    """The repeats among `facts` (cases of the report's window and the `window` before it)
    that reach the report's window (a case created at or after `since`): by customer
    first, then by topic (skill and summary words; a summary with no words has none)."""
    ordered = sorted(facts, key=attrgetter("created", "case"))  # once, for every group
    gap, start = window // timedelta(milliseconds=1), ms(since)
    return _of_kind(ordered, "customer", start, gap) + _of_kind(ordered, "topic", start, gap)
