"""Routing an escalation to a team, and coverage/handover over a horizon."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from conftest import NOW, build_team

from router.domain.coverage import (
    Interval,
    coverage,
    handover_chain,
    language_coverage,
    team_filter,
)
from router.domain.errors import RoutingError
from router.domain.escalation import Escalation
from router.domain.index import ShiftIndex
from router.domain.language import parse_lang
from router.domain.model import Policy, Roster, Team
from router.domain.routing import Decision, route
from router.domain.shifts import Shift, expand_all

MON = datetime(2026, 11, 23, tzinfo=UTC)  # Monday 00:00 UTC, the date of NOW
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


def team(team_id: str, start: str, end: str, **fields: Any) -> Team:
    """A UTC team on shift every day from start to end."""
    days = fields.pop("days", EVERY_DAY)
    return build_team(team_id, shifts=[{"days": days, "start": start, "end": end}], **fields)


def teams_of(*teams: Team) -> dict[str, Team]:
    return {t.id: t for t in teams}


def index_of(teams: dict[str, Team]) -> ShiftIndex:
    return ShiftIndex.build(teams.values(), MON - timedelta(days=2), MON + timedelta(days=9))


def escalation(
    locale: str = "en",
    *,
    accepts: Iterable[str] = (),
    vip: bool = False,
    **fields: Any,
) -> Escalation:
    fields.setdefault("priority", "P3")
    data = {"customer": {"id": "c-1", "locale": locale, "accepts": list(accepts), "vip": vip}}
    esc = msgspec.convert({**data, **fields}, Escalation)
    esc.check()
    return esc


def decide(
    esc: Escalation, now: datetime, teams: dict[str, Team], policy: Policy, **kw: Any
) -> Decision:
    return route(esc, now=now, teams=teams, index=index_of(teams), policy=policy, **kw)


def hand_policy(**changes: Any) -> Policy:
    """A small policy written out in the test: P1 15 min, P2 1 h, P3 4 h, P4 8 h to ack."""
    targets = {
        p: {"acknowledge": ack, "update": "PT4H", "resolve": "P3D", "tier": 1}
        for p, ack in (("P1", "PT15M"), ("P2", "PT1H"), ("P3", "PT4H"), ("P4", "PT8H"))
    }
    data: dict[str, Any] = {
        "min_shift_left": "PT45M",
        "escalate_flags": ["safety"],
        "matrix": {
            "high": {"high": "P1", "medium": "P2", "low": "P3"},
            "medium": {"high": "P2", "medium": "P3", "low": "P4"},
            "low": {"high": "P3", "medium": "P4", "low": "P4"},
        },
        "priorities": targets,
    }
    for key, value in changes.items():
        if key.startswith("P"):
            data["priorities"][key].update(value)
        else:
            data[key] = value
    return msgspec.convert(data, Policy)


# -- the decision -----------------------------------------------------------------------


def test_assignment_fills_every_decision_field(policy):
    """An assignment names team, tier, language, match, shift end, ack due and its reasons."""
    teams = teams_of(team("ams", "08:00", "17:00", languages=["nl", "en"]))
    now = at(10)
    d = decide(escalation("nl"), now, teams, policy)
    assert d.action == "assign"
    assert d.team == "ams"
    assert d.tier == 1
    assert d.priority == "P3"
    assert d.language == "nl"
    assert d.language_match == "exact"
    assert d.shift_ends_at == at(17)
    assert d.starts_at is None
    assert d.ack_due == now + timedelta(hours=4)
    assert d.at == now
    assert d.reasons
    assert any("ams" in r for r in d.reasons)


def test_decision_language_is_the_team_language_used(policy):
    """A pt-BR customer served by a pt-PT team: language pt-PT, match base."""
    teams = teams_of(team("lis", "08:00", "17:00", languages=["pt-PT"]))
    d = decide(escalation("pt-BR"), at(10), teams, policy)
    assert (d.team, d.language, d.language_match) == ("lis", "pt-PT", "base")


def test_priority_comes_from_impact_and_urgency(policy):
    """Without a priority, the policy matrix gives one (high × high = P1, 15 min to ack)."""
    teams = teams_of(team("a", "08:00", "17:00"))
    esc = escalation(priority=None, impact="high", urgency="high")
    d = decide(esc, at(10), teams, policy)
    assert d.priority == "P1"
    assert d.ack_due == at(10, 15)


# -- candidates -------------------------------------------------------------------------


def test_candidates_are_of_the_required_tier(policy):
    """A tier-2 team on shift longer is not a candidate for a tier-1 case."""
    teams = teams_of(team("l1", "08:00", "12:00"), team("l2", "06:00", "23:00", tier=2))
    d = decide(escalation(), at(10), teams, policy)
    assert (d.team, d.tier) == ("l1", 1)


def test_candidates_have_the_skill(policy):
    """A team without the skill is skipped although it stays longer."""
    teams = teams_of(
        team("bill", "08:00", "12:00", skills=["billing"]),
        team("plat", "06:00", "23:00", skills=["platform"]),
    )
    assert decide(escalation(skill="billing"), at(10), teams, policy).team == "bill"
    assert decide(escalation(skill="platform"), at(10), teams, policy).team == "plat"


def test_no_team_with_the_skill_is_unroutable(policy):
    """When no team of the tier has the skill, the decision is unroutable and says why."""
    teams = teams_of(team("a", "00:00", "12:00"), team("b", "12:00", "00:00"))
    d = decide(escalation(skill="payroll"), at(10), teams, policy)
    assert d.action == "unroutable"
    assert d.team is None
    assert any("no tier-1 team has skill payroll" in r for r in d.reasons)


def test_no_team_at_all_is_unroutable(policy):
    """With no team of the tier, nothing is dropped: the decision is unroutable."""
    teams = teams_of(team("l2", "00:00", "12:00", tier=2))
    d = decide(escalation(), at(10), teams, policy)
    assert d.action == "unroutable"
    assert any("no tier-1 team exists" in r for r in d.reasons)


def test_no_team_speaks_the_language_is_unroutable(policy):
    """A Japanese customer accepting nothing else, with only German teams, is unroutable."""
    teams = teams_of(team("ber", "00:00", "12:00", languages=["de"]))
    d = decide(escalation("ja"), at(10), teams, policy)
    assert d.action == "unroutable"
    assert d.team is None


# -- ranking ----------------------------------------------------------------------------


def test_exact_language_beats_base_and_more_time_left(policy):
    """An exact pt-BR team wins over a pt-PT team that stays hours longer."""
    teams = teams_of(
        team("lis", "06:00", "23:00", languages=["pt-PT"]),
        team("sao", "08:00", "12:00", languages=["pt-BR"]),
    )
    d = decide(escalation("pt-BR"), at(10), teams, policy)
    assert (d.team, d.language_match) == ("sao", "exact")


def test_more_whole_hours_left_beats_lower_load(policy):
    """With equal language, 8 h left beats 7 h left even when the 8 h team is busier."""
    teams = teams_of(
        team("a", "08:00", "17:00", capacity=10),
        team("b", "08:00", "18:00", capacity=10),
    )
    d = decide(escalation(), at(10), teams, policy, loads={"a": 0, "b": 9})
    assert d.team == "b"


@pytest.mark.parametrize(("loads", "chosen"), [({"a": 9, "b": 1}, "b"), ({"a": 1, "b": 9}, "a")])
def test_load_relative_to_capacity_breaks_equal_whole_hours(policy, loads, chosen):
    """7 h 30 and 7 h 10 left are the same whole hours, so the less loaded team wins."""
    teams = teams_of(
        team("a", "08:00", "17:30", capacity=10),
        team("b", "08:00", "17:10", capacity=10),
    )
    assert decide(escalation(), at(10), teams, policy, loads=loads).team == chosen


def test_load_is_relative_to_capacity(policy):
    """5 open of 50 is lighter than 3 open of 10."""
    teams = teams_of(
        team("a", "08:00", "17:00", capacity=10),
        team("b", "08:00", "17:00", capacity=50),
    )
    assert decide(escalation(), at(10), teams, policy, loads={"a": 3, "b": 5}).team == "b"


def test_team_id_breaks_a_full_tie(policy):
    """Teams equal in language, hours and load are ordered by id."""
    teams = teams_of(team("zeta", "08:00", "17:00"), team("alpha", "08:00", "17:00"))
    d = decide(escalation(), at(10), teams, policy)
    assert d.team == "alpha"
    assert any("ranked above zeta" in r for r in d.reasons)


def test_team_at_capacity_still_takes_the_case_when_best(policy):
    """A full team that is the only fit gets the case, and the reasons say it is at capacity."""
    teams = teams_of(team("a", "08:00", "17:00", capacity=5))
    d = decide(escalation(), at(10), teams, policy, loads={"a": 5})
    assert d.team == "a"
    assert any("at capacity (5/5)" in r for r in d.reasons)


# -- minimum shift left, exclusion ------------------------------------------------------


@pytest.mark.parametrize("priority", ["P2", "P3", "P4"])
def test_team_leaving_soon_is_skipped_below_p1(policy, priority):
    """P2-P4 do not go to a team with less than min_shift_left (45 min) to go."""
    teams = teams_of(team("early", "08:00", "17:00"), team("late", "12:00", "20:00"))
    d = decide(escalation(priority=priority), at(16, 30), teams, policy)
    assert d.team == "late"
    assert any("early is on shift but leaves in 30 min (< 45 min minimum)" in r for r in d.reasons)


def test_p1_takes_a_team_leaving_soon(policy):
    """P1 ignores min_shift_left: a team with 30 minutes left still takes it."""
    teams = teams_of(team("early", "08:00", "17:00"))
    d = decide(escalation(priority="P1"), at(16, 30), teams, policy)
    assert (d.action, d.team) == ("assign", "early")


def test_p3_does_not_take_a_team_leaving_soon_even_alone(policy):
    """With only a team leaving in 30 min, P3 is not assigned to it."""
    teams = teams_of(team("early", "08:00", "17:00"))
    d = decide(escalation(priority="P3"), at(16, 30), teams, policy)
    assert d.action == "wait"
    assert d.starts_at == at(8, day=1)


def test_exactly_min_shift_left_is_enough(policy):
    """A team with exactly 45 minutes left may take a P3 case."""
    teams = teams_of(team("early", "08:00", "17:00"))
    d = decide(escalation(priority="P3"), at(16, 15), teams, policy)
    assert (d.action, d.team) == ("assign", "early")


def test_min_shift_left_comes_from_the_policy():
    """With min_shift_left = 2 h in the policy, a team with 90 minutes left is skipped."""
    teams = teams_of(team("early", "08:00", "17:00"))
    now = at(15, 30)
    assert decide(escalation(), now, teams, hand_policy()).action == "assign"
    d = decide(escalation(), now, teams, hand_policy(min_shift_left="PT2H"))
    assert d.action == "wait"
    assert any("leaves in 1 h 30 min (< 2 h minimum)" in r for r in d.reasons)


def test_excluded_team_is_not_a_candidate(policy):
    """`exclude` removes a team (the one going off shift) from the pool."""
    teams = teams_of(team("a", "08:00", "17:00"), team("b", "08:00", "20:00"))
    assert decide(escalation(), at(10), teams, policy).team == "b"
    assert decide(escalation(), at(10), teams, policy, exclude={"b"}).team == "a"


# -- no native team on shift ------------------------------------------------------------


def native_later(start: str = "12:00", end: str = "20:00") -> dict[str, Team]:
    """A Japanese team coming on later, and an English team on shift now (10:00)."""
    return teams_of(
        team("tyo", start, end, languages=["ja"]),
        team("dub", "07:00", "19:00", languages=["en"]),
    )


@pytest.mark.parametrize("priority", ["P1", "P2"])
def test_urgent_cases_go_to_a_fallback_language_now(policy, priority):
    """P1/P2 with no Japanese team on shift go to a team speaking an accepted language."""
    d = decide(escalation("ja", accepts=["en"], priority=priority), at(10), native_later(), policy)
    assert (d.action, d.team, d.language, d.language_match) == ("assign", "dub", "en", "fallback")
    assert any("does not wait" in r and "dub" in r for r in d.reasons)


def test_urgent_case_without_an_accepted_language_is_unroutable(policy):
    """P1 with no native team on shift and no accepted language is unroutable, not delayed."""
    d = decide(escalation("ja", priority="P1"), at(10), native_later(), policy)
    assert d.action == "unroutable"
    assert any("cannot wait" in r for r in d.reasons)


def test_p3_waits_for_a_native_team_starting_before_the_ack_target(policy):
    """P3 (4 h to ack) waits for the Japanese team starting in 2 h instead of using English."""
    now = at(10)
    d = decide(escalation("ja", accepts=["en"], priority="P3"), now, native_later("12:00"), policy)
    assert d.action == "wait"
    assert (d.team, d.language, d.language_match) == ("tyo", "ja", "exact")
    assert d.starts_at == at(12)
    assert d.shift_ends_at is None
    assert d.ack_due is not None
    assert d.ack_due > d.starts_at
    assert any("tyo" in r and "waits" in r for r in d.reasons)


def test_waiting_within_the_target_keeps_the_acknowledgement_deadline(policy):
    """A P3 that waits because the native team starts within 4 h is still due at arrival + 4 h."""
    now = at(10)
    d = decide(escalation("ja", accepts=["en"], priority="P3"), now, native_later("12:00"), policy)
    assert d.action == "wait"
    assert d.ack_due == now + timedelta(hours=4)


def test_p3_takes_the_fallback_when_the_native_team_starts_after_the_ack_target(policy):
    """P3 (4 h to ack) does not wait 5 h for the Japanese team; English takes it now."""
    d = decide(
        escalation("ja", accepts=["en"], priority="P3"), at(10), native_later("15:00"), policy
    )
    assert (d.action, d.team, d.language_match) == ("assign", "dub", "fallback")
    assert any("after the 4 h acknowledgement target" in r for r in d.reasons)


def test_p4_waits_longer_than_p3(policy):
    """P4 (8 h to ack) waits 5 h for the Japanese team where P3 would not."""
    d = decide(
        escalation("ja", accepts=["en"], priority="P4"), at(10), native_later("15:00"), policy
    )
    assert (d.action, d.team, d.starts_at) == ("wait", "tyo", at(15))


def test_p3_waits_beyond_the_target_when_there_is_no_fallback(policy):
    """With no fallback on shift, P3 waits for the native team even past the ack target."""
    d = decide(escalation("ja", priority="P3"), at(10), native_later("18:00"), policy)
    assert (d.action, d.team, d.starts_at) == ("wait", "tyo", at(18))
    assert any("although it starts after" in r for r in d.reasons)


def test_p3_with_no_native_team_in_the_horizon_and_no_fallback_is_unroutable(policy):
    """Nobody ever on shift for the language and nothing accepted: unroutable."""
    teams = teams_of(
        team("tyo", "08:00", "17:00", languages=["ja"], days=["sat"]),
        team("dub", "07:00", "19:00", languages=["en"]),
    )
    index = ShiftIndex.build(teams.values(), at(0), at(0, day=3))
    d = route(escalation("ja", priority="P3"), now=at(10), teams=teams, index=index, policy=policy)
    assert d.action == "unroutable"
    assert any("within the calendar horizon" in r for r in d.reasons)


def test_routing_outside_the_index_horizon_is_an_error(policy):
    """Asking about an instant the index does not cover raises RoutingError."""
    teams = teams_of(team("a", "08:00", "17:00"))
    index = ShiftIndex.build(teams.values(), at(0), at(0, day=1))
    with pytest.raises(RoutingError, match="outside the calendar horizon"):
        route(escalation(), now=at(0, day=2), teams=teams, index=index, policy=policy)


# -- flags and tiers --------------------------------------------------------------------


def tiered() -> dict[str, Team]:
    return teams_of(
        team("l1", "00:00", "12:00", skills=["billing", "security"]),
        team("l2", "06:00", "18:00", tier=2, skills=["billing", "security"]),
        team("l3", "06:00", "18:00", tier=3, skills=["billing", "security"]),
    )


def test_security_flag_starts_at_the_next_tier(policy):
    """A security-flagged P3 goes straight to tier 2, and the reasons say so."""
    d = decide(escalation(flags=["security"]), at(10), tiered(), policy)
    assert (d.action, d.team, d.tier) == ("assign", "l2", 2)
    assert any("flags security escalate immediately to tier 2" in r for r in d.reasons)


def test_vip_customer_starts_at_the_next_tier(policy):
    """A VIP customer's case starts at tier 2 (vip is an escalate flag in the policy)."""
    d = decide(escalation(vip=True), at(10), tiered(), policy)
    assert (d.team, d.tier) == ("l2", 2)
    assert any("vip" in r for r in d.reasons)


