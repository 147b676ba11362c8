"""Data residency in the domain, with plain values: a customer's region, the one rule
"may team T hold this case's data", routing that keeps to it (waiting, going up the allowed
chain, a P1 crossing only when the policy allows), `check`'s coverage warnings, and the
policy's `[residency]` table validated and written back.

The HTTP and job paths (intake, handover, deadline escalation, reassignment, 422s) are in
tests/test_residency_api.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import build_team

from router.domain.case import open_case
from router.domain.coverage import language_coverage
from router.domain.crossing import crossing_events
from router.domain.errors import InputError, ScheduleError
from router.domain.escalation import Escalation
from router.domain.index import ShiftIndex
from router.domain.model import Policy, Team
from router.domain.residency import (
    CROSSED,
    customer_region,
    customer_regions,
    may_hold,
    residence,
)
from router.domain.residency_coverage import residency_gaps, weekly_gap_slots
from router.domain.routing import Decision, route
from router.domain.validation import decode_policy
from router.schedule_files import read_policy, write_policy

MON = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday, 00:00 UTC
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BASE = (Path(__file__).resolve().parent.parent / "schedules" / "policy.toml").read_text()
BASE = BASE[: BASE.index("[residency]")]  # the repository's policy without its residency


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


def policy_with(residency: str = "") -> Policy:
    """The repository's policy with the `[residency]` table given here (TOML)."""
    return decode_policy(BASE + residency)


RULES = """
[residency]
by_source = { zendesk = "EU" }
allow_p1_crossing = {crossing}

[residency.regions]
EU = ["EMEA"]
US = ["AMER", "EMEA"]
"""


DEFAULT_US = '[residency]\ndefault = "US"\n'


def rules(crossing: bool = True, extra: str = "") -> Policy:
    return policy_with(RULES.replace("{crossing}", str(crossing).lower()) + extra)


def team(tid: str, region: str, start: str, end: str, **fields: Any) -> Team:
    """A UTC team on shift every day from start to end."""
    shifts = [{"days": DAYS, "start": start, "end": end}]
    return build_team(tid, region=region, shifts=shifts, **fields)


def esc(region: str = "", priority: str = "P3", locale: str = "en", **fields: Any) -> Escalation:
    customer = {"id": "c-1", "locale": locale, "region": region, **fields.pop("customer", {})}
    return msgspec.convert({"customer": customer, "priority": priority, **fields}, Escalation)


def decide(e: Escalation, now: datetime, teams: list[Team], policy: Policy, **kw: Any) -> Decision:
    by_id = {t.id: t for t in teams}
    index = ShiftIndex.build(by_id.values(), MON - timedelta(days=2), MON + timedelta(days=9))
    return route(e, now=now, teams=by_id, index=index, policy=policy, **kw)


def said(d: Decision, words: str) -> bool:
    return any(words in r for r in d.reasons)


# -- the customer's region ----------------------------------------------------------------


def test_region_is_explicit_then_by_source_then_default_then_none():
    p = policy_with(RULES.replace("{crossing}", "true").replace("[residency]\n", DEFAULT_US))
    assert customer_region(esc("US", source="zendesk"), p) == "US"  # explicit wins
    assert customer_region(esc(source="zendesk"), p) == "EU"  # by source
    assert customer_region(esc(source="jsm"), p) == "US"  # the default
    assert customer_region(esc(source="jsm"), rules()) == ""  # no default: none
    assert customer_region(esc(source="zendesk"), policy_with()) == ""  # no [residency]
    assert customer_regions(p) == ["EU", "US"]


def test_may_hold_is_the_team_region_in_the_allowed_list():
    p = rules()
    ams, nyc, loose = (
        team(t, r, "08:00", "17:00") for t, r in (("ams", "EMEA"), ("nyc", "AMER"), ("x", ""))
    )
    assert may_hold(ams, esc("EU"), p)
    assert not may_hold(nyc, esc("EU"), p)
    assert may_hold(nyc, esc("US"), p)
    assert may_hold(ams, esc("US"), p)
    assert not may_hold(loose, esc("EU"), p)  # a team without a region holds no EU data
    for free in (esc(""), esc("EU")):  # no region; a region the policy has no rules for
        assert may_hold(nyc, free, policy_with() if free.customer.region else p)
    assert (
        residence(esc("EU"), p).rule_text()
        == "customer region EU: only teams in EMEA may hold its data"
    )


