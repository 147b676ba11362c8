"""Shift-end handovers, waiting cases, deadline sweeps, catch-up and job planning.

Service-level tests over a real Redis. Every instant is injected: no test sleeps for a
shift. The repository's schedules give the realistic cases (ams-l1 leaving at 16:00Z on
Monday 2026-11-23); small UTC teams of the test's own give the situations they lack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
import redis as redis_sync
from conftest import SCHEDULES, token
from harness import Harness
from redis.asyncio import Redis
from rq import Queue
from rq.job import Job

from router.domain.case import Case, acknowledge, add_note, resolve
from router.domain.escalation import Customer, Escalation
from router.domain.handover import CustomerInfo, Outbox
from router.domain.model import Policy, TeamSpec
from router.domain.schedules import Schedules, validate_specs
from router.jobs.planner import Planner, handover_job_id
from router.jobs.queues import JobQueue
from router.schedule_files import read_schedules, read_team_specs
from router.store import Keys

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
AMS_END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # ams-l1 leaves (17:00 in Amsterdam)
DAY1 = datetime(2026, 11, 23, tzinfo=UTC)  # midnight UTC, for the test's own UTC teams
H = timedelta(hours=1)
M = timedelta(minutes=1)


# -- helpers ------------------------------------------------------------------------------


def spec(
    *shifts: tuple[str, str],
    tier: int = 1,
    languages: Iterable[str] = ("en",),
    escalates_to: str | None = None,
) -> TeamSpec:
    """A UTC team on shift every day in the given (start, end) slots."""
    data: dict[str, object] = {
        "name": "test team",
        "timezone": "UTC",
        "tier": tier,
        "languages": list(languages),
        "skills": ["billing"],
        "shifts": [{"days": DAYS, "start": s, "end": e} for s, e in shifts],
    }
    if escalates_to:
        data["escalates_to"] = escalates_to
    return msgspec.convert(data, TeamSpec)


AROUND_THE_CLOCK = (("00:00", "12:00"), ("12:00", "00:00"))
THREE_SHIFTS = {
    "a": spec(("00:00", "08:00")),
    "b": spec(("08:00", "16:00")),
    "c": spec(("16:00", "00:00")),
}
CHAIN = {
    "l1": spec(*AROUND_THE_CLOCK, escalates_to="l2"),
    "l2": spec(*AROUND_THE_CLOCK, tier=2, escalates_to="l3"),
    "l3": spec(*AROUND_THE_CLOCK, tier=3),
}


def esc(
    n: int,
    *,
    locale: str = "en-GB",
    priority: str = "P2",
    accepts: Iterable[str] = (),
    vip: bool = False,
) -> Escalation:
    return Escalation(
        customer=Customer(
            id=f"cust-{n}",
            name=f"Customer {n}",
            locale=locale,
            timezone="Europe/Amsterdam",
            accepts=list(accepts),
            vip=vip,
        ),
        priority=priority,  # type: ignore[arg-type]
        skill="billing",
        summary=f"problem {n}",
        steps_taken=["restarted the router"],
        impact_assessment=f"impact {n}",
        help_needed=f"help {n}",
        source="test",
        external_id=f"x{n}",
    )


@pytest.fixture
async def svc(redis_url: str, key_prefix: str, policy: Policy) -> AsyncIterator[Harness]:
    redis = Redis.from_url(redis_url)
    harness = Harness(redis, policy, prefix=key_prefix, url=redis_url)
    yield harness
    harness.close()
    await redis.aclose()


async def load(svc: Harness, specs: Mapping[str, TeamSpec]) -> None:
    await svc.teams.load(specs, by="test", at=DAY1)
    svc.forget_schedules()


async def open_case_for(svc: Harness, escalation: Escalation, now: datetime, team: str) -> Case:
    case, created = await svc.intake(escalation, now, actor="test")
    assert created
    assert case.team == team, case.decision.reasons
    return case


async def on_shift(svc: Harness, at: datetime) -> set[str]:
    return {s.team for s in (await svc.index(at)).at(at)}


async def event_types(svc: Harness, case_id: str) -> list[str]:
    return [e.type for e in await svc.cases.events(case_id)]


async def messages(svc: Harness, case_id: str | None = None) -> list[Outbox]:
    return [m for m in await svc.cases.outbox(100_000) if case_id is None or m.case == case_id]


async def alerts(svc: Harness) -> list[Outbox]:
    entries = await svc.redis.xrange(svc.keys.alerts)
    return [msgspec.msgpack.decode(f[b"e"], type=Outbox) for _, f in entries]


# -- hand_over ------------------------------------------------------------------------------


async def test_shift_end_moves_each_open_case_once_with_packet_and_messages(svc) -> None:
    """At ams-l1's 16:00Z end its open cases move to on-shift teams with a full packet."""
    await load(svc, read_team_specs(SCHEDULES))
    waiting_ack = await open_case_for(
        svc, esc(1, locale="nl-NL", priority="P3", accepts=["en"]), MORNING, "ams-l1"
    )
    acked = await open_case_for(
        svc, esc(2, locale="nl-NL", priority="P2", accepts=["en"]), MORNING, "ams-l1"
    )
    done = await open_case_for(svc, esc(3, locale="nl-NL", priority="P3"), MORNING, "ams-l1")
    acked = await svc.change(
        acked, lambda c: add_note(c, "checked the invoice run", now=MORNING + 10 * M, actor="ag")
    )
    acked = await svc.change(
        acked,
        lambda c: add_note(
            c,
            "we are on it",
            now=MORNING + 20 * M,
            actor="ag",
            customer_visible=True,
            policy=svc.policy,
        ),
    )
    acked = await svc.change(acked, lambda c: acknowledge(c, now=MORNING + 30 * M, actor="ag"))
    done = await svc.change(done, lambda c: resolve(c, "fixed", now=MORNING + H, actor="ag"))

    earlier = len(await messages(svc))

    report = await svc.handover.hand_over("ams-l1", AMS_END)

    assert sum(report.moved.values()) == 2
    assert (report.waiting, report.escalated, report.still_on_shift) == (0, 0, False)
    receivers = await on_shift(svc, AMS_END) - {"ams-l1"}
    for before in (waiting_ack, acked):
        case = await svc.cases.get(before.id)
        assert case is not None
        assert case.team in receivers
        assert case.status == "assigned"
        assert case.acknowledged_at is None
        assert case.ack_due == AMS_END + svc.policy.priorities[case.priority].acknowledge
        assert case.handovers == 1
        assert before.id in await svc.cases.open_ids(case.team)
        events = [e for e in await svc.cases.events(case.id) if e.type == "handed_over"]
        assert len(events) == 1
        assert (events[0].from_team, events[0].team, events[0].at) == ("ams-l1", case.team, AMS_END)
        [packet] = await svc.cases.handovers(case.id)
        assert (packet.case, packet.kind, packet.at) == (case.id, "handed_over", AMS_END)
        assert (packet.from_team, packet.to_team) == ("ams-l1", case.team)
        assert packet.problem_summary == before.escalation.summary
        assert packet.impact_assessment == before.escalation.impact_assessment
        assert packet.help_needed == before.escalation.help_needed
        assert packet.customer == CustomerInfo(
            id=before.escalation.customer.id,
            name=before.escalation.customer.name,
            locale="nl-NL",
            timezone="Europe/Amsterdam",
            vip=False,
        )
        assert packet.deadlines.acknowledge == case.ack_due
        assert packet.deadlines.next_update == case.update_due
        assert packet.deadlines.resolve == case.resolve_due
        assert packet.reasons
        assert packet in await svc.cases.received(case.team)
        sent = [m for m in (await messages(svc))[earlier:] if m.case == case.id]
        team_msgs = [m for m in sent if m.audience == "team"]
        customer_msgs = [m for m in sent if m.audience == "customer"]
        assert len(sent) == 2
        assert [(m.event, m.team) for m in team_msgs] == [("handed_over", case.team)]
        assert [(m.event, m.locale) for m in customer_msgs] == [("handed_over", "nl-NL")]
    first = await svc.cases.handovers(waiting_ack.id)
    assert first[0].steps_taken == ["restarted the router"]
    assert first[0].notes_since_last_handover == []
    [packet] = await svc.cases.handovers(acked.id)
    assert packet.steps_taken == ["restarted the router", "checked the invoice run"]
    assert [n.text for n in packet.notes_since_last_handover] == [
        "checked the invoice run",
        "we are on it",
    ]
    assert await svc.cases.get(done.id) == done  # resolved: not an open case, not moved
    assert await svc.cases.handovers(done.id) == []
    sent = await messages(svc)
    assert len(sent) == len({m.key for m in sent}) == earlier + 4
    assert await svc.cases.open_ids("ams-l1") == []
    assert await svc.redis.smembers(svc.keys.pending_handovers) == set()


