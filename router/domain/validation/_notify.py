"""A team's notification settings: `locale` (the language it reads) and `notify` (where
it is told: Slack and Teams webhooks, e-mail addresses), every problem located.

Webhook URLs must be https; plain http is accepted only to a loopback address (a
receiver on the same machine, as in a trial run or the tests), never across a network.
A URL is a credential (whoever has it can post to the channel), so no message repeats it,
and callers other than ops are shown it as `redacted_url` makes it: scheme and host, then
`/[redacted]`. Brackets can be in no URL path (RFC 3986), so that form, sent back in a
document, is refused by name here rather than stored as if it were the URL.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..errors import InputError
from ..language import parse_lang
from ..model import TeamSpec

__all__ = ["REDACTED", "notify_problems", "redacted_url"]

REDACTED = "[redacted]"

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    rf"^[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~-]+)*"
    rf"@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"
)


def notify_problems(spec: TeamSpec) -> list[tuple[str, str]]:
    """(path, message) for each problem of `locale` and `notify`."""
    found: list[tuple[str, str]] = []
    try:
        parse_lang(spec.locale, "locale")
    except InputError as err:
        hint = spec.locale.replace("_", "-")
        if hint != spec.locale and _parses(hint):
            found.append(("locale", f'{err.reason} (did you mean "{hint}"?)'))
        else:
            found.append(("locale", err.reason))
    notify = spec.notify
    if notify is None:
        return found
    for name, url in (("slack", notify.slack), ("teams", notify.teams)):
        if url is not None and REDACTED in url:
            found.append((f"notify.{name}", _REDACTED_BACK))
        elif url is not None and not webhook_url_ok(url):
            found.append((f"notify.{name}", "must be an https URL"))
    seen: set[str] = set()
    for i, address in enumerate(notify.email):
        if not email_ok(address):
            found.append((f"notify.email[{i}]", f'"{address}" is not an e-mail address'))
        elif address.lower() in seen:
            found.append((f"notify.email[{i}]", f'"{address}" is listed twice'))
        seen.add(address.lower())
    return found


_REDACTED_BACK = (
    f"is the redacted form shown to callers other than ops ({REDACTED}), not a webhook "
    "URL: send the full URL (ops read it with GET), or leave the field out to remove it"
)


def redacted_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/secret` -> `https://hooks.slack.com/[redacted]`:
    where a team's notifications go, without the part that lets anyone post there (path,
    query and user info dropped; host and port kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"/{REDACTED}"
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/{REDACTED}" if parts.scheme and host else f"/{REDACTED}"


def webhook_url_ok(url: str) -> bool:
    """https with a host (http only to a loopback host); no spaces."""
    if not url or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


def email_ok(address: str) -> bool:
    """A plain address (`name@example.com`): no display name, a domain with a dot."""
    return len(address) <= 254 and _EMAIL.match(address) is not None


def _parses(tag: str) -> bool:
    try:
        parse_lang(tag, "locale")
    except InputError:
        return False
    return True