def test_customer_region_must_be_a_region_of_the_policy():
    e = esc("MARS")
    e.check()  # without the policy only the shape is checked
    with pytest.raises(InputError) as err:
        e.check(rules())
    assert err.value.field == "customer.region"
    assert "EU, US" in err.value.reason
    with pytest.raises(InputError) as err:
        esc("EU").check(policy_with())
    assert err.value.field == "customer.region"
    esc("EU").check(rules())


# -- the policy table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "path", "words"),
    [
        (
            '[residency]\ndefault = "XX"\n[residency.regions]\nEU = ["EMEA"]\n',
            "residency.default",
            "XX is not a region",
        ),
        (
            '[residency]\nby_source = { zendesk = "XX" }\n[residency.regions]\nEU = ["EMEA"]\n',
            "residency.by_source.zendesk",
            "XX is not a region",
        ),
        ("[residency.regions]\nEU = []\n", "residency.regions.EU", "at least one team region"),
        ('[residency.regions]\nEU = ["EMEA", "EMEA"]\n', "residency.regions.EU[1]", "named twice"),
        ('[residency.regions]\nEU = [""]\n', "residency.regions.EU[0]", "needs a name"),
        ("[residency]\nallow_p1_crosing = true\n", "residency.allow_p1_crosing", "unknown field"),
        ('[residency.regions]\nEU = "EMEA"\n', "residency.regions.EU", "a list of team regions"),
        ("[residency.by_source]\nzendesk = 1\n", "residency.by_source.zendesk", "customer region"),
    ],
)
def test_a_bad_residency_table_names_the_field(table, path, words):
    with pytest.raises(ScheduleError) as err:
        policy_with("\n" + table)
    problem = next(p for p in err.value.problems if p.path == path)
    assert words in problem.message, problem


def test_the_table_is_written_back_as_read(tmp_path):
    """`schedules export` writes what `schedules load` reads, equal."""
    p = rules(crossing=False)
    p = msgspec.structs.replace(p, residency=msgspec.structs.replace(p.residency, default="US"))
    write_policy(tmp_path, p)
    again = read_policy(tmp_path)
    assert again == p
    assert again.residency is not None
    assert again.residency.regions["US"] == ["AMER", "EMEA"]
    assert "[residency.regions]" in (tmp_path / "policy.toml").read_text()


# -- routing -------------------------------------------------------------------------------


AMS = team("ams", "EMEA", "08:00", "17:00", escalates_to="emea-l2")
NYC = team("nyc", "AMER", "08:00", "23:00", escalates_to="emea-l2")  # more hours left
EMEA_L2 = team("emea-l2", "EMEA", "06:00", "20:00", tier=2)


def test_an_eu_case_goes_to_an_allowed_team_though_another_ranks_higher():
    d = decide(esc("EU"), at(10), [AMS, NYC], rules())
    assert (d.action, d.team) == ("assign", "ams")
    assert said(
        d, "customer region EU: only teams in EMEA may hold its data; not considered: nyc (AMER)"
    )
    free = decide(esc(""), at(10), [AMS, NYC], rules())
    assert free.team == "nyc"  # without a region: ranked as always
    assert not said(free, "customer region")


def test_a_region_without_rules_routes_as_if_there_were_no_residency():
    """A stored case whose region the policy no longer names (edited since)."""
    d = decide(esc("EU"), at(10), [AMS, NYC], policy_with())
    plain = decide(esc(""), at(10), [AMS, NYC], policy_with())
    assert d == plain


def test_a_p3_waits_for_the_first_allowed_team():
    d = decide(esc("EU"), at(19), [AMS, NYC], rules())
    assert (d.action, d.team, d.starts_at) == ("wait", "ams", at(8, day=1))
    assert said(d, "only teams in EMEA may hold its data")
    assert decide(esc(""), at(19), [AMS, NYC], rules()).team == "nyc"


def test_a_p2_nobody_allowed_can_take_goes_up_the_allowed_chain():
    d = decide(esc("EU", "P2"), at(18), [AMS, NYC, EMEA_L2], rules())
    assert (d.action, d.team, d.tier) == ("assign", "emea-l2", 2)
    assert said(d, "no team in EMEA can take it at tier 1: it goes up the allowed chain to tier 2")


