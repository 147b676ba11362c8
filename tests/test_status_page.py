"""The customer's status page: their language, script direction and time zone; bad links."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import SCHEDULES, SECRET, token
from harness import Harness
from redis.asyncio import Redis

from router.i18n.labels import page_labels
from router.schedule_files import read_policy
from router.services.links import make_status_token, read_status_token
from router.settings import Settings

PUBLIC_URL = Settings().link_base()


async def open_case(api: Any, external_id: str, locale: str, timezone: str) -> dict[str, Any]:
    body = {
        "source": "test",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Cannot log in",
        "customer": {"id": f"cust-{external_id}", "locale": locale, "timezone": timezone},
    }
    answer = await api.post("/v1/escalations", json=body, headers=token("intake"))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def record_updates(api: Any, redis_url: str, key_prefix: str) -> int:
    """Run the outbox dispatcher with the app's catalogs (no webhooks): updates are recorded."""
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix, secret=SECRET)
    client = Redis.from_url(redis_url)
    try:
        svc = Harness(
            client,
            read_policy(SCHEDULES),
            prefix=key_prefix,
            settings=settings,
            catalogs=api.app.state.catalogs,
        )
        return await svc.outbox.dispatch()
    finally:
        await client.aclose()


def page_path(case: dict[str, Any]) -> str:
    url = case["status_url"]
    assert url.startswith(f"{PUBLIC_URL}/status/"), url
    return url.removeprefix(PUBLIC_URL)


