"""Team notifications: the outbox's team and operations messages, told to the teams they
concern on the channels each team's TOML names (`notify`: Slack, Microsoft Teams,
e-mail), in the team's `locale` and on its wall clock (README "Team notifications").

Which message becomes which notice, and who is told:

    outbox message                     notice            told
    team assigned/reassigned/escalated assigned          the case's new team
    team handed_over                   handed_over       the receiving team
    team update_overdue                update_overdue    the message's team: the case's
                                                         at the first reminder, then the
                                                         next tier's
    team resolve_overdue               resolve_overdue   the top of the case's chain
    ops  ack_overdue_no_higher_tier    ack_overdue       the case's team (nobody above)
    ops  unroutable                    unroutable        the team the case left
                                                         (`from_team`); nobody when no
                                                         team ever held it (intake)
    ops  update_overdue                (none)            the sweep's team message tells
    customer updates                   (none)

A case that went up the chain at a shift end with an operations alert is a handover to
the team above (told as `handed_over`) and an `unroutable` notice to the team it left,
naming where it is now. Each channel is one delivery job, enqueued once per message and
retried like every other delivery (`services.outbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

from ..domain.case import Case
from ..domain.delivery import Delivered
from ..domain.errors import FollowsunError
from ..domain.handover import Outbox
from ..domain.model import Team
from ..i18n import Catalogs
from ..i18n.team_messages import Kind, Notice, team_notice
from .calendar import Calendar
from .notify_formats import email_message, slack_payload, teams_payload
from .outbox import Delivery

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["CHAT", "MAIL", "TeamChannel", "notice_of"]

CHAT = "router.jobs.chat.post"
MAIL = "router.jobs.mail.send"

log = logging.getLogger(__name__)

_TEAM: dict[str, Kind] = {
    "assigned": "assigned",
    "reassigned": "assigned",
    "escalated": "assigned",
    "handed_over": "handed_over",
    "update_overdue": "update_overdue",
    "resolve_overdue": "resolve_overdue",
}
_OPS: dict[str, Kind] = {"ack_overdue_no_higher_tier": "ack_overdue", "unroutable": "unroutable"}


def notice_of(msg: Outbox) -> tuple[Kind, str] | None:
    """The notice an outbox message calls for and the team it goes to, or None."""
    if msg.audience == "team" and msg.event in _TEAM and msg.team:
        return _TEAM[msg.event], msg.team
    if msg.audience == "ops" and msg.event in _OPS:
        team = msg.params.get("from_team") if msg.event == "unroutable" else msg.team
        return (_OPS[msg.event], team) if team else None
    return None


def _due(kind: Kind, msg: Outbox, case: Case | None) -> datetime | None:
    """The deadline the notice names: as the message recorded it, else the case's."""
    if msg.params.get("due"):
        return datetime.fromisoformat(msg.params["due"])
    if case is None:
        return None
    if kind == "update_overdue":
        return case.update_due
    if kind in ("resolve_overdue", "unroutable"):
        return case.resolve_due
    return case.ack_due


class TeamChannel:
    """The outbox channel that tells teams (see the module docstring for who hears what).

    The current teams are read before each dispatch (`refresh`, from the calendar), so a
    changed `notify` or `locale` applies to the next message."""

    def __init__(self, calendar: Calendar, catalogs: Catalogs, settings: Settings) -> None:
        self._calendar = calendar
        self._catalogs = catalogs
        self._console = settings.link_base() + "/console/cases/"
        self._sender = settings.mail_from
        self._mail = bool(settings.smtp_url)  # no SMTP server, no e-mail
        self._domain = urlsplit(settings.link_base()).hostname or "followsun.invalid"
        self._teams: Mapping[str, Team] = {}

    async def refresh(self, now: datetime) -> None:
        """The teams as the calendar has them now; if it cannot say (no policy stored
        yet), the last ones it gave."""
        try:
            self._teams = (await self._calendar.schedules(now)).teams
        except FollowsunError as err:
            log.warning("team notifications use the teams last read: %s", err)

    def deliveries(self, msg: Outbox, sent: Delivered, case: Case | None) -> list[Delivery]:
        found = notice_of(msg)
        if found is None:
            return []
        kind, team_id = found
        team = self._teams.get(team_id)
        if team is None or team.spec.notify is None:
            return []
        due = _due(kind, msg, case)
        if due is None:  # a message older than its deadline param, about a case now gone
            return []
        notice = team_notice(
            self._catalogs,
            kind,
            case=msg.case,
            priority=msg.params.get("priority") or (case.priority if case else ""),
            due=due,
            tag=team.spec.locale,
            timezone=team.spec.timezone,
            link=self._console + msg.case,
            from_team=msg.params.get("from_team", "") if kind != "unroutable" else "",
            now_with=(msg.team or "") if kind == "unroutable" else "",
            reasons=msg.params.get("reasons", ""),
        )
        return self._jobs(team, notice, msg)

    def _jobs(self, team: Team, notice: Notice, msg: Outbox) -> list[Delivery]:
        """One delivery per channel the team names."""
        notify = team.spec.notify
        assert notify is not None
        out: list[Delivery] = []
        chats = (("slack", notify.slack, slack_payload), ("teams", notify.teams, teams_payload))
        for channel, url, layout in chats:
            if url:
                payload = msgspec.json.encode(layout(notice))
                out.append(
                    Delivery(
                        CHAT,
                        (url, payload, msg.key, channel),
                        f"team-{channel}-{team.id}",
                        f"{channel}:{team.id}",
                    )
                )
        if notify.email and self._mail:
            message = email_message(
                notice,
                list(notify.email),
                sender=self._sender,
                at=msg.at,
                key=f"{msg.key}:{team.id}",
                domain=self._domain,
            )
            out.append(
                Delivery(
                    MAIL,
                    (message, list(notify.email)),
                    f"team-mail-{team.id}",
                    ", ".join(notify.email),
                )
            )
        return out
