"""policy.toml `[retention]`: days per customer region, each a sane number of days, each
region one `[residency]` knows (when it is there) or `default`."""

from __future__ import annotations

from ..errors import Problem
from ..model import Policy

MAX_DAYS = 36_500  # a hundred years: more is a typo, not a policy


def retention_problems(policy: Policy, source: str) -> list[Problem]:
    ret = policy.retention
    if ret is None:
        return []
    problems: list[Problem] = []
    regions = set(policy.residency.regions) if policy.residency is not None else None
    known = ", ".join(sorted(regions or ())) or "none"
    for region, days in ret.days.items():
        path = f"retention.days.{region}"
        if not region.strip():
            problems.append(
                Problem(source=source, path="retention.days", message="a region needs a name")
            )
        elif regions is not None and region != "default" and region not in regions:
            message = f"{region} is not a region of residency.regions ({known}) nor default"
            problems.append(Problem(source=source, path=path, message=message))
        if not 1 <= days <= MAX_DAYS:
            message = f"must be a whole number of days from 1 to {MAX_DAYS}"
            problems.append(Problem(source=source, path=path, message=message))
    return problems
