"""Customer feedback on the status page: a 1-5 rating and an optional comment, asked in the
customer's language once the case is resolved, taken once per case on the signed link;
over HTTP against the real app and Redis, and once in a real Chromium with JavaScript off."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import SECRET, token
from served import (
    Server,
    browser_fixture,
    console_page,
    html_ok,
    resolved_case,
    running_server,
    shot,
)

from router.domain.feedback import MAX_COMMENT
from router.http.auth import make_token
from router.i18n import Catalogs
from router.i18n.feedback import feedback_labels, rating_words

OPS, INTAKE = token("ops"), token("intake")
CATALOGS = Catalogs()


def labels(code: str) -> dict[str, str]:
    return feedback_labels(CATALOGS.get(code))


async def opened(api: Any, external_id: str, locale: str = "de-DE") -> dict[str, Any]:
    body = {
        "source": "test",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": {"id": f"cust-{external_id}", "locale": locale, "timezone": "Europe/Berlin"},
    }
    answer = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def resolved(api: Any, external_id: str, locale: str = "de-DE") -> dict[str, Any]:
    case = await opened(api, external_id, locale)
    for step, body in (("ack", None), ("resolve", {"resolution": "refunded"})):
        answer = await api.post(f"/v1/cases/{case['id']}/{step}", json=body, headers=OPS)
        assert answer.status_code == 200, answer.text
    return case


def path_of(case: dict[str, Any]) -> str:
    return "/status/" + case["status_url"].rsplit("/status/", 1)[1]


async def send(api: Any, case: dict[str, Any], **form: str) -> Any:
    return await api.post(path_of(case), data=form, follow_redirects=False)


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def test_the_resolved_page_asks_in_the_customers_language(api) -> None:
    """A resolved case's page has the form, in German for a de-DE customer; no script."""
    case = await resolved(api, "fb-ask")
    page = (await api.get(path_of(case))).text
    words = labels("de")
    assert words["title"] == "Wie zufrieden sind Sie mit uns?"
    for key in ("title", "rating", "hint", "comment", "send"):
        assert html.escape(words[key], quote=False) in page, key
    assert len(re.findall(r'<input type="radio" name="rating" value="[1-5]" required', page)) == 5
    for word in rating_words(CATALOGS.get("de")):
        assert word in page
    assert f'<form method="post" action="{path_of(case)}"' in page
    assert "<script" not in page


async def test_an_open_case_asks_nothing_yet(api) -> None:
    """Before the case is resolved the page has no feedback form, and a post is refused."""
    case = await opened(api, "fb-open")
    assert 'id="feedback"' not in (await api.get(path_of(case))).text
    answer = await send(api, case, rating="5")
    assert answer.status_code == 409
    assert html.escape(labels("de")["not_yet"], quote=False) in answer.text
    assert 'id="feedback-form"' not in answer.text
    events = (await api.get(f"/v1/cases/{case['id']}/events", headers=OPS)).json()
    assert "feedback" not in [e["type"] for e in events]


async def test_a_rating_is_stored_once_and_a_second_is_refused_politely(api) -> None:
    """The first rating is kept (on the case, as an event); a second gets a polite 409."""
    case = await resolved(api, "fb-once")
    answer = await send(api, case, rating="4", comment="  Schnell und freundlich.  ")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{path_of(case)}?feedback=thanks#feedback"
    thanked = (await api.get(answer.headers["location"].split("#")[0])).text
    words = labels("de")
    assert words["thanks"] in text(thanked)
    assert "Sie haben unsere Hilfe mit 4 von 5 bewertet." in text(thanked)
    assert 'id="feedback-form"' not in thanked
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    assert stored["feedback"]["rating"] == 4
    assert stored["feedback"]["comment"] == "Schnell und freundlich."
    assert stored["feedback"]["locale"] == "de"

    again = await send(api, case, rating="1", comment="changed my mind")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("text/html")
    assert words["already"] in text(again.text)
    assert "Sie haben unsere Hilfe mit 4 von 5 bewertet." in text(again.text)
    after = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    assert after["feedback"] == stored["feedback"]
    events = (await api.get(f"/v1/cases/{case['id']}/events", headers=OPS)).json()
    rated = [e for e in events if e["type"] == "feedback"]
    assert len(rated) == 1
    assert (rated[0]["actor"], rated[0]["detail"]["rating"]) == ("customer", "4")


async def test_two_submissions_at_once_store_one(api) -> None:
    """Two tabs posting together: one is stored, the other is told it already was."""
    case = await resolved(api, "fb-race")
    answers = await asyncio.gather(send(api, case, rating="5"), send(api, case, rating="2"))
    assert sorted(a.status_code for a in answers) == [303, 409]
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    winner = next(a for a in answers if a.status_code == 303)
    assert str(stored["feedback"]["rating"]) in ("5", "2")
    assert winner.headers["location"].startswith(path_of(case))


