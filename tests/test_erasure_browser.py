"""The console's Customers page in a real headless Chromium against a real `followsun
serve` and a real Redis: look up, download the export, erase after confirming."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SECRET
from playwright.sync_api import Browser
from served import Server, browser_fixture, console_page, html_ok, running_server

from router.http.auth import make_token

browser = browser_fixture()


@pytest.fixture(scope="module")
def server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(redis_url, tmp_path_factory.mktemp("serve"), "customers") as server:
        yield server


def test_ops_export_and_erase_a_customer_in_the_console(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    """Ops find the customer's case, download it all as JSON, are refused until they type
    the id again, then erase: the page says so and the status link answers 410."""
    customer = f"cust-ünïque-{uuid.uuid4().hex[:6]}"
    escalation = {
        "source": "browser-test",
        "external_id": customer,
        "priority": "P3",
        "skill": "billing",
        "summary": "Åsa Ñúñez was charged twice",
        "customer": {"id": customer, "name": "Åsa Ñúñez", "email": "asa.n@example.org"},
    }
    with server.api("intake") as intake:
        created = intake.post("/v1/escalations", json=escalation)
    assert created.status_code == 201, created.text
    case = created.json()
    with console_page(browser, server, make_token(SECRET, "ops", subject="ops-eva")) as page:
        html_ok(page.goto(f"{server.base}/console/customers"))
        assert page.get_by_role("link", name="Customers").get_attribute("aria-current") == "page"
        page.fill("#customer-id", customer)
        with page.expect_navigation():
            page.get_by_role("button", name="Look up").click()
        assert page.locator("#customer-cases").inner_text().count(case["id"]) == 1
        with page.expect_download() as download:
            page.click("#customer-export")
        saved = tmp_path / "export.json"
        download.value.save_as(saved)
        exported = json.loads(saved.read_text())
        assert exported["cases"][0]["case"]["escalation"]["customer"]["name"] == "Åsa Ñúñez"

        page.fill("#customer-confirm", "not the id")
        with page.expect_navigation():
            page.get_by_role("button", name=f"Erase {customer}").click()
        assert "Type the customer id again" in page.locator("#customer-error").inner_text()
        page.fill("#customer-confirm", customer)
        with page.expect_navigation():
            page.get_by_role("button", name=f"Erase {customer}").click()
        assert "1 case(s) anonymised" in page.locator("#customer-done").inner_text()

        gone = page.goto(case["status_url"].replace("http://127.0.0.1:8000", server.base))
        assert gone is not None
        assert gone.status == 410
    with server.api("ops") as ops:
        stored = ops.get(f"/v1/cases/{case['id']}").json()
    assert stored["escalation"]["customer"]["name"] == ""
    assert stored["escalation"]["summary"] == ""
