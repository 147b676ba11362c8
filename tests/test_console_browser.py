"""The console in a real headless Chromium (Playwright, sync API) against a real `followsun
serve` process and a real Redis. Nothing is mocked; the server reads the real clock, so the
cells and shift ends the tests look at are computed from it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import pytest
from conftest import SCHEDULES, SECRET
from harness import Harness
from playwright.sync_api import Page
from redis.asyncio import Redis
from served import (
    CONTROLS_WITHOUT_LABEL,
    TABLES_OUTSIDE_THEIR_CARDS,
    Server,
    browser_fixture,
    html_ok,
    new_page,
    run_async,
    running_server,
    shot,
    sign_in,
)

from router.http.auth import make_token
from router.schedule_files import read_policy
from router.services.handover import HandoverReport

AMS = ZoneInfo("Europe/Amsterdam")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
browser = browser_fixture()


@pytest.fixture(scope="module")
def server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(redis_url, tmp_path_factory.mktemp("serve"), "browser") as server:
        assert "22 team(s) changed" in server.loaded, server.loaded
        yield server


def nl_cell(page: Page, at: datetime) -> Any:
    """The heatmap's nl cell for the hour starting at `at`."""
    link = page.locator(f'#heatmap a[href$="language=nl&cell={int(at.timestamp())}"]')
    assert link.count() == 1
    return link


def cell_state(page: Page, at: datetime) -> tuple[str, str]:
    link = nl_cell(page, at)
    return link.evaluate("a => a.parentElement.className"), link.text_content()


def changed_hour(spec: dict[str, Any]) -> tuple[int, date, int]:
    """A weekly rule of the team, a weekday of the current Amsterdam week it makes the team
    work that is neither a Dutch public holiday nor an override date, and the hour (local)
    the rule's end moves over when it is pushed back by two hours."""
    today = datetime.now(AMS).date()
    monday = today - timedelta(days=today.weekday())
    closed = holiday_calendars.country_holidays("NL", years={monday.year, monday.year + 1})
    overridden = {date.fromisoformat(o["date"]) for o in spec.get("overrides", [])}
    for offset in range(5):
        day = monday + timedelta(days=offset)
        if day in closed or day in overridden:
            continue
        for i, rule in enumerate(spec["shifts"]):
            start = date.fromisoformat(rule["from"]) if rule.get("from") else date.min
            until = date.fromisoformat(rule["until"]) if rule.get("until") else date.max
            hour, minute = (int(x) for x in rule["end"].split(":"))
            if DAYS[day.weekday()] in rule["days"] and start <= day < until and minute == 0:
                assert 8 < hour < 22, rule
                return i, day, hour
    pytest.fail(f"no working weekday of ams-l1 in the week of {monday}")