async def test_running_a_handover_twice_moves_nothing_twice(svc) -> None:
    """A second run of the same shift end writes no packet, event or message."""
    await load(svc, read_team_specs(SCHEDULES))
    ids = [
        (await open_case_for(svc, esc(n, locale="nl-NL", accepts=["en"]), MORNING, "ams-l1")).id
        for n in range(4)
    ]
    first = await svc.handover.hand_over("ams-l1", AMS_END)
    assert sum(first.moved.values()) == 4
    before = {cid: await svc.cases.get(cid) for cid in ids}
    outbox = await messages(svc)
    events = await svc.redis.xlen(svc.keys.events)

    again = await svc.handover.hand_over("ams-l1", AMS_END)

    assert (again.moved, again.waiting, again.escalated) == ({}, 0, 0)
    assert {cid: await svc.cases.get(cid) for cid in ids} == before
    assert await messages(svc) == outbox
    assert await svc.redis.xlen(svc.keys.events) == events
    for cid in ids:
        assert len(await svc.cases.handovers(cid)) == 1
        assert (await event_types(svc, cid)).count("handed_over") == 1


async def test_back_to_back_shift_moves_nothing(svc) -> None:
    """A team whose next shift starts as this one ends keeps its cases."""
    await load(
        svc, {"bb": spec(("08:00", "16:00"), ("16:00", "00:00")), "x": spec(*AROUND_THE_CLOCK)}
    )
    case = await open_case_for(svc, esc(1), DAY1 + 9 * H, "bb")
    outbox = await messages(svc)

    report = await svc.handover.hand_over("bb", DAY1 + 16 * H)

    assert report.still_on_shift
    assert (report.moved, report.waiting) == ({}, 0)
    assert await svc.cases.get(case.id) == case
    assert await svc.cases.handovers(case.id) == []
    assert await messages(svc) == outbox
    assert await svc.redis.smembers(svc.keys.pending_handovers) == set()


