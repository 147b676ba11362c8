"""The console's and status pages' hardening (router.http.security): CSRF tokens on every
console form, the security headers, no inline script or style for the CSP to refuse, the
request body limit, and OPTIONS/405 naming every method. In-process against a real Redis,
and in a real headless Chromium against a real `followsun serve` (no CSP violation on any
console page; a cross-site form post refused)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from conftest import SCHEDULES, SECRET, token
from litestar.testing import AsyncTestClient
from served import Server, browser_fixture, console_page, html_ok, running_server, sign_in

from router.app import create_app
from router.http.auth import make_token
from router.http.security import CSP
from router.settings import Settings
from router.web import TEMPLATES
from router.web.console import COOKIE

INTAKE, OPS = token("intake"), token("ops")
ESCALATION = {
    "source": "test",
    "priority": "P3",
    "skill": "billing",
    "summary": "Invoice charged twice",
    "customer": {"id": "cust-sec", "locale": "nl-NL", "timezone": "Europe/Amsterdam"},
}


def csrf(page: Any) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def opened(api: Any, external_id: str) -> dict[str, Any]:
    answer = await api.post(
        "/v1/escalations", json={**ESCALATION, "external_id": external_id}, headers=INTAKE
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == status
    return body


# -- the templates ---------------------------------------------------------------------------


def test_every_console_form_that_posts_carries_a_csrf_token() -> None:
    """Each `<form method="post">` of the console sends `_csrf_token`; the status page's
    feedback form is the one exemption (its signed link is its credential)."""
    posting = 0
    for template in TEMPLATES.rglob("*.j2"):
        text = template.read_text()
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S):
            posting += 1
            if template.name == "feedback.html.j2":
                assert "csrf" not in form
                continue
            assert "{{ csrf_input | safe }}" in form, (template.name, form)
    assert posting >= 9


def test_no_template_carries_inline_script_or_style() -> None:
    """What the CSP refuses is not there to refuse: no <script>, no on* handler, no <style>
    and no style attribute; the style sheets are served from /static."""
    for template in TEMPLATES.rglob("*.j2"):
        text = template.read_text()
        for pattern in (r"<script", r"\son[a-z]+\s*=", r"<style", r"\sstyle\s*="):
            assert not re.search(pattern, text, re.I), (template.name, pattern)
    static = TEMPLATES.parent / "static"
    assert {p.name for p in static.iterdir()} >= {"console.css", "status.css"}


# -- CSRF in-process -------------------------------------------------------------------------


async def test_a_console_post_without_the_token_is_refused_and_changes_nothing(api) -> None:
    """Signed in, with the CSRF cookie, but no token in the form (what a forged form on
    another site would send): 403 problem+json, the case not acknowledged. With the
    page's token the same post works."""
    case = await opened(api, "sec-csrf")
    api.cookies.set(COOKIE, make_token(SECRET, "ops"))
    try:
        page = await api.get("/console/queue", params={"team": case["team"]})
        assert page.status_code == 200
        assert "fs_csrf" in api.cookies
        url = f"/console/cases/{case['id']}/ack"
        body = problem(await api.post(url, follow_redirects=False), 403)
        assert "CSRF" in body["detail"]
        wrong = {"_csrf_token": "0" * 128}
        problem(await api.post(url, data=wrong, follow_redirects=False), 403)
        stored = await api.get(f"/v1/cases/{case['id']}", headers=OPS)
        assert stored.json()["status"] == "assigned"
        done = await api.post(url, data={"_csrf_token": csrf(page)}, follow_redirects=False)
        assert done.status_code == 303, done.text
        stored = await api.get(f"/v1/cases/{case['id']}", headers=OPS)
        assert stored.json()["status"] == "acknowledged"
    finally:
        api.cookies.clear()


async def test_sign_in_needs_the_token_of_the_sign_in_page(api) -> None:
    """Login CSRF: a sign-in posted without the page's token sets no session cookie."""
    refused = await api.post("/console/login", data={"token": make_token(SECRET, "ops")})
    problem(refused, 403)
    assert COOKIE not in refused.cookies
    page = await api.get("/console/login")
    form = {"token": make_token(SECRET, "ops"), "_csrf_token": csrf(page)}
    signed_in = await api.post("/console/login", data=form, follow_redirects=False)
    assert signed_in.status_code == 303
    assert COOKIE in signed_in.cookies
    api.cookies.clear()


