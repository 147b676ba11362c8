"""TOML documents into strict structs, reporting every structural problem with its path."""

from __future__ import annotations

import difflib
import re
import tomllib
from typing import Any

import msgspec

from ..errors import Problem, ScheduleError
from ..model import Override, ShiftRule, TeamSpec
from ._team import check_times

_FIELD_MESSAGES = (
    (re.compile(r"Object contains unknown field `(.+)`"), "unknown field (check the spelling)"),
    (re.compile(r"Object missing required field `(.+)`"), "required field is missing"),
)


def located(source: str, err: msgspec.ValidationError, prefix: str = "") -> Problem:
    """msgspec says "... - at `$.shifts[0].from`"; we say `shifts[0].from: ...`."""
    text = str(err)
    path = ""
    if " - at `$" in text:
        text, _, where = text.rpartition(" - at `$")
        path = where.rstrip("`").lstrip(".")
    if prefix:
        path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
    if text.startswith("Invalid enum value") and re.search(r"days\[\d+\]$", path):
        day = text.removeprefix("Invalid enum value").strip()
        return Problem(
            source=source, path=path, message=f"{day} is not a day (mon tue wed thu fri sat sun)"
        )
    for pattern, message in _FIELD_MESSAGES:
        if found := pattern.match(text):
            field = found.group(1)
            return Problem(
                source=source, path=f"{path}.{field}" if path else field, message=message
            )
    return Problem(source=source, path=path, message=text)


def load_toml(source: str, text: str | bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(text.decode() if isinstance(text, bytes) else text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ScheduleError(
            [Problem(source=source, path="", message=f"not valid TOML: {err}")]
        ) from None


def decode_team(team_id: str, text: str | bytes, source: str) -> TeamSpec:
    """TOML text into a TeamSpec, strictly (unknown keys are errors)."""
    return convert_team(team_id, load_toml(source, text), source)


def convert_team(team_id: str, data: Any, source: str) -> TeamSpec:
    """Decode strictly, but report every structural problem of the document, not the first."""
    if not isinstance(data, dict):
        data = {"": data}
    problems: list[Problem] = []
    parts: dict[str, list[Any]] = {}
    for name, type_ in (("shifts", ShiftRule), ("overrides", Override)):
        items = data.get(name, [])
        if not isinstance(items, list):
            continue
        parts[name] = []
        for i, item in enumerate(items):
            value, found = _convert_all(item, type_, source, f"{name}[{i}]")
            problems += found
            if found and isinstance(item, dict) and isinstance(item.get("start"), str):
                # the times are checked later for a valid item; say it now for a broken one
                check_times(source, f"{name}[{i}]", item.get("start"), item.get("end"), problems)
            parts[name].append(value)
    top = {k: ([] if k in parts else v) for k, v in data.items()}
    spec, found = _convert_all(top, TeamSpec, source, "")
    problems += found
    if problems or spec is None:
        raise ScheduleError(problems)
    return msgspec.structs.replace(spec, **parts)


def _convert_all(
    data: Any, type_: type[Any], source: str, prefix: str
) -> tuple[Any, list[Problem]]:
    """msgspec stops at the first error; drop the offending key and go on to find the rest."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        try:
            return msgspec.convert(data, type_), []
        except msgspec.ValidationError as err:
            return None, [located(source, err, prefix)]
    data = dict(data)
    dropped: set[str] = set()
    suggested: set[str] = set()
    fields = [f.encode_name for f in msgspec.structs.fields(type_)]
    for _ in range(len(data) + 1):
        try:
            value = msgspec.convert(data, type_)
        except msgspec.ValidationError as err:
            problem = located(source, err, prefix)
            rel = problem.path[len(prefix) :].lstrip(".") if prefix else problem.path
            key = re.split(r"[.\[]", rel, maxsplit=1)[0]
            if problem.message == "required field is missing" and (
                key in dropped or key in suggested
            ):
                break
            if problem.message.startswith("unknown field") and rel == key:
                problem = _suggest(problem, key, fields, suggested)
            problems.append(problem)
            if key not in data:
                break
            del data[key]
            dropped.add(key)
        else:
            return (None if problems else value), problems
    return None, problems


def _suggest(problem: Problem, key: str, fields: list[str], suggested: set[str]) -> Problem:
    """An unknown key close to a field's name: say which (and remember it was suggested)."""
    close = difflib.get_close_matches(key, fields, n=1)
    if not close:
        return problem
    suggested.add(close[0])
    return msgspec.structs.replace(problem, message=f'unknown field (did you mean "{close[0]}"?)')