def test_unflagged_case_stays_at_tier_one(policy):
    """Without a flag the same case goes to tier 1."""
    assert decide(escalation(), at(10), tiered(), policy).team == "l1"


def test_only_the_policy_flags_escalate():
    """With a policy escalating only `safety`, a security flag stays at tier 1."""
    esc = escalation(flags=["security"])
    assert decide(esc, at(10), tiered(), hand_policy()).team == "l1"
    assert decide(escalation(flags=["safety"]), at(10), tiered(), hand_policy()).team == "l2"


def test_flag_skips_to_the_next_existing_tier(policy):
    """With tiers 1 and 3 only, a flagged case goes to tier 3."""
    teams = tiered()
    del teams["l2"]
    d = decide(escalation(flags=["security"]), at(10), teams, policy)
    assert (d.team, d.tier) == ("l3", 3)


def test_flag_without_a_higher_tier_stays_and_says_so(policy):
    """With no higher tier, a flagged case is routed at its tier with a reason."""
    teams = teams_of(team("l1", "00:00", "12:00"))
    d = decide(escalation(flags=["security"]), at(10), teams, policy)
    assert (d.team, d.tier) == ("l1", 1)
    assert any("none exists" in r for r in d.reasons)


def test_tier_argument_overrides_the_starting_tier(policy):
    """`tier` (hierarchical escalation) routes at that tier and ignores flags."""
    d = decide(escalation(flags=["security"]), at(10), tiered(), policy, tier=3)
    assert (d.team, d.tier) == ("l3", 3)


