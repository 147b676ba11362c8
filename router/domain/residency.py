"""Data residency: which teams may hold a customer's personal data (policy `[residency]`).

A customer's region is the escalation's `customer.region`, else the policy's default for
the escalation's `source`, else its `default`, else none. A region with rules names the
team regions allowed to hold its customers' cases; `Residence.may_hold` is the one rule
routing, handover, deadline escalation and reassignment all ask. A customer without a
region, or whose region has no rules (a policy edited since the case came in), may be
held by any team, as before residency existed.

The region is worked out from the escalation and the policy in force each time it is
asked, so a policy edit applies to the open cases too: residency follows the current
rules, not the ones of the day the case came in.

    region = customer_region(esc, policy)       # "EU"
    where = residence(esc, policy)               # EU -> {"EMEA"}
    where.may_hold(team)                         # team.region in {"EMEA"}
"""

from __future__ import annotations

import msgspec

from .escalation import Escalation
from .model import Policy, Residency, Team

__all__ = [
    "CROSSED",
    "Crossing",
    "Residence",
    "Residency",
    "customer_region",
    "customer_regions",
    "may_hold",
    "region_residence",
    "residence",
]

CROSSED = "residency_crossed"  # the audit event type of a P1 held outside its regions


def customer_region(escalation: Escalation, policy: Policy) -> str:
    """The customer's region: explicit, else by intake source, else the policy's default,
    else "" (no region)."""
    if escalation.customer.region:
        return escalation.customer.region
    rules = policy.residency
    if rules is None:
        return ""
    return rules.by_source.get(escalation.source, "") or rules.default


def customer_regions(policy: Policy) -> list[str]:
    """The customer regions the policy names, sorted (what `customer.region` may say)."""
    return sorted(policy.residency.regions) if policy.residency else []


class Residence(msgspec.Struct, frozen=True, kw_only=True):
    """Where one customer's data may be: their region and the team regions allowed to hold
    it (`allowed` None: no rules, any team may)."""

    region: str = ""
    allowed: frozenset[str] | None = None
    p1_crossing: bool = False
    names: str = ""  # `AMER or EMEA`: the allowed regions as the reasons name them

    @property
    def restricted(self) -> bool:
        return self.allowed is not None

    def may_hold(self, team: Team) -> bool:
        """May `team` hold this customer's case? The one residency rule."""
        return self.allowed is None or team.region in self.allowed

    def allowed_text(self) -> str:
        """`EMEA` or `AMER or EMEA`, for reasons and audit events."""
        return self.names or " or ".join(sorted(self.allowed or ()))

    def rule_text(self) -> str:
        """The rule in an auditor's words: `customer region EU: only teams in EMEA may hold
        its data`."""
        return (
            f"customer region {self.region}: only teams in {self.allowed_text()} may hold its data"
        )


def residence(escalation: Escalation, policy: Policy) -> Residence:
    """The residency of `escalation`'s customer under `policy`."""
    return region_residence(customer_region(escalation, policy), policy)


def region_residence(region: str, policy: Policy) -> Residence:
    """The residency of any customer of `region` under `policy` (no rules: `allowed` None)."""
    rules = policy.residency
    if not region:
        return _NO_RULES
    if rules is None or region not in rules.regions:
        return Residence(region=region)
    allowed = rules.regions[region]
    return Residence(
        region=region,
        allowed=frozenset(allowed),
        p1_crossing=rules.allow_p1_crossing,
        names=" or ".join(sorted(allowed)),
    )


_NO_RULES = Residence()


def may_hold(team: Team, escalation: Escalation, policy: Policy) -> bool:
    """May `team` hold the case of `escalation` under `policy`?"""
    return residence(escalation, policy).may_hold(team)


class Crossing(msgspec.Struct, frozen=True, kw_only=True):
    """A P1 given to a team outside its customer's allowed regions, as the policy's
    `allow_p1_crossing` permits; the decision carries it and the move writes it as a
    `residency_crossed` audit event."""

    region: str  # the customer region, "EU"
    allowed: list[str]  # the team regions allowed, ["EMEA"]
    team: str  # the team that holds it now
    team_region: str  # that team's region, "AMER"

    def detail(self) -> dict[str, str]:
        """The audit event's detail (strings, as every event detail is)."""
        return {
            "customer_region": self.region,
            "allowed_regions": ", ".join(self.allowed),
            "team": self.team,
            "team_region": self.team_region or "(none)",
        }