def test_ops_edits_a_shift_and_the_coverage_heatmap_follows(server, browser) -> None:
    """An ops user's saved shift change shows in the heatmap, cell detail and revisions."""
    subject = "ops-alice@followsun.test"
    with server.api("ops") as ops:
        before = ops.get("/v1/teams/ams-l1")
        assert before.status_code == 200
    version = int(before.headers["etag"].strip('"'))
    rule, day, hour = changed_hour(before.json())
    at = datetime.combine(day, dtime(hour), tzinfo=AMS)
    coverage = f"{server.base}/console/coverage?tz=Europe/Amsterdam&tier=1"

    page = new_page(browser)
    try:
        sign_in(page, server, make_token(SECRET, "ops", subject=subject))
        assert urlparse(page.url).path == "/console"
        html_ok(page.goto(coverage))
        assert page.locator("#heatmap caption").inner_text().startswith("Week of")
        assert cell_state(page, at) == ("none", "✕gap")
        nl_cell(page, at).click()
        page.wait_for_url("**cell=*")
        assert "Nobody" in page.locator("#cell-detail").inner_text()
        shot(page, "coverage_before_edit")

        html_ok(page.goto(f"{server.base}/console/teams/ams-l1"))
        assert f"(version {version})" in page.locator("h1").inner_text()
        end = page.locator(f"#shifts-{rule}-end")
        assert end.input_value() == f"{hour:02d}:00"
        end.fill(f"{hour + 2:02d}:00")
        with page.expect_navigation():
            page.get_by_role("button", name="Save schedule").click()
        assert page.url.endswith("/console/teams/ams-l1?saved=1")
        assert "Saved." in page.locator("#saved").inner_text()
        assert f"(version {version + 1})" in page.locator("h1").inner_text()
        assert page.locator(f"#shifts-{rule}-end").input_value() == f"{hour + 2:02d}:00"
        shot(page, "team_saved")

        with server.api("ops") as ops:
            after = ops.get("/v1/teams/ams-l1")
        expected = before.json()
        expected["shifts"][rule]["end"] = f"{hour + 2:02d}:00"
        assert after.headers["etag"] == f'"{version + 1}"'
        assert after.json() == expected  # the form round-trips everything else unchanged

        html_ok(page.goto(coverage))
        assert cell_state(page, at) == ("full", "●covered")
        assert cell_state(page, at + timedelta(hours=1)) == ("full", "●covered")
        nl_cell(page, at).click()
        page.wait_for_url(f"**cell={int(at.timestamp())}")
        detail = page.locator("#cell-detail")
        assert " for nl" in detail.locator("h2").inner_text()
        teams = detail.locator("li").all_inner_texts()
        assert len(teams) == 1
        assert teams[0].startswith("ams-l1 (Amsterdam Customer Care, tier 1)")
        assert teams[0].endswith(f"{hour + 2:02d}:00")
        shot(page, "coverage_after_edit")

        html_ok(page.goto(f"{server.base}/console/teams/ams-l1/revisions"))
        newest = page.locator("#revisions tbody tr").first.locator("td").all_inner_texts()
        assert newest[0] == str(version + 1)
        assert newest[2] == subject
        assert newest[3] == "changed shifts"
        shot(page, "revisions")
    finally:
        page.context.close()


def test_second_editor_gets_a_conflict_and_saves_nothing(server, browser) -> None:
    """Two editors of one team: the second save is refused and none of it is stored."""
    with server.api("ops") as ops:
        original = ops.get("/v1/teams/ber-l1").json()
    assert original["capacity"] != 7
    first = new_page(browser)
    second = new_page(browser)
    try:
        sign_in(first, server, make_token(SECRET, "ops", subject="ops-first"))
        sign_in(second, server, make_token(SECRET, "ops", subject="ops-second"))
        url = f"{server.base}/console/teams/ber-l1"
        html_ok(first.goto(url))
        html_ok(second.goto(url))
        version = int(first.locator("input[name=version]").input_value())
        assert second.locator("input[name=version]").input_value() == str(version)

        first.fill("#name", "Berlin (first editor)")
        with first.expect_navigation():
            first.get_by_role("button", name="Save schedule").click()
        assert first.locator("#saved").is_visible()

        second.fill("#name", "Berlin (second editor)")
        second.fill("#capacity", "7")
        with second.expect_navigation() as nav:
            second.get_by_role("button", name="Save schedule").click()
        html_ok(nav.value, 409)
        banner = second.locator("#banner").inner_text()
        assert "Someone else saved this team first" in banner
        assert f"version {version + 1}" in banner
        assert second.locator("#name").input_value() == "Berlin (second editor)"
        shot(second, "team_conflict")
    finally:
        first.context.close()
        second.context.close()

    with server.api("ops") as ops:
        stored = ops.get("/v1/teams/ber-l1")
        revisions = ops.get("/v1/teams/ber-l1/revisions").json()
    assert stored.headers["etag"] == f'"{version + 1}"'
    assert stored.json() == {**original, "name": "Berlin (first editor)"}
    assert [r["by"] for r in revisions if r["version"] > version] == ["ops-first"]


