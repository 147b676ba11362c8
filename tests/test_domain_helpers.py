"""The shared domain helpers other layers call instead of writing the same query again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from conftest import NOW, build_team

from router.domain.coverage import handover_chain, on_call
from router.domain.coverage import span as coverage_span
from router.domain.errors import InputError
from router.domain.escalation import Escalation
from router.domain.index import ShiftIndex
from router.domain.language import parse_lang
from router.domain.model import Team, escalation_chain
from router.domain.routing import Decision, assign_to, route
from router.domain.schedules import Schedules
from router.domain.timeline import parse_duration, span
from router.oncall import oncall_rows

MON = datetime(2026, 11, 23, tzinfo=UTC)
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


def daily(team_id: str, start: str, end: str, **fields: Any) -> Team:
    """A UTC team on shift every day from start to end."""
    return build_team(team_id, shifts=[{"days": EVERY_DAY, "start": start, "end": end}], **fields)


def index_of(*teams: Team) -> ShiftIndex:
    return ShiftIndex.build(teams, MON - timedelta(days=1), MON + timedelta(days=3))


# -- assign_to ---------------------------------------------------------------------------


def test_assign_to_builds_an_assignment_at_the_teams_tier(policy):
    """The decision names the team and its tier; acknowledgement is due one target later."""
    l2 = build_team("emea-l2", tier=2)
    reasons = ["ams-l1 escalates to emea-l2, which is on shift"]
    d = assign_to(l2, priority="P2", language="de", at=at(10), policy=policy, reasons=reasons)
    assert (d.action, d.team, d.tier, d.priority, d.language) == (
        "assign",
        "emea-l2",
        2,
        "P2",
        "de",
    )
    assert d.at == at(10)
    assert d.ack_due == at(10) + policy.priorities["P2"].acknowledge
    assert (d.starts_at, d.shift_ends_at, d.language_match) == (None, None, None)
    reasons.append("added later")
    assert d.reasons == ["ams-l1 escalates to emea-l2, which is on shift"]


def test_assign_to_turns_a_base_decision_into_an_assignment(policy):
    """With a base, team, tier, deadline and reasons change; priority, language and `at` stay."""
    base = Decision(action="unroutable", priority="P3", tier=1, at=at(8), reasons=["nobody"])
    top = build_team("eng-emea-l3", tier=3)
    d = assign_to(
        top,
        priority="P1",  # the case's priority: it sets the deadline only
        at=at(9),
        policy=policy,
        reasons=[*base.reasons, "ams-l1 escalates to eng-emea-l3"],
        base=base,
    )
    assert (d.action, d.team, d.tier) == ("assign", "eng-emea-l3", 3)
    assert (d.priority, d.language, d.at) == ("P3", None, at(8))
    assert d.ack_due == at(9) + policy.priorities["P1"].acknowledge
    assert d.reasons == ["nobody", "ams-l1 escalates to eng-emea-l3"]
    assert base.team is None
    assert base.reasons == ["nobody"]


def test_route_assigns_through_assign_to(policy):
    """route's assignment equals the one assign_to builds from the same facts."""
    teams = {t.id: t for t in (daily("a", "06:00", "18:00"), daily("b", "06:00", "12:00"))}
    esc = msgspec.convert({"customer": {"id": "c"}, "priority": "P2"}, Escalation)
    d = route(esc, now=at(9), teams=teams, index=index_of(*teams.values()), policy=policy)
    expected = assign_to(
        teams["a"],
        priority="P2",
        at=at(9),
        policy=policy,
        reasons=d.reasons,
        language="en",
        language_match="exact",
        shift_ends_at=at(18),
    )
    assert d == expected


# -- ShiftIndex.ends_in ------------------------------------------------------------------


def test_ends_in_is_half_open_and_ordered_by_end_then_team():
    """Ends in (after, until]: one exactly at `after` is left out, one at `until` is in;
    equal ends go by team, whichever started first."""
    index = index_of(
        daily("zeta", "06:00", "12:00"),
        daily("alpha", "08:00", "12:00"),
        daily("mid", "04:00", "10:00"),
        daily("late", "13:00", "16:00"),
    )
    ends = index.ends_in(at(10), at(16))
    assert [(s.end, s.team) for s in ends] == [
        (at(12), "alpha"),
        (at(12), "zeta"),
        (at(16), "late"),
    ]
    assert [s.team for s in index.ends_in(at(9), at(10))] == ["mid"]
    assert index.ends_in(at(16), at(28)) == []


