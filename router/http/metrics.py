"""Prometheus counters beyond the request metrics Litestar's plugin records."""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter

from ..domain.routing import Decision

ESCALATIONS = Counter(
    "followsun_escalations_total",
    "Escalations taken in, by routing outcome",
    ["action", "language_match"],
)
TRANSITIONS = Counter("followsun_transitions_total", "Case transitions, by resulting state", ["to"])


@cache
def _escalations(action: str, match: str) -> Counter:
    """The labelled child, looked up once: `labels()` validates and locks on every call,
    which on intake cost three times the increment itself. The label values are closed sets
    (actions, match levels), so the cache stays small."""
    return ESCALATIONS.labels(action, match)


def escalation(decision: Decision) -> None:
    _escalations(decision.action, decision.language_match or "none").inc()


def transition(to: str) -> None:
    TRANSITIONS.labels(to).inc()
