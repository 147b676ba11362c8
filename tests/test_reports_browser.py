"""The console's Reports page in a real headless Chromium against a real `followsun serve`:
the charts are SVG drawn on the server with the bars and cells the seeded cases call for,
accessible (role img, title, desc, a table of the numbers), and the page fits at 1280 px.
Also the post-incident form on a P1's case page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SCHEDULES, SECRET
from harness import Harness
from redis.asyncio import Redis
from served import (
    CONTROLS_WITHOUT_LABEL,
    TABLES_OUTSIDE_THEIR_CARDS,
    Server,
    browser_fixture,
    console_page,
    html_ok,
    resolved_case,
    run_async,
    running_server,
    shot,
)

from router.domain.escalation import Customer, Escalation
from router.http.auth import make_token
from router.schedule_files import read_policy

NOW = datetime.now(UTC)
WEEK_B = (NOW - timedelta(days=NOW.weekday() + 7)).replace(
    hour=9, minute=0, second=0, microsecond=0
)
WEEK_A = WEEK_B - timedelta(days=7)
# (opened, language, team, hours to resolve or None): the team sets the tier (emea-l2 is 2)
SEED = [
    (WEEK_A, "nl-NL", "ams-l1", 2),
    (WEEK_A + timedelta(days=1), "de-DE", "ber-l1", 4),
    (WEEK_A + timedelta(days=2), "nl-NL", "emea-l2", 6),
    (WEEK_B, "nl-NL", "ams-l1", 1),
    (WEEK_B + timedelta(days=1), "en-GB", "emea-l2", 3),
    (WEEK_B + timedelta(days=2, hours=5), "fr-FR", "par-l1", None),
]
BARS = {  # (week, tier) -> median hours to resolve (nearest rank: of 2 h and 4 h, 2 h)
    (WEEK_A.date().isoformat(), "1"): 2.0,
    (WEEK_A.date().isoformat(), "2"): 6.0,
    (WEEK_B.date().isoformat(), "1"): 1.0,
    (WEEK_B.date().isoformat(), "2"): 3.0,
}


async def seed(server: Server) -> None:
    """The cases of SEED, opened, moved to their team, acknowledged and resolved at the
    instants SEED says, through the services (as the API and the worker would)."""
    redis = Redis.from_url(server.redis_url)
    svc = Harness(redis, read_policy(SCHEDULES), prefix=server.prefix)
    try:
        for n, (at, locale, team, hours) in enumerate(SEED):
            esc = Escalation(
                customer=Customer(id=f"cust-{n}", locale=locale),
                priority="P1" if hours is None else "P3",
                skill="billing",
                summary=f"Report seed {n}",
                source="browser-test",
                external_id=f"report-seed-{n}",
            )
            case, _ = await svc.intake(esc, at, "intake")
            cases = svc.services.cases
            case = await cases.reassign(case, team, now=at + timedelta(minutes=1), actor="ops")
            case = await cases.act(case, "ack", now=at + timedelta(minutes=10), actor="ops")
            if hours is not None:
                done = at + timedelta(hours=hours)
                await cases.act(case, "resolve", now=done, actor="ops", text="fixed")
    finally:
        svc.close()
        await redis.aclose()


@pytest.fixture(scope="module")
def served(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(redis_url, tmp_path_factory.mktemp("serve"), "reports") as server:
        run_async(seed(server))
        yield server


browser = browser_fixture()


def bars(page: Any) -> dict[tuple[str, str], float]:
    return {
        (b["week"], b["tier"]): float(b["hours"])
        for b in page.locator("#resolve-chart rect.bar").evaluate_all(
            "els => els.map(e => ({week: e.dataset.week, tier: e.dataset.tier,"
            " hours: e.dataset.hours}))"
        )
    }


def cells(page: Any) -> dict[tuple[str, int], int]:
    found = page.locator("#volume-chart rect.cell").evaluate_all(
        "els => els.map(e => [e.dataset.language, +e.dataset.hour, +e.dataset.cases])"
    )
    return {(language, hour): n for language, hour, n in found}


def test_the_reports_page_draws_the_seeded_cases(served, browser) -> None:
    """Bars per tier and week with the medians of the seeded cases; a cell per language and
    hour holding their counts; both charts named and described, their numbers in tables."""
    with console_page(
        browser, served, make_token(SECRET, "viewer"), viewport={"width": 1280, "height": 900}
    ) as page:
        html_ok(page.goto(f"{served.base}/console/reports?tz=UTC"))
        assert page.locator('header a[aria-current="page"]').inner_text() == "Reports"
        assert page.locator("#figures").inner_text().startswith(f"{len(SEED)}\ncases opened")

        chart = page.get_by_role(
            "img", name="Median time to resolve, in hours, per tier, by the week cases were opened"
        )
        assert chart.count() == 1
        assert page.locator("#resolve-chart > title").count() == 1
        assert (
            "The table after the chart lists the same numbers."
            in page.locator("#resolve-desc").text_content()
        )
        assert bars(page) == BARS
        heights = page.locator("#resolve-chart rect.bar").evaluate_all(
            "els => els.map(e => [e.dataset.hours, e.getBBox().height])"
        )
        tallest = max(heights, key=lambda h: float(h[0]))
        assert float(tallest[0]) == 6.0
        assert all(h <= tallest[1] + 0.01 for _, h in heights)  # taller bars for longer times
        assert page.locator("#resolve-data tbody tr").count() == len(BARS)

        grid = cells(page)
        languages = {language for language, _ in grid}
        assert languages == {"nl-NL", "de-DE", "en-GB", "fr-FR"}
        assert len(grid) == 24 * len(languages)
        busy = {k: v for k, v in grid.items() if v}
        assert busy == {("nl-NL", 9): 3, ("de-DE", 9): 1, ("en-GB", 9): 1, ("fr-FR", 14): 1}
        assert (
            page.get_by_role(
                "img", name="Cases opened per language and hour of the day, UTC"
            ).count()
            == 1
        )
        first = page.locator("#volume-data tbody tr").first.locator("th, td").all_inner_texts()
        assert first[0] == "nl-NL"
        assert (first[10], first[-1]) == ("3", "3")  # 09:00 column, total

        problems = page.evaluate(TABLES_OUTSIDE_THEIR_CARDS)
        assert not problems, "\n".join(problems)
        for svg in ("#resolve-chart", "#volume-chart"):
            box = page.locator(svg).bounding_box()
            card = page.locator(svg).locator("xpath=ancestor::section[1]").bounding_box()
            assert box is not None
            assert card is not None
            assert box["x"] >= card["x"]
            assert box["x"] + box["width"] <= card["x"] + card["width"] + 1
        assert page.evaluate(CONTROLS_WITHOUT_LABEL) == []
        # the seeded summaries share their words ("Report seed <n>"): one topic, no customer
        topic = page.locator("#repeats-topic tbody tr").all()
        assert [r.locator("td").first.inner_text() for r in topic] == [str(len(SEED))]
        assert page.locator("#repeats-customer tbody").inner_text() == "None"
        shot(page, "reports_1280")
        # in a right-to-left page the charts keep their layout: axis and row labels stay put
        labels = "els => els.map(e => { const b = e.getBBox(); return [b.x, b.width]; })"
        before = page.locator("svg.chart text").evaluate_all(labels)
        page.evaluate("() => { document.documentElement.dir = 'rtl'; }")
        assert page.locator("svg.chart text").evaluate_all(labels) == before


def test_the_reports_page_fits_a_tablet(served, browser) -> None:
    """At 768 px the page never scrolls sideways; wide tables scroll in their cards, and
    the charts shrink to fit."""
    bearer = make_token(SECRET, "viewer")
    with console_page(browser, served, bearer, viewport={"width": 768, "height": 1024}) as page:
        html_ok(page.goto(f"{served.base}/console/reports?tz=UTC"))
        problems = page.evaluate(TABLES_OUTSIDE_THEIR_CARDS)
        assert not problems, "\n".join(problems)
        for svg in ("#resolve-chart", "#volume-chart"):
            box = page.locator(svg).bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 768
        shot(page, "reports_768")


def test_grouping_filters_and_csv(served, browser) -> None:
    """Grouped by language through the form; the CSV link answers the same groups."""
    with console_page(
        browser, served, make_token(SECRET, "ops"), viewport={"width": 1280, "height": 900}
    ) as page:
        html_ok(page.goto(f"{served.base}/console/reports?tz=UTC"))
        page.select_option("#group", "language")
        with page.expect_navigation():
            page.get_by_role("button", name="Show").click()
        assert "group=language" in page.url
        keys = page.locator("#groups tbody th").all_inner_texts()
        assert sorted(keys) == ["de-DE", "en-GB", "fr-FR", "nl-NL"]
        assert keys[0] == "nl-NL"  # the busiest first
        answer = page.request.get(served.base + page.locator("#csv").get_attribute("href"))
        assert answer.status == 200
        assert answer.headers["content-type"].startswith("text/csv")
        lines = answer.text().strip().splitlines()
        assert [line.split(",")[1] for line in lines[1:]] == [*keys, "total"]


def test_agents_do_not_see_reports(served, browser) -> None:
    """No Reports link for an agent, and the page says no."""
    with console_page(browser, served, make_token(SECRET, "agent", "ams-l1")) as page:
        assert page.locator('header a[href="/console/reports"]').count() == 0
        html_ok(page.goto(f"{served.base}/console/reports"), 403)


def test_ops_write_a_post_incident_report_on_the_case_page(served, browser) -> None:
    """On a resolved P1 the form takes root cause, steps (a line each) and prevention; the
    saved report shows on the page with a Markdown download."""
    created = resolved_case(
        served,
        {
            "external_id": "pm-browser",
            "priority": "P1",
            "skill": "platform",
            "summary": "Checkout down for every card",
            "customer": {"id": "cust-pm", "locale": "en-GB"},
        },
    )
    with console_page(
        browser,
        served,
        make_token(SECRET, "ops", subject="ops-lee"),
        viewport={"width": 1280, "height": 900},
    ) as page:
        html_ok(page.goto(f"{served.base}/console/cases/{created['id']}"))
        page.get_by_label("Root cause").fill("An expired TLS certificate on the payment gateway")
        page.get_by_label("Resolution steps").fill(
            "Renewed the certificate\nRe-ran failed payments"
        )
        page.get_by_label("Prevention").fill("Certificate expiry is monitored 30 days ahead")
        assert page.evaluate(CONTROLS_WITHOUT_LABEL) == []
        with page.expect_navigation():
            page.get_by_role("button", name="Save the report").click()
        saved = page.locator("#pm-saved")
        assert "Revision 1, written by ops-lee" in saved.inner_text()
        assert saved.locator("ol li").all_inner_texts() == [
            "Renewed the certificate",
            "Re-ran failed payments",
        ]
        with page.expect_download() as download:
            page.locator("#pm-markdown").click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.startswith(f"# Post-incident report: {created['id']}")
        assert "Certificate expiry is monitored 30 days ahead" in text
        shot(page, "postmortem_saved")
