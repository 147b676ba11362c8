"""The mail job: one message, built by whoever enqueued it (customer updates:
`services.mail`; team e-mail: `services.notify`), sent with the worker's SMTP settings.

The SMTP URL and its password come from the settings the worker was started with
(`tasks.configure`), read inside the job: they are never a job argument, since arguments
live in Redis and in the dead letters operations read. Errors name the server as
host:port only."""

from __future__ import annotations

import logging

import aiosmtplib

from ..domain.errors import DeliveryFailed
from ..services.mail import SmtpServer, sender
from .tasks import _job_settings, coroutine_job

__all__ = ["send"]

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # seconds for connecting and for each SMTP command


@coroutine_job
async def send(message: bytes, recipients: list[str]) -> None:
    """Send `message` (the whole RFC 5322 message) to `recipients`, from the address of
    `FOLLOWSUN_MAIL_FROM`. Raises DeliveryFailed (and so RQ retries) unless the server
    accepts it for at least one recipient; those it refused are logged, not retried."""
    settings = _job_settings()
    if not settings.smtp_url:
        raise DeliveryFailed("FOLLOWSUN_SMTP_URL is not set for this worker")
    server = SmtpServer.from_url(settings.smtp_url)
    _, envelope_from = sender(settings.mail_from)
    try:
        refused, _ = await aiosmtplib.send(
            message,
            sender=envelope_from,
            recipients=recipients,
            hostname=server.host,
            port=server.port,
            username=server.username or None,
            password=server.password or None,
            use_tls=server.tls == "implicit",
            start_tls=server.tls == "starttls",
            cert_bundle=server.cafile,
            timeout=TIMEOUT,
        )
    except (aiosmtplib.SMTPException, OSError) as err:
        said = str(err)  # a refusal quotes the address: dead letters and logs get the case only
        for address in recipients:
            said = said.replace(address, "<recipient>")
        raise DeliveryFailed(f"smtp {server}: {type(err).__name__}: {said}") from None
    if refused:
        log.warning("smtp %s refused %d of %d recipients", server, len(refused), len(recipients))
