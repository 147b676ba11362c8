"""Shift-end handover moves a team's open cases, once, with packets and messages."""

from datetime import UTC, datetime

from conftest import SCHEDULES, token
from harness import Harness
from redis.asyncio import Redis

from router.schedule_files import read_policy


async def test_amsterdam_shift_end_hands_over_once(api, redis_url, key_prefix) -> None:
    """At ams-l1's 16:00Z end its Dutch cases move to an on-shift team, exactly once."""
    ids = []
    for n in range(5):
        body = {
            "source": "t",
            "external_id": f"h{n}",
            "impact": "medium",
            "urgency": "low",
            "skill": "billing",
            "summary": f"problem {n}",
            "steps_taken": ["restarted"],
            "customer": {
                "id": f"c{n}",
                "locale": "nl-NL",
                "accepts": ["en"],
                "timezone": "Europe/Amsterdam",
            },
        }
        r = await api.post("/v1/escalations", json=body, headers=token("intake"))
        assert r.json()["team"] == "ams-l1"
        ids.append(r.json()["id"])
    redis = Redis.from_url(redis_url)
    svc = Harness(redis, read_policy(SCHEDULES), prefix=key_prefix)
    end = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    report = await svc.handover.hand_over("ams-l1", end)
    assert sum(report.moved.values()) + report.waiting == 5
    again = await svc.handover.hand_over("ams-l1", end)
    assert again.moved == {}
    assert again.waiting == 0
    for cid in ids:
        case = await svc.cases.get(cid)
        assert case.team != "ams-l1"
        packets = await svc.cases.handovers(cid)
        assert len(packets) == 1
        assert packets[0].from_team == "ams-l1"
        assert packets[0].steps_taken == ["restarted"]
        events = [e.type for e in await svc.cases.events(cid)]
        assert events.count("handed_over") == 1
    outbox = await svc.cases.outbox()
    assert len({m.key for m in outbox}) == len(outbox)
    moves = [m for m in outbox if m.event in ("handed_over", "waiting")]
    assert len(moves) == 10  # one for the receiving team, one for the customer, per case
    r = await api.get(f"/v1/cases/{ids[0]}/handovers", headers=token("ops"))
    assert r.status_code == 200
    assert r.json()[0]["to_team"] == (await svc.cases.get(ids[0])).team
    await redis.aclose()