def test_priority_starting_tier_comes_from_the_policy():
    """A policy whose P1 starts at tier 2 routes P1 to tier 2 and P3 to tier 1."""
    policy = hand_policy(P1={"tier": 2})
    assert decide(escalation(priority="P1"), at(10), tiered(), policy).team == "l2"
    assert decide(escalation(priority="P3"), at(10), tiered(), policy).team == "l1"


# -- coverage ---------------------------------------------------------------------------


def shift_of(team_id: str, start: datetime, end: datetime) -> Shift:
    return Shift(team=team_id, start=start, end=end, day=start.date(), source="shifts[0]")


def test_coverage_is_the_union_of_shifts_with_the_gaps_between():
    """Overlapping and touching shifts merge; what is left of the window are the gaps."""
    shifts = [
        shift_of("a", at(1), at(5)),
        shift_of("b", at(4), at(8)),
        shift_of("c", at(8), at(9)),
        shift_of("d", at(12), at(14)),
    ]
    cov = coverage(shifts, at(0), at(16))
    assert cov.covered == [Interval(at(1), at(9)), Interval(at(12), at(14))]
    assert cov.gaps == [Interval(at(0), at(1)), Interval(at(9), at(12)), Interval(at(14), at(16))]
    assert cov.share() == pytest.approx(10 / 16)
    assert cov.largest_gap() == Interval(at(9), at(12))


