"""The team editor's form: HTML fields to a team document and back, and which field an
error belongs to (so the message is shown next to it)."""

from __future__ import annotations

import re
from typing import Any

from ..domain.model import DAYS, TeamSpec

__all__ = ["field_of", "form_rows", "spec_data"]


def _list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]


def spec_data(form: Any) -> dict[str, Any]:
    """The TOML-shaped document a submitted form describes (validated by the caller with
    the same code as files and the API). `form` is a multidict (getall for checkboxes)."""
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "region": form.get("region", "").strip(),
        "timezone": form.get("timezone", "").strip(),
        "languages": _list(form.get("languages", "")),
        "skills": _list(form.get("skills", "")),
    }
    tier = form.get("tier", "").strip()
    data["tier"] = int(tier) if tier.isdigit() else tier
    for key in ("escalates_to", "capacity"):
        value = form.get(key, "").strip()
        if value:
            data[key] = int(value) if key == "capacity" and value.isdigit() else value
    country = form.get("holidays-country", "").strip()
    if country:
        data["holidays"] = {"country": country}
        if form.get("holidays-subdiv", "").strip():
            data["holidays"]["subdiv"] = form.get("holidays-subdiv").strip()
    data.update(_notify_fields(form))
    shifts = []
    for i in _indexes(form, "shifts"):
        if form.get(f"shifts-{i}-remove"):
            continue
        start, end = (
            form.get(f"shifts-{i}-start", "").strip(),
            form.get(f"shifts-{i}-end", "").strip(),
        )
        days = form.getall(f"shifts-{i}-days", [])
        if not (start or end or days):
            continue  # the blank row for adding a shift
        rule: dict[str, Any] = {"days": days, "start": start, "end": end}
        for key in ("from", "until"):
            if form.get(f"shifts-{i}-{key}", "").strip():
                rule[key] = form.get(f"shifts-{i}-{key}").strip()
        shifts.append(rule)
    data["shifts"] = shifts
    overrides = []
    for i in _indexes(form, "overrides"):
        if form.get(f"overrides-{i}-remove"):
            continue
        day = form.get(f"overrides-{i}-date", "").strip()
        if not day:
            continue
        entry: dict[str, Any] = {"date": day}
        if form.get(f"overrides-{i}-closed"):
            entry["closed"] = True
        else:
            entry["start"] = form.get(f"overrides-{i}-start", "").strip()
            entry["end"] = form.get(f"overrides-{i}-end", "").strip()
        overrides.append(entry)
    data["overrides"] = overrides
    return data


def _notify_fields(form: Any) -> dict[str, Any]:
    """`locale` and `notify` (left out when blank: English, nobody told)."""
    data: dict[str, Any] = {}
    if form.get("locale", "").strip():
        data["locale"] = form.get("locale").strip()
    notify: dict[str, Any] = {
        key: form.get(f"notify-{key}", "").strip()
        for key in ("slack", "teams")
        if form.get(f"notify-{key}", "").strip()
    }
    if emails := _list(form.get("notify-email", "")):
        notify["email"] = emails
    if notify:
        data["notify"] = notify
    return data


def _indexes(form: Any, name: str) -> list[int]:
    found = {int(m.group(1)) for key in form if (m := re.match(rf"{name}-(\d+)-", key))}
    return sorted(found)


def field_of(path: str) -> str:
    """`shifts[2].start` -> `shifts-2-start` (the form field's name); top-level as is."""
    m = re.match(r"(shifts|overrides)\[(\d+)\](?:\.(\w+))?", path)
    if m:
        return f"{m.group(1)}-{m.group(2)}" + (f"-{m.group(3)}" if m.group(3) else "")
    if path.startswith("holidays"):
        return "holidays-" + (path.split(".", 1)[1] if "." in path else "country")
    if path.startswith("notify."):  # notify.email[1] -> notify-email
        return "notify-" + path.split(".", 1)[1].split("[")[0]
    return path.split(".")[0].split("[")[0]


def form_rows(spec: TeamSpec | dict[str, Any]) -> dict[str, Any]:
    """What the template shows: the document's values, plus one blank row to add to."""
    data = spec if isinstance(spec, dict) else _as_dict(spec)
    shifts = [dict(s) for s in data.get("shifts", [])]
    shifts.append({"days": [], "start": "", "end": "", "new": True})
    overrides = [dict(o) for o in data.get("overrides", [])]
    overrides.append({"date": "", "new": True})
    return {**data, "shifts": shifts, "overrides": overrides, "all_days": DAYS}


def _as_dict(spec: TeamSpec) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(spec)