def test_agent_acknowledges_a_case_and_reads_the_handover_packet(server, browser) -> None:
    """An agent acknowledges a handed-over case in the queue and reads its packet."""
    body = {
        "source": "browser-test",
        "external_id": uuid.uuid4().hex,
        "priority": "P3",
        "skill": "billing",
        "summary": "The March invoice is charged twice",
        "steps_taken": ["checked the payment log", "re-sent the invoice"],
        "help_needed": "refund the second charge",
        "customer": {
            "id": "cust-browser",
            "name": "Anna Jansen",
            "locale": "en-GB",
            "timezone": "Europe/London",
        },
    }
    with server.api("intake") as intake:
        created = intake.post("/v1/escalations", json=body)
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["status"] == "assigned", case["decision"]["reasons"]
    leaving = case["team"]

    async def shift_end() -> tuple[datetime, HandoverReport]:
        redis = Redis.from_url(server.redis_url)
        try:
            svc = Harness(redis, read_policy(SCHEDULES), prefix=server.prefix)
            now = datetime.now(UTC)
            ends = [s.end for s in (await svc.index(now)).at(now) if s.team == leaving]
            assert ends, f"{leaving} took the case but is not on shift"
            return ends[0], await svc.handover.hand_over(leaving, ends[0])
        finally:
            await redis.aclose()

    at, report = run_async(shift_end())
    assert not report.still_on_shift
    assert sum(report.moved.values()) == 1, report
    with server.api("ops") as ops:
        moved = ops.get(f"/v1/cases/{case['id']}").json()
        packets = ops.get(f"/v1/cases/{case['id']}/handovers").json()
    taker = moved["team"]
    assert (moved["status"], report.moved) == ("assigned", {taker: 1})
    assert taker != leaving
    assert len(packets) == 1

    page = new_page(browser)
    try:
        sign_in(page, server, make_token(SECRET, "agent", taker))
        assert urlparse(page.url).path == "/console/queue"
        article = page.locator(f"#case-{case['id']}")
        assert "assigned" in article.locator("h3").inner_text()
        with page.expect_navigation():
            page.get_by_role("button", name=f"Acknowledge {case['id']}").click()
        assert page.locator("#flash").inner_text() == f"ack: {case['id']}"
        assert "acknowledged" in article.locator("h3").inner_text()
        assert page.get_by_role("button", name=f"Acknowledge {case['id']}").count() == 0

        packet = page.locator("article.packet")
        assert packet.count() == 1
        assert packet.get_attribute("aria-label") == (
            f"Handover packet {case['id']} {leaving} to {taker}"
        )
        assert f"{case['id']}: {leaving} → {taker}" in packet.locator("h3").inner_text()
        text = packet.inner_text()
        assert "The March invoice is charged twice" in text
        steps = packet.locator("dt:has-text('Steps taken') + dd li").all_inner_texts()
        assert steps == body["steps_taken"]
        customer = packet.locator("dt:has-text('Customer') + dd").inner_text()
        assert customer == "Anna Jansen (en-GB, Europe/London)"
        deadlines = packet.locator("dt:has-text('Deadlines') + dd").inner_text()

        def utc(value: str) -> str:
            return datetime.fromisoformat(value).astimezone(UTC).strftime("%a %d %b %H:%M")

        due = packets[0]["deadlines"]
        assert deadlines == (
            f"ack {utc(due['acknowledge'])} · next update {utc(due['next_update'])} · "
            f"resolve {utc(due['resolve'])}"
        )
        assert "refund the second charge" in text
        shot(page, "agent_queue_packet")
    finally:
        page.context.close()

    assert at > datetime.now(UTC)
    with server.api("ops") as ops:
        done = ops.get(f"/v1/cases/{case['id']}").json()
        events = ops.get(f"/v1/cases/{case['id']}/events").json()
    assert (done["status"], done["team"]) == ("acknowledged", taker)
    assert events[-1]["actor"] == f"agent:{taker}"


def test_signed_out_user_is_sent_to_login_and_back(server, browser) -> None:
    """A signed-out visitor is sent to sign in and then lands on the page they asked for."""
    page = new_page(browser)
    try:
        answer = page.goto(f"{server.base}/console/coverage?tz=Asia%2FTokyo&tier=2")
        html_ok(answer)
        assert answer.request.redirected_from is not None
        url = urlparse(page.url)
        assert url.path == "/console/login"
        assert parse_qs(url.query)["next"] == ["/console/coverage?tz=Asia%2FTokyo&tier=2"]
        assert page.get_by_label("Access token").is_visible()
        shot(page, "login_redirect")
        page.fill("#token", make_token(SECRET, "viewer"))
        with page.expect_navigation() as nav:
            page.get_by_role("button", name="Sign in").click()
        html_ok(nav.value)
        url = urlparse(page.url)
        assert url.path == "/console/coverage"
        assert parse_qs(url.query) == {"tz": ["Asia/Tokyo"], "tier": ["2"]}
        assert page.locator("#tz").input_value() == "Asia/Tokyo"
        assert page.locator("#tier").input_value() == "2"
        assert page.locator("#heatmap").is_visible()
        shot(page, "coverage_after_login")
    finally:
        page.context.close()