def test_coverage_clips_shifts_to_the_window():
    """Shifts reaching past the window count only inside it; one containing it covers all."""
    cov = coverage([shift_of("a", at(-3), at(30))], at(0), at(24))
    assert cov.covered == [Interval(at(0), at(24))]
    assert cov.gaps == []
    assert cov.share() == 1.0
    assert cov.largest_gap() is None


def test_coverage_of_nothing_is_one_gap():
    """No shifts: the whole window is a single gap."""
    cov = coverage([], at(0), at(24))
    assert cov.covered == []
    assert cov.gaps == [Interval(at(0), at(24))]
    assert cov.share() == 0.0


def follow_the_sun() -> dict[str, Team]:
    """APAC 00-09, EMEA 08-17, AMER 16-01 UTC: one hour of overlap at each handover."""
    return teams_of(
        team("apac", "00:00", "09:00", languages=["en", "ja"], skills=["billing", "platform"]),
        team("emea", "08:00", "17:00", languages=["en", "de"], skills=["billing"]),
        team("amer", "16:00", "01:00", languages=["en", "es"], skills=["billing"]),
    )


def test_language_coverage_of_follow_the_sun():
    """English is covered round the clock; each regional language only in its shift."""
    cov = language_coverage(follow_the_sun().values(), at(0), at(0, day=1))
    assert sorted(cov) == ["de", "en", "es", "ja"]
    assert cov["en"].gaps == []
    assert cov["en"].share() == 1.0
    assert cov["ja"].covered == [Interval(at(0), at(9))]
    assert cov["de"].gaps == [Interval(at(0), at(8)), Interval(at(17), at(24))]
    assert cov["es"].covered == [Interval(at(0), at(1)), Interval(at(16), at(24))]


