"""Escalation reports: the aggregation with plain values, the summary index the commit keeps,
and `GET /v1/reports` over a real Redis with cases driven through the API and the clock;
every number checked against what the test recomputes from `/v1/cases/{id}/events`."""

from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from conftest import API_NOW, ROOT, token
from harness import Harness
from redis.asyncio import Redis

from router.domain.case import CaseEvent, acknowledge
from router.domain.errors import VersionConflict
from router.domain.facts import Facts, apply, event_changes, facts_of, ms, summary_words
from router.domain.repeats import repeats
from router.domain.report_charts import hourly, weekly
from router.domain.report_csv import COLUMNS, report_csv
from router.domain.reports import build_report, spread
from router.domain.stats import percentile
from router.store import Backfill

OPS, VIEWER, INTAKE = token("ops"), token("viewer"), token("intake")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
HOUR_TD = timedelta(hours=1)
TARGETS = {
    "P1": (timedelta(minutes=15), timedelta(hours=4)),
    "P2": (timedelta(hours=1), timedelta(days=1)),
    "P3": (timedelta(hours=4), timedelta(days=3)),
    "P4": (timedelta(hours=8), timedelta(days=7)),
}


def fact(n: int, created: int = 0, **fields: Any) -> Facts:
    """Case `n`, opened `created` ms after T0; its instants given as ms after its opening
    (assigned at once unless told otherwise)."""
    at = ms(T0) + created
    data: dict[str, Any] = {"team": "t1", "tier": 1, "language": "en", "priority": "P3"}
    data.update({"assigned": 0, **fields})
    for name in ("assigned", "acknowledged", "resolved", "unroutable"):
        if data.get(name) is not None:
            data[name] = at + data[name]
    return Facts(case=f"C-{n}", created=at, **data)


# -- plain values --------------------------------------------------------------------------------


def test_percentiles_are_nearest_rank_observations() -> None:
    """p50 and p90 are the nearest-rank observations, never interpolated."""
    assert [percentile([1, 2, 3, 4], p) for p in (50, 90)] == [2, 4]
    assert [percentile([5], p) for p in (50, 90)] == [5, 5]
    values = list(range(1, 11))
    assert [percentile(values, p) for p in (50, 90)] == [5, 9]
    assert spread([3000, 1000, 2000]) == spread([1000, 2000, 3000])
    assert spread([]).count == 0
    assert spread([]).p50 is None
    assert spread([60_000, 120_000]).p90 == 120.0


def test_summary_words_ignore_order_case_numbers_and_stop_words() -> None:
    """Two phrasings of one problem give the same topic; numbers and stop words drop out."""
    one = summary_words("The March invoice is charged twice!")
    assert one == "charged invoice march twice"
    assert summary_words("Invoice 4711 charged TWICE in March") == one
    assert summary_words("It is not working") == "working"
    assert summary_words("") == ""
    assert summary_words("請求書が二重に請求された") == "請求書が二重に請求された"


def test_the_fold_takes_first_instants_and_counts_moves() -> None:
    """First acknowledgement and resolution count; handovers and escalations add up."""

    def ev(kind: str, minute: int, status: str, **detail: str) -> CaseEvent:
        at = T0 + timedelta(minutes=minute)
        return CaseEvent(case="C-1", type=kind, at=at, actor="x", status=status, detail=detail)

    events = [
        ev("received", 0, "waiting", action="wait"),
        ev("assigned", 30, "assigned"),
        ev("acknowledged", 40, "acknowledged"),
        ev("handed_over", 50, "assigned"),
        ev("acknowledged", 55, "acknowledged"),
        ev("escalated", 60, "unroutable"),
        ev("reassigned", 70, "assigned"),
        ev("resolved", 90, "resolved"),
        ev("feedback", 95, "resolved", rating="5"),
    ]
    record: dict[str, int | str] = {}
    for e in events:
        apply(record, event_changes(e))
    at = ms(T0)
    assert record == {
        "created": at,
        "assigned": at + 30 * MIN,
        "acknowledged": at + 40 * MIN,
        "handovers": 1,
        "unroutable": at + 60 * MIN,
        "escalations": 1,
        "resolved": at + 90 * MIN,
        "rating": 5,
    }