def test_agent_cannot_open_or_post_the_team_editor(server, browser) -> None:
    """An agent gets 403 on the team editor and cannot save through it either."""
    with server.api("ops") as ops:
        before = ops.get("/v1/teams/ams-l1")
    page = new_page(browser)
    try:
        sign_in(page, server, make_token(SECRET, "agent", "ams-l1"))
        answer = page.goto(f"{server.base}/console/teams/ams-l1")
        html_ok(answer, 403)
        assert page.locator("p.banner").inner_text() == "Only operations staff can edit schedules."
        assert page.locator("form[action='/console/teams/ams-l1']").count() == 0
        shot(page, "agent_forbidden")
        posted = page.request.post(
            f"{server.base}/console/teams/ams-l1",
            form={"version": before.headers["etag"].strip('"'), "name": "taken over"},
            max_redirects=0,
        )
        assert posted.status == 403
    finally:
        page.context.close()
    with server.api("ops") as ops:
        after = ops.get("/v1/teams/ams-l1")
    assert (after.headers["etag"], after.json()) == (before.headers["etag"], before.json())


def test_every_control_on_the_editor_and_queue_has_a_label(server, browser) -> None:
    """Each input, select and textarea of the team editor and the queue has a label."""
    with server.api("intake") as intake:
        created = intake.post(
            "/v1/escalations",
            json={
                "source": "browser-test",
                "external_id": uuid.uuid4().hex,
                "priority": "P4",
                "skill": "billing",
                "summary": "a question about VAT",
                "customer": {"id": "cust-a11y", "locale": "en-US"},
            },
        )
    assert created.status_code == 201, created.text
    team = created.json()["team"]
    assert team

    page = new_page(browser)
    try:
        pages = [
            ("/console/teams/ams-l1", make_token(SECRET, "ops"), 40),
            (f"/console/queue?team={team}", make_token(SECRET, "ops"), 3),
            ("/console/queue", make_token(SECRET, "agent", team), 2),
        ]
        for path, bearer, least in pages:
            page.context.clear_cookies()
            sign_in(page, server, bearer)
            html_ok(page.goto(server.base + path))
            count = page.locator("input:not([type=hidden]), select, textarea").count()
            assert count >= least, (path, count)
            assert page.evaluate(CONTROLS_WITHOUT_LABEL) == [], path
        shot(page, "agent_queue_labels")
    finally:
        page.context.close()


def test_sign_in_works_with_the_keyboard_only(server, browser) -> None:
    """Type the token into the focused field, Tab to the button, press Enter: signed in."""
    page = new_page(browser)
    try:
        html_ok(page.goto(f"{server.base}/console/login"))
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
        page.locator("#token").focus()
        page.keyboard.type(make_token(SECRET, "ops", subject="ops-keyboard"))
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.textContent.trim()")
        assert focused == "Sign in"
        with page.expect_navigation() as nav:
            page.keyboard.press("Enter")
        html_ok(nav.value)
        assert urlparse(page.url).path == "/console"
        assert "Signed in as ops-keyboard (ops)" in page.locator("header .who").inner_text()
        shot(page, "keyboard_signed_in")
    finally:
        page.context.close()