async def test_a_case_assigned_after_the_shift_end_is_left_alone(svc) -> None:
    """A late run for yesterday's end does not move what the team took on today."""
    await load(svc, THREE_SHIFTS)
    old = await open_case_for(svc, esc(1), DAY1 + 9 * H, "b")
    today = await open_case_for(svc, esc(2), DAY1 + 33 * H, "b")

    report = await svc.handover.hand_over("b", DAY1 + 16 * H)

    assert report.moved == {"c": 1}
    assert report.skipped == 1
    assert (await svc.cases.get(old.id)).team == "c"
    assert await svc.cases.get(today.id) == today
    assert await svc.cases.handovers(today.id) == []
    assert await svc.cases.open_ids("b") == [today.id]


async def test_notes_in_a_packet_are_those_since_the_last_handover(svc) -> None:
    """The second packet carries only the notes written after the first handover."""
    await load(svc, THREE_SHIFTS)
    case = await open_case_for(svc, esc(1, vip=True), DAY1 + 7 * H, "a")
    await svc.change(case, lambda c: add_note(c, "first note", now=DAY1 + 7.5 * H, actor="ag"))
    await svc.handover.hand_over("a", DAY1 + 8 * H)
    case = await svc.cases.get(case.id)
    assert case.team == "b"
    await svc.change(case, lambda c: add_note(c, "second note", now=DAY1 + 9 * H, actor="ag"))

    await svc.handover.hand_over("b", DAY1 + 16 * H)

    first, second = await svc.cases.handovers(case.id)
    assert [n.text for n in first.notes_since_last_handover] == ["first note"]
    assert [n.text for n in second.notes_since_last_handover] == ["second note"]
    assert second.steps_taken == ["restarted the router", "first note", "second note"]
    assert (second.from_team, second.to_team, second.at) == ("b", "c", DAY1 + 16 * H)
    assert second.customer.vip is True


# -- nobody on shift: waiting and unroutable -------------------------------------------------

