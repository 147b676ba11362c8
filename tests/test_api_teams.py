"""Teams over HTTP: edits with ETags, the audit of revisions, and the calendar answers
(/v1/oncall, the ICS feed, /v1/coverage, the CLI) agreeing with each other."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from conftest import SCHEDULES, SECRET, token
from icalendar import Calendar
from prometheus_client.parser import text_string_to_metric_families

from router.cli import main as cli
from router.http.auth import make_token

OPS = token("ops")
VIEWER = token("viewer")


def z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def on_call(api: Any, at: datetime | str, query: str = "") -> list[dict]:
    at_text = at if isinstance(at, str) else z(at)
    answer = await api.get(f"/v1/oncall?at={at_text}{query}", headers=VIEWER)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def on_call_ids(api: Any, at: datetime | str, query: str = "") -> set[str]:
    return {row["team"] for row in await on_call(api, at, query)}


# -- edits -------------------------------------------------------------------------------


async def test_a_team_round_trips_through_get_and_put(api) -> None:
    """PUT of exactly what GET returned, with its ETag, is 200 with a new ETag."""
    got = await api.get("/v1/teams/ams-l1", headers=OPS)
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    spec = got.json()
    assert spec["timezone"] == "Europe/Amsterdam"
    assert spec["escalates_to"] == "emea-l2"
    put = await api.put("/v1/teams/ams-l1", json=spec, headers={**OPS, "If-Match": '"1"'})
    assert put.status_code == 200, put.text
    assert put.headers["etag"] == '"2"'
    assert put.json() == spec
    again = await api.get("/v1/teams/ams-l1", headers=OPS)
    assert again.headers["etag"] == '"2"'
    assert again.json() == spec
    listed = {t["id"]: t for t in (await api.get("/v1/teams", headers=OPS)).json()}
    assert listed["ams-l1"]["version"] == 2
    assert listed["ber-l1"]["version"] == 1


async def test_an_edit_shows_in_revisions_and_in_oncall(api, clock) -> None:
    """Moving ams-l1's Monday start to 12:00 is audited (who, version) and /v1/oncall follows."""
    monday_9 = "2026-11-23T09:00:00Z"
    assert "ams-l1" in await on_call_ids(api, monday_9)
    got = await api.get("/v1/teams/ams-l1", headers=OPS)
    spec = got.json()
    spec["shifts"][0]["days"] = ["tue", "wed", "thu", "fri"]
    spec["shifts"].insert(
        1, {"days": ["mon"], "start": "12:00", "end": "17:00", "until": "2027-01-04"}
    )
    clock.advance(minutes=30)
    alice = {"Authorization": f"Bearer {make_token(SECRET, 'ops', subject='alice@ops')}"}
    put = await api.put(
        "/v1/teams/ams-l1", json=spec, headers={**alice, "If-Match": got.headers["etag"]}
    )
    assert put.status_code == 200, put.text

    revisions = (await api.get("/v1/teams/ams-l1/revisions", headers=VIEWER)).json()
    assert [(r["version"], r["by"]) for r in revisions] == [(1, "test"), (2, "alice@ops")]
    assert revisions[-1]["at"] == "2026-11-23T09:30:00Z"
    assert revisions[-1]["spec"] == spec
    assert revisions[0]["spec"] == got.json()

    assert "ams-l1" not in await on_call_ids(api, monday_9)  # 10:00 in Amsterdam
    assert "ams-l1" in await on_call_ids(api, "2026-11-23T11:00:00Z")  # 12:00 in Amsterdam
    assert "ams-l1" in await on_call_ids(api, "2026-11-24T07:00:00Z")  # Tuesday as before
    # and routing follows: a Dutch case at Monday 09:30 can no longer go to Amsterdam
    body = {
        "source": "zendesk",
        "external_id": "after-edit",
        "priority": "P2",
        "customer": {"id": "c", "locale": "nl-NL", "accepts": ["en"]},
    }
    routed = (await api.post("/v1/route", json=body, headers=OPS)).json()
    assert routed["action"] == "assign"
    assert routed["team"] != "ams-l1"
    assert routed["language_match"] == "fallback"