@pytest.mark.parametrize(
    ("form", "key"),
    [
        ({}, "invalid"),
        ({"rating": "0"}, "invalid"),
        ({"rating": "6"}, "invalid"),
        ({"rating": "three", "comment": "gut"}, "invalid"),
        ({"rating": "3", "comment": "x" * (MAX_COMMENT + 1)}, "too_long"),
    ],
)
async def test_a_bad_submission_says_why_and_keeps_what_was_typed(api, form, key) -> None:
    """No rating, or one outside 1-5, or a comment too long: 400, the reason in the
    customer's language, the comment still in the box, nothing stored."""
    case = await resolved(api, f"fb-bad-{key}-{len(form)}-{form.get('rating')}")
    answer = await send(api, case, **form)
    assert answer.status_code == 400
    expected = labels("de")[key] % {"max": MAX_COMMENT} if key == "too_long" else labels("de")[key]
    assert html.escape(expected, quote=False) in answer.text
    assert 'role="alert" id="feedback-error"' in answer.text
    if form.get("comment"):
        assert f">{html.escape(form['comment'])}</textarea>" in answer.text
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    assert stored["feedback"] is None


async def test_a_forged_link_cannot_rate(api) -> None:
    """A tampered token gets the invalid-link page, and nothing is stored."""
    case = await resolved(api, "fb-forged")
    forged = path_of(case)[:-3] + "AAA"
    answer = await api.post(forged, data={"rating": "5"}, follow_redirects=False)
    assert answer.status_code == 404
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    assert stored["feedback"] is None


def test_every_catalog_translates_the_form() -> None:
    """All twelve languages have every word of the form, placeholders intact."""
    english = labels("en")
    for code in CATALOGS.locales:
        words = labels(code)
        assert set(words) == set(english)
        assert "%(rating)d" in words["given"], code
        assert "%(max)d" in words["too_long"], code
        if code != "en":
            assert words["title"] != english["title"], code
            assert rating_words(CATALOGS.get(code)) != rating_words(CATALOGS.get("en")), code


async def test_ratings_reach_the_report(api) -> None:
    """The rating shows in the report, by team and by language."""
    case = await resolved(api, "fb-report", "fr-FR")
    assert (await send(api, case, rating="5")).status_code == 303
    report = (await api.get("/v1/reports", params={"group": "language"}, headers=OPS)).json()
    assert [(r["key"], r["count"], r["mean"]) for r in report["ratings_by_language"]] == [
        ("fr-FR", 1, 5.0)
    ]
    assert [(r["key"], r["count"]) for r in report["ratings_by_team"]] == [(case["team"], 1)]
    (row,) = [g for g in report["groups"] if g["key"] == "fr-FR"]
    assert (row["ratings"], row["rating_mean"]) == (1, 5.0)


# -- one check in a real browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def served(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(redis_url, tmp_path_factory.mktemp("serve"), "feedback") as server:
        yield server


browser = browser_fixture()


def rated_case(served: Server, external_id: str, locale: str, zone: str) -> dict[str, Any]:
    """A resolved case of a customer in `locale` and `zone`, with its status page's URL."""
    case = resolved_case(
        served,
        {
            "external_id": external_id,
            "priority": "P3",
            "skill": "billing",
            "summary": "Invoice charged twice",
            "customer": {"id": f"cust-{external_id}", "locale": locale, "timezone": zone},
        },
    )
    case["page"] = served.base + path_of(case)
    return case


def test_an_arabic_customer_rates_with_javascript_off(served, browser) -> None:
    """In Chromium with JavaScript disabled, an Arabic customer picks 5 by its label, adds a
    comment and sends: the page thanks them (right to left) and the case holds the rating."""
    case = rated_case(served, "fb-browser-ar", "ar-AE", "Asia/Dubai")
    words = labels("ar")
    comment = "شكرًا، تم حل المشكلة بسرعة"
    with console_page(browser, served, java_script_enabled=False, locale="ar-AE") as page:
        html_ok(page.goto(case["page"]))
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.get_by_role("heading", name=words["title"]).is_visible()
        group = page.get_by_role("group", name=words["rating"])
        assert group.get_by_role("radio").count() == 5
        group.get_by_text(rating_words(CATALOGS.get("ar"))[4], exact=True).click()
        assert page.locator("input[name=rating][value='5']").is_checked()
        page.get_by_label(words["comment"]).fill(comment)
        shot(page, "feedback_form_ar")
        with page.expect_navigation() as nav:
            page.get_by_role("button", name=words["send"]).click()
        html_ok(nav.value)
        assert page.locator("#feedback-notice").inner_text() == words["thanks"]
        assert page.locator("#feedback-given").inner_text() == words["given"] % {"rating": 5}
        assert page.locator("#feedback-form").count() == 0
        shot(page, "feedback_thanks_ar")
    with served.api("ops") as ops:
        stored = ops.get(f"/v1/cases/{case['id']}").json()["feedback"]
    assert (stored["rating"], stored["comment"], stored["locale"]) == (5, comment, "ar")


def test_the_ops_console_shows_the_feedback(served, browser) -> None:
    """The case page in the console shows the customer's rating and comment."""
    case = rated_case(served, "fb-browser-console", "nl-NL", "Europe/Amsterdam")
    sent = httpx.post(case["page"], data={"rating": "3", "comment": "Prima"})
    assert sent.status_code == 303
    with console_page(browser, served, make_token(SECRET, "viewer")) as page:
        html_ok(page.goto(f"{served.base}/console/cases/{case['id']}"))
        box = page.locator("#case-feedback")
        assert box.locator("strong").inner_text() == "3 of 5"
        assert "Prima" in box.inner_text()
        assert "in nl" in box.inner_text()
