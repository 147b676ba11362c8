"""What the browser tests share: a real `followsun serve` process on a key prefix of its own
with the repository's schedules loaded, a headless Chromium, and the steps every page test
takes (open a page, sign in, check the answer, keep a screenshot)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from conftest import ROOT, SCHEDULES, SECRET
from playwright.sync_api import Browser, Page, sync_playwright

from router.http.auth import make_token

SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CONTROLS_WITHOUT_LABEL = """() => Array.from(
  document.querySelectorAll('input:not([type=hidden]), select, textarea')
).filter(el => !(
  (el.getAttribute('aria-label') || '').trim()
  || el.closest('label')
  || (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]'))
)).map(el => el.outerHTML)"""

TABLES_OUTSIDE_THEIR_CARDS = """() => {
  const slack = 1;  // sub-pixel rounding
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  }
  for (const table of document.querySelectorAll('table')) {
    const name = table.id || table.querySelector('th').textContent.trim();
    const card = table.closest('.panel');
    if (!card) {
      problems.push(`${name}: not inside a card`);
      continue;
    }
    const c = card.getBoundingClientRect();
    const left = c.left + card.clientLeft;
    const inner = {left, right: left + card.clientWidth};
    const t = table.getBoundingClientRect();
    const fits = t.left >= inner.left - slack && t.right <= inner.right + slack;
    let scroller = null;  // the table's own sideways scroller inside the card, if any
    for (let el = table.parentElement; el && el !== card; el = el.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) {
        scroller = el;
        break;
      }
    }
    if (!fits && !scroller) {
      problems.push(`${name}: right edge ${t.right} is past its card's ${inner.right}`);
      continue;
    }
    const s = scroller ? scroller.getBoundingClientRect() : null;
    if (!fits && (s.left < inner.left - slack || s.right > inner.right + slack)) {
      problems.push(`${name}: its scroller [${s.left}, ${s.right}] leaves the card`);
    }
    for (const th of table.querySelectorAll('th')) {
      const r = th.getBoundingClientRect();
      const label = `${name}: header "${th.textContent.trim()}"`;
      if (r.width < 1 || r.height < 1 || getComputedStyle(th).visibility !== 'visible') {
        problems.push(`${label} is hidden`);
      } else if (fits && (r.left < inner.left - slack || r.right > inner.right + slack)) {
        problems.push(`${label} is outside the card`);
      } else if (!fits) {
        const x = scroller.scrollLeft - s.left - scroller.clientLeft;
        if (r.left + x < -slack || r.right + x > scroller.scrollWidth + slack) {
          problems.push(`${label} cannot be scrolled to`);
        }
      }
    }
  }
  return problems;
}"""


class Server:
    """A running `followsun serve` process with its own key prefix (`loaded`: what
    `followsun schedules load` said when it started)."""

    def __init__(self, base: str, prefix: str, redis_url: str, loaded: str = "") -> None:
        self.base = base
        self.prefix = prefix
        self.redis_url = redis_url
        self.loaded = loaded

    def api(self, role: str, team: str | None = None, subject: str | None = None) -> httpx.Client:
        bearer = make_token(SECRET, role, team, subject=subject)
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {bearer}"}, timeout=10
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Wait for /healthz (the process must not die meanwhile)."""
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server never answered /healthz"
        time.sleep(0.1)


def _forget(redis_url: str, prefix: str) -> None:
    client = redis_sync.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    keys += list(client.scan_iter(f"rq:*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@contextmanager
def running_server(redis_url: str, logs: Path, name: str) -> Iterator[Server]:
    """Load the schedules, start the server, wait for /healthz, and on the way out stop it
    and drop its keys."""
    prefix = f"test-{name}-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "FOLLOWSUN_KEY_PREFIX": prefix,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        "FOLLOWSUN_SECRET": SECRET,
    }
    loaded = subprocess.run(
        [sys.executable, "-m", "router.cli", "schedules", "load"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = logs / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        _answers(proc, base, log_path)
        yield Server(base, prefix, redis_url, loaded.stdout)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        _forget(redis_url, prefix)


def browser_fixture() -> Callable[[], Iterator[Browser]]:
    """A module's `browser` fixture: one headless Chromium for the module's tests
    (`browser = browser_fixture()` at the module's top level)."""

    @pytest.fixture(scope="module", name="browser")
    def launched() -> Iterator[Browser]:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()

    return launched


def new_page(browser: Browser, **options: Any) -> Page:
    page = browser.new_context(**options).new_page()
    page.set_default_timeout(10_000)
    return page


@contextmanager
def console_page(
    browser: Browser, server: Server, bearer: str | None = None, **options: Any
) -> Iterator[Page]:
    """A page in a context of its own (signed in with `bearer`, if given), closed after."""
    page = new_page(browser, **options)
    try:
        if bearer is not None:
            sign_in(page, server, bearer)
        yield page
    finally:
        page.context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, server: Server, bearer: str, next_: str | None = None) -> None:
    """Paste the token on the sign-in page and press the button."""
    url = f"{server.base}/console/login" + (f"?next={next_}" if next_ else "")
    answer = page.goto(url)
    assert answer is not None
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    page.fill("#token", bearer)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def html_ok(answer: Any, status: int = 200) -> None:
    assert answer is not None
    assert answer.status == status
    assert answer.headers["content-type"].startswith("text/html"), answer.headers


def run_async(coro: Any) -> Any:
    """Run a coroutine on a thread of its own (the Playwright sync API owns this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def resolved_case(server: Server, escalation: dict[str, Any]) -> dict[str, Any]:
    """Post the escalation, then acknowledge and resolve its case as ops (first moving it
    to dub-l1 if its team is off shift: the server reads the real clock)."""
    with server.api("intake") as intake:
        created = intake.post("/v1/escalations", json={"source": "browser-test", **escalation})
    assert created.status_code == 201, created.text
    case = created.json()
    steps = [("ack", None), ("resolve", {"resolution": "refunded"})]
    if case["status"] != "assigned":
        steps.insert(0, ("reassign", {"team": "dub-l1", "reason": "a test needs it resolved"}))
    with server.api("ops") as ops:
        for step, body in steps:
            answer = ops.post(f"/v1/cases/{case['id']}/{step}", json=body)
            assert answer.status_code == 200, answer.text
    return case