def test_a_report_of_plain_facts() -> None:
    """Volume, spreads, waiting, unroutable and ratings per group, and the total."""
    facts = [
        fact(1, 0, acknowledged=10 * MIN, resolved=2 * HOUR, rating=5),
        fact(2, 0, acknowledged=30 * MIN, resolved=4 * HOUR, handovers=1, rating=3),
        fact(3, 0, team="t2", assigned=None, unroutable=0),
        fact(4, 0, team="t2", assigned=HOUR, acknowledged=2 * HOUR, escalations=2),
        fact(5, 0, team="", assigned=None),
    ]
    now = T0 + timedelta(days=1)
    report = build_report(
        facts,
        start=T0,
        end=T0 + timedelta(days=1),
        group="team",
        now=now,
        targets=TARGETS,
        regions={"t1": "EMEA"},
    )
    rows = {r.key: r for r in report.groups}
    assert [r.key for r in report.groups] == ["t1", "t2", "(none)"]
    t1, t2 = rows["t1"], rows["t2"]
    assert (t1.cases, t1.acknowledge.p50, t1.acknowledge.p90) == (2, 600.0, 1800.0)
    assert (t1.resolve.count, t1.resolve.p50, t1.resolve.p90) == (2, 7200.0, 14400.0)
    assert (t1.handovers, t1.handovers_per_case, t1.ratings, t1.rating_mean) == (1, 0.5, 2, 4.0)
    assert (t2.unroutable, t2.waited, t2.still_waiting, t2.wait.p50) == (1, 2, 1, 3600.0)
    assert t2.escalations_per_case == 1.0
    assert report.total.cases == 5
    assert report.total.still_waiting == 2
    (p3,) = [t for t in report.targets if t.priority == "P3"]
    # acknowledged within 4 h: 1, 2 and 4 (2 h); 3 and 5 were never, and 4 h have passed
    assert (p3.acknowledge_met, p3.acknowledge_missed, p3.acknowledge_share) == (3, 2, 0.6)
    # resolved within 3 days: 1 and 2; the others' three days are still ahead
    assert (p3.resolve_met, p3.resolve_missed, p3.resolve_share) == (2, 0, 1.0)
    assert [(r.key, r.count, r.counts) for r in report.ratings_by_team] == [
        ("t1", 2, [0, 0, 1, 0, 1])
    ]
    by_region = build_report(
        facts, start=T0, end=now, group="region", now=now, targets=TARGETS, regions={"t1": "EMEA"}
    )
    assert {r.key: r.cases for r in by_region.groups} == {"EMEA": 2, "(none)": 3}


def test_a_target_still_ahead_counts_neither_way() -> None:
    """An open case whose target has not passed is not yet a miss."""
    facts = [fact(1, 0, priority="P1"), fact(2, 0, priority="P1", acknowledged=20 * MIN)]
    early = build_report(
        facts,
        start=T0,
        end=T0 + HOUR_TD,
        group="priority",
        now=T0 + timedelta(minutes=10),
        targets=TARGETS,
        regions={},
    )
    (p1,) = [t for t in early.targets if t.priority == "P1"]
    assert (p1.acknowledge_met, p1.acknowledge_missed, p1.acknowledge_share) == (0, 1, 0.0)
    late = build_report(
        facts,
        start=T0,
        end=T0 + HOUR_TD,
        group="priority",
        now=T0 + HOUR_TD,
        targets=TARGETS,
        regions={},
    )
    (p1,) = [t for t in late.targets if t.priority == "P1"]
    assert (p1.acknowledge_met, p1.acknowledge_missed) == (0, 2)


def test_repeats_chain_within_thirty_days_and_reach_the_window() -> None:
    """Cases of one customer chain while each is within 30 days of the one before; a chain
    counts when it reaches the window, and its earlier cases count too."""
    words = summary_words("Invoice charged twice")
    facts = [
        fact(1, -20 * DAY, customer="acme", skill="billing", words=words),  # before the window
        fact(2, 2 * DAY, customer="acme", skill="billing", words="refund late"),
        fact(3, 5 * DAY, customer="globex", skill="billing", words=words),
        fact(4, 50 * DAY, customer="globex"),  # 45 days after its predecessor: a new chain
        fact(5, -60 * DAY, customer="initech"),
        fact(6, -45 * DAY, customer="initech"),  # a chain that ends before the window
        fact(7, 3 * DAY, customer="initech", skill="platform", words=words),
    ]
    found = repeats(facts, T0)
    by_customer = {r.customer: r for r in found if r.kind == "customer"}
    assert set(by_customer) == {"acme"}
    assert (by_customer["acme"].cases, by_customer["acme"].ids) == (2, ["C-2", "C-1"])
    topics = [(r.skill, r.words, r.cases, r.ids) for r in found if r.kind == "topic"]
    assert topics == [("billing", words, 2, ["C-3", "C-1"])]  # platform is another skill


