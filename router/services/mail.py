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

The message is an `email.message.Message` tree (compat32, the policy of `email.mime`, with
SMTP's CRLF) written by `email.generator.Generator`; headers are encoded with
`email.base64mime` (UTF-8 encoded words), `formataddr` and `format_datetime`, bodies with
`email.charset` (UTF-8 in base64). Cost of the MIME message alone, bench/render.py on
Python 3.11 (two cores shared with other work, so figures vary by half; the Babel calls of
the text take 24-38 µs there): EmailMessage with policy SMTP 2.3-3.2 ms (its header
registry parses every header on the way in and out); the `email.mime` classes with
compat32 about 440 µs (`Header` folds UTF-8 by trying quoted-printable character by
character); this module 160-230 µs, about five times the 47-81 µs of the message this
module used to write by hand, by
- encoding and folding the few non-ASCII headers itself into base64 encoded words of at
  most 42 bytes (`_words`), and a policy that writes such prefolded ASCII as it is;
- preparing the two text parts once (`_PLAIN`, `_HTML`: their headers never change) and
  copying them, instead of a `MIMEText` per part;
- one fixed boundary (`=_` can be in no base64 line and no encoded word), Content-Type
  first among the headers (the generator looks it up once per part), `Generator` on a
  string buffer (BytesGenerator re-encodes every write: four times slower).
What remains is the generator's walk of the tree: three flattens, a header parse per
lookup, two writes per base64 line. The tests parse every message with EmailMessage under
policy SMTP and find no defect.
"""

from __future__ import annotations

import copy
import hashlib
import html
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC
from email import base64mime
from email.charset import Charset
from email.generator import Generator
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
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


class _Prefolded(Compat32):
    """compat32 (the `email.mime` classes' policy) with SMTP's CRLF, which writes a header
    this module has already encoded and folded (ASCII, every line under 78) as it is, and
    hands anything else to compat32's own `Header` folding. compat32 wraps every value in a
    `Header` and re-splits it on the way out: for the twelve headers of an update that was
    most of the message's cost (bench/render.py)."""

    def fold(self, name: str, value: Any) -> str:
        if isinstance(value, str) and value.isascii():
            if len(name) + len(value) < 77 and "\n" not in value and "\r" not in value:
                return f"{name}: {value}{self.linesep}"  # one short line
            if _FOLDED.fullmatch(value) and len(name) + value.find("\r") < 77:
                return f"{name}: {value}{self.linesep}"  # folded by _words
        return super().fold(name, value)


_POLICY = _Prefolded(linesep="\r\n")
_FOLDED = re.compile(r"[^\r\n]{1,76}(?:\r\n [^\r\n]{1,77})+")  # continuation lines < 79
_UTF8 = Charset("utf-8")  # bodies in base64: the email package's choice for UTF-8
_BOUNDARY = "=_followsun.alternative"  # "=_" is in no base64 line and no encoded word


def _part(subtype: str) -> MIMEText:
    """A prepared text part: its headers (Content-Type with charset, base64) written once
    by the email package; each message copies it and sets only the payload."""
    part = MIMEText("", subtype, _UTF8, policy=_POLICY)
    del part["MIME-Version"]  # on the message, not on each part (RFC 2045 section 4)
    return part


_PLAIN, _HTML = _part("plain"), _part("html")
_ALTERNATIVE = MIMEMultipart("alternative", boundary=_BOUNDARY, policy=_POLICY)["Content-Type"]


def _words(value: str) -> str:
    """`value` as RFC 2047 encoded words (UTF-8, `email.base64mime`), folded:
    each word holds at most 42 bytes, cut between characters, so that a header line of
    them stays under 78. (`Header.encode` folds too, but it re-encodes the growing line
    for every character: 48 µs for a subject, most of a message.)"""
    data = value.encode()
    words = []
    start = 0
    while start < len(data):
        end = min(start + 42, len(data))  # 42 bytes -> 56 base64 characters -> 68 in all
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        words.append(base64mime.header_encode(data[start:end], "utf-8"))
        start = end
    return "\r\n ".join(words)


def _header(name: str, value: str) -> str:
    """A header value, folded: as is when short and ASCII, else as encoded words."""
    value = " ".join(value.split())  # no CR or LF can end a header early
    if value.isascii() and len(name) + len(value) < 77:
        return value
    return _words(value)


def _mailbox(display: str, address: str) -> str:
    """`Name <address>` by `formataddr` (quoted as needed); a name that is not ASCII as
    encoded words, folded when long."""
    display = " ".join(display.split())
    if display.isascii() and len(display) + len(address) < 60:
        return formataddr((display, address))
    words = _words(display)
    last = words.rpartition("\n")[2]
    gap = " " if len(last) + len(address) < 64 else "\r\n "  # the address on a line of its own
    return f"{words}{gap}<{address}>"


@lru_cache(maxsize=64)
def _direction(code: str) -> str:
    try:
        return Locale.parse(code).text_direction
    except (ValueError, UnknownLocaleError):
        return "ltr"


def _texts(sent: Delivered, lang: str) -> tuple[str, str]:
    """The update as text and as HTML (escaped, paragraphs, the status link a link)."""
    url = sent.status_url
    body = sent.body if not url or url in sent.body else f"{sent.body}\n\n{url}"
    escaped = html.escape(body)
    if url:
        link = html.escape(url)
        escaped = escaped.replace(link, f'<a href="{link}">{link}</a>')
    paragraphs = "</p>\n<p>".join(p.replace("\n", "<br>\n") for p in escaped.split("\n\n"))
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{_direction(sent.locale)}">\n'
        f'<head>\n<meta charset="utf-8">\n<title>{html.escape(sent.subject)}</title>\n'
        f"</head>\n<body>\n<p>{paragraphs}</p>\n</body>\n</html>\n"
    )
    return body + "\n", page


def _filled(prepared: MIMEText, text: str) -> MIMEText:
    """A copy of a prepared part holding `text`, in canonical form (CRLF line ends, RFC
    2046 section 4.1.1) and base64 (`Charset.body_encode`)."""
    part = copy.copy(prepared)  # its headers are shared, never changed
    part.set_payload(_UTF8.body_encode(text.replace("\n", "\r\n")))
    return part


def update_message(sent: Delivered, *, to: str, name: str, sender: str, domain: str) -> bytes:
    """A customer update as the bytes of one e-mail to `to` (the envelope's recipient),
    built as an `email.message.Message` and written by `email.generator.Generator`.
    Message-IDs: `<case id@domain>` for the case's first update ("received"), which every
    later one is In-Reply-To; `<case id.hash of the message key@domain>` for the others
    (not `make_msgid`, which is random: a dispatch repeated after a crash must send the
    same Message-ID, so that mail clients show it once)."""
    case = _NOT_ATEXT.sub(".", sent.case).strip(".") or "case"
    root = f"<{case}@{domain}>"
    first = sent.event == "received"
    if first:
        message_id = root
    else:
        message_id = f"<{case}.{hashlib.sha256(sent.key.encode()).hexdigest()[:16]}@{domain}>"
    lang = sent.locale.replace("_", "-")
    text, page = _texts(sent, lang)
    msg = Message(policy=_POLICY)
    msg["Content-Type"] = _ALTERNATIVE  # first, as email.mime puts it: the generator
    msg["MIME-Version"] = "1.0"  # looks it up once per part and stops at the first match
    msg["From"] = sender
    msg["To"] = _mailbox(name, to)
    msg["Subject"] = _header("Subject", sent.subject)
    msg["Date"] = format_datetime(sent.at.astimezone(UTC), usegmt=True)
    msg["Message-ID"] = message_id
    if not first:
        msg["In-Reply-To"] = msg["References"] = root
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    msg["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange
    msg["Content-Language"] = lang
    msg.attach(_filled(_PLAIN, text))
    msg.attach(_filled(_HTML, page))
    out = io.StringIO()
    Generator(out, mangle_from_=False, policy=_POLICY).flatten(msg)
    return out.getvalue().encode("ascii")  # every header encoded, every part base64


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