def test_language_coverage_is_per_tier():
    """A tier-2 team's language does not count for tier-1 coverage, but does for tier 2."""
    teams = [*follow_the_sun().values(), team("l2", "00:00", "12:00", tier=2, languages=["fr"])]
    assert "fr" not in language_coverage(teams, at(0), at(24))
    tier2 = language_coverage(teams, at(0), at(24), tier=2)
    assert tier2["fr"].covered == [Interval(at(0), at(12))]


def test_team_filter_by_language_skill_and_tier():
    """team_filter matches base languages, skills and the tier."""
    apac = follow_the_sun()["apac"]
    assert team_filter(apac, language=parse_lang("en-GB"), skill="platform", tier=1)
    assert not team_filter(apac, language=parse_lang("de"))
    assert not team_filter(apac, skill="security")
    assert not team_filter(apac, tier=2)


def test_handover_chain_follows_the_sun():
    """Each team hands over to the next region, which is already on shift."""
    teams = follow_the_sun()
    shifts = expand_all(teams.values(), at(0), at(0, day=2))
    chain = [h for h in handover_chain(teams, shifts) if at(0) < h.at <= at(1, day=1)]
    assert [(h.at, h.from_team, h.to_team) for h in chain] == [
        (at(1), "amer", "apac"),
        (at(9), "apac", "emea"),
        (at(17), "emea", "amer"),
        (at(1, day=1), "amer", "apac"),
    ]
    assert all(h.languages == ["en"] for h in chain)


