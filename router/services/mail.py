"""Customer updates by e-mail: the channel that turns each rendered update of a case whose
customer gave an address into one MIME message (the job, `router.jobs.mail.send`, only
sends it), and the SMTP settings that job reads.

What a customer receives: multipart/alternative, text/plain and text/html of the same
rendered update (the catalog's subject and body; the HTML escaped, `<html lang dir>` from
the locale used, right-to-left for Arabic), both UTF-8; the localized subject;
`Content-Language`; `Auto-Submitted: auto-generated`; the status link in both parts; a
Message-ID derived from the outbox message key, so a retry, a dispatch repeated after a
crash and a replay all send the same one. A case's first update ("received") has the
Message-ID `<case id@domain of FOLLOWSUN_MAIL_FROM>`; every later one is `In-Reply-To` and
`References` it, so mail clients show one thread per case.

The message is written here with the `email` package's address and date formatting and
RFC 2047 encoded words, not assembled by `EmailMessage`: building one with EmailMessage and
policy SMTP took 2.4-4 ms (its header registry parses every header on the way in and out),
against 59 µs for all the Babel calls of the text (bench/render.py, Python 3.11); this
takes 35-60 µs. The shape is fixed (two base64 parts, short header lines, CRLF), and the
tests parse every message with EmailMessage under policy SMTP and find no defect.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from base64 import b64encode
from binascii import b2a_base64
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from babel import Locale, UnknownLocaleError

from ..domain.case import Case
from ..domain.delivery import Delivered
from ..domain.errors import InputError
from ..domain.handover import Outbox
from .outbox import Delivery

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "SEND",
    "EmailChannel",
    "SmtpServer",
    "mail_address",
    "sender",
    "update_message",
]

SEND = "router.jobs.mail.send"
log = logging.getLogger(__name__)

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


@dataclass(frozen=True)
class SmtpServer:
    """Where and how the worker sends mail, from `FOLLOWSUN_SMTP_URL`:

    smtp://user:pass@host:port             plain SMTP (default port 25): a relay nearby
    smtp://user:pass@host:port?starttls=1  STARTTLS required (default port 587)
    smtps://user:pass@host:port            TLS from the first byte (default port 465)

    User and password are percent-decoded. `cafile=PATH` (a PEM bundle) is the CA the
    server's certificate must chain to, instead of the system's (a private relay, tests);
    the certificate is always verified, host name included. The password is only ever in
    this process's settings: it is not in any job's arguments, and not in `repr`."""

    host: str
    port: int
    tls: Literal["none", "starttls", "implicit"]
    username: str = ""
    password: str = field(default="", repr=False)
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        name = "FOLLOWSUN_SMTP_URL"
        try:  # the messages name the part that is wrong, never the URL (it holds the password)
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise InputError(name, "not a URL like smtp://user:pass@host:587?starttls=1") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InputError(name, "expected smtp://[user:pass@]host[:port] or smtps://...")
        query = parse_qs(parts.query, keep_blank_values=True)
        if unknown := sorted(set(query) - {"starttls", "cafile"}):
            raise InputError(name, f"unknown parameter {unknown[0]!r} (known: starttls, cafile)")
        starttls = query.get("starttls", [""])[-1].lower()
        if starttls not in _TRUE + _FALSE:
            raise InputError(name, f"starttls={starttls!r}: 1 or 0")
        if parts.scheme == "smtps" and starttls in _TRUE:
            raise InputError(name, "smtps:// is TLS from the start; starttls=1 goes with smtp://")
        tls = "implicit" if parts.scheme == "smtps" else "starttls" if starttls in _TRUE else "none"
        return cls(
            host=parts.hostname,
            port=port or {"none": 25, "starttls": 587, "implicit": 465}[tls],
            tls=tls,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            cafile=query.get("cafile", [""])[-1] or None,
        )

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def mail_address(value: str) -> str | None:
    """An address the SMTP envelope can carry (ASCII local part; an international domain
    in its IDNA form), or None when `value` is not one."""
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode()
        except UnicodeError:
            return None
    address = f"{local}@{domain}"
    return address if _ADDRESS.fullmatch(address) else None


def sender(mail_from: str) -> tuple[str, str]:
    """`FOLLOWSUN_MAIL_FROM` as the From: header and as the envelope address."""
    display, raw = parseaddr(mail_from)
    address = mail_address(raw)
    if address is None:
        raise InputError("FOLLOWSUN_MAIL_FROM", "expected an address: 'Support <help@example.com>'")
    return _mailbox(display, address), address


def _words(value: str) -> list[str]:
    """RFC 2047 encoded words (base64, UTF-8) of at most 68 characters, cut between
    characters: a header line of them, folded, stays under 78."""
    data = value.encode()
    out = []
    start = 0
    while start < len(data):
        end = min(start + 42, len(data))  # 42 bytes -> 56 base64 characters -> 68 in all
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        out.append(f"=?utf-8?b?{b64encode(data[start:end]).decode()}?=")
        start = end
    return out


def _header(name: str, value: str) -> str:
    """One header, folded: as is when short and ASCII, else as encoded words."""
    value = " ".join(value.split())  # no CR or LF can end a header early
    if value.isascii() and len(name) + len(value) < 77:
        return f"{name}: {value}"
    return f"{name}: " + "\r\n ".join(_words(value))


def _mailbox(display: str, address: str) -> str:
    display = " ".join(display.split())
    if display.isascii():
        return formataddr((display, address))
    return "\r\n ".join(_words(display)) + f" <{address}>"


@lru_cache(maxsize=64)
def _direction(code: str) -> str:
    try:
        return Locale.parse(code).text_direction
    except (ValueError, UnknownLocaleError):
        return "ltr"


def _base64(text: str) -> bytes:
    """UTF-8 in base64 lines of 76 characters (RFC 2045), each ending in CRLF."""
    data = b2a_base64(text.encode(), newline=False)
    return b"".join([data[i : i + 76] + b"\r\n" for i in range(0, len(data), 76)])


def _parts(sent: Delivered, lang: str) -> tuple[bytes, bytes]:
    """The update as text and as HTML (escaped, paragraphs, the status link a link), both
    with CRLF line ends, in base64."""
    url = sent.status_url
    body = sent.body if not url or url in sent.body else f"{sent.body}\n\n{url}"
    escaped = html.escape(body)
    if url:
        link = html.escape(url)
        escaped = escaped.replace(link, f'<a href="{link}">{link}</a>')
    paragraphs = "</p>\r\n<p>".join(p.replace("\n", "<br>\r\n") for p in escaped.split("\n\n"))
    page = (
        f'<!DOCTYPE html>\r\n<html lang="{lang}" dir="{_direction(sent.locale)}">\r\n'
        f'<head>\r\n<meta charset="utf-8">\r\n<title>{html.escape(sent.subject)}</title>\r\n'
        f"</head>\r\n<body>\r\n<p>{paragraphs}</p>\r\n</body>\r\n</html>\r\n"
    )
    return _base64(body.replace("\n", "\r\n") + "\r\n"), _base64(page)


def update_message(sent: Delivered, *, to: str, name: str, sender: str, domain: str) -> bytes:
    """A customer update as the bytes of one e-mail to `to` (the envelope's recipient).
    Message-IDs: `<case id@domain>` for the case's first update ("received"), which every
    later one is In-Reply-To; `<case id.hash of the message key@domain>` for the others."""
    digest = hashlib.sha256(sent.key.encode()).hexdigest()
    case = _NOT_ATEXT.sub(".", sent.case).strip(".") or "case"
    root = f"<{case}@{domain}>"
    first = sent.event == "received"
    message_id = root if first else f"<{case}.{digest[:16]}@{domain}>"
    lang = sent.locale.replace("_", "-")
    boundary = f"=_{digest[:32]}"  # "=_" is in no base64 line
    text, page = _parts(sent, lang)
    lines = [
        f"From: {sender}",
        f"To: {_mailbox(name, to)}",
        _header("Subject", sent.subject),
        f"Date: {format_datetime(sent.at.astimezone(UTC), usegmt=True)}",
        f"Message-ID: {message_id}",
        *(() if first else (f"In-Reply-To: {root}", f"References: {root}")),
        "Auto-Submitted: auto-generated",
        "X-Auto-Response-Suppress: All",
        f"Content-Language: {lang}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
        "",
    ]
    head = "\r\n".join(lines).encode()
    part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    return b"".join(
        (
            head,
            f"\r\n--{boundary}\r\n{part.format('plain')}".encode(),
            text,
            f"--{boundary}\r\n{part.format('html')}".encode(),
            page,
            f"--{boundary}--\r\n".encode(),
        )
    )


class EmailChannel:
    """Every customer update of a case whose customer has an e-mail address, to that
    address (`router.jobs.mail.send`). Built only with `FOLLOWSUN_SMTP_URL` set; a wrong
    URL or a missing `FOLLOWSUN_MAIL_FROM` stops the process that builds it."""

    def __init__(self, settings: Settings) -> None:
        SmtpServer.from_url(settings.smtp_url)  # wrong here, at start, not at the first send
        self._sender, address = sender(settings.mail_from)
        self._domain = address.rpartition("@")[2]

    def deliveries(self, msg: Outbox, sent: Delivered, case: Case | None) -> list[Delivery]:
        if msg.audience != "customer" or case is None or not case.escalation.customer.email:
            return []
        customer = case.escalation.customer
        to = mail_address(customer.email)
        if to is None:
            log.warning("case %s: the customer's e-mail address is not one; no e-mail", case.id)
            return []
        message = update_message(
            sent, to=to, name=customer.name, sender=self._sender, domain=self._domain
        )
        return [Delivery(SEND, (message, [to]), "email", to)]