def test_ends_in_includes_an_overnight_shift_that_started_before_the_window():
    """A shift that started the day before and ends inside the window counts."""
    index = index_of(daily("night", "22:00", "06:00"))
    assert [(s.start, s.end) for s in index.ends_in(at(5), at(7))] == [(at(-2), at(6))]


# -- the escalation chain ----------------------------------------------------------------


def test_chain_walks_escalates_to_in_the_repository(repo_schedules: Schedules):
    """A front-line team's chain runs through its tier-2 team to the engineering tier."""
    assert repo_schedules.chain("ams-l1") == ["ams-l1", "emea-l2", "eng-emea-l3"]
    assert repo_schedules.chain("blr-l1") == ["blr-l1", "apac-l2", "eng-amer-l3"]
    assert repo_schedules.chain("eng-amer-l3") == ["eng-amer-l3"]
    assert repo_schedules.top_of_chain("sto-l1") == "eng-emea-l3"
    assert repo_schedules.top_of_chain("eng-emea-l3") == "eng-emea-l3"
    assert repo_schedules.top_of_chain(None) is None


def test_chain_of_unknown_team_and_unknown_link():
    """An unknown id is its own chain; a link to an unknown name ends the chain with it."""
    teams = {"d": build_team("d", escalates_to="zz")}
    assert escalation_chain(teams, "nope") == ["nope"]
    assert escalation_chain(teams, "d") == ["d", "zz"]


def test_chain_stops_before_a_cycle():
    """A circular link (rejected by validation) ends the walk before the repeat."""
    teams = {
        "a": build_team("a", escalates_to="b"),
        "b": build_team("b", tier=2, escalates_to="c"),
        "c": build_team("c", tier=3, escalates_to="b"),
    }
    assert escalation_chain(teams, "a") == ["a", "b", "c"]
    assert escalation_chain(teams, "c") == ["c", "b"]


# -- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "report", "clock", "reason"),
    [
        (timedelta(0), "0 min", "0h00", "0 min"),
        (timedelta(minutes=45, seconds=59), "45 min", "0h45", "45 min"),
        (timedelta(hours=2), "2h00", "2h00", "2 h"),
        (timedelta(hours=7, minutes=5), "7h05", "7h05", "7 h 05 min"),
        (timedelta(days=2, hours=19, minutes=30), "2d 19h30", "67h30", "67 h 30 min"),
        (timedelta(days=1), "1d 0h00", "24h00", "24 h"),
    ],
)
def test_span_styles(delta: timedelta, report: str, clock: str, reason: str):
    """One formatter, three styles: reports, DST warnings, decision reasons."""
    assert span(delta) == report
    assert span(delta, "report") == report
    assert span(delta, "clock") == clock
    assert span(delta, "reason") == reason


