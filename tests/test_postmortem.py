"""P1 post-incident reports: written by ops on the resolved case (API and console form),
kept in the case's document, every save an event, exported as Markdown with a timeline
generated from the case's events."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import API_NOW, SECRET, token

from router.domain.case import CaseEvent
from router.domain.postmortem import Draft, IncompleteReport, check_report, timeline
from router.http.auth import make_token

OPS, INTAKE, VIEWER = token("ops"), token("intake"), token("viewer")
REPORT = {
    "root_cause": "A deploy switched the payment provider's API key to the sandbox one.",
    "steps": ["Rolled back deploy 2291", "Re-ran the failed captures | 212 orders"],
    "prevention": "Keys come from the vault per environment; a smoke test pays with a real card.",
}


def test_every_missing_field_is_named_at_once() -> None:
    """Root cause, steps and prevention are each required; an empty step is named by index."""
    with pytest.raises(IncompleteReport) as caught:
        check_report(Draft(root_cause="  ", steps=["fine", " "], prevention=""))
    assert caught.value.errors == [
        ("root_cause", "required: what caused the incident"),
        ("steps[1]", "an empty step"),
        ("prevention", "required: what will keep it from happening again"),
    ]
    assert caught.value.field == "root_cause"
    with pytest.raises(IncompleteReport) as caught:
        check_report(Draft(root_cause="x", steps=[], prevention="y"))
    assert [f for f, _ in caught.value.errors] == ["steps"]
    assert check_report(
        Draft(root_cause=" cause ", steps=[" one "], prevention=" never ")
    ) == Draft(root_cause="cause", steps=["one"], prevention="never")


def test_the_timeline_reads_the_events_in_order() -> None:
    """One line per event, oldest first, saying what happened and between which teams."""
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def ev(minute: int, kind: str, **extra: Any) -> CaseEvent:
        return CaseEvent(case="C-1", type=kind, at=at + timedelta(minutes=minute), **extra)

    lines = timeline(
        [
            ev(
                30,
                "escalated",
                actor="sweep",
                status="assigned",
                team="emea-l2",
                from_team="ams-l1",
                detail={"reason": "ack overdue"},
            ),
            ev(
                0,
                "received",
                actor="intake",
                status="assigned",
                team="ams-l1",
                detail={"action": "assign"},
            ),
            ev(
                50,
                "resolved",
                actor="ops-kim",
                status="resolved",
                team="emea-l2",
                detail={"resolution": "rolled back"},
            ),
        ]
    )
    assert [(line.at.minute, line.what, line.actor) for line in lines] == [
        (0, "Opened, assigned to ams-l1", "intake"),
        (30, "Escalated from ams-l1 to emea-l2 (ack overdue)", "sweep"),
        (50, "Resolved: rolled back", "ops-kim"),
    ]


async def resolved_p1(api: Any, clock: Any, external_id: str, priority: str = "P1") -> dict:
    body = {
        "source": "test",
        "external_id": external_id,
        "priority": priority,
        "skill": "platform",
        "summary": "Checkout fails | every card declined",
        "customer": {"id": "cust-shop", "name": "Boutique Lumière", "locale": "fr-FR"},
    }
    case = (await api.post("/v1/escalations", json=body, headers=INTAKE)).json()
    assert case["status"] == "assigned", case
    clock.advance(minutes=12)
    assert (await api.post(f"/v1/cases/{case['id']}/ack", headers=OPS)).status_code == 200
    clock.advance(minutes=5)
    note = {"text": "Payment provider returns 401 for every capture"}
    assert (
        await api.post(f"/v1/cases/{case['id']}/notes", json=note, headers=OPS)
    ).status_code == 200
    clock.advance(minutes=73)
    resolution = {"resolution": "Rolled back; captures re-run"}
    answer = await api.post(f"/v1/cases/{case['id']}/resolve", json=resolution, headers=OPS)
    assert answer.status_code == 200
    return answer.json()


async def test_ops_write_the_report_and_it_stays_with_the_case(api, clock) -> None:
    """The report is saved on the case with who and when; saving again is revision 2; every
    save is a `postmortem` event carrying its text."""
    case = await resolved_p1(api, clock, "pm-write")
    clock.advance(minutes=30)
    answer = await api.post(f"/v1/cases/{case['id']}/postmortem", json=REPORT, headers=OPS)
    assert answer.status_code == 200, answer.text
    saved = answer.json()["postmortem"]
    assert {k: saved[k] for k in REPORT} == REPORT
    assert (saved["written_by"], saved["revision"]) == ("ops", 1)
    assert saved["written_at"] == (API_NOW + timedelta(minutes=120)).isoformat().replace(
        "+00:00", "Z"
    )
    again = {**REPORT, "prevention": "Vault keys per environment, and a canary payment."}
    answer = await api.post(f"/v1/cases/{case['id']}/postmortem", json=again, headers=OPS)
    assert answer.json()["postmortem"]["revision"] == 2
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=VIEWER)).json()["postmortem"]
    assert stored["prevention"] == again["prevention"]
    events = (await api.get(f"/v1/cases/{case['id']}/events", headers=OPS)).json()
    written = [e for e in events if e["type"] == "postmortem"]
    assert [e["detail"]["revision"] for e in written] == ["1", "2"]
    assert written[0]["detail"]["steps"] == "\n".join(REPORT["steps"])
    assert written[1]["detail"]["prevention"] == again["prevention"]


async def test_the_markdown_export_has_the_sections_and_the_timeline(api, clock) -> None:
    """`postmortem.md`: the case's facts, the three sections, and a timeline row for every
    event of the case, in order (pipes escaped so the table holds)."""
    case = await resolved_p1(api, clock, "pm-markdown")
    assert (
        await api.post(f"/v1/cases/{case['id']}/postmortem", json=REPORT, headers=OPS)
    ).status_code == 200
    answer = await api.get(f"/v1/cases/{case['id']}/postmortem.md", headers=VIEWER)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/markdown")
    text = answer.text
    assert text.startswith(f"# Post-incident report: {case['id']}\n")
    assert "| Summary | Checkout fails \\| every card declined |" in text
    assert "| Acknowledged | 2026-11-23 09:12:00 UTC (after 12 min) |" in text
    assert "| Resolved | 2026-11-23 10:30:00 UTC (after 1 h 30 min) |" in text
    sections = re.findall(r"^## (.+)$", text, re.M)
    assert sections == ["Root cause", "Resolution steps", "Prevention", "Timeline (UTC)"]
    assert "1. Rolled back deploy 2291\n2. Re-ran the failed captures | 212 orders\n" in text
    events = (await api.get(f"/v1/cases/{case['id']}/events", headers=OPS)).json()
    rows = re.findall(
        r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| (.+?) \| (.+?) \| (.+?) \|$", text, re.M
    )
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        assert row[0] == datetime.fromisoformat(event["at"]).strftime("%Y-%m-%d %H:%M:%S")
        assert row[2] == event["actor"]
    assert [r[1] for r in rows] == [
        f"Opened, assigned to {case['team']}",
        "Acknowledged",
        "Note: Payment provider returns 401 for every capture",
        "Resolved: Rolled back; captures re-run",
        "Post-incident report, revision 1",
    ]
    # a markdown export from the same document the domain renders
    assert text.endswith("The timeline is generated from the case's events._\n")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["root_cause", "steps", "prevention"]),
        ({**REPORT, "steps": ["ok", ""]}, ["steps[1]"]),
        ({**REPORT, "root_cause": "   "}, ["root_cause"]),
        ({**REPORT, "cause": "typo"}, ["cause"]),
        ({**REPORT, "steps": "one step"}, ["steps"]),
    ],
)
async def test_a_bad_report_names_every_field(api, clock, body, fields) -> None:
    """400 problem+json listing each field that is missing or wrong; nothing is written."""
    case = await resolved_p1(api, clock, f"pm-bad-{'-'.join(fields)}")
    answer = await api.post(f"/v1/cases/{case['id']}/postmortem", json=body, headers=OPS)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == fields
    assert problem["field"] == fields[0]
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    assert stored["postmortem"] is None
    assert (await api.get(f"/v1/cases/{case['id']}/postmortem.md", headers=OPS)).status_code == 404


async def test_only_a_resolved_p1_gets_a_report(api, clock) -> None:
    """A P2 is refused (409); an open P1 too, saying its status."""
    p2 = await resolved_p1(api, clock, "pm-p2", priority="P2")
    answer = await api.post(f"/v1/cases/{p2['id']}/postmortem", json=REPORT, headers=OPS)
    assert answer.status_code == 409
    assert "P1" in answer.json()["detail"]
    body = {
        "source": "test",
        "external_id": "pm-open",
        "priority": "P1",
        "skill": "platform",
        "summary": "down",
        "customer": {"id": "c", "locale": "fr-FR"},
    }
    open_case = (await api.post("/v1/escalations", json=body, headers=INTAKE)).json()
    answer = await api.post(f"/v1/cases/{open_case['id']}/postmortem", json=REPORT, headers=OPS)
    assert answer.status_code == 409
    assert answer.json()["status_was"] == "assigned"


async def test_only_ops_write_it(api, clock) -> None:
    """Viewers, agents (even the case's own team) and intake cannot write; they may read."""
    case = await resolved_p1(api, clock, "pm-roles")
    path = f"/v1/cases/{case['id']}/postmortem"
    for headers in (VIEWER, INTAKE, token("agent", case["team"])):
        assert (await api.post(path, json=REPORT, headers=headers)).status_code == 403
    assert (await api.post(path, json=REPORT, headers=OPS)).status_code == 200
    assert (await api.get(f"{path}.md", headers=token("agent", case["team"]))).status_code == 200
    assert (await api.get(f"{path}.md", headers=token("agent", "tyo-l1"))).status_code == 403
    assert (await api.get(f"{path}.md", headers=INTAKE)).status_code == 403


# -- the console's form ------------------------------------------------------------------------


def csrf(page: Any) -> str:
    """The CSRF token the console put in its form (a POST without it is refused)."""
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def test_the_console_form_saves_the_report(api, clock) -> None:
    """On the case page ops fill the three fields (steps one per line) and save; the page
    shows the report and links the Markdown."""
    case = await resolved_p1(api, clock, "pm-console")
    api.cookies.set("fs_token", make_token(SECRET, "ops", subject="ops-ana"))
    try:
        page = await api.get(f"/console/cases/{case['id']}")
        assert page.status_code == 200
        assert 'id="pm-form"' in page.text
        assert 'for="pm-root_cause"' in page.text
        form = {
            "root_cause": REPORT["root_cause"],
            "steps": "\n".join(REPORT["steps"]) + "\n\n",
            "prevention": REPORT["prevention"],
            "_csrf_token": csrf(page),
        }
        saved = await api.post(
            f"/console/cases/{case['id']}/postmortem", data=form, follow_redirects=False
        )
        assert saved.status_code == 303
        assert saved.headers["location"].startswith(f"/console/cases/{case['id']}?done=")
        page = await api.get(f"/console/cases/{case['id']}")
        assert 'id="pm-saved"' in page.text
        assert "Revision 1, written by ops-ana" in page.text
        assert "<li>Rolled back deploy 2291</li>" in page.text
        md = await api.get(f"/console/cases/{case['id']}/postmortem.md")
        assert md.status_code == 200
        assert md.headers["content-type"].startswith("text/markdown")
        assert "## Root cause" in md.text
        stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()["postmortem"]
        assert stored["steps"] == REPORT["steps"]
        assert stored["written_by"] == "ops-ana"
    finally:
        api.cookies.clear()


async def test_the_console_form_says_what_is_missing(api, clock) -> None:
    """An incomplete form comes back (400) keeping what was typed, each field's problem next
    to it; a viewer sees the report's section but no form."""
    case = await resolved_p1(api, clock, "pm-console-bad")
    api.cookies.set("fs_token", make_token(SECRET, "ops"))
    try:
        page = await api.get(f"/console/cases/{case['id']}")
        form = {"root_cause": "Sandbox key in production", "steps": " \n ", "prevention": ""}
        form["_csrf_token"] = csrf(page)
        answer = await api.post(
            f"/console/cases/{case['id']}/postmortem", data=form, follow_redirects=False
        )
        assert answer.status_code == 400
        assert 'id="pm-steps-error"' in answer.text
        assert 'id="pm-prevention-error"' in answer.text
        assert 'id="pm-root_cause-error"' not in answer.text
        assert ">Sandbox key in production</textarea>" in answer.text
        assert 'aria-invalid="true"' in answer.text
        api.cookies.set("fs_token", make_token(SECRET, "viewer"))
        page = await api.get(f"/console/cases/{case['id']}")
        assert 'id="postmortem"' in page.text
        assert 'id="pm-form"' not in page.text
        refused = await api.post(
            f"/console/cases/{case['id']}/postmortem", data=form, follow_redirects=False
        )
        assert refused.status_code == 403
    finally:
        api.cookies.clear()
