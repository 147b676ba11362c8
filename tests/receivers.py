"""Real receivers on loopback for the tests of what leaves the service (customer webhooks,
customer e-mail, team chat and e-mail, helpdesk intake): an HTTP endpoint, an aiosmtpd
server, the deployment's RQ queue run in this process, and the service harness built with
a test's own settings.

A test module takes a fixture by naming it at its top level (`mailbox = receivers.mailbox`:
pytest finds fixtures among a module's names) and imports the rest. (Not `pytest_plugins`:
the module would be imported before pytest could rewrite its asserts.)"""

from __future__ import annotations

import email
import json
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis as redis_sync
from aiosmtpd.controller import Controller
from conftest import SCHEDULES, SECRET, token
from harness import Harness
from redis.asyncio import Redis
from rq import Queue, Retry, SimpleWorker

from router.i18n import Catalogs
from router.jobs import tasks
from router.schedule_files import read_policy
from router.services import outbox
from router.settings import Settings
from router.store.keys import Keys

__all__ = [
    "CATALOGS",
    "Mailbox",
    "Received",
    "WebhookReceiver",
    "deployment",
    "fast_retries",
    "harness",
    "post_escalation",
    "serve_smtp",
    "work",
]

CATALOGS = Catalogs()
INTAKE = token("intake")


# -- HTTP ------------------------------------------------------------------------------------


class WebhookReceiver:
    """An HTTP endpoint on 127.0.0.1 that records every POST (path, headers in lower case,
    body, the status it answered) and answers per a script: the last status repeats once
    the script is used up."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._script = [200]
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self._script = list(statuses)

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = self._script.pop(0) if len(self._script) > 1 else self._script[0]
            self.requests.append({"path": path, "headers": headers, "body": body, "status": status})
        return status

    def accepted(self, path: str | None = None) -> list[dict[str, Any]]:
        """The requests answered 2xx (at `path`, when given)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if 200 <= r["status"] < 300 and (path is None or r["path"] == path)
            ]

    def payloads(self, path: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies accepted (at `path`, when given)."""
        return [json.loads(r["body"]) for r in self.accepted(path)]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    r.thread.join(timeout=5)


# -- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    reply: str
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=SMTP)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given, with how it came, and
    answers per a script (the last reply repeats once the script is used up)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script = ["250 OK"]
        self._lock = threading.Lock()

    def answer(self, *replies: str) -> None:
        with self._lock:
            self._script = list(replies)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            reply = self._script.pop(0) if len(self._script) > 1 else self._script[0]
            login = session.auth_data.login.decode() if session.authenticated else None
            self.received.append(
                Received(
                    sender=envelope.mail_from,
                    recipients=list(envelope.rcpt_tos),
                    data=envelope.original_content or envelope.content,
                    reply=reply,
                    tls=server.transport.get_extra_info("ssl_object") is not None,
                    login=login,
                )
            )
        return reply

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.reply.startswith("250")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_smtp(mailbox: Mailbox, **options: Any) -> Controller:
    """An aiosmtpd server on loopback handing every message to `mailbox`, started."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def plain_smtp(mailbox: Mailbox) -> Iterator[str]:
    """A plain SMTP server on loopback delivering to `mailbox`; its URL."""
    controller = serve_smtp(mailbox)
    yield f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


# -- the deployment and its worker -----------------------------------------------------------


def deployment(redis_url: str, key_prefix: str, **fields: Any) -> Settings:
    """The settings of a deployment over the test's Redis keys and the repository's
    schedules, plus `fields` (the channels under test)."""
    return Settings(
        redis_url=redis_url, key_prefix=key_prefix, secret=SECRET, schedules=SCHEDULES, **fields
    )


def fast_retries(monkeypatch: pytest.MonkeyPatch, retries: int = 3) -> None:
    """`retries` retries without waiting (production waits 2, 10, 60, 300 s)."""
    monkeypatch.setattr(outbox, "RETRY", Retry(max=retries, interval=0))


@asynccontextmanager
async def harness(
    settings: Settings, monkeypatch: pytest.MonkeyPatch | None = None
) -> AsyncIterator[Harness]:
    """Services of the test's own with `settings`; with `monkeypatch`, the worker's jobs
    read those settings too (as `followsun worker` hands them its own)."""
    if monkeypatch is not None:
        monkeypatch.setattr(tasks, "_settings", settings)
    client = Redis.from_url(settings.redis_url or "")
    h = Harness(
        client,
        read_policy(SCHEDULES),
        prefix=settings.key_prefix,
        url=settings.redis_url,
        settings=settings,
        catalogs=CATALOGS,
    )
    try:
        yield h
    finally:
        h.close()
        await client.aclose()


def work(redis_url: str, key_prefix: str, worker_class: type[SimpleWorker] = SimpleWorker) -> None:
    """Run the deployment's RQ queue to empty, in this process (with `worker_class`, a
    SimpleWorker: jobs run in the test's process)."""
    conn = redis_sync.Redis.from_url(redis_url)
    try:
        queue = Queue(Keys(key_prefix).queue, connection=conn)
        name = f"{key_prefix}-{uuid.uuid4().hex[:8]}"
        worker = worker_class([queue], connection=conn, name=name)
        worker.work(burst=True, with_scheduler=True)
    finally:
        conn.close()


@pytest.fixture
def forget_queue(redis_url: str, key_prefix: str) -> Iterator[None]:
    """After the test, the deployment's queue out of RQ's registry (which is not prefixed)."""
    yield
    conn = redis_sync.Redis.from_url(redis_url)
    conn.srem("rq:queues", f"rq:queue:{Keys(key_prefix).queue}")
    conn.close()


async def post_escalation(
    api: Any,
    external_id: str,
    locale: str,
    timezone: str,
    *,
    name: str = "Alex",
    email_address: str = "",
    **fields: Any,
) -> dict[str, Any]:
    """A P3 billing escalation through `POST /v1/escalations` (201 asserted); the case."""
    customer = {"id": f"cust-{external_id}", "locale": locale, "timezone": timezone, "name": name}
    if email_address:
        customer["email"] = email_address
    body = {
        "source": "test",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": customer,
        **fields,
    }
    answer = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert answer.status_code == 201, answer.text
    return answer.json()