def test_coverage_span_is_the_timeline_formatter():
    """`coverage.span` stays importable and is the same function."""
    assert coverage_span is span


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("30s", timedelta(seconds=30)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
    ],
)
def test_parse_duration(text: str, expected: timedelta):
    """Short forms and ISO 8601 durations."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "12", "h", "12 h", "-5m", "soon"])
def test_parse_duration_names_the_field_on_bad_text(text: str):
    """A bad duration is an InputError naming the field and the accepted forms."""
    with pytest.raises(InputError) as err:
        parse_duration(text, "--ttl")
    assert err.value.field == "--ttl"
    assert str(err.value) == f'--ttl: "{text}" is not a duration (90m, 12h, 7d)'


# -- on_call -----------------------------------------------------------------------------


def test_on_call_filters_and_orders_by_tier_then_id():
    """Language (by base), skill and tier filter the on-shift teams; tier then id order."""
    teams = {
        t.id: t
        for t in (
            daily("zed", "00:00", "12:00", languages=["en"]),
            daily("ams", "06:00", "18:00", languages=["nl", "en"], skills=["platform"]),
            daily("l2", "00:00", "23:00", tier=2, languages=["en-GB"]),
            daily("ber", "06:00", "18:00", languages=["de"]),
            daily("off", "13:00", "20:00", languages=["en"]),
        )
    }
    index = index_of(*teams.values())
    everyone = on_call(teams, index, at(9))
    assert [(t.id, s.end) for t, s in everyone] == [
        ("ams", at(18)),
        ("ber", at(18)),
        ("zed", at(12)),
        ("l2", at(23)),
    ]
    english = on_call(teams, index, at(9), language=parse_lang("en-US"))
    assert [t.id for t, _ in english] == ["ams", "zed", "l2"]
    assert [t.id for t, _ in on_call(teams, index, at(9), skill="platform")] == ["ams"]
    assert [t.id for t, _ in on_call(teams, index, at(9), tier=2)] == ["l2"]
    assert on_call(teams, index, at(9), language=parse_lang("ja")) == []


@pytest.mark.parametrize(
    "filters",
    [{}, {"language": "de"}, {"language": "es"}, {"skill": "security"}, {"tier": 2}],
)
def test_on_call_answers_like_the_oncall_rows(repo_schedules: Schedules, filters: dict):
    """On the repository's teams, on_call lists the teams `followsun oncall` lists, in order."""
    instant = NOW + timedelta(hours=4)
    index = repo_schedules.index_around(instant)
    lang = parse_lang(filters["language"]) if "language" in filters else None
    found = on_call(
        repo_schedules.teams,
        index,
        instant,
        language=lang,
        skill=filters.get("skill"),
        tier=filters.get("tier"),
    )
    rows = oncall_rows(repo_schedules, instant, **filters)
    assert rows, "the instant should have somebody on call"
    assert [(t.id, s.end) for t, s in found] == [
        (r["team"], datetime.fromisoformat(str(r["end"]))) for r in rows
    ]


# -- handover_chain for the console ------------------------------------------------------


def test_handover_chain_window_and_everyone_on_shift():
    """`ends` keeps ends in (after, until]; `on_shift` names every other team of the tier on
    shift at the end, by id, while `to_team` is the best of them."""
    teams = {
        t.id: t
        for t in (
            daily("tyo", "00:00", "09:00", languages=["ja", "en"]),
            daily("dub", "07:00", "19:00", languages=["en"]),
            daily("osa", "08:00", "11:00", languages=["ja"]),
            daily("l2", "00:00", "23:00", tier=2, languages=["ja", "en"]),
            daily("nyc", "13:00", "01:00", languages=["en"]),
        )
    }
    index = index_of(*teams.values())
    chain = handover_chain(teams, index, ends=(at(9), at(19)))
    assert [(h.at, h.from_team, h.to_team, h.on_shift) for h in chain] == [
        (at(11), "osa", "dub", ["dub"]),
        (at(19), "dub", "nyc", ["nyc"]),
    ]
    tyo = handover_chain(teams, index, ends=(at(8), at(9)))
    assert [(h.from_team, h.to_team, h.on_shift) for h in tyo] == [("tyo", "osa", ["dub", "osa"])]


def test_handover_chain_on_shift_matches_the_index(repo_schedules: Schedules):
    """For every end in 12 hours, `on_shift` is the same-tier teams the index has on shift
    then (the console's "who takes over next")."""
    index = repo_schedules.index_around(NOW)
    teams = repo_schedules.teams
    end = NOW + timedelta(hours=12)
    chain = handover_chain(teams, index, ends=(NOW, end))
    assert [(h.at, h.from_team) for h in chain] == [
        (s.end, s.team) for s in index.ends_in(NOW, end)
    ]
    for h in chain:
        tier = teams[h.from_team].tier
        expected = sorted(
            s.team for s in index.at(h.at) if s.team != h.from_team and teams[s.team].tier == tier
        )
        assert h.on_shift == expected
        assert (h.to_team is None) == (expected == [])
        assert h.to_team is None or h.to_team in expected