def test_handover_with_nobody_on_shift_names_the_next_start():
    """A gap after a shift end gives no successor and says when the next team starts."""
    teams = teams_of(team("a", "08:00", "12:00"), team("b", "14:00", "18:00"))
    shifts = expand_all(teams.values(), at(0), at(24))
    first = next(h for h in handover_chain(teams, shifts) if h.from_team == "a")
    assert first.at == at(12)
    assert first.to_team is None
    assert first.next_start == at(14)


def test_handover_prefers_the_team_speaking_the_leaving_teams_first_language():
    """A leaving Japanese team hands to the Japanese-speaking team, not the longest-staying one."""
    teams = teams_of(
        team("tyo", "00:00", "09:00", languages=["ja", "en"]),
        team("dub", "07:00", "19:00", languages=["en"]),
        team("osa", "08:00", "11:00", languages=["ja"]),
        team("l2", "00:00", "23:00", tier=2, languages=["ja", "en"]),
    )
    shifts = expand_all(teams.values(), at(0), at(24))
    handover = next(h for h in handover_chain(teams, shifts) if h.from_team == "tyo")
    assert (handover.to_team, handover.languages) == ("osa", ["ja"])


# -- the repository's schedules ---------------------------------------------------------


def test_repository_covers_english_tier1_all_the_time(repo_schedules):
    """English has tier-1 cover for every minute of the 28 days from NOW."""
    cov = language_coverage(repo_schedules.teams.values(), NOW, NOW + timedelta(days=28))
    assert cov["en"].gaps == []
    assert cov["en"].share() == 1.0