async def test_the_api_and_the_status_page_need_no_csrf_token(api) -> None:
    """Bearer requests and the status page's feedback form are exempt (see http.security)."""
    case = await opened(api, "sec-exempt")
    acked = await api.post(f"/v1/cases/{case['id']}/ack", headers=OPS)
    assert acked.status_code == 200
    status = "/status/" + case["status_url"].rsplit("/status/", 1)[1]
    answer = await api.post(status, data={"rating": "5"}, follow_redirects=False)
    assert answer.status_code != 403  # not resolved yet: the page says so, CSRF never asked


# -- headers ---------------------------------------------------------------------------------


async def test_console_and_status_pages_carry_the_security_headers(api) -> None:
    case = await opened(api, "sec-headers")
    status = "/status/" + case["status_url"].rsplit("/status/", 1)[1]
    api.cookies.set(COOKIE, make_token(SECRET, "ops"))
    try:
        pages = [
            await api.get("/console/login"),
            await api.get("/console/teams"),
            await api.get(f"/console/cases/{case['id']}"),
            await api.get(status),
            await api.get("/status/not-a-link"),  # the bad-link page
            await api.post(f"/console/cases/{case['id']}/ack"),  # a refusal, 403
        ]
    finally:
        api.cookies.clear()
    for page in pages:
        headers = page.headers
        assert headers["content-security-policy"] == CSP, page.url
        assert "frame-ancestors 'none'" in CSP
        assert "script-src" not in CSP  # default-src 'none': no script from anywhere
        assert "'unsafe-inline'" not in CSP
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 404, 403]
    css = await api.get("/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".bar {" in css.text
    api_answer = await api.get("/v1/teams", headers=OPS)
    assert api_answer.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api_answer.headers


async def test_options_and_405_name_every_method_of_the_path(api) -> None:
    """Litestar's OPTIONS handler read the methods of the first handler registered on the
    path (`DELETE, OPTIONS` for a team); 405 lost its Allow to the problem+json handler."""
    answer = await api.options("/v1/teams/ams-l1")
    assert answer.status_code == 204
    assert set(answer.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE", "OPTIONS"}
    refused = await api.patch("/v1/teams/ams-l1", headers=OPS)
    problem(refused, 405)
    assert set(refused.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE", "OPTIONS"}


# -- body size -------------------------------------------------------------------------------


@pytest.fixture
async def small(redis_url: str, key_prefix: str) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with FOLLOWSUN_MAX_BODY_BYTES=2048."""
    settings = Settings.from_env(
        {
            "REDIS_URL": redis_url,
            "FOLLOWSUN_KEY_PREFIX": key_prefix,
            "FOLLOWSUN_SECRET": SECRET,
            "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
            "FOLLOWSUN_MAX_BODY_BYTES": "2048",
        }
    )
    assert settings.max_body_bytes == 2048
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_written(small) -> None:
    big = {**ESCALATION, "external_id": "sec-big", "summary": "x" * 4096}
    body = problem(await small.post("/v1/escalations", json=big, headers=INTAKE), 413)
    assert body["field"] == "body"
    listed = await small.get("/v1/cases", headers=OPS)
    assert listed.json()["total"] == 0
    fits = {**ESCALATION, "external_id": "sec-small"}
    assert (await small.post("/v1/escalations", json=fits, headers=INTAKE)).status_code == 201
    page = await small.get("/console/login")
    form = {"token": "x" * 4096, "_csrf_token": csrf(page)}
    problem(await small.post("/console/login", data=form), 413)


def test_the_limit_is_a_setting_of_at_least_a_kibibyte() -> None:
    assert Settings().max_body_bytes == 256 * 1024
    with pytest.raises(ValueError, match="FOLLOWSUN_MAX_BODY_BYTES"):
        Settings.from_env({"FOLLOWSUN_MAX_BODY_BYTES": "100"})


# -- a real browser --------------------------------------------------------------------------

browser = browser_fixture()
WATCH_CSP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def served(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(redis_url, tmp_path_factory.mktemp("serve"), "security") as server:
        yield server


def _case(server: Server, external_id: str) -> dict[str, Any]:
    """An assigned case (moved to dub-l1 if its team is off shift: the server reads the
    real clock)."""
    with server.api("intake") as intake:
        created = intake.post("/v1/escalations", json={**ESCALATION, "external_id": external_id})
    assert created.status_code == 201, created.text
    case = created.json()
    if case["status"] != "assigned":
        with server.api("ops") as ops:
            moved = ops.post(f"/v1/cases/{case['id']}/reassign", json={"team": "dub-l1"})
        assert moved.status_code == 200, moved.text
        case = moved.json()
    return case


def test_the_console_works_under_its_csp_without_a_violation(served, browser) -> None:
    """Every console page, signed in as ops, in Chromium: styled from /static (the sheet
    applies), no CSP violation reported to the page nor logged in the browser's console; a
    form (a note on a case) still posts. Then an inline style added by hand is refused and
    both watches see it, so their silence before meant something."""
    case = _case(served, "sec-browser")
    with console_page(browser, served) as page:
        messages: list[str] = []
        page.on("console", lambda m: messages.append(m.text))
        page.add_init_script(WATCH_CSP)
        sign_in(page, served, make_token(SECRET, "ops", subject="ops-sec"))
        paths = [
            "/console",
            "/console/coverage",
            "/console/teams",
            "/console/teams/ams-l1",
            "/console/teams/ams-l1/revisions",
            f"/console/queue?team={case['team']}",
            f"/console/cases/{case['id']}",
            "/console/reports",
        ]
        for path in paths:
            answer = page.goto(served.base + path)
            html_ok(answer)
            assert answer.headers["content-security-policy"] == CSP
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(245, 246, 248)", path  # console.css's --bg
            assert page.evaluate("window.__violations") == [], path
        page.goto(f"{served.base}/console/queue?team={case['team']}")
        page.fill(f"#note-{case['id']}", "checked under the CSP")
        with page.expect_navigation() as nav:
            page.locator(f"form[action='/console/cases/{case['id']}/note'] button").click()
        html_ok(nav.value)
        assert page.evaluate("window.__violations") == []
        assert not [m for m in messages if "Content Security Policy" in m]
        # both watches see what the policy refuses: an inline style added by hand
        with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
            page.evaluate(
                "() => { const s = document.createElement('style');"
                " s.textContent = 'body { color: red }'; document.head.appendChild(s); }"
            )
        page.wait_for_function("window.__violations.length > 0")
        assert page.evaluate("getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
    with served.api("ops") as ops:
        events = ops.get(f"/v1/cases/{case['id']}/events").json()
    assert any("checked under the CSP" in str(e) for e in events)


def test_a_cross_site_form_post_is_refused(served, browser) -> None:
    """A page on another site that posts a console form (the user signed in meanwhile):
    403 problem+json, and the case stays unacknowledged."""
    case = _case(served, "sec-cross-site")
    evil = "http://evil.example/"
    form = (
        f'<form method="post" action="{served.base}/console/cases/{case["id"]}/ack">'
        '<button id="go" type="submit">Win a prize</button></form>'
    )
    with console_page(browser, served, make_token(SECRET, "ops", subject="ops-victim")) as page:
        page.route(
            evil,
            lambda route: route.fulfill(status=200, content_type="text/html", body=form),
        )
        page.goto(evil)
        with page.expect_navigation() as nav:
            page.click("#go")
        answer = nav.value
        assert answer is not None
        assert answer.status == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
    with served.api("ops") as ops:
        assert ops.get(f"/v1/cases/{case['id']}").json()["status"] == "assigned"


def test_status_pages_are_styled_under_the_csp(served, browser) -> None:
    case = _case(served, "sec-status")
    path = "/status/" + case["status_url"].rsplit("/status/", 1)[1]
    with console_page(browser, served) as page:
        page.add_init_script(WATCH_CSP)
        answer = page.goto(served.base + path)
        html_ok(answer)
        assert answer.headers["referrer-policy"] == "no-referrer"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(246, 247, 249)"  # status.css
        assert page.evaluate("window.__violations") == []
