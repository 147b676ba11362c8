"""Prometheus counters beyond the request metrics Litestar's plugin records."""

from __future__ import annotations

from prometheus_client import Counter

from ..domain.routing import Decision

ESCALATIONS = Counter(
    "followsun_escalations_total",
    "Escalations taken in, by routing outcome",
    ["action", "language_match"],
)
TRANSITIONS = Counter("followsun_transitions_total", "Case transitions, by resulting state", ["to"])


def escalation(decision: Decision) -> None:
    ESCALATIONS.labels(decision.action, decision.language_match or "none").inc()


def transition(to: str) -> None:
    TRANSITIONS.labels(to).inc()
