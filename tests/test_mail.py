"""Customer updates by e-mail over real SMTP: aiosmtpd servers on loopback (plain, STARTTLS
and implicit TLS with a certificate made here), the worker's RQ queue run in-process."""

from __future__ import annotations

import contextlib
import email
import ipaddress
import ssl
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import receivers
import redis as redis_sync
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import token
from harness import Harness
from receivers import (
    deployment,
    fast_retries,
    harness,
    post_escalation,
    serve_smtp,
    work,
)

from router.domain.delivery import Delivered
from router.domain.errors import InputError
from router.services.mail import SEND, EmailChannel, SmtpServer, update_message
from router.settings import Settings

mailbox, plain_smtp, forget_queue = receivers.mailbox, receivers.plain_smtp, receivers.forget_queue

OPS = token("ops")
MAIL_FROM = "Followsun Support <support@followsun.example>"
USER, PASSWORD = "followsun", "p@ss/wörd:%42"  # every character a URL must escape


# -- the SMTP servers ----------------------------------------------------------------------


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, auth_data=data if ok else None)


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA of the test's own, and a server certificate it signed for 127.0.0.1 and
    localhost (the client trusts it through `cafile=` only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    usage: dict[str, bool] = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )

    def builder(subject: x509.Name, issuer: x509.Name, key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "followsun test CA")])
    ca = (
        builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(**{**usage, "key_cert_sign": True, "crl_sign": True}), True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_name, key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**{**usage, "digital_signature": True}), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    files = Certs(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# -- the deployment ------------------------------------------------------------------------


def mail_deployment(redis_url: str, key_prefix: str, smtp_url: str) -> Settings:
    return deployment(redis_url, key_prefix, smtp_url=smtp_url, mail_from=MAIL_FROM)


@pytest.fixture(autouse=True)
def fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_retries(monkeypatch)


@pytest.fixture
async def svc(
    api: Any,
    redis_url: str,
    key_prefix: str,
    plain_smtp: str,
    forget_queue: None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    """The deployment sending through the plain server, over the api fixture's store."""
    async with harness(mail_deployment(redis_url, key_prefix, plain_smtp), monkeypatch) as h:
        yield h


async def intake(
    api: Any, external_id: str, locale: str, timezone: str, email_address: str = ""
) -> dict[str, Any]:
    return await post_escalation(
        api, external_id, locale, timezone, name="Alex Müller", email_address=email_address
    )


async def sent_updates(svc: Harness, case_id: str) -> list[Delivered]:
    return await svc.outbox.store.sent_updates(case_id)


def content(part: EmailMessage) -> str:
    """A text part's content with its canonical CRLF line ends back to LF."""
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def alternatives(message: EmailMessage) -> tuple[EmailMessage, EmailMessage]:
    assert message.get_content_type() == "multipart/alternative"
    plain, page = message.iter_parts()
    assert isinstance(plain, EmailMessage)
    assert isinstance(page, EmailMessage)
    return plain, page


def well_formed(raw: bytes) -> EmailMessage:
    """Parsed by the email package (policy SMTP) without a defect; lines CRLF, < 79."""
    message = email.message_from_bytes(raw, policy=SMTP)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        assert part.defects == [], part.defects
        for name, value in part.items():
            assert getattr(value, "defects", ()) == (), (name, value)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    return message


# -- what a customer receives --------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "zone", "locale", "direction"),
    [
        ("ar-SA", "Asia/Riyadh", "ar", "rtl"),
        ("ja-JP", "Asia/Tokyo", "ja", "ltr"),
        ("de-DE", "Europe/Berlin", "de", "ltr"),
    ],
)
async def test_each_customer_update_is_one_localized_email(
    api, svc, mailbox, redis_url, key_prefix, tag, zone, locale, direction
) -> None:
    """Each update becomes one multipart/alternative UTF-8 e-mail: the rendered subject,
    text and escaped HTML of the same message, the locale in Content-Language and <html>,
    machine-sent, the status link in both parts."""
    address = f"alex.{locale}@example.com"
    case = await intake(api, f"m-{locale}", tag, zone, address)
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    updates = await sent_updates(svc, case["id"])
    assert updates
    assert {u.locale for u in updates} == {locale}
    mails = mailbox.accepted()
    assert len(mails) == len(updates)  # ja: received and waiting (Tokyo is off shift)
    for update, mail in zip(updates, mails, strict=True):
        assert (mail.sender, mail.recipients) == ("support@followsun.example", [address])
        message = well_formed(mail.data)
        assert message["Subject"] == update.subject
        assert message["From"] == MAIL_FROM
        assert message["To"] == f"Alex Müller <{address}>"
        assert message["Content-Language"] == locale
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Date"].datetime == update.at
        assert message["Message-ID"].endswith("@followsun.example>")
        plain, page = alternatives(message)
        for part, kind in ((plain, "text/plain"), (page, "text/html")):
            assert part.get_content_type() == kind
            assert part.get_content_charset() == "utf-8"
        text, markup = content(plain), content(page)
        assert text == update.body + "\n"
        assert case["status_url"] in text
        assert f'<a href="{case["status_url"]}">' in markup
        assert f'<html lang="{locale}" dir="{direction}">' in markup
        assert f"<title>{update.subject}</title>" in markup
        first_line = update.body.split("\n")[0]
        assert first_line in markup  # "Hello Alex Müller," in their language
    first = mails[0].message
    assert "In-Reply-To" not in first
    assert first["Message-ID"] == f"<{case['id']}@followsun.example>"
    for later in mails[1:]:
        assert later.message["In-Reply-To"] == first["Message-ID"]


async def test_later_updates_thread_to_the_first_and_notes_are_escaped(
    api, svc, mailbox, redis_url, key_prefix
) -> None:
    """The second update of a case replies to the first (In-Reply-To, References), and a
    customer-visible note is text in the HTML part, never markup."""
    case = await intake(api, "m-thread", "de-DE", "Europe/Berlin", "alex@example.com")
    note = 'Bitte prüfen: <script>alert("x")</script> & "Rechnung"'
    answer = await api.post(
        f"/v1/cases/{case['id']}/notes", json={"text": note, "customer_visible": True}, headers=OPS
    )
    assert answer.status_code == 200, answer.text
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    first, second = (m.message for m in mailbox.accepted())
    assert [u.event for u in await sent_updates(svc, case["id"])] == ["received", "update"]
    assert first["Message-ID"] != second["Message-ID"]
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == first["Message-ID"]
    plain, page = alternatives(second)
    assert note in content(plain)
    markup = content(page)
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Rechnung&quot;" in markup


async def test_a_customer_without_email_gets_no_mail(
    api, svc, mailbox, redis_url, key_prefix
) -> None:
    """No address, or one that is not an address: the update is recorded, nothing is sent."""
    quiet = await intake(api, "m-none", "de-DE", "Europe/Berlin")
    broken = await intake(api, "m-broken", "de-DE", "Europe/Berlin", "alex at example")
    await svc.outbox.dispatch()
    assert not svc.services.jobs.queue.get_job_ids()  # type: ignore[union-attr]
    work(redis_url, key_prefix)
    assert mailbox.received == []
    for case in (quiet, broken):
        assert [u.event for u in await sent_updates(svc, case["id"])] == ["received"]


# -- retries, dead letters, replay ---------------------------------------------------------


async def test_a_retried_send_is_the_same_message(api, svc, mailbox, redis_url, key_prefix) -> None:
    """A server that defers (451) gets the very same message again, Message-ID and all,
    and accepts it once."""
    mailbox.answer("451 4.3.0 Try again later", "451 4.3.0 Try again later", "250 OK")
    await intake(api, "m-retry", "de-DE", "Europe/Berlin", "alex@example.com")
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    assert [m.reply[:3] for m in mailbox.received] == ["451", "451", "250"]
    assert len({m.data for m in mailbox.received}) == 1
    assert len({m.message["Message-ID"] for m in mailbox.received}) == 1
    assert await svc.redis.hlen(svc.keys.dead_letters) == 0
    work(redis_url, key_prefix)
    assert len(mailbox.received) == 3  # nothing left to retry


async def test_dead_letter_and_replay(api, svc, mailbox, redis_url, key_prefix) -> None:
    """A server that keeps refusing leaves a dead letter naming the address and the mail
    job; ops replay sends the same message once the server takes it."""
    mailbox.answer("451 4.3.0 Mailbox busy")
    case = await intake(api, "m-dead", "ja-JP", "Asia/Tokyo", "alex@example.jp")
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    assert len(mailbox.received) == 8  # received and waiting, first try + 3 retries each
    assert mailbox.accepted() == []
    dead = await api.get("/v1/outbox/dead", headers=OPS)
    assert dead.status_code == 200, dead.text
    letters = {letter["key"]: letter for letter in dead.json()}
    assert set(letters) == {f"{case['id']}:1:customer:received", f"{case['id']}:1:customer:waiting"}
    letter = letters[f"{case['id']}:1:customer:received"]
    assert letter["url"] == "alex@example.jp"
    assert "451" in letter["error"]
    assert letter["attempts"] == 4
    assert letter["job"] == SEND == "router.jobs.mail.send"
    [message, recipients] = letter["args"]
    assert recipients == ["alex@example.jp"]
    assert set(message) == {"base64"}
    assert email.message_from_string(letter["payload"])["Message-ID"] == (
        f"<{case['id']}@followsun.example>"
    )

    mailbox.answer("250 OK")
    replayed = await api.post(f"/v1/outbox/{letter['id']}/replay", headers=OPS)
    assert replayed.status_code == 202, replayed.text
    work(redis_url, key_prefix)

    [delivered] = mailbox.accepted()
    assert delivered.data.replace(b"\r\n", b"\n") == letter["payload"].encode().replace(
        b"\r\n", b"\n"
    )
    assert delivered.data == mailbox.received[0].data  # the message first refused
    remaining = (await api.get("/v1/outbox/dead", headers=OPS)).json()
    assert [r["key"] for r in remaining] == [f"{case['id']}:1:customer:waiting"]


# -- TLS, credentials, settings ------------------------------------------------------------


def stored_bytes(redis_url: str, key_prefix: str) -> bytes:
    """Everything Redis holds for the deployment: its keys and its RQ jobs (job data
    decompressed), as one blob to search."""
    conn = redis_sync.Redis.from_url(redis_url)
    out: list[bytes] = []
    try:
        keys = [*conn.scan_iter(f"{key_prefix}:*", count=1000)]
        keys += conn.scan_iter(f"rq:*{key_prefix}*", count=1000)  # its RQ queue and jobs
        for key in keys:
            kind = conn.type(key)
            if kind == b"hash":
                values = list(conn.hgetall(key).values())
            elif kind == b"string":
                values = [conn.get(key)]
            elif kind == b"list":
                values = conn.lrange(key, 0, -1)
            elif kind == b"stream":
                values = [v for _, fields in conn.xrange(key) for v in fields.values()]
            elif kind == b"zset":
                values = conn.zrange(key, 0, -1)
            else:
                values = list(conn.smembers(key))
            for value in values:
                out.append(value)
                with contextlib.suppress(zlib.error):
                    out.append(zlib.decompress(value))
    finally:
        conn.close()
    return b"\n".join(out)


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
async def test_tls_and_login_with_a_private_ca(
    api, mailbox, certs, redis_url, key_prefix, forget_queue, monkeypatch, mode
) -> None:
    """STARTTLS (smtp://...?starttls=1) and implicit TLS (smtps://) with a login, the
    server's certificate checked against `cafile=`; the password reaches no job argument
    and nothing else in Redis."""
    if mode == "starttls":
        controller = serve_smtp(
            mailbox,
            tls_context=certs.server_context(),
            require_starttls=True,
            authenticator=_authenticate,
        )
    else:
        controller = serve_smtp(
            mailbox,
            ssl_context=certs.server_context(),
            authenticator=_authenticate,
            auth_require_tls=False,  # aiosmtpd counts only STARTTLS; this is TLS throughout
        )
    scheme, query = ("smtp", "&starttls=1") if mode == "starttls" else ("smtps", "")
    credentials = f"{quote(USER, safe='')}:{quote(PASSWORD, safe='')}"
    url = f"{scheme}://{credentials}@localhost:{controller.port}?cafile={certs.ca}{query}"
    try:
        async with harness(mail_deployment(redis_url, key_prefix, url), monkeypatch) as svc:
            await intake(api, f"m-{mode}", "de-DE", "Europe/Berlin", "alex@example.com")
            await svc.outbox.dispatch()
            work(redis_url, key_prefix)
    finally:
        controller.stop()

    [mail] = mailbox.accepted()
    assert mail.tls
    assert mail.login == USER
    well_formed(mail.data)
    stored = stored_bytes(redis_url, key_prefix)
    assert b"mail.send" in stored  # the job was there to search
    for secret in (PASSWORD, quote(PASSWORD, safe="")):
        assert secret.encode() not in stored


async def test_an_untrusted_certificate_is_refused(
    api, mailbox, certs, redis_url, key_prefix, forget_queue, monkeypatch
) -> None:
    """Without the CA, the server's certificate does not verify: no mail, a dead letter
    whose error names the server but not the password."""
    controller = serve_smtp(
        mailbox,
        ssl_context=certs.server_context(),
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    url = f"smtps://{USER}:{quote(PASSWORD, safe='')}@localhost:{controller.port}"
    try:
        async with harness(mail_deployment(redis_url, key_prefix, url), monkeypatch) as svc:
            await intake(api, "m-untrusted", "de-DE", "Europe/Berlin", "alex@example.com")
            await svc.outbox.dispatch()
            work(redis_url, key_prefix)
            [letter] = await svc.outbox.dead_letters()
    finally:
        controller.stop()

    assert mailbox.received == []
    assert f"localhost:{controller.port}" in letter.error
    assert "CERTIFICATE_VERIFY_FAILED" in letter.error
    stored = stored_bytes(redis_url, key_prefix)
    assert PASSWORD.encode() not in stored
    assert quote(PASSWORD, safe="").encode() not in stored


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", ("mail.example.com", 25, "none", "", "", None)),
        (
            "smtp://u%40x:p%3Aw@mail.example.com?starttls=1",
            ("mail.example.com", 587, "starttls", "u@x", "p:w", None),
        ),
        (
            "smtps://u:pw@[::1]:2465?cafile=/etc/ca.pem",
            ("::1", 2465, "implicit", "u", "pw", "/etc/ca.pem"),
        ),
        ("smtp://relay:2525?starttls=0", ("relay", 2525, "none", "", "", None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[Any, ...]) -> None:
    """FOLLOWSUN_SMTP_URL: scheme, default ports, percent-decoded credentials, cafile."""
    server = SmtpServer.from_url(url)
    assert (
        server.host,
        server.port,
        server.tls,
        server.username,
        server.password,
        server.cafile,
    ) == expected
    if server.password:
        assert server.password not in repr(server)
        assert server.password not in str(server)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://u:hunter2@mail.example.com", "smtp://"),
        ("smtps://u:hunter2@mail.example.com?starttls=1", "starttls=1 goes with smtp://"),
        ("smtp://u:hunter2@mail.example.com?tls=1", "unknown parameter 'tls'"),
        ("smtp://u:hunter2@mail.example.com?starttls=maybe", "1 or 0"),
        ("smtp://u:hunter2@mail.example.com:port", "not a URL"),
        ("smtp://u:hunter2@", "smtp://"),
    ],
)
def test_wrong_smtp_urls_name_the_setting_not_the_password(url: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        SmtpServer.from_url(url)
    assert caught.value.field == "FOLLOWSUN_SMTP_URL"
    assert reason in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_mail_settings_come_from_the_environment() -> None:
    """FOLLOWSUN_SMTP_URL and FOLLOWSUN_MAIL_FROM; the channel needs a From address."""
    settings = Settings.from_env(
        {"FOLLOWSUN_SMTP_URL": "smtp://relay:25", "FOLLOWSUN_MAIL_FROM": MAIL_FROM}
    )
    assert (settings.smtp_url, settings.mail_from) == ("smtp://relay:25", MAIL_FROM)
    EmailChannel(settings)
    for mail_from in ("", "support", "Support <support at example.com>"):
        with pytest.raises(InputError) as caught:
            EmailChannel(Settings(smtp_url="smtp://relay:25", mail_from=mail_from))
        assert caught.value.field == "FOLLOWSUN_MAIL_FROM"


def test_long_subjects_and_names_in_any_script_fold_into_well_formed_lines() -> None:
    """A 200-character Arabic subject and a long name that is not ASCII: encoded words of
    whole characters, every line under 79, read back exactly; the text right-to-left."""
    subject = " ".join(["تم تحديث طلبك FS-000123 لدى فريق الدعم"] * 5)
    name = "Jürgen Ångström-Müller " * 6
    sent = Delivered(
        key="FS-000123:2:customer:update",
        event="update",
        audience="customer",
        case="FS-000123",
        team=None,
        locale="ar",
        timezone="Asia/Riyadh",
        subject=subject,
        body="مرحبا،\n\n<b>ليس ترميزا</b> & أكثر",
        at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        status_url="https://status.example.com/c/0a1b2c3d",
    )
    raw = update_message(
        sent, to="customer@example.com", name=name, sender=MAIL_FROM, domain="followsun.example"
    )
    message = well_formed(raw)
    assert message["Subject"] == subject
    # RFC 2047 decoding joins adjacent encoded words (policy SMTP's address parser puts a
    # space between them, so the compat32 decoder reads the header here)
    to = email.message_from_bytes(raw)["To"]
    assert str(make_header(decode_header(to))) == f"{name.strip()} <customer@example.com>"
    assert message["In-Reply-To"] == message["References"] == "<FS-000123@followsun.example>"
    plain, page = alternatives(message)
    assert content(plain) == sent.body + "\n\n" + sent.status_url + "\n"
    markup = content(page)
    assert '<html lang="ar" dir="rtl">' in markup
    assert "&lt;b&gt;ليس ترميزا&lt;/b&gt; &amp; أكثر" in markup
    assert f'<a href="{sent.status_url}">' in markup