WAIT_TEAMS = {
    "nl-a": spec(("08:00", "16:00"), languages=["nl"], escalates_to="l2"),
    "nl-b": spec(("18:00", "02:00"), languages=["nl"], escalates_to="l2"),
    "l2": spec(*AROUND_THE_CLOCK, tier=2, languages=["en"]),
}


async def test_p3_and_p4_wait_for_the_next_team_and_wake_at_its_start(svc) -> None:
    """With nobody on shift P3/P4 cases wait for nl-b and are assigned when it starts."""
    await load(svc, WAIT_TEAMS)
    p3 = await open_case_for(svc, esc(1, locale="nl-NL", priority="P3"), DAY1 + 9 * H, "nl-a")
    p4 = await open_case_for(svc, esc(2, locale="nl-NL", priority="P4"), DAY1 + 9 * H, "nl-a")
    end, start = DAY1 + 16 * H, DAY1 + 18 * H

    report = await svc.handover.hand_over("nl-a", end)

    assert (report.waiting, report.moved) == (2, {})
    for before in (p3, p4):
        case = await svc.cases.get(before.id)
        assert (case.status, case.team, case.decision.starts_at) == ("waiting", "nl-b", start)
        assert await svc.redis.zscore(svc.keys.waiting, case.id) == start.timestamp()
        [packet] = await svc.cases.handovers(case.id)
        assert (packet.from_team, packet.to_team) == ("nl-a", "nl-b")
        told = [m for m in await messages(svc, case.id) if m.audience == "customer"]
        assert [m.event for m in told] == ["received", "waiting"]
        assert start.isoformat() in told[-1].params.values()
    assert await svc.cases.open_ids("nl-a") == []
    assert await svc.cases.open_ids("nl-b") == []

    assert await svc.handover.wake_waiting(start - M) == 0
    assert await svc.handover.wake_waiting(start) == 2
    assert await svc.handover.wake_waiting(start) == 0

    for before in (p3, p4):
        case = await svc.cases.get(before.id)
        assert (case.status, case.team) == ("assigned", "nl-b")
        assert case.ack_due == start + svc.policy.priorities[case.priority].acknowledge
        assert await svc.redis.zscore(svc.keys.waiting, case.id) is None
        assert (await event_types(svc, case.id)).count("assigned") == 1
    assert await svc.cases.open_ids("nl-b") == sorted([p3.id, p4.id])


async def test_unroutable_case_goes_to_escalates_to_with_an_ops_alert(svc) -> None:
    """A P1 nobody can take at the shift end goes to the leaving team's escalates_to."""
    await load(svc, WAIT_TEAMS)
    p1 = await open_case_for(svc, esc(1, locale="nl-NL", priority="P1"), DAY1 + 9 * H, "nl-a")
    end = DAY1 + 16 * H

    report = await svc.handover.hand_over("nl-a", end)

    assert (report.moved, report.escalated, report.waiting) == ({"l2": 1}, 1, 0)
    case = await svc.cases.get(p1.id)
    assert (case.status, case.team, case.tier) == ("assigned", "l2", 2)
    assert case.ack_due == end + svc.policy.priorities["P1"].acknowledge
    assert await svc.cases.open_ids("l2") == [p1.id]
    [alert] = await alerts(svc)
    assert (alert.audience, alert.event, alert.case) == ("ops", "unroutable", p1.id)
    assert alert.params["from_team"] == "nl-a"
    [packet] = await svc.cases.handovers(p1.id)
    assert (packet.from_team, packet.to_team) == ("nl-a", "l2")
    assert any("escalates to l2" in r for r in packet.reasons)


async def test_unroutable_case_of_a_team_without_escalates_to_alerts_ops_once(svc) -> None:
    """With nowhere to go the case becomes unroutable and ops get exactly one alert."""
    await load(
        svc, {"solo": spec(("08:00", "16:00"), languages=["nl"]), "x": spec(*AROUND_THE_CLOCK)}
    )
    p1 = await open_case_for(svc, esc(1, locale="nl-NL", priority="P1"), DAY1 + 9 * H, "solo")

    await svc.handover.hand_over("solo", DAY1 + 16 * H)

    case = await svc.cases.get(p1.id)
    assert (case.status, case.team) == ("unroutable", None)
    assert await svc.redis.zscore(svc.keys.unroutable, p1.id) is not None
    assert await svc.cases.open_ids("solo") == []
    sent = await messages(svc, p1.id)
    assert len(sent) == len({m.key for m in sent}), [m.key for m in sent]
    assert [(a.event, a.case) for a in await alerts(svc)] == [("unroutable", p1.id)]