def test_weeks_and_hours_of_the_charts() -> None:
    """Resolve times by tier and week (Monday UTC); volume by language and local hour."""
    facts = [
        fact(1, 0, resolved=HOUR),
        fact(2, DAY, resolved=3 * HOUR),
        fact(3, 7 * DAY, tier=2, resolved=2 * HOUR),
        fact(4, 0, language="de", resolved=None),
    ]
    rows = [(w.week, w.tier, w.cases, w.p50, w.p90) for w in weekly(facts)]
    assert rows == [
        (date(2026, 11, 2), 1, 2, 3600.0, 10800.0),
        (date(2026, 11, 9), 2, 1, 7200.0, 7200.0),
    ]
    utc = {(c.language, c.hour): c.cases for c in hourly(facts)}
    assert utc == {("en", 9): 3, ("de", 9): 1}
    kolkata = {(c.language, c.hour): c.cases for c in hourly(facts, "Asia/Kolkata")}
    assert kolkata == {("en", 14): 3, ("de", 14): 1}  # 09:00Z is 14:30 in India


def test_csv_has_a_row_per_group_and_the_total() -> None:
    facts = [fact(1, 0, acknowledged=MIN), fact(2, 0, team="t2")]
    report = build_report(
        facts, start=T0, end=T0 + HOUR_TD, group="team", now=T0 + HOUR_TD, targets={}, regions={}
    )
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert tuple(rows[0]) == COLUMNS
    assert [r[:3] for r in rows[1:]] == [
        ["team", "t1", "1"],
        ["team", "t2", "1"],
        ["total", "total", "2"],
    ]
    assert rows[1][COLUMNS.index("acknowledge_p50_s")] == "60.0"
    assert rows[2][COLUMNS.index("acknowledge_p50_s")] == ""


# -- the API over a real Redis ---------------------------------------------------------------


@pytest.fixture
async def svc(redis_url: str, key_prefix: str, policy: Any) -> AsyncIterator[Harness]:
    """The deployment's services on a client of the test's own (the app's run elsewhere):
    the shift-end jobs the worker would run, and the report's two ways of counting."""
    client = Redis.from_url(redis_url)
    harness = Harness(client, policy, prefix=key_prefix)
    yield harness
    harness.close()
    await client.aclose()


def body(
    external_id: str, locale: str, priority: str, customer: str, summary: str, **kw: Any
) -> dict:
    return {
        "source": "test",
        "external_id": external_id,
        "priority": priority,
        "skill": kw.pop("skill", "billing"),
        "summary": summary,
        "customer": {"id": customer, "locale": locale},
        **kw,
    }


async def post(api: Any, path: str, json: Any = None, headers: Any = OPS) -> dict:
    answer = await api.post(path, json=json, headers=headers)
    assert answer.status_code in (200, 201), (path, answer.text)
    return answer.json()


def status_path(case: dict[str, Any]) -> str:
    return "/status/" + case["status_url"].rsplit("/status/", 1)[1]


