"""policy.toml: decoded strictly, then checked as a whole (matrix complete, targets sane)."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from ..errors import Problem, ScheduleError
from ..model import Policy
from ._documents import load_toml, located
from ._intake import intake_problems
from ._residency import residency_problems, residency_shape_problems
from ._retention import retention_problems

_LEVELS = ("high", "medium", "low")
_PRIORITIES = ("P1", "P2", "P3", "P4")


def decode_policy(text: str | bytes, source: str = "policy.toml") -> Policy:
    data = load_toml(source, text)
    problems = intake_problems(data.get("intake"), source)  # located by key, not `[...]`
    blank = {"intake": {}} if problems else {}
    if shape := residency_shape_problems(data.get("residency"), source):  # so are these
        problems, blank = [*problems, *shape], blank | {"residency": None}
    try:
        policy = msgspec.convert(data | blank, Policy)
    except msgspec.ValidationError as err:
        raise ScheduleError([*problems, located(source, err)]) from None
    problems += [*_matrix_problems(policy, source), *_target_problems(policy, source)]
    problems += residency_problems(policy, source)
    problems += retention_problems(policy, source)
    if policy.min_shift_left < timedelta(0):
        problems.append(
            Problem(source=source, path="min_shift_left", message="must not be negative")
        )
    if problems:
        raise ScheduleError(problems)
    return policy


def _matrix_problems(policy: Policy, source: str) -> list[Problem]:
    return [
        Problem(
            source=source,
            path=f"matrix.{impact}.{urgency}",
            message="missing (every impact × urgency needs a priority)",
        )
        for impact in _LEVELS
        for urgency in _LEVELS
        if urgency not in policy.matrix.get(impact, {})  # type: ignore[call-overload]
    ]


def _target_problems(policy: Policy, source: str) -> list[Problem]:
    problems: list[Problem] = []
    for priority in _PRIORITIES:
        path = f"priorities.{priority}"
        targets = policy.priorities.get(priority)  # type: ignore[call-overload]
        if targets is None:
            problems.append(Problem(source=source, path=path, message="missing"))
            continue
        for name in ("acknowledge", "update", "resolve"):
            if getattr(targets, name) <= timedelta(0):
                problems.append(
                    Problem(
                        source=source, path=f"{path}.{name}", message="must be a positive duration"
                    )
                )
        if targets.tier < 1:
            problems.append(
                Problem(source=source, path=f"{path}.tier", message="must be 1 or more")
            )
    return problems