async def test_a_waiting_case_nobody_can_take_at_wake_up_alerts_ops_once(svc) -> None:
    """When the teams it waited for are gone, waking makes it unroutable with one alert."""
    await load(svc, WAIT_TEAMS)
    p3 = await open_case_for(svc, esc(1, locale="nl-NL", priority="P3"), DAY1 + 9 * H, "nl-a")
    await svc.handover.hand_over("nl-a", DAY1 + 16 * H)
    assert (await svc.cases.get(p3.id)).status == "waiting"
    for team in ("nl-a", "nl-b"):  # the schedule changes: no Dutch team any more
        await svc.teams.put(team, None, expected=None, by="ops", at=DAY1 + 17 * H)
    svc.forget_schedules()

    assert await svc.handover.wake_waiting(DAY1 + 18 * H) == 1

    case = await svc.cases.get(p3.id)
    assert case.status == "unroutable"
    assert await svc.redis.zscore(svc.keys.waiting, p3.id) is None
    sent = await messages(svc, p3.id)
    assert len(sent) == len({m.key for m in sent}), [m.key for m in sent]
    assert [(a.event, a.case) for a in await alerts(svc)] == [("unroutable", p3.id)]


async def test_a_waiting_case_whose_team_moved_its_start_waits_on_and_says_so(svc) -> None:
    """At the old start, with its team now starting later, the case waits for the new start;
    its waiting index, the event and the customer's update all carry the new time."""
    await load(svc, WAIT_TEAMS)
    p4 = await open_case_for(svc, esc(1, locale="nl-NL", priority="P4"), DAY1 + 9 * H, "nl-a")
    await svc.handover.hand_over("nl-a", DAY1 + 16 * H)
    later = spec(("20:00", "02:00"), languages=["nl"], escalates_to="l2")
    await svc.teams.put("nl-b", later, expected=None, by="ops", at=DAY1 + 17 * H)
    svc.forget_schedules()

    assert await svc.handover.wake_waiting(DAY1 + 18 * H) == 0

    case = await svc.cases.get(p4.id)
    assert (case.status, case.team, case.decision.starts_at) == ("waiting", "nl-b", DAY1 + 20 * H)
    assert await svc.redis.zscore(svc.keys.waiting, p4.id) == (DAY1 + 20 * H).timestamp()
    assert [e.type for e in await svc.cases.events(p4.id)][-1] == "rescheduled"
    waiting = [m for m in await messages(svc, p4.id) if m.event == "waiting"]
    assert waiting[-1].params["start"] == (DAY1 + 20 * H).isoformat()
    assert await svc.handover.wake_waiting(DAY1 + 20 * H) == 1
    assert (await svc.cases.get(p4.id)).status == "assigned"


# -- sweep -----------------------------------------------------------------------------------


async def test_sweep_escalates_an_unacknowledged_case_up_the_chain(svc) -> None:
    """Past ack_due a case climbs l1 -> l2 -> l3, once per deadline; then ops hear of it."""
    await load(svc, CHAIN)
    t0 = DAY1 + 9 * H
    case = await open_case_for(svc, esc(1), t0, "l1")
    assert case.ack_due == t0 + H

    assert await svc.deadlines.sweep(t0 + H - M) == {}
    assert await svc.deadlines.sweep(t0 + H + M) == {"escalated": 1}
    assert await svc.deadlines.sweep(t0 + H + M) == {}

    case = await svc.cases.get(case.id)
    assert (case.team, case.tier, case.status) == ("l2", 2, "assigned")
    assert case.ack_due == t0 + 2 * H + M
    escalated = [e for e in await svc.cases.events(case.id) if e.type == "escalated"]
    assert [(e.from_team, e.team) for e in escalated] == [("l1", "l2")]
    [packet] = await svc.cases.handovers(case.id)
    assert (packet.kind, packet.from_team, packet.to_team) == ("escalated", "l1", "l2")
    team_msgs = [m for m in await messages(svc, case.id) if m.audience == "team"]
    assert [(m.event, m.team) for m in team_msgs] == [("assigned", "l1"), ("escalated", "l2")]

    assert await svc.deadlines.sweep(t0 + 2 * H + 2 * M) == {"escalated": 1}
    case = await svc.cases.get(case.id)
    assert (case.team, case.tier) == ("l3", 3)
    assert await svc.cases.open_ids("l1") == await svc.cases.open_ids("l2") == []

    top = t0 + 3 * H + 3 * M  # l3 is the top: nobody above, so operations hear of it
    await svc.deadlines.sweep(top)
    await svc.deadlines.sweep(top)
    assert [(a.event, a.case) for a in await alerts(svc)] == [
        ("ack_overdue_no_higher_tier", case.id)
    ]
    assert (await svc.cases.get(case.id)).team == "l3"