async def drive(api: Any, clock: Any, svc: Harness) -> dict[str, dict[str, Any]]:
    """Six cases through a Monday (from 09:00Z): acknowledged, escalated, handed over at a
    shift end, waiting for their team, unroutable then reassigned, rated by customers."""
    specs = {
        "a": ("nl-NL", "P2", "cust-a", "The March invoice is charged twice"),
        "b": ("de-DE", "P2", "cust-a", "Invoice charged twice in March!"),
        "c": ("fr-FR", "P1", "cust-c", "Checkout is down"),
        "d": ("pt-BR", "P4", "cust-d", "Where is my parcel"),
        "e": ("pt-BR", "P2", "cust-e", "Refund never arrived"),
        "f": ("es-MX", "P3", "cust-f", "Cannot change my address"),
    }
    cases = {
        k: await post(api, "/v1/escalations", body(f"rep-{k}", *v), INTAKE)
        for k, v in specs.items()
    }
    assert [cases[k]["status"] for k in "abcdef"] == [
        "assigned",
        "assigned",
        "assigned",
        "waiting",
        "unroutable",
        "assigned",
    ]
    ids = {k: c["id"] for k, c in cases.items()}

    async def at(hh: int, mm: int) -> None:
        clock.now = API_NOW.replace(hour=hh, minute=mm)

    await at(9, 10)
    await post(api, f"/v1/cases/{ids['a']}/ack")
    await at(9, 20)
    await post(api, f"/v1/cases/{ids['c']}/ack")  # P1: 20 min, past its 15 min target
    await at(9, 30)
    await post(api, f"/v1/cases/{ids['b']}/ack")
    await post(api, f"/v1/cases/{ids['e']}/reassign", {"team": "mad-l1", "reason": "Spanish ok"})
    await at(9, 40)
    await post(api, f"/v1/cases/{ids['e']}/ack")
    await at(10, 0)
    await post(api, f"/v1/cases/{ids['b']}/escalate", {"reason": "needs a refund approval"})
    await post(api, f"/v1/cases/{ids['e']}/resolve", {"resolution": "refund re-sent"})
    await at(10, 15)
    await post(api, f"/v1/cases/{ids['b']}/ack")
    await at(11, 0)
    await post(api, f"/v1/cases/{ids['c']}/resolve", {"resolution": "rolled back"})
    assert await svc.handover.wake_waiting(clock.now) == 1  # sao-l1 is on: d assigned
    await at(12, 0)
    await post(api, f"/v1/cases/{ids['b']}/resolve", {"resolution": "refunded"})
    await at(16, 0)
    handover = await svc.handover.hand_over("ams-l1", clock.now)
    assert sum(handover.moved.values()) == 1, handover
    await at(16, 20)
    await post(api, f"/v1/cases/{ids['a']}/ack")
    await at(17, 0)
    await post(api, f"/v1/cases/{ids['a']}/resolve", {"resolution": "credit note sent"})
    await at(17, 30)
    for key, rating in (("c", "4"), ("e", "2")):
        answer = await api.post(
            status_path(cases[key]),
            data={"rating": rating, "comment": "ok"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    return cases


def first(events: list[dict], kind: str) -> int | None:
    found = [e["at"] for e in events if e["type"] == kind]
    return instant(found[0]) if found else None


def instant(text: str) -> int:
    return ms(datetime.fromisoformat(text))


def since(at: int | None, created: int) -> int | None:
    return None if at is None else at - created


def by_hand(case: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the report should know of one case, worked out here from its events (and its
    document for where it stands now, who asked and about what)."""
    created = instant(events[0]["at"])
    assert events[0]["type"] == "received"
    held = [e for e in events if e["status"] not in ("waiting", "unroutable")]
    ratings = [int(e["detail"]["rating"]) for e in events if e["type"] == "feedback"]
    esc = case["escalation"]
    return {
        "id": case["id"],
        "team": case["team"] or "(none)",
        "team_id": case["team"] or "",
        "tier": str(case["tier"]),
        "priority": case["priority"],
        "language": case["language"],
        "customer": esc["customer"]["id"],
        "topic": (esc.get("skill") or "", summary_words(esc["summary"])),
        "opened": events[0]["at"],
        "created": created,
        "ack": since(first(events, "acknowledged"), created),
        "resolve": since(first(events, "resolved"), created),
        "assigned": instant(held[0]["at"]) - created if held else None,
        "handovers": sum(e["type"] == "handed_over" for e in events),
        "escalations": sum(e["type"] == "escalated" for e in events),
        "unroutable": any(e["status"] == "unroutable" for e in events),
        "rating": ratings[0] if ratings else None,
    }


def nearest(values: list[int], p: int) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1] / 1000 if ordered else None


def expected_row(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    def spread_of(values: list[int]) -> dict[str, Any]:
        return {"count": len(values), "p50": nearest(values, 50), "p90": nearest(values, 90)}

    waited = [i for i in items if i["assigned"] != 0]
    ratings = [i["rating"] for i in items if i["rating"] is not None]
    n = len(items)
    return {
        "key": key,
        "cases": n,
        "acknowledge": spread_of([i["ack"] for i in items if i["ack"] is not None]),
        "resolve": spread_of([i["resolve"] for i in items if i["resolve"] is not None]),
        "handovers": sum(i["handovers"] for i in items),
        "escalations": sum(i["escalations"] for i in items),
        "handovers_per_case": round(sum(i["handovers"] for i in items) / n, 3),
        "escalations_per_case": round(sum(i["escalations"] for i in items) / n, 3),
        "unroutable": sum(i["unroutable"] for i in items),
        "waited": len(waited),
        "still_waiting": sum(i["assigned"] is None for i in waited),
        "wait": spread_of([i["assigned"] for i in waited if i["assigned"] is not None]),
        "ratings": len(ratings),
        "rating_mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


def expected_groups(items: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """The groups' rows: tiers and priorities in their order, the others busiest first."""
    buckets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        buckets[item[group]].append(item)
    rows = [expected_row(k, v) for k, v in buckets.items()]
    if group == "tier":
        return sorted(rows, key=lambda r: int(r["key"]))
    if group == "priority":
        return sorted(rows, key=lambda r: r["key"])
    return sorted(rows, key=lambda r: (-r["cases"], r["key"]))


def expected_targets(
    items: list[dict[str, Any]], targets: dict[str, tuple[timedelta, timedelta]], now: int
) -> list[dict[str, Any]]:
    out = []
    for priority in sorted(set(targets) | {i["priority"] for i in items}):
        mine = [i for i in items if i["priority"] == priority]
        row: dict[str, Any] = {"priority": priority, "cases": len(mine)}
        for kind, name, target in zip(
            ("ack", "resolve"), ("acknowledge", "resolve"), targets[priority], strict=True
        ):
            met, missed = verdicts(mine, kind, target // timedelta(milliseconds=1), now)
            row[f"{name}_target_s"] = target.total_seconds()
            row[f"{name}_met"], row[f"{name}_missed"] = met, missed
            row[f"{name}_share"] = round(met / (met + missed), 4) if met + missed else None
        out.append(row)
    return out


def expected_ratings(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    found: dict[str, list[int]] = defaultdict(list)
    for i in items:
        if i["rating"] is not None:
            found[i[key]].append(i["rating"])
    rows = [
        {
            "key": k,
            "count": len(v),
            "mean": round(sum(v) / len(v), 2),
            "counts": [v.count(r) for r in range(1, 6)],
        }
        for k, v in found.items()
    ]
    return sorted(rows, key=lambda r: (-r["count"], r["key"]))


def expected_repeats(items: list[dict[str, Any]], since: int) -> list[dict[str, Any]]:
    """Chains of one customer, then of one topic, each case within 30 days of the one
    before, two or more, reaching the window: most cases first, then the latest."""
    out = []
    for kind in ("customer", "topic"):
        chains: dict[Any, list[list[dict[str, Any]]]] = defaultdict(list)
        for i in sorted(items, key=lambda i: (i["created"], i["id"])):
            key = i[kind]
            if kind == "topic" and not key[1]:
                continue
            runs = chains[key]
            if not runs or i["created"] - runs[-1][-1]["created"] > 30 * DAY:
                runs.append([])
            runs[-1].append(i)
        found = [
            (key, run)
            for key, runs in chains.items()
            for run in runs
            if len(run) > 1 and run[-1]["created"] >= since
        ]
        found.sort(key=lambda f: (-len(f[1]), -f[1][-1]["created"]))
        out += [
            {
                "kind": kind,
                "customer": key if kind == "customer" else "",
                "skill": key[0] if kind == "topic" else "",
                "words": key[1] if kind == "topic" else "",
                "cases": len(run),
                "first": run[0]["opened"],
                "last": run[-1]["opened"],
                "ids": [i["id"] for i in reversed(run)],
            }
            for key, run in found
        ]
    return out


def expected_charts(items: list[dict[str, Any]], zone: str) -> dict[str, list[dict[str, Any]]]:
    """Resolve times by tier and week opened (from Monday, UTC); volume by language and
    hour of the day in `zone`."""
    weeks: dict[tuple[str, int], list[int]] = defaultdict(list)
    hours: dict[tuple[str, int], int] = defaultdict(int)
    for i in items:
        opened = datetime.fromtimestamp(i["created"] / 1000, UTC)
        if i["resolve"] is not None:
            monday = opened.date() - timedelta(days=opened.weekday())
            weeks[(monday.isoformat(), int(i["tier"]))].append(i["resolve"])
        hours[(i["language"], opened.astimezone(ZoneInfo(zone)).hour)] += 1
    by_week = [
        {"week": w, "tier": t, "cases": len(v), "p50": nearest(v, 50), "p90": nearest(v, 90)}
        for (w, t), v in sorted(weeks.items())
    ]
    by_hour = [{"language": k, "hour": h, "cases": n} for (k, h), n in sorted(hours.items())]
    return {"by_week": by_week, "by_hour": by_hour}


async def recomputed(api: Any, cases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for case in cases.values():
        doc = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
        events = (await api.get(f"/v1/cases/{case['id']}/events", headers=OPS)).json()
        out.append(by_hand(doc, events))
    return out


async def test_the_whole_answer_is_what_the_events_say(api, clock, svc, policy) -> None:
    """For every grouping, in a zone not UTC, the whole answer equals the report worked out
    here from nothing but `/v1/cases/{id}`, its `/events`, the teams' regions and the
    policy's targets: groups and total, targets, ratings, repeats and the charts."""
    cases = await drive(api, clock, svc)
    items = await recomputed(api, cases)
    teams = (await api.get("/v1/teams", headers=OPS)).json()
    regions = {t["id"]: t["region"] for t in teams}
    for i in items:
        i["region"] = regions.get(i["team_id"], "") or "(none)"
    targets = {p: (t.acknowledge, t.resolve) for p, t in policy.priorities.items()}
    zone = "America/Sao_Paulo"  # 09:00Z is 06:00 there
    start = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # midnight in São Paulo
    for group in ("team", "tier", "language", "priority", "region"):
        params = {"from": "2026-11-23", "to": "2026-11-23", "group": group, "tz": zone}
        answer = await api.get("/v1/reports", params=params, headers=VIEWER)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert (report["from"], report["to"]) == ("2026-11-23T03:00:00Z", "2026-11-24T03:00:00Z")
        expected = {
            "group": group,
            "zone": zone,
            "total": expected_row("total", items),
            "groups": expected_groups(items, group),
            "targets": expected_targets(items, targets, ms(clock.now)),
            "ratings_by_team": expected_ratings(items, "team"),
            "ratings_by_language": expected_ratings(items, "language"),
            "repeats": expected_repeats(items, ms(start)),
            **expected_charts(items, zone),
        }
        assert {k: report[k] for k in expected} == expected
        assert set(report) == {*expected, "from", "to", "generated_at"}
    # the scenario's plain facts, as a reader would state them
    total = report["total"]
    assert (total["cases"], total["handovers"], total["escalations"]) == (6, 1, 1)
    assert (total["unroutable"], total["waited"], total["still_waiting"]) == (1, 2, 0)
    assert (total["ratings"], total["rating_mean"]) == (2, 3.0)
    assert total["wait"] == {"count": 2, "p50": 1800.0, "p90": 7200.0}  # e at 09:30, d at 11:00
    assert {(r["kind"], r["cases"]) for r in report["repeats"]} == {("customer", 2), ("topic", 2)}
    assert {h["hour"] for h in report["by_hour"]} == {6}
    assert {r["key"] for r in report["groups"]} == {"EMEA", "AMER"}


def verdicts(items: list[dict[str, Any]], kind: str, target: int, now: int) -> tuple[int, int]:
    """(met, missed): in time; late, or not yet although the target has passed."""
    met = sum(1 for i in items if i[kind] is not None and i[kind] <= target)
    late = sum(1 for i in items if i[kind] is not None and i[kind] > target)
    overdue = sum(1 for i in items if i[kind] is None and now - i["created"] > target)
    return met, late + overdue


async def test_share_within_target_per_priority(api, clock, svc) -> None:
    """Met and missed per priority by the policy's targets, judged from the events."""
    cases = await drive(api, clock, svc)
    items = await recomputed(api, cases)
    report = (await api.get("/v1/reports", params={"from": "2026-11-23"}, headers=OPS)).json()
    now = ms(clock.now)
    for row in report["targets"]:
        ack, res = (t // timedelta(milliseconds=1) for t in TARGETS[row["priority"]])
        mine = [i for i in items if i["priority"] == row["priority"]]

        assert (row["acknowledge_met"], row["acknowledge_missed"]) == verdicts(
            mine, "ack", ack, now
        )
        assert (row["resolve_met"], row["resolve_missed"]) == verdicts(mine, "resolve", res, now)
    by = {r["priority"]: r for r in report["targets"]}
    assert (by["P1"]["acknowledge_share"], by["P1"]["resolve_share"]) == (0.0, 1.0)
    assert (by["P4"]["acknowledge_met"], by["P4"]["acknowledge_missed"]) == (0, 1)  # 8 h passed


async def test_repeats_and_ratings_in_the_answer(api, clock, svc) -> None:
    """Two cases of cust-a about one invoice problem: a repeat by customer and by topic;
    the customers' ratings by team and by language."""
    cases = await drive(api, clock, svc)
    report = (await api.get("/v1/reports", headers=VIEWER)).json()
    repeats_ = {(r["kind"], r["customer"] or r["words"]): r for r in report["repeats"]}
    assert set(repeats_) == {("customer", "cust-a"), ("topic", "charged invoice march twice")}
    for r in repeats_.values():
        assert (r["cases"], sorted(r["ids"])) == (2, sorted([cases["a"]["id"], cases["b"]["id"]]))
    assert repeats_[("topic", "charged invoice march twice")]["skill"] == "billing"
    teams = {(r["key"], r["count"], r["mean"]) for r in report["ratings_by_team"]}
    assert teams == {("par-l1", 1, 4.0), ("mad-l1", 1, 2.0)}
    languages = {(r["key"], r["counts"][1], r["counts"][3]) for r in report["ratings_by_language"]}
    assert languages == {("fr-FR", 0, 1), ("pt-BR", 1, 0)}


async def test_the_index_agrees_with_replaying_every_event(api, clock, svc) -> None:
    """The summary index gives the report the raw events give, and each stored record is
    the fold of its case's events."""
    await drive(api, clock, svc)
    services = svc.services
    start, end = API_NOW.replace(hour=0), API_NOW.replace(hour=0) + timedelta(days=1)
    for group in ("team", "tier", "region"):
        fast = await services.reports.report(start, end, group, clock.now, "Europe/Amsterdam")
        slow = await services.reports.recompute(start, end, group, clock.now, "Europe/Amsterdam")
        assert msgspec.json.encode(fast) == msgspec.json.encode(slow)
    for case, events in await services.stores.facts.replay(start, end):
        assert await services.stores.facts.of(case) == facts_of(case, events)


async def test_a_losing_writer_leaves_the_facts_alone(api, clock, svc) -> None:
    """A commit refused on its version writes nothing to the summary index either."""
    case = await post(api, "/v1/escalations", body("lose-1", "de-DE", "P3", "c9", "x"), INTAKE)
    services = svc.services
    store = services.stores.cases
    stored = await store.get(case["id"])
    before = await services.stores.facts.of(stored)
    clock.advance(minutes=5)
    await post(api, f"/v1/cases/{case['id']}/ack")
    stale, event = acknowledge(stored, now=clock.now + timedelta(minutes=9), actor="late")
    with pytest.raises(VersionConflict):
        await store.commit(stored, stale, [event])
    after = await services.stores.facts.of(stored)
    assert before is not None
    assert before.acknowledged is None
    assert after is not None
    assert after.acknowledged == ms(API_NOW + timedelta(minutes=5))


async def test_csv_answer_matches_the_json(api, clock, svc) -> None:
    """`?format=csv`: a row per group and the total, the JSON's numbers."""
    await drive(api, clock, svc)
    params = {"from": "2026-11-23", "to": "2026-11-23", "group": "priority"}
    report = (await api.get("/v1/reports", params=params, headers=OPS)).json()
    answer = await api.get("/v1/reports", params={**params, "format": "csv"}, headers=OPS)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert (
        'filename="followsun-report-20261123-20261124-priority.csv"'
        in answer.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["key"] for r in rows] == [g["key"] for g in report["groups"]] + ["total"]
    for row, group in zip(rows, [*report["groups"], report["total"]], strict=True):
        assert int(row["cases"]) == group["cases"]
        p50 = group["resolve"]["p50"]
        assert row["resolve_p50_s"] == ("" if p50 is None else str(p50))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group": "shoe-size"}, "group"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
async def test_bad_questions_are_named(api, params, field) -> None:
    """A bad window, group or zone is a problem+json naming the field."""
    answer = await api.get("/v1/reports", params=params, headers=OPS)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"] == field


async def test_reports_are_for_ops_and_viewers(api) -> None:
    """Agents and intake systems are refused; no token is 401."""
    assert (await api.get("/v1/reports", headers=token("agent", "ams-l1"))).status_code == 403
    assert (await api.get("/v1/reports", headers=INTAKE)).status_code == 403
    assert (await api.get("/v1/reports")).status_code == 401
    assert (await api.get("/v1/reports", headers=VIEWER)).status_code == 200


# -- the backfill: cases opened before the summary index ---------------------------------------


def backfill(redis_url: str, prefix: str) -> str:
    """`followsun reports backfill` in a process of its own, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "router.cli", "reports", "backfill", "--chunk", "2"],
        env={**os.environ, "REDIS_URL": redis_url, "FOLLOWSUN_KEY_PREFIX": prefix},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def records(redis: Redis, prefix: str) -> dict[bytes, dict[bytes, bytes]]:
    """Every summary record as stored, day by day."""
    days = [key async for key in redis.scan_iter(f"{prefix}:facts:*")]
    return {day: await redis.hgetall(day) for day in sorted(days)}


async def test_backfill_writes_back_what_the_commits_kept(api, clock, svc, redis_url) -> None:
    """Cases whose records are gone (opened before the index), one with the partial record
    an earlier version left when such a case moved: the report passes over them without
    failing; the backfill writes every record back byte for byte, the report is whole
    again, and a second run finds nothing to write."""
    await drive(api, clock, svc)
    prefix = svc.keys.prefix
    kept = await records(svc.redis, prefix)
    assert sum(len(day) for day in kept.values()) == 6
    whole = (await api.get("/v1/reports", headers=OPS)).json()
    assert whole["total"]["cases"] == 6
    await svc.redis.delete(*kept)
    (day,) = kept
    one = next(iter(kept[day]))
    await svc.redis.hset(day, one, "[null,null,null,1795338600000]")
    partial = await api.get("/v1/reports", headers=OPS)
    assert partial.status_code == 200, partial.text
    assert partial.json()["total"]["cases"] == 0

    out = backfill(redis_url, prefix)
    assert out.splitlines()[-1].startswith(
        "backfill: 6 of 6 case(s), 6 record(s) written, 0 already right"
    ), out
    assert await records(svc.redis, prefix) == kept
    assert (await api.get("/v1/reports", headers=OPS)).json() == whole
    again = backfill(redis_url, prefix)
    assert "6 of 6 case(s), 0 record(s) written, 6 already right" in again, again
    assert await records(svc.redis, prefix) == kept


async def test_a_case_without_a_record_gets_none_from_its_next_change(api, clock, svc) -> None:
    """A case opened before the index that moves: its commit writes no partial record; the
    backfill writes the whole one, the fold of its events."""
    case = await post(api, "/v1/escalations", body("old-1", "de-DE", "P3", "c1", "x"), INTAKE)
    facts = svc.services.stores.facts
    stored = await svc.cases.get(case["id"])
    assert stored is not None
    await svc.redis.delete(*await records(svc.redis, svc.keys.prefix))
    clock.advance(minutes=5)
    await post(api, f"/v1/cases/{case['id']}/ack")
    assert await facts.of(stored) is None
    async for _ in facts.backfill():
        pass
    acked = await svc.cases.get(case["id"])
    assert acked is not None
    assert await facts.of(acked) == facts_of(acked, await svc.cases.events(case["id"]))
    assert (await facts.of(acked)).acknowledged == ms(clock.now)  # type: ignore[union-attr]


async def test_the_backfill_never_writes_what_a_commit_has_overtaken(api, clock, svc) -> None:
    """Between the backfill's read of a case and its write, the case is acknowledged: the
    write is refused and the case read again, so the record holds the acknowledgement."""
    case = await post(api, "/v1/escalations", body("race-1", "de-DE", "P3", "c2", "x"), INTAKE)
    facts = svc.services.stores.facts
    await svc.redis.delete(*await records(svc.redis, svc.keys.prefix))
    read = await facts._read([case["id"]])
    clock.advance(minutes=7)
    await post(api, f"/v1/cases/{case['id']}/ack")  # the service, between read and write
    progress = Backfill(total=1)
    assert await facts._rewrite(read, progress) == [case["id"]]
    assert (progress.seen, progress.written) == (0, 0)
    stale = read[0][1]
    assert await facts.of(stale) is None  # nothing of the stale read was written
    assert await facts._rewrite(await facts._read([case["id"]]), progress) == []
    record = await facts.of(stale)
    assert record is not None
    assert record.acknowledged == ms(clock.now)
    assert (progress.seen, progress.written) == (1, 1)