def test_coverage_and_editor_fit_a_tablet_without_page_side_scroll(server, browser) -> None:
    """At 768x1024 only the heatmap's own container scrolls sideways, never the page."""
    page = new_page(browser, viewport={"width": 768, "height": 1024})
    try:
        sign_in(page, server, make_token(SECRET, "ops"))
        widths = {}
        for path, name in [
            ("/console/teams/ams-l1", "tablet_editor"),
            ("/console/coverage?tz=Europe/Amsterdam&tier=1", "tablet_coverage"),
        ]:
            html_ok(page.goto(server.base + path))
            widths[path] = page.evaluate("() => document.documentElement.scrollWidth")
            shot(page, name)
        scroller = page.locator("#heatmap").evaluate(
            "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]"
        )
        assert scroller[0] > scroller[1] > 0  # the heatmap scrolls inside its own container
        assert {p: w for p, w in widths.items() if w > 768 + 1} == {}
    finally:
        page.context.close()


def test_day_checkboxes_stay_beside_their_day_names_on_a_tablet(server, browser) -> None:
    """At 768 px no weekday checkbox of the shift editor wraps away from its day name."""
    page = new_page(browser, viewport={"width": 768, "height": 1024})
    try:
        sign_in(page, server, make_token(SECRET, "ops"))
        html_ok(page.goto(f"{server.base}/console/teams/ams-l1"))
        labels = page.locator("#shifts fieldset label")
        assert labels.count() == 7 * page.locator("#shifts fieldset").count() > 0
        split = page.evaluate(
            """() => Array.from(document.querySelectorAll('#shifts fieldset label'))
              .filter(l => l.getClientRects().length > 1)
              .map(l => l.closest('fieldset').querySelector('legend').textContent
                        + ': ' + l.textContent.trim())"""
        )
        assert split == []
    finally:
        page.context.close()


VIEWPORTS = [(1280, 800), (768, 1024), (1024, 768)]
PAGES_WITH_TABLES = [  # path, how many tables it shows
    ("/console", 2),
    ("/console/coverage?tz=Europe/Amsterdam&tier=1", 1),
    ("/console/teams", 1),
    ("/console/teams/ams-l1", 2),
    ("/console/teams/ams-l1/revisions", 1),
    ("/console/cases/{case}", 1),
]


@pytest.fixture(scope="module")
def finished_case(server) -> str:
    """A case taken through note, acknowledge and resolve: its events table has long rows.
    It is resolved, so it is no team's open work when other tests hand over."""
    with server.api("intake") as intake:
        created = intake.post(
            "/v1/escalations",
            json={
                "source": "browser-test",
                "external_id": uuid.uuid4().hex,
                "priority": "P3",
                "skill": "billing",
                "summary": "Invoices for the Rotterdam and Utrecht offices both go to Utrecht",
                "customer": {
                    "id": "cust-tables",
                    "locale": "en-GB",
                    "timezone": "Europe/London",
                },
            },
        )
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["status"] == "assigned", case["decision"]["reasons"]
    long_text = (
        "Asked finance to split the billing addresses per office; the customer wants the "
        "March and April invoices re-issued with purchase order numbers PO-2291-ROT-0042 "
        "and PO-2291-UTR-0017 on them."
    )
    with server.api("ops", subject="ops-tables@followsun.test") as ops:
        steps = [
            ("notes", {"text": long_text}),
            ("ack", None),
            ("resolve", {"resolution": long_text}),
        ]
        for action, body in steps:
            answer = ops.post(f"/v1/cases/{case['id']}/{action}", json=body)
            assert answer.status_code == 200, (action, answer.text)
    return case["id"]


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=lambda v: str(v))
@pytest.mark.parametrize(("path", "tables"), PAGES_WITH_TABLES, ids=lambda v: str(v))
def test_console_tables_stay_inside_their_cards(
    server, browser, finished_case, path, tables, width, height
) -> None:
    """Every table ends inside its card, or scrolls sideways in its own box inside the card,
    with no column hidden and no sideways scroll of the page."""
    page = new_page(browser, viewport={"width": width, "height": height})
    try:
        sign_in(page, server, make_token(SECRET, "ops", subject="ops-tables@followsun.test"))
        html_ok(page.goto(server.base + path.format(case=finished_case)))
        assert page.locator("table").count() == tables
        problems = page.evaluate(TABLES_OUTSIDE_THEIR_CARDS)
        name = urlparse(path).path.strip("/").replace("/", "_").replace("{case}", "case")
        shot(page, f"tables_{name}_{width}x{height}")
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()