async def test_create_a_team_with_if_none_match_then_delete_it(api) -> None:
    """PUT with If-None-Match: * creates a team (201); DELETE with its ETag removes it."""
    spec = {
        "name": "Zurich Kundendienst",
        "timezone": "Europe/Zurich",
        "tier": 1,
        "languages": ["de-CH", "fr", "en"],
        "region": "EMEA",
        "skills": ["billing"],
        "escalates_to": "emea-l2",
        "capacity": 10,
        "shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "15:00"}],
    }
    created = await api.put("/v1/teams/zrh-l1", json=spec, headers={**OPS, "If-None-Match": "*"})
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    got = await api.get("/v1/teams/zrh-l1", headers=OPS)
    assert got.json() == spec
    assert "zrh-l1" in {t["id"] for t in (await api.get("/v1/teams", headers=OPS)).json()}
    assert "zrh-l1" in await on_call_ids(api, "2026-11-23T06:30:00Z")  # 07:30 in Zurich

    deleted = await api.delete("/v1/teams/zrh-l1", headers={**OPS, "If-Match": '"1"'})
    assert deleted.status_code == 204, deleted.text
    assert (await api.get("/v1/teams/zrh-l1", headers=OPS)).status_code == 404
    assert "zrh-l1" not in {t["id"] for t in (await api.get("/v1/teams", headers=OPS)).json()}
    assert "zrh-l1" not in await on_call_ids(api, "2026-11-23T06:30:00Z")
    revisions = (await api.get("/v1/teams/zrh-l1/revisions", headers=OPS)).json()
    assert [(r["version"], r["by"], r["spec"] is None) for r in revisions] == [
        (1, "ops", False),
        (2, "ops", True),
    ]


async def test_a_recreated_team_does_not_reuse_old_versions(api) -> None:
    """After DELETE, re-creating a team continues its version sequence: no ETag is reused."""
    spec = (await api.get("/v1/teams/cph-l1", headers=OPS)).json()
    spec["name"] = "Copenhagen, second office"
    created = await api.put("/v1/teams/cph2-l1", json=spec, headers={**OPS, "If-None-Match": "*"})
    assert created.status_code == 201
    old_etag = created.headers["etag"]
    deleted = await api.delete("/v1/teams/cph2-l1", headers={**OPS, "If-Match": old_etag})
    assert deleted.status_code == 204
    again = await api.put("/v1/teams/cph2-l1", json=spec, headers={**OPS, "If-None-Match": "*"})
    assert again.status_code == 201
    versions = [
        r["version"] for r in (await api.get("/v1/teams/cph2-l1/revisions", headers=OPS)).json()
    ]
    assert versions == sorted(set(versions)), f"revision versions {versions} repeat"
    assert again.headers["etag"] != old_etag
    # so an editor still holding the first incarnation's ETag cannot overwrite the new team
    stale = await api.put("/v1/teams/cph2-l1", json=spec, headers={**OPS, "If-Match": old_etag})
    assert stale.status_code == 412


# -- the calendar feed -------------------------------------------------------------------


async def test_the_ics_feed_agrees_with_oncall(api) -> None:
    """ams-l1 is in /v1/oncall at an instant exactly when the instant is inside a VEVENT."""
    answer = await api.get("/v1/teams/ams-l1/schedule.ics?weeks=8", headers=VIEWER)
    assert answer.status_code == 200, answer.text
    calendar = Calendar.from_ical(answer.content)
    events = [
        (instant(e.decoded("dtstart").isoformat()), instant(e.decoded("dtend").isoformat()))
        for e in calendar.walk("VEVENT")
    ]
    assert events == sorted(events)
    assert all(start < end for start, end in events)
    by_day = {start.date(): (start, end) for start, end in events}
    day = date(2026, 11, 23)
    # from the TOML: weekdays 08-17 Amsterdam; 24 Dec 08-13; Christmas and New Year off;
    # from 4 Jan 2027 weekdays 08-18 and Saturdays 10-14
    assert by_day[day] == (instant("2026-11-23T07:00:00Z"), instant("2026-11-23T16:00:00Z"))
    assert by_day[day.replace(month=12, day=24)][1] == instant("2026-12-24T12:00:00Z")
    assert day.replace(month=12, day=25) not in by_day
    assert date(2027, 1, 1) not in by_day
    assert by_day[date(2027, 1, 4)][1] == instant("2027-01-04T17:00:00Z")
    assert by_day[date(2027, 1, 9)] == (
        instant("2027-01-09T09:00:00Z"),
        instant("2027-01-09T13:00:00Z"),
    )
    assert date(2026, 11, 28) not in by_day  # a Saturday of the old rota

    second = timedelta(seconds=1)
    probes = {instant("2026-12-25T10:00:00Z"), instant("2026-11-28T12:00:00Z")}
    for start, end in events:
        probes |= {start, start + (end - start) / 2, end - second, end, start - second}
    window_end = events[-1][1]
    for probe in sorted(p for p in probes if events[0][0] <= p <= window_end):
        inside = any(start <= probe < end for start, end in events)
        assert ("ams-l1" in await on_call_ids(api, probe)) == inside, z(probe)


async def test_the_ics_feed_has_a_well_formed_content_type(api) -> None:
    """The calendar is served as text/calendar with one charset parameter."""
    answer = await api.get("/v1/teams/ams-l1/schedule.ics", headers=VIEWER)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"


# -- the CLI and the API give one answer -------------------------------------------------