def test_a_p2_with_no_allowed_team_on_shift_at_any_tier_waits():
    d = decide(esc("EU", "P2"), at(21), [AMS, NYC, EMEA_L2], rules())
    assert (d.action, d.team, d.starts_at) == ("wait", "ams", at(8, day=1))
    assert said(d, "it waits for ams, the first team in EMEA to come on shift")


def test_a_p1_crosses_only_when_the_policy_allows_and_says_so():
    d = decide(esc("EU", "P1"), at(21), [AMS, NYC, EMEA_L2], rules(crossing=True))
    assert (d.action, d.team) == ("assign", "nyc")
    assert d.crossing is not None
    assert (d.crossing.region, d.crossing.allowed, d.crossing.team_region) == (
        "EU",
        ["EMEA"],
        "AMER",
    )
    assert said(d, "P1 crosses the residency rule, as the policy allows (allow_p1_crossing)")
    held = decide(esc("EU", "P1"), at(21), [AMS, NYC, EMEA_L2], rules(crossing=False))
    assert (held.action, held.team, held.crossing) == ("unroutable", None, None)
    assert said(held, "the policy does not allow a P1 to leave EMEA: operations decide")


def test_a_p1_an_allowed_team_can_take_does_not_cross():
    d = decide(esc("EU", "P1"), at(10), [AMS, NYC], rules(crossing=True))
    assert (d.team, d.crossing) == ("ams", None)


def test_a_handover_exclusion_still_keeps_to_the_allowed_teams():
    ber = team("ber", "EMEA", "09:00", "18:00")
    d = decide(esc("EU"), at(16, 59), [AMS, NYC, ber], rules(), exclude={"ams"})
    assert d.team == "ber"


def test_a_us_customer_may_be_held_in_either_allowed_region():
    d = decide(esc("US"), at(19), [AMS, NYC], rules())
    assert d.team == "nyc"


def test_the_crossing_is_an_audit_event_naming_the_regions():
    d = decide(esc("EU", "P1", source="zendesk"), at(21), [AMS, NYC], rules())
    case, _ = open_case("c1", esc("EU", "P1"), d, now=at(21), policy=rules())
    [event] = crossing_events(None, case, at(21), "intake")
    assert event.type == CROSSED == "residency_crossed"
    assert event.detail == {
        "customer_region": "EU",
        "allowed_regions": "EMEA",
        "team": "nyc",
        "team_region": "AMER",
    }
    assert crossing_events(case, case, at(22), "x") == []  # the same decision: no new event


# -- check's warnings ---------------------------------------------------------------------


def test_check_warns_of_the_hours_the_rule_leaves_uncovered():
    teams = [AMS, NYC, team("tyo", "APAC", "00:00", "08:00", languages=["ja", "en"])]
    warnings = residency_gaps(teams, rules(), MON, MON + timedelta(days=28))
    eu = [w.message for w in warnings if w.path == "EU"]
    assert "customer region EU: no tier-1 team in EMEA speaks ja: its customers" in eu[0]
    # en: AMS covers 08-17, NYC until 23, TYO 00-08; 23-24 nobody does (not residency's)
    assert (
        "tier 1, en: no team in EMEA is ever on shift mon 00:00-mon 08:00, mon 17:00-mon 23:00, "
        "tue 00:00-tue 08:00" in eu[1]
    )
    assert "sun 17:00-sun 23:00 UTC (every week of 2026-11-23..2026-12-21)" in eu[1]
    assert "23:00-" not in eu[1]
    us = [w.message for w in warnings if w.path == "US"]
    assert "tier 1, en: no team in AMER or EMEA is ever on shift mon 00:00-mon 08:00, " in us[1]
    assert "17:00" not in us[1]  # nyc (AMER) may hold US data
    assert all(w.severity == "warning" for w in warnings)
    assert residency_gaps(teams, policy_with(), MON, MON + timedelta(days=28)) == []


def test_weekly_gap_slots_are_hours_missing_in_every_week():
    cov = language_coverage([AMS], MON, MON + timedelta(days=14))["en"]
    slots = weekly_gap_slots(cov)
    assert 0 in slots
    assert 7 in slots
    assert 8 not in slots
    assert 16 not in slots
    assert 17 in slots
    assert len(slots) == 7 * 15
    short = language_coverage([AMS], MON, MON + timedelta(days=3))["en"]
    assert weekly_gap_slots(short) == set()