async def test_sweep_reminds_the_team_then_the_next_tier_about_updates(svc) -> None:
    """Past update_due the team is reminded; an interval later the next tier and ops are."""
    await load(svc, CHAIN)
    t0 = DAY1 + 9 * H
    case = await open_case_for(svc, esc(1), t0, "l1")
    await svc.change(case, lambda c: acknowledge(c, now=t0 + 5 * M, actor="ag"))
    first, second = t0 + 4 * H + M, t0 + 8 * H + 2 * M

    assert await svc.deadlines.sweep(first) == {"update_reminders": 1}
    assert await svc.deadlines.sweep(first) == {}
    reminders = [m for m in await messages(svc, case.id) if m.event == "update_overdue"]
    assert [(m.audience, m.team, m.params["reminder"]) for m in reminders] == [("team", "l1", "1")]
    assert await alerts(svc) == []
    assert (await svc.cases.get(case.id)).update_due == first + 4 * H

    assert await svc.deadlines.sweep(second) == {"update_reminders": 1}
    assert await svc.deadlines.sweep(second) == {}
    reminders = [m for m in await messages(svc, case.id) if m.event == "update_overdue"]
    assert [(m.audience, m.team, m.params["reminder"]) for m in reminders] == [
        ("team", "l1", "1"),
        ("team", "l2", "2"),
        ("ops", "l1", "2"),
    ]
    assert [(a.event, a.case) for a in await alerts(svc)] == [("update_overdue", case.id)]
    case = await svc.cases.get(case.id)
    assert (case.team, case.status, case.update_reminders) == ("l1", "acknowledged", 2)


async def test_sweep_tells_the_top_of_the_chain_about_an_overdue_resolution(svc) -> None:
    """Past resolve_due the top of the escalation chain hears of it, once."""
    await load(svc, CHAIN)
    t0 = DAY1 + 9 * H
    case = await open_case_for(svc, esc(1), t0, "l1")
    case = await svc.change(case, lambda c: acknowledge(c, now=t0 + 5 * M, actor="ag"))
    late = case.resolve_due + M

    counts = await svc.deadlines.sweep(late)
    outbox = await messages(svc)
    again = await svc.deadlines.sweep(late)

    assert counts["resolve_overdue"] == 1
    assert again == {}
    assert await messages(svc) == outbox
    overdue = [m for m in outbox if m.event == "resolve_overdue"]
    assert [(m.audience, m.team, m.case) for m in overdue] == [("team", "l3", case.id)]
    stored = await svc.cases.get(case.id)
    assert stored.resolve_overdue_notified
    assert (stored.team, stored.status) == ("l1", "acknowledged")


# -- catch_up --------------------------------------------------------------------------------


async def test_catch_up_hands_over_every_missed_shift_end_in_time_order(svc) -> None:
    """Missed ends a@08:00 and b@16:00 run in order: the case goes a -> b -> c."""
    await load(svc, THREE_SHIFTS)
    case = await open_case_for(svc, esc(1), DAY1 + 7 * H, "a")
    await svc.redis.set(svc.keys.handover_mark, f"{(DAY1 + 7.5 * H).timestamp():.3f}")
    now = DAY1 + 17 * H

    reports = await svc.handover.catch_up(now)

    assert [(r.team, r.at) for r in reports] == [("a", DAY1 + 8 * H), ("b", DAY1 + 16 * H)]
    assert [r.moved for r in reports] == [{"b": 1}, {"c": 1}]
    packets = await svc.cases.handovers(case.id)
    assert [(p.from_team, p.to_team, p.at) for p in packets] == [
        ("a", "b", DAY1 + 8 * H),
        ("b", "c", DAY1 + 16 * H),
    ]
    assert (await svc.cases.get(case.id)).team == "c"
    assert float(await svc.redis.get(svc.keys.handover_mark)) == now.timestamp()
    assert await svc.handover.catch_up(now) == []


