"""An escalation as intake systems send it, and its checks."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import msgspec

from .errors import InputError
from .language import Lang, parse_lang
from .model import Flag, Level, Policy, Priority
from .timeline import parse_zone

__all__ = ["Customer", "Escalation"]

Text = Annotated[str, msgspec.Meta(max_length=20_000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]


@lru_cache(maxsize=4096)
def _accepts(tags: tuple[str, ...]) -> tuple[Lang, ...]:
    return tuple(parse_lang(t, f"customer.accepts[{i}]") for i, t in enumerate(tags))


class Customer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Short
    locale: Short = "en"
    timezone: Short = "UTC"
    accepts: Annotated[list[Short], msgspec.Meta(max_length=20)] = []
    vip: bool = False
    name: Short = ""
    email: Short = ""
    region: Short = ""  # a customer region of policy [residency]; "" = by source or default


class Escalation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    customer: Customer
    language: Short | None = None
    skill: Short | None = None
    priority: Priority | None = None
    impact: Level | None = None
    urgency: Level | None = None
    flags: Annotated[list[Flag], msgspec.Meta(max_length=5)] = []
    summary: Text = ""
    steps_taken: Annotated[list[Text], msgspec.Meta(max_length=100)] = []
    impact_assessment: Text = ""
    help_needed: Text = ""
    source: Short = ""
    external_id: Short = ""
    # what intake could not take as sent (a helpdesk zone name we cannot place, say)
    intake_notes: Annotated[list[Short], msgspec.Meta(max_length=10)] = []

    def check(self, policy: Policy | None = None) -> None:
        """Raise InputError naming the field when a value is well-typed but wrong. With the
        `policy`, `customer.region` must be one of its `[residency]` regions."""
        if policy is not None and self.customer.region:
            regions = policy.residency.regions if policy.residency else {}
            if self.customer.region not in regions:
                known = ", ".join(sorted(regions)) or "none: policy.toml has no [residency]"
                raise InputError(
                    "customer.region", f"{self.customer.region!r} is not a region ({known})"
                )
        parse_zone(self.customer.timezone, "customer.timezone")
        parse_lang(self.customer.locale, "customer.locale")
        for i, tag in enumerate(self.customer.accepts):
            parse_lang(tag, f"customer.accepts[{i}]")
        if self.language is not None:
            parse_lang(self.language, "language")
        if self.priority is None and (self.impact is None or self.urgency is None):
            missing = "impact" if self.impact is None else "urgency"
            raise InputError(missing, "give either priority or both impact and urgency")

    def wanted(self) -> Lang:
        """The language the customer should be served in."""
        if self.language is not None:
            return parse_lang(self.language, "language")
        return parse_lang(self.customer.locale, "customer.locale")

    def accepts(self) -> tuple[Lang, ...]:
        """The fallback languages (validated by `check`, so parsing here is a cache hit)."""
        return _accepts(tuple(self.customer.accepts))

    def priority_for(self, policy: Policy) -> Priority:
        if self.priority is not None:
            return self.priority
        if self.impact is None or self.urgency is None:
            raise InputError("priority", "give either priority or both impact and urgency")
        return policy.priority_of(self.impact, self.urgency)

    def triggers(self, policy: Policy) -> list[str]:
        """Flags (and the customer's VIP status) that call for immediate escalation."""
        flags = set(self.flags) | ({"vip"} if self.customer.vip else set())
        return sorted(f for f in flags if f in policy.escalate_flags)
