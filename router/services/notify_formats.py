"""A team notice laid out for each channel: a Slack incoming-webhook message (`text` plus
Block Kit `blocks`), a Microsoft Teams workflow message carrying an Adaptive Card, and a
plain-text e-mail. The words come rendered (`router.i18n.team_messages`); this module
only arranges them as each receiver expects."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from ..i18n.team_messages import Notice

__all__ = ["ADAPTIVE_CARD", "email_message", "slack_payload", "teams_payload"]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"  # what Teams renders everywhere (desktop, web, mobile)

_SLACK_HEADER_MAX = 150  # Block Kit: a header's plain_text
_SLACK_FIELD_MAX = 2000  # Block Kit: a section field
_SLACK_FIELDS_MAX = 10


def _mrkdwn(text: str) -> str:
    """Slack's three control characters escaped, so no value can become a link or a
    mention (`<!channel>`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(n: Notice) -> dict[str, Any]:
    """An incoming-webhook message: `text` for the notification and clients without
    blocks, `blocks` for the message itself (header, sentence, facts, console button)."""
    link = f"<{n.link}|{_mrkdwn(n.link_label)}>"
    fields = [
        {"type": "mrkdwn", "text": _clip(f"*{_mrkdwn(label)}*\n{_mrkdwn(value)}", _SLACK_FIELD_MAX)}
        for label, value in n.facts[:_SLACK_FIELDS_MAX]
    ]
    return {
        "text": f"{_mrkdwn(n.title)}: {_mrkdwn(n.text)} {link}",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _clip(n.title, _SLACK_HEADER_MAX)},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{_mrkdwn(n.text)}\n{link}"}},
            {"type": "section", "fields": fields},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "open-case",
                        "text": {"type": "plain_text", "text": n.link_label},
                        "url": n.link,
                    }
                ],
            },
        ],
    }


def teams_payload(n: Notice) -> dict[str, Any]:
    """A Teams workflow ("Post to a channel when a webhook request is received") message:
    one Adaptive Card with the title, the sentence, the facts and a console button."""
    card = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "lang": n.locale.replace("_", "-"),
        "body": [
            {
                "type": "TextBlock",
                "text": n.title,
                "size": "Medium",
                "weight": "Bolder",
                "wrap": True,
            },
            {"type": "TextBlock", "text": n.text, "wrap": True},
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in n.facts],
            },
        ],
        "actions": [{"type": "Action.OpenUrl", "title": n.link_label, "url": n.link}],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def email_message(
    n: Notice, recipients: list[str], *, sender: str, at: datetime, key: str, domain: str
) -> bytes:
    """A plain-text UTF-8 e-mail, marked as sent by a machine (RFC 3834) so that no
    auto-reply answers it; its Message-ID comes from the message key, so every retry
    sends the same message."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = n.title
    if sender:
        msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(at.astimezone(UTC), usegmt=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}.{n.kind}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    lines = [n.text, ""]
    lines += [f"{label}: {value}" for label, value in n.facts]
    lines += ["", f"{n.link_label}: {n.link}"]
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    msg["Content-Language"] = n.locale.replace("_", "-")  # after: set_content drops Content-*
    return msg.as_bytes()