async def test_catch_up_reruns_a_handover_a_crash_left_pending(svc) -> None:
    """A `team|epoch` left in the pending set is handed over at that instant on catch-up."""
    await load(svc, THREE_SHIFTS)
    ids = [(await open_case_for(svc, esc(n), DAY1 + 9 * H, "b")).id for n in range(3)]
    end, now = DAY1 + 16 * H, DAY1 + 17 * H
    await svc.redis.sadd(svc.keys.pending_handovers, f"b|{int(end.timestamp())}")
    await svc.redis.set(svc.keys.handover_mark, f"{now.timestamp():.3f}")  # no regular ends

    reports = await svc.handover.catch_up(now)

    assert [(r.team, r.at, r.moved) for r in reports] == [("b", end, {"c": 3})]
    for cid in ids:
        [packet] = await svc.cases.handovers(cid)
        assert (packet.from_team, packet.to_team, packet.at) == ("b", "c", end)
    assert await svc.cases.open_ids("b") == []
    assert await svc.redis.smembers(svc.keys.pending_handovers) == set()


# -- planning the handover jobs ------------------------------------------------------------


def expected_jobs(prefix: str, schedules: Schedules, now: datetime) -> dict[str, datetime]:
    ends = {}
    for team in schedules.teams.values():
        index = Schedules(teams={team.id: team}, policy=schedules.policy).index(
            now - timedelta(days=2), now + timedelta(days=3)
        )
        for shift in index:
            if now < shift.end <= now + timedelta(hours=48):
                ends[handover_job_id(prefix, team.id, shift.end)] = shift.end
    return ends


@pytest.fixture
def rq_queue(redis_url: str, key_prefix: str, monkeypatch) -> Iterable[Queue]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    conn = redis_sync.Redis.from_url(redis_url)
    yield Queue(Keys(key_prefix).queue, connection=conn)
    conn.close()


def plan_handovers(q: Queue, prefix: str, schedules: Schedules, now: datetime) -> int:
    return Planner(JobQueue(q.connection, prefix)).handovers(schedules, now)


def planned(q: Queue, prefix: str) -> list[str]:
    return [j for j in q.scheduled_job_registry.get_job_ids() if j.startswith(prefix)]


def rebuilt(policy: Policy, **changes: TeamSpec | None) -> Schedules:
    specs = read_team_specs(SCHEDULES)
    for tid, new in changes.items():
        if new is None:
            del specs[tid]
        else:
            specs[tid] = new
    return validate_specs(
        {tid: (s, f"teams/{tid}") for tid, s in specs.items()}, policy, now=MORNING, warnings=False
    )


def test_planning_schedules_one_job_per_shift_end_and_is_repeatable(rq_queue, key_prefix) -> None:
    """Every shift end in the next 48 h gets one job with a deterministic id, once."""
    now = MORNING
    schedules = read_schedules(SCHEDULES, now=now)
    want = expected_jobs(key_prefix, schedules, now)

    count = plan_handovers(rq_queue, key_prefix, schedules, now)
    again = plan_handovers(rq_queue, key_prefix, schedules, now)

    assert count == again == len(want) > 0
    ids = planned(rq_queue, key_prefix)
    assert sorted(ids) == sorted(want)
    assert len(ids) == len(set(ids))
    job_id = handover_job_id(key_prefix, "ams-l1", AMS_END)
    assert job_id == f"{key_prefix}-handover-ams-l1-{int(AMS_END.timestamp())}"
    job = Job.fetch(job_id, connection=rq_queue.connection)
    assert job.func_name == "router.jobs.tasks.handover"
    assert job.args == ("ams-l1", AMS_END.isoformat())
    for jid in ids:
        assert rq_queue.scheduled_job_registry.get_scheduled_time(jid) == want[jid]
    assert rq_queue.count == 0  # nothing runs before its shift end