def test_repository_japanese_tier1_has_gaps(repo_schedules):
    """Japanese tier-1 cover has gaps (nights, weekends, holidays) in the same 28 days."""
    cov = language_coverage(repo_schedules.teams.values(), NOW, NOW + timedelta(days=28))
    assert cov["ja"].gaps
    assert 0.0 < cov["ja"].share() < 0.5


def test_repository_routes_a_japanese_case_on_a_japanese_holiday(repo_schedules):
    """On 2026-11-23 (a Japanese holiday) a P2 ja case accepting English gets an English team."""
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    esc = escalation("ja", accepts=["en"], priority="P2", skill="billing")
    d = route(
        esc,
        now=now,
        teams=repo_schedules.teams,
        index=repo_schedules.index_around(now),
        policy=repo_schedules.policy,
    )
    assert d.action == "assign"
    assert d.language_match == "fallback"
    assert d.team != "tyo-l1"
    assert any("2026-11-24T00:00Z (tyo-l1)" in r for r in d.reasons)


def test_a_roster_decides_as_a_plain_dict_does(repo_schedules):
    """The validated calendar's Roster remembers pools and language fits; every decision it
    gives, asked twice, is the one a plain dict of the same teams gives (which keeps none)."""
    roster = repo_schedules.teams
    assert isinstance(roster, Roster)
    plain = dict(roster)
    locales = ["en", "de-DE", "nl", "fr-FR", "pt-BR", "ja-JP", "zh-CN", "zh-TW", "ar", "cs"]
    for hour in range(0, 48, 5):
        now = NOW + timedelta(hours=hour)
        index = repo_schedules.index_around(now)
        for i, locale in enumerate(locales):
            esc = escalation(
                locale,
                accepts=["en"] if i % 2 else [],
                priority=("P1", "P2", "P3", "P4")[i % 4],
                skill="billing" if i % 3 else None,
            )
            kw = {"now": now, "index": index, "policy": repo_schedules.policy}
            for exclude in ((), ("dub-l1", "nyc-l1")):
                expected = route(esc, teams=plain, exclude=exclude, **kw)
                assert route(esc, teams=roster, exclude=exclude, **kw) == expected
                assert route(esc, teams=roster, exclude=exclude, **kw) == expected
    assert roster.memo


def test_a_roster_cannot_change_under_its_memo(repo_schedules):
    roster = repo_schedules.teams
    with pytest.raises(TypeError, match="read-only"):
        roster["x"] = roster["dub-l1"]
    with pytest.raises(TypeError, match="read-only"):
        del roster["dub-l1"]
    with pytest.raises(TypeError, match="read-only"):
        roster.pop("dub-l1")
    assert "dub-l1" in roster
