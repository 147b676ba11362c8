"""The shapes of the data: schedule documents as people write them, and validated teams.

`TeamSpec` mirrors a `schedules/teams/<id>.toml` file field for field (and is the team
document of the API), decoded strictly so a misspelt key is an error. `Team` is the
validated form the engine works with: zone resolved, times parsed, tags canonical.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Literal, NoReturn, get_args
from zoneinfo import ZoneInfo

import msgspec

from .language import Lang

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Level = Literal["high", "medium", "low"]
Role = Literal["ops", "agent", "intake", "viewer"]  # who calls: see README "The service"
ROLES: tuple[Role, ...] = get_args(Role)
Priority = Literal["P1", "P2", "P3", "P4"]
Flag = Literal["safety", "security", "legal", "compliance", "vip"]
IntakeSource = Literal["zendesk", "freshdesk", "jsm"]  # helpdesks POST /v1/intake/<source>


class _Doc(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base for documents written by people: unknown keys are errors, defaults stay out."""


class ShiftRule(_Doc, rename={"from_": "from"}):
    days: list[Day]
    start: str
    end: str
    from_: date | None = None
    until: date | None = None


class Override(_Doc):
    date: date
    closed: bool = False
    start: str | None = None
    end: str | None = None


class HolidaySpec(_Doc):
    country: str
    subdiv: str | None = None


class NotifySpec(_Doc):
    """Where a team hears of its cases (README "Team notifications"): a Slack incoming
    webhook, a Microsoft Teams workflow webhook, e-mail addresses."""

    slack: str | None = None
    teams: str | None = None
    email: list[str] = []


class TeamSpec(_Doc):
    name: str
    timezone: str
    tier: int
    languages: list[str]
    region: str = ""
    skills: list[str] = []
    escalates_to: str | None = None
    capacity: int | None = None
    holidays: HolidaySpec | None = None
    locale: str = "en"  # BCP 47: the language of the team's notifications
    notify: NotifySpec | None = None
    shifts: list[ShiftRule] = []
    overrides: list[Override] = []


class Targets(_Doc):
    """Deadlines for one priority, as ISO 8601 durations in policy.toml (`PT15M`)."""

    acknowledge: timedelta
    update: timedelta
    resolve: timedelta
    tier: int = 1


class Grade(_Doc):
    """Impact × urgency, as one helpdesk priority maps to it."""

    impact: Level
    urgency: Level


class IntakeMapping(_Doc):
    """policy.toml `[intake.<source>]`: how one helpdesk's tickets become escalations.

    `priorities` maps the helpdesk's priority names (lower case) to impact × urgency;
    `default_priority` names the one a ticket without a priority gets. The first tag of
    `skills`, in the order written, that a ticket carries picks its skill
    (`default_skill` when none does); every tag of `flags` it carries adds that flag.
    """

    priorities: dict[str, Grade]
    default_priority: str = ""
    skills: dict[str, str] = {}
    default_skill: str | None = None
    flags: dict[str, Flag] = {}


class Residency(_Doc):
    """policy.toml `[residency]`: where customers' personal data may be held.

    `regions` maps a customer region (`EU`) to the team regions (a team's `region`) allowed
    to hold its customers' cases (`["EMEA"]`). A customer's region is the escalation's
    `customer.region`, else `by_source[source]`, else `default` (router.domain.residency).
    `allow_p1_crossing` lets a P1 that no allowed team can take go to any team, recorded
    by an audit event; without it such a P1 waits or is unroutable like any other case.
    """

    regions: dict[str, list[str]] = {}
    default: str = ""
    by_source: dict[str, str] = {}
    allow_p1_crossing: bool = False


class Retention(_Doc):
    """policy.toml `[retention]`: how long a closed case keeps its customer's personal data.

    `days` maps a customer region (as `[residency]` names them, router.domain.residency)
    to a number of days after closing, `default` to every other region; a region with
    neither keeps the data. The sweep (router.jobs.retention) then removes the name,
    e-mail address and free text; statistics stay (router.domain.personal)."""

    days: dict[str, int] = {}


class Policy(_Doc):
    min_shift_left: timedelta
    escalate_flags: list[Flag]
    matrix: dict[Level, dict[Level, Priority]]
    priorities: dict[Priority, Targets]
    intake: dict[IntakeSource, IntakeMapping] = {}  # absent source: router.domain.intake's default
    residency: Residency | None = None  # absent: no rules, any team may hold any case
    retention: Retention | None = None  # absent: personal data is kept until erased

    def priority_of(self, impact: Level, urgency: Level) -> Priority:
        return self.matrix[impact][urgency]


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """A validated weekly rule: weekday numbers (Monday 0), wall times, date window."""

    source: str  # "shifts[0]"
    days: frozenset[int]
    start: time
    end: time
    from_: date | None = None
    until: date | None = None

    def applies(self, day: date) -> bool:
        return (
            day.weekday() in self.days
            and (self.from_ is None or day >= self.from_)
            and (self.until is None or day < self.until)
        )


class Slot(msgspec.Struct, frozen=True):
    """One shift on one local date: start and end wall times, where it came from."""

    start: time
    end: time
    source: str


class Team(msgspec.Struct, frozen=True, kw_only=True):
    """A validated team. `holiday_dates` answers `date in ...` (the holidays package)."""

    id: str
    spec: TeamSpec
    zone: ZoneInfo
    languages: tuple[Lang, ...]
    skills: frozenset[str]
    rules: tuple[Rule, ...]
    overrides: dict[date, tuple[Slot, ...]]
    holiday_dates: object | None = None

    @property
    def tier(self) -> int:
        return self.spec.tier

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def region(self) -> str:
        return self.spec.region

    @property
    def capacity(self) -> int | None:
        return self.spec.capacity

    @property
    def escalates_to(self) -> str | None:
        return self.spec.escalates_to

    def is_holiday(self, day: date) -> bool:
        return self.holiday_dates is not None and day in self.holiday_dates  # type: ignore[operator]

    def slots(self, day: date) -> tuple[Slot, ...]:
        """The shifts that start on local date `day`: overrides win, holidays cancel rules."""
        if day in self.overrides:
            return self.overrides[day]
        if self.is_holiday(day):
            return ()
        return tuple(Slot(r.start, r.end, r.source) for r in self.rules if r.applies(day))


def escalation_chain(teams: Mapping[str, Team], team_id: str) -> list[str]:
    """`team_id`, then each team its `escalates_to` names in turn: `["ams-l1", "emea-l2",
    "global-l3"]`. It stops at a team that names nobody, at a name that is not a team (kept
    as the last element: it is what the link says), and before any team seen already, so
    a circular link (which validation rejects) ends the walk instead of looping."""
    chain = [team_id]
    team = teams.get(team_id)
    while team is not None and team.escalates_to and team.escalates_to not in chain:
        chain.append(team.escalates_to)
        team = teams.get(team.escalates_to)
    return chain


class Roster(dict[str, Team]):
    """The validated teams of one calendar, by id, read-only.

    Answers that depend on the calendar alone (which teams of a tier have a skill and
    speak a language) are kept in `memo`, so a busy intake works each out once per
    calendar, not once per escalation. Read-only so that the memo can never go stale:
    a changed calendar is a new Roster.
    """

    def __init__(self, teams: Mapping[str, Team] = ()) -> None:  # type: ignore[assignment]
        super().__init__(teams)
        self.memo: dict[object, object] = {}

    def _read_only(self, *args: object, **kw: object) -> NoReturn:
        raise TypeError("a Roster is read-only: build a new one from a changed dict")

    __setitem__ = __delitem__ = __ior__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]