def test_planning_again_cancels_the_ends_of_a_removed_or_changed_team(
    rq_queue, key_prefix, policy
) -> None:
    """Without ams-l1, and with ber-l1 ending an hour earlier, their old jobs are cancelled."""
    now = MORNING
    plan_handovers(rq_queue, key_prefix, read_schedules(SCHEDULES, now=now), now)
    before = set(planned(rq_queue, key_prefix))
    ber = read_team_specs(SCHEDULES)["ber-l1"]
    earlier = msgspec.structs.replace(
        ber, shifts=[msgspec.structs.replace(r, end="17:00") for r in ber.shifts]
    )
    changed = rebuilt(policy, **{"ams-l1": None, "ber-l1": earlier})

    plan_handovers(rq_queue, key_prefix, changed, now)

    after = set(planned(rq_queue, key_prefix))
    assert after == set(expected_jobs(key_prefix, changed, now))
    gone = before - after
    assert gone
    assert all("-ams-l1-" in j or "-ber-l1-" in j for j in gone)
    assert not any("-ams-l1-" in j for j in after)
    assert handover_job_id(key_prefix, "ber-l1", AMS_END) in after  # 17:00 Berlin = 16:00Z
    for jid in gone:
        assert not Job.exists(jid, connection=rq_queue.connection)
    untouched = {j for j in before if "-ams-l1-" not in j and "-ber-l1-" not in j}
    assert untouched <= after


# -- the API ---------------------------------------------------------------------------------


async def test_handover_packets_over_the_api_respect_the_agent_team(
    api, redis_url, key_prefix, policy
) -> None:
    """Case and team handover lists: the receiving team's agent 200, another agent 403."""
    body = {
        "source": "t",
        "external_id": "api-1",
        "priority": "P3",
        "skill": "billing",
        "summary": "invoice missing",
        "customer": {"id": "c1", "locale": "nl-NL", "accepts": ["en"]},
    }
    created = await api.post("/v1/escalations", json=body, headers=token("intake"))
    assert created.json()["team"] == "ams-l1"
    cid = created.json()["id"]
    redis = Redis.from_url(redis_url)
    try:
        svc = Harness(redis, policy, prefix=key_prefix)
        await svc.handover.hand_over("ams-l1", AMS_END)
        team = (await svc.cases.get(cid)).team
    finally:
        await redis.aclose()
    assert team != "ams-l1"

    mine = await api.get(f"/v1/cases/{cid}/handovers", headers=token("agent", team))
    theirs = await api.get(f"/v1/cases/{cid}/handovers", headers=token("agent", "ams-l1"))
    received = await api.get(f"/v1/teams/{team}/handovers", headers=token("agent", team))
    other = await api.get(f"/v1/teams/{team}/handovers", headers=token("agent", "ams-l1"))
    ops = await api.get(f"/v1/teams/{team}/handovers", headers=token("ops"))

    assert (mine.status_code, theirs.status_code) == (200, 403)
    assert (received.status_code, other.status_code, ops.status_code) == (200, 403, 200)
    assert [(p["case"], p["from_team"], p["to_team"]) for p in mine.json()] == [
        (cid, "ams-l1", team)
    ]
    assert mine.json()[0]["problem_summary"] == "invoice missing"
    assert [p["case"] for p in received.json()] == [cid]
    assert ops.json() == received.json()


async def test_a_case_waiting_at_intake_gets_a_wake_job_at_its_teams_start(
    api, redis_url, key_prefix
) -> None:
    """Intake of a case that must wait schedules the RQ job that assigns it at the start."""
    body = {
        "source": "t",
        "external_id": "wake-1",
        "priority": "P4",
        "skill": "billing",
        "customer": {"id": "c", "locale": "ja-JP", "timezone": "Asia/Tokyo"},
    }
    case = (await api.post("/v1/escalations", json=body, headers=token("intake"))).json()
    assert case["status"] == "waiting"
    start = datetime.fromisoformat(case["decision"]["starts_at"])
    q = Queue(Keys(key_prefix).queue, connection=redis_sync.Redis.from_url(redis_url))
    job_id = f"{key_prefix}-wake-{int(start.timestamp())}"
    assert job_id in q.scheduled_job_registry.get_job_ids() or job_id in q.job_ids