@pytest.mark.parametrize(
    ("at", "filters"),
    [
        ("2026-11-23T09:00:00Z", []),
        ("2026-11-22T03:00:00Z", []),  # a Sunday night: overnight on-call and the 24x7 desk
        ("2027-03-29T07:30:00Z", []),  # Europe just changed to summer time
        ("2026-11-24T01:00:00Z", ["language=ja", "tier=1"]),
        ("2026-11-23T15:00:00Z", ["skill=security"]),
    ],
)
async def test_oncall_matches_the_cli(api, capsys, at: str, filters: list[str]) -> None:
    """GET /v1/oncall returns exactly what `followsun oncall --json` prints."""
    argv = ["oncall", "--at", at, "--json", "--schedules", str(SCHEDULES)]
    for item in filters:
        name, value = item.split("=")
        argv += [f"--{name}", value]
    assert cli(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    query = "".join(f"&{item}" for item in filters)
    answered = await on_call(api, at, query)
    assert answered == printed
    assert answered, "a probe with nobody on shift proves little"


# -- coverage ----------------------------------------------------------------------------


def _check_partition(answer: dict, start: datetime, end: datetime) -> None:
    """covered and gaps are sorted, disjoint, alternate, and together are exactly [start, end)."""
    pieces = sorted(
        [(instant(i["start"]), instant(i["end"]), "covered") for i in answer["covered"]]
        + [(instant(i["start"]), instant(i["end"]), "gap") for i in answer["gaps"]]
    )
    assert pieces, "an empty answer covers nothing"
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    for (_, a_end, a_kind), (b_start, _, b_kind) in pairwise(pieces):
        assert a_end == b_start, "covered and gaps must tile the horizon"
        assert a_kind != b_kind, "two neighbouring intervals of one kind should be one"
    assert all(s < e for s, e, _ in pieces)
    covered = sum(((e - s) for s, e, k in pieces if k == "covered"), timedelta())
    assert answer["share"] == round(covered / (end - start), 4)


async def test_japanese_tier1_coverage_is_a_partition_matching_oncall(api) -> None:
    """ja tier-1 coverage: covered + gaps = [from, to), and oncall agrees at every midpoint."""
    start, end = instant("2026-11-23T00:00:00Z"), instant("2026-11-30T00:00:00Z")
    query = f"from={z(start)}&to={z(end)}&language=ja&tier=1"
    answer = (await api.get(f"/v1/coverage?{query}", headers=VIEWER)).json()
    assert (instant(answer["start"]), instant(answer["end"])) == (start, end)
    assert answer["teams"] == ["tyo-l1"]
    _check_partition(answer, start, end)
    # Monday is a Japanese holiday and the weekend is closed
    assert {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"} in answer["gaps"]
    assert {"start": "2026-11-24T00:00:00Z", "end": "2026-11-24T09:00:00Z"} in answer["covered"]
    for kind, expected in (("covered", True), ("gaps", False)):
        for interval in answer[kind]:
            mid = (
                instant(interval["start"])
                + (instant(interval["end"]) - instant(interval["start"])) / 2
            )
            rows = await on_call_ids(api, mid, "&language=ja&tier=1")
            assert bool(rows) == expected, z(mid)


async def test_english_tier1_has_no_gaps(api) -> None:
    """English tier 1 is covered around the clock, holidays included, for eight weeks."""
    start, end = instant("2026-11-23T00:00:00Z"), instant("2027-01-18T00:00:00Z")
    query = f"from={z(start)}&to={z(end)}&language=en&tier=1"
    answer = (await api.get(f"/v1/coverage?{query}", headers=VIEWER)).json()
    assert answer["gaps"] == []
    assert answer["covered"] == [{"start": z(start), "end": z(end)}]
    assert answer["share"] == 1.0
    _check_partition(answer, start, end)


# -- metrics -----------------------------------------------------------------------------


def _escalations(text: str, action: str, match: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "followsun_escalations_total" and sample.labels == {
                "action": action,
                "language_match": match,
            }:
                return sample.value
    return 0.0


async def test_metrics_count_escalations_taken_in(api) -> None:
    """/metrics counts a new escalation once under its outcome; a retried one is not counted."""
    before = (await api.get("/metrics")).text
    body = {
        "source": "zendesk",
        "external_id": "metrics-1",
        "priority": "P3",
        "customer": {"id": "c", "locale": "nl-NL"},
    }
    first = await api.post("/v1/escalations", json=body, headers=token("intake"))
    assert first.status_code == 201
    retry = await api.post("/v1/escalations", json=body, headers=token("intake"))
    assert retry.status_code == 200
    after = (await api.get("/metrics")).text
    assert "followsun_escalations_total" in after
    gained = _escalations(after, "assign", "base") - _escalations(before, "assign", "base")
    assert gained == 1