def field(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, f"{pattern!r} not on the page"
    return html.unescape(found.group(1)).strip()


def timeline(page: str) -> list[tuple[str, str, str]]:
    """(datetime attribute, shown time, subject) of each update, in page order."""
    items = re.findall(
        r'<li><time datetime="([^"]+)">([^<]*)</time><div class="subject">([^<]*)</div>', page
    )
    return [(iso, html.unescape(when), html.unescape(subject)) for iso, when, subject in items]


def assert_html(answer: Any, status: int) -> str:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "Traceback" not in page
    assert "BadLink" not in page
    return page


CASES = {
    "ja": {
        "locale": "ja-JP",
        "timezone": "Asia/Tokyo",
        "html": '<html lang="ja" dir="ltr">',
        "title": "お問い合わせ（{id}）",
        "status": "対応開始待ち",  # tyo-l1 is off shift at 18:00 Tokyo: the case waits
        "opened": "2026/11/23 18:00",
        "subjects": [
            "【{id}】お問い合わせを受け付けました",
            "【{id}】お問い合わせへの対応をまもなく開始いたします",
        ],
        "zone": "時刻は日本時間で表示しています。",
    },
    "ar": {
        "locale": "ar-EG",
        "timezone": "Africa/Cairo",
        "html": '<html lang="ar" dir="rtl">',
        "title": "طلبك رقم {id}",
        "status": "قيد المعالجة",
        "opened": "23\u200f/11\u200f/2026، 11:00 ص",
        "subjects": ["لقد استلمنا طلبك رقم {id}"],
        "zone": "تُعرض الأوقات وفق توقيت مصر.",
    },
    "cs": {
        "locale": "cs-CZ",
        "timezone": "Europe/Prague",
        "html": '<html lang="cs" dir="ltr">',
        "title": "Váš požadavek {id}",
        "status": "V řešení",
        "opened": "23. 11. 2026 10:00",
        "subjects": ["Váš požadavek {id} jsme přijali"],
        "zone": "Časy jsou uvedeny podle Vašeho místního času: časové pásmo Česko.",
    },
}


@pytest.mark.parametrize("code", sorted(CASES))
async def test_status_page_in_the_customers_language(api, redis_url, key_prefix, code: str) -> None:
    """The page is in the customer's language and direction, with updates on their clock."""
    want = CASES[code]
    case = await open_case(api, f"page-{code}", want["locale"], want["timezone"])
    team = 1 if case["status"] == "assigned" else 0  # a case assigned at intake tells its team
    assert await record_updates(api, redis_url, key_prefix) == len(want["subjects"]) + team

    page = assert_html(await api.get(page_path(case), headers={"Accept-Language": "en"}), 200)
    assert want["html"] in page
    assert field(page, r"<h1>(.*?)</h1>") == want["title"].format(id=case["id"])
    assert field(page, r'<dd id="status">(.*?)</dd>') == want["status"]
    assert field(page, r'<p class="note">(.*?)</p>') == want["zone"]
    assert want["opened"] in field(page, r"<dd><time[^>]*>(.*?)</time>")
    updates = timeline(page)
    assert [subject for _, _, subject in updates] == [
        s.format(id=case["id"]) for s in want["subjects"]
    ]
    for iso, when, _ in updates:
        assert datetime.fromisoformat(iso) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        assert when == want["opened"]
    assert "Waiting for a team" not in page
    assert "In progress" not in page


async def test_status_page_without_updates_yet(api) -> None:
    """Before the dispatcher has run, the page shows the case with an empty timeline."""
    case = await open_case(api, "page-empty", "cs-CZ", "Europe/Prague")
    page = assert_html(await api.get(page_path(case)), 200)
    assert field(page, r'<dd id="status">(.*?)</dd>') == "V řešení"
    assert timeline(page) == []


def tamper(token_: str, *, case: str) -> str:
    """The same signature over another case id (as a curious visitor would try)."""
    version, _, locale, expires, sig = token_.split(".")
    return f"{version}.{case}.{locale}.{expires}.{sig}"


async def test_tampered_link_gives_error_page_in_browser_language(api) -> None:
    """A link with a forged payload gets a 404 in the browser's language, showing no case."""
    mine = await open_case(api, "tamper-a", "ja-JP", "Asia/Tokyo")
    theirs = await open_case(api, "tamper-b", "ar-EG", "Africa/Cairo")
    path = page_path(mine)
    forged = path.rsplit("/", 1)[0] + "/" + tamper(path.rsplit("/", 1)[1], case=theirs["id"])

    page = assert_html(
        await api.get(forged, headers={"Accept-Language": "cs-CZ,cs;q=0.9,en;q=0.8"}), 404
    )
    assert '<html lang="cs" dir="ltr">' in page
    assert field(page, r"<h1>(.*?)</h1>") == "Tento odkaz není platný"
    assert field(page, r"<p>(.*?)</p>").startswith("Platnost odkazu vypršela")
    assert mine["id"] not in page
    assert theirs["id"] not in page


@pytest.mark.parametrize(
    ("accept", "lang", "title"),
    [
        ("ja", '<html lang="ja" dir="ltr">', "このリンクは無効です"),
        ("ar-SA,ar;q=0.9", '<html lang="ar" dir="rtl">', "هذا الرابط غير صالح"),
        ("zh-TW,fr-CA;q=0.8", '<html lang="fr" dir="ltr">', "Ce lien n'est pas valide"),
        ("", '<html lang="en" dir="ltr">', "This link is not valid"),
    ],
)
async def test_garbage_link_gives_error_page_in_browser_language(
    api, accept: str, lang: str, title: str
) -> None:
    """A garbage token gets the catalog's apology in the browser's language, never a trace."""
    headers = {"Accept-Language": accept} if accept else {}
    page = assert_html(await api.get("/status/not-a-token", headers=headers), 404)
    assert lang in page
    assert field(page, r"<h1>(.*?)</h1>") == title
    assert field(page, r"<title>(.*?)</title>") == title


async def test_accept_language_quality_values_are_honoured(api) -> None:
    """'en;q=0.1, ja;q=0.9' prefers Japanese: q-values rank, not the order of the header."""
    page = assert_html(
        await api.get("/status/not-a-token", headers={"Accept-Language": "en;q=0.1, ja;q=0.9"}),
        404,
    )
    assert '<html lang="ja" dir="ltr">' in page


async def test_truncated_link_is_refused(api) -> None:
    """A link cut short (a mail client wrapped it) gets the error page, not the case."""
    case = await open_case(api, "cut", "cs-CZ", "Europe/Prague")
    page = assert_html(await api.get(page_path(case)[:-10], headers={"Accept-Language": "cs"}), 404)
    assert field(page, r"<h1>(.*?)</h1>") == "Tento odkaz není platný"


async def test_expired_link_apologises_in_the_customers_language(api, clock) -> None:
    """Past status_link_days a genuine link gives a 404 in the customer's (link's) language."""
    case = await open_case(api, "expire", "ar-EG", "Africa/Cairo")
    days = Settings().status_link_days
    clock.advance(days=days - 1)
    page = assert_html(await api.get(page_path(case), headers={"Accept-Language": "de"}), 200)
    assert '<html lang="ar" dir="rtl">' in page

    clock.advance(days=1, seconds=1)
    page = assert_html(await api.get(page_path(case), headers={"Accept-Language": "de"}), 404)
    assert '<html lang="ar" dir="rtl">' in page
    labels = page_labels(api.app.state.catalogs.get("ar"))
    assert field(page, r"<h1>(.*?)</h1>") == labels["invalid_title"] == "هذا الرابط غير صالح"
    assert field(page, r"<p>(.*?)</p>") == labels["invalid_body"]
    assert case["id"] not in page


def test_link_validity_follows_the_given_clock_not_the_host_clock() -> None:
    """A token issued at the app's 'now' is valid at that 'now' though the host clock lags."""
    issued = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    link = make_status_token(SECRET, "C-1", "ja-JP", now=issued)
    assert read_status_token(SECRET, link, now=issued + timedelta(minutes=1)) == "C-1"
