"""Expanding weekly patterns into UTC shift occurrences, and the index that answers "who is on"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import build_team

from router.domain.errors import RoutingError
from router.domain.index import ShiftIndex
from router.domain.model import Team
from router.domain.shifts import Shift, expand, expand_all, nominal_length, on_shift

US = timedelta(microseconds=1)
DAILY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rule(days: list[str], start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"days": days, "start": start, "end": end, **extra}


def team(zone: str, *rules: dict[str, Any], team_id: str = "t1", **fields: Any) -> Team:
    return build_team(team_id, timezone=zone, shifts=list(rules), **fields)


def spans(shifts: list[Shift]) -> list[tuple[datetime, datetime, date, str]]:
    return [(s.start, s.end, s.day, s.source) for s in shifts]


def only(team_: Team, start: datetime, end: datetime) -> Shift:
    found = expand(team_, start, end)
    assert len(found) == 1, found
    return found[0]


def assert_on_exactly(team_: Team, shift: Shift) -> None:
    """`shift` is what on_shift answers inside it, and nothing is on just outside it."""
    assert on_shift(team_, shift.start) == shift
    assert on_shift(team_, shift.end - US) == shift
    assert on_shift(team_, shift.start - US) is None
    assert on_shift(team_, shift.end) is None


# --- DST nights -------------------------------------------------------------------------


def test_amsterdam_spring_overnight_shift_lasts_seven_hours() -> None:
    """Amsterdam Sat 2027-03-27 22:00 -> Sun 06:00 runs 21:00Z -> 04:00Z, 7h (rota says 8h)."""
    ams = team("Europe/Amsterdam", rule(["sat"], "22:00", "06:00"))
    shift = only(ams, utc(2027, 3, 27), utc(2027, 3, 29))
    assert (shift.start, shift.end) == (utc(2027, 3, 27, 21, 0), utc(2027, 3, 28, 4, 0))
    assert shift.day == date(2027, 3, 27)
    assert shift.source == "shifts[0]"
    assert shift.length() == timedelta(hours=7)
    assert nominal_length(time(22), time(6)) == timedelta(hours=8)
    assert_on_exactly(ams, shift)


def test_amsterdam_spring_shift_starting_in_gap_starts_at_gap_end() -> None:
    """Amsterdam 2027-03-28: a 02:30-10:00 shift starts at 01:00Z, where the gap ends."""
    ams = team("Europe/Amsterdam", rule(["sun"], "02:30", "10:00"))
    shift = only(ams, utc(2027, 3, 28), utc(2027, 3, 29))
    assert (shift.start, shift.end) == (utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 8, 0))
    assert shift.length() == timedelta(hours=7)
    assert_on_exactly(ams, shift)


def test_amsterdam_spring_shift_inside_the_gap_does_not_happen() -> None:
    """Amsterdam 2027-03-28: a 02:00-03:00 shift maps to [01:00Z, 01:00Z), which is empty."""
    ams = team("Europe/Amsterdam", rule(["sun"], "02:00", "03:00"))
    assert expand(ams, utc(2027, 3, 27), utc(2027, 3, 29)) == []
    assert on_shift(ams, utc(2027, 3, 28, 1, 0)) is None
    assert on_shift(ams, utc(2027, 3, 28, 0, 59)) is None
    # A week later the same rule is an ordinary hour.
    shift = only(ams, utc(2027, 4, 4), utc(2027, 4, 5))
    assert (shift.start, shift.end) == (utc(2027, 4, 4, 0, 0), utc(2027, 4, 4, 1, 0))


def test_amsterdam_autumn_overnight_shift_lasts_nine_hours() -> None:
    """Amsterdam Sat 2026-10-24 22:00 -> Sun 06:00 runs 20:00Z -> 05:00Z, 9h."""
    ams = team("Europe/Amsterdam", rule(["sat"], "22:00", "06:00"))
    shift = only(ams, utc(2026, 10, 24), utc(2026, 10, 26))
    assert (shift.start, shift.end) == (utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 5, 0))
    assert shift.day == date(2026, 10, 24)
    assert shift.length() == timedelta(hours=9)
    assert_on_exactly(ams, shift)


def test_amsterdam_autumn_shift_starting_in_fold_starts_at_first_occurrence() -> None:
    """Amsterdam 2026-10-25: a 02:30 start is the first 02:30 (00:30Z); the second is on shift."""
    ams = team("Europe/Amsterdam", rule(["sun"], "02:30", "08:00"))
    shift = only(ams, utc(2026, 10, 25), utc(2026, 10, 26))
    assert (shift.start, shift.end) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 7, 0))
    assert shift.length() == timedelta(hours=6, minutes=30)
    assert on_shift(ams, utc(2026, 10, 25, 1, 30)) == shift  # 02:30 again, CET
    assert_on_exactly(ams, shift)


def test_amsterdam_autumn_shift_ending_in_fold_ends_at_first_occurrence() -> None:
    """Amsterdam 2026-10-25: a 00:00-02:30 shift ends at the first 02:30 (00:30Z)."""
    ams = team("Europe/Amsterdam", rule(["sun"], "00:00", "02:30"))
    shift = only(ams, utc(2026, 10, 24), utc(2026, 10, 26))
    assert (shift.start, shift.end) == (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 0, 30))
    assert on_shift(ams, utc(2026, 10, 25, 1, 0)) is None  # 02:00 again, CET
    assert_on_exactly(ams, shift)


def test_new_york_spring_overnight_shift_lasts_seven_hours() -> None:
    """New York Sat 2027-03-13 22:00 -> Sun 06:00 runs 03:00Z -> 10:00Z; 02:30 starts at 07:00Z."""
    nyc = team("America/New_York", rule(["sat"], "22:00", "06:00"), rule(["sun"], "08:00", "09:00"))
    night = only(nyc, utc(2027, 3, 13, 12), utc(2027, 3, 14, 11))
    assert (night.start, night.end) == (utc(2027, 3, 14, 3, 0), utc(2027, 3, 14, 10, 0))
    assert night.length() == timedelta(hours=7)
    assert_on_exactly(nyc, night)
    gap = team("America/New_York", rule(["sun"], "02:30", "04:00"))
    shift = only(gap, utc(2027, 3, 14), utc(2027, 3, 15))
    assert (shift.start, shift.end) == (utc(2027, 3, 14, 7, 0), utc(2027, 3, 14, 8, 0))


def test_new_york_autumn_overnight_shift_lasts_nine_hours() -> None:
    """New York Sat 2026-10-31 22:00 -> Sun 06:00 runs 02:00Z -> 11:00Z; 01:30 starts at 05:30Z."""
    nyc = team("America/New_York", rule(["sat"], "22:00", "06:00"))
    night = only(nyc, utc(2026, 10, 31, 12), utc(2026, 11, 1, 12))
    assert (night.start, night.end) == (utc(2026, 11, 1, 2, 0), utc(2026, 11, 1, 11, 0))
    assert night.day == date(2026, 10, 31)
    assert night.length() == timedelta(hours=9)
    assert_on_exactly(nyc, night)
    fold = team("America/New_York", rule(["sun"], "01:30", "03:00"))
    shift = only(fold, utc(2026, 11, 1), utc(2026, 11, 2))
    assert (shift.start, shift.end) == (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8, 0))
    assert shift.length() == timedelta(hours=2, minutes=30)


def test_lord_howe_half_hour_spring_gap() -> None:
    """Lord Howe 2026-10-04: the Sat 22:00-06:00 night is 7h30; a 02:15 start is 15:30Z."""
    lhi = team("Australia/Lord_Howe", rule(["sat"], "22:00", "06:00"))
    night = only(lhi, utc(2026, 10, 3), utc(2026, 10, 4, 12))
    assert (night.start, night.end) == (utc(2026, 10, 3, 11, 30), utc(2026, 10, 3, 19, 0))
    assert night.length() == timedelta(hours=7, minutes=30)
    assert_on_exactly(lhi, night)
    gap = team("Australia/Lord_Howe", rule(["sun"], "02:15", "04:00"))
    shift = only(gap, utc(2026, 10, 3), utc(2026, 10, 4, 12))
    assert (shift.start, shift.end) == (utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 17, 0))
    assert shift.day == date(2026, 10, 4)


def test_lord_howe_half_hour_autumn_fold() -> None:
    """Lord Howe 2027-04-04: the Sat 22:00-06:00 night is 8h30; a 01:45 start is 14:45Z."""
    lhi = team("Australia/Lord_Howe", rule(["sat"], "22:00", "06:00"))
    night = only(lhi, utc(2027, 4, 3), utc(2027, 4, 4, 12))
    assert (night.start, night.end) == (utc(2027, 4, 3, 11, 0), utc(2027, 4, 3, 19, 30))
    assert night.length() == timedelta(hours=8, minutes=30)
    assert_on_exactly(lhi, night)
    fold = team("Australia/Lord_Howe", rule(["sun"], "01:45", "02:00"))
    shift = only(fold, utc(2027, 4, 3), utc(2027, 4, 4, 12))
    # 01:45 (+11:00) to 02:00 (+10:30): the wall clock says 15 minutes, the clock 45.
    assert (shift.start, shift.end) == (utc(2027, 4, 3, 14, 45), utc(2027, 4, 3, 15, 30))
    assert on_shift(fold, utc(2027, 4, 3, 15, 15)) == shift  # 01:45 again, +10:30


def test_kathmandu_quarter_hour_offset() -> None:
    """Asia/Kathmandu 09:00-17:00 on Fri 2027-01-15 runs 03:15Z -> 11:15Z."""
    ktm = team("Asia/Kathmandu", rule(WEEKDAYS, "09:00", "17:00"))
    shift = only(ktm, utc(2027, 1, 15), utc(2027, 1, 15, 23, 59))
    assert (shift.start, shift.end) == (utc(2027, 1, 15, 3, 15), utc(2027, 1, 15, 11, 15))
    assert_on_exactly(ktm, shift)


def test_sao_paulo_same_utc_hours_all_year_2025_to_2030() -> None:
    """America/Sao_Paulo 09:00-18:00 is 12:00Z -> 21:00Z on every weekday of 2025-2030."""
    sao = team("America/Sao_Paulo", rule(WEEKDAYS, "09:00", "18:00"))
    shifts = expand(sao, utc(2025, 1, 1, 3), utc(2031, 1, 1, 3))
    assert len(shifts) == sum(
        1 for n in range(6 * 365 + 1) if (date(2025, 1, 1) + timedelta(days=n)).weekday() < 5
    )
    for shift in shifts:
        start = datetime.combine(shift.day, time(12), UTC)
        assert (shift.start, shift.end) == (start, start + timedelta(hours=9)), shift


def test_sao_paulo_was_an_hour_earlier_in_utc_during_2018_dst() -> None:
    """America/Sao_Paulo 09:00-18:00 was 11:00Z -> 20:00Z on Wed 2018-12-12 (DST, -02:00)."""
    sao = team("America/Sao_Paulo", rule(WEEKDAYS, "09:00", "18:00"))
    summer = only(sao, utc(2018, 12, 12, 3), utc(2018, 12, 13, 3))
    assert (summer.start, summer.end) == (utc(2018, 12, 12, 11, 0), utc(2018, 12, 12, 20, 0))
    winter = only(sao, utc(2018, 7, 11, 3), utc(2018, 7, 12, 3))
    assert (winter.start, winter.end) == (utc(2018, 7, 11, 12, 0), utc(2018, 7, 11, 21, 0))


def test_chatham_quarter_hour_offsets_and_dst() -> None:
    """Pacific/Chatham 09:00 is 19:15Z the day before in January and 20:15Z in July."""
    cht = team("Pacific/Chatham", rule(WEEKDAYS, "09:00", "17:00"))
    summer = only(cht, utc(2027, 1, 14, 12), utc(2027, 1, 15, 6))
    assert (summer.start, summer.end) == (utc(2027, 1, 14, 19, 15), utc(2027, 1, 15, 3, 15))
    assert summer.day == date(2027, 1, 15)
    winter = only(cht, utc(2027, 7, 14, 12), utc(2027, 7, 15, 6))
    assert (winter.start, winter.end) == (utc(2027, 7, 14, 20, 15), utc(2027, 7, 15, 4, 15))
    assert_on_exactly(cht, summer)


def test_chatham_overnight_shift_across_spring_gap_is_seven_hours() -> None:
    """Pacific/Chatham Sat 2026-09-26 22:00 -> Sun 06:00 runs 09:15Z -> 16:15Z (7h)."""
    cht = team("Pacific/Chatham", rule(["sat"], "22:00", "06:00"))
    night = only(cht, utc(2026, 9, 26), utc(2026, 9, 27))
    assert (night.start, night.end) == (utc(2026, 9, 26, 9, 15), utc(2026, 9, 26, 16, 15))
    assert night.length() == timedelta(hours=7)


# --- Overnight shifts -------------------------------------------------------------------


def test_overnight_sunday_shift_covers_monday_morning() -> None:
    """A Sunday 22:00-06:00 shift is one interval, belongs to Sunday and covers Monday 00-06."""
    ber = team("Europe/Berlin", rule(["sun"], "22:00", "06:00"))
    shift = on_shift(ber, utc(2027, 1, 11, 2, 0))  # Monday 03:00 local
    assert shift is not None
    assert (shift.start, shift.end) == (utc(2027, 1, 10, 21, 0), utc(2027, 1, 11, 5, 0))
    assert shift.day == date(2027, 1, 10)
    assert shift.day.weekday() == 6
    assert on_shift(ber, utc(2027, 1, 10, 23, 0)) == shift  # Monday 00:00 local
    assert on_shift(ber, utc(2027, 1, 11, 5, 0)) is None  # Monday 06:00 local
    # Monday's local day sees only the spill of Sunday's shift.
    monday = expand(ber, utc(2027, 1, 10, 23, 0), utc(2027, 1, 11, 23, 0))
    assert monday == [shift]
    assert_on_exactly(ber, shift)


def test_on_shift_accepts_instants_in_any_zone() -> None:
    """on_shift compares instants, whatever zone the instant is expressed in."""
    ber = team("Europe/Berlin", rule(["sun"], "22:00", "06:00"))
    tokyo = ZoneInfo("Asia/Tokyo")
    instant = datetime(2027, 1, 11, 11, 0, tzinfo=tokyo)  # 02:00Z
    assert on_shift(ber, instant) == on_shift(ber, utc(2027, 1, 11, 2, 0)) is not None
    assert on_shift(ber, datetime(2027, 1, 11, 14, 0, tzinfo=tokyo)) is None  # 05:00Z


def test_expand_window_is_half_open_and_sorted() -> None:
    """expand returns occurrences overlapping [start, end) in time order, across teams too."""
    day = team("UTC", rule(WEEKDAYS, "09:00", "17:00"), team_id="day")
    assert expand(day, utc(2027, 1, 11, 17), utc(2027, 1, 12, 9)) == []
    got = expand(day, utc(2027, 1, 11, 17) - US, utc(2027, 1, 12, 9) + US)
    assert [s.day for s in got] == [date(2027, 1, 11), date(2027, 1, 12)]
    week = expand(day, utc(2027, 1, 10), utc(2027, 1, 17))
    assert [s.start for s in week] == [utc(2027, 1, d, 9) for d in range(11, 16)]
    night = team("UTC", rule(DAILY, "20:00", "08:00"), team_id="night")
    both = expand_all([night, day], utc(2027, 1, 11), utc(2027, 1, 12))
    assert [(s.team, s.start) for s in both] == [
        ("night", utc(2027, 1, 10, 20)),
        ("day", utc(2027, 1, 11, 9)),
        ("night", utc(2027, 1, 11, 20)),
    ]


# --- Holidays ---------------------------------------------------------------------------


def test_kings_day_cancels_regular_shifts() -> None:
    """On King's Day (Tue 2027-04-27) an NL-calendar team has no shift; days around it do."""
    fields = {"holidays": {"country": "NL"}}
    nl = team("Europe/Amsterdam", rule(WEEKDAYS, "09:00", "17:00"), **fields)
    shifts = expand(nl, utc(2027, 4, 25, 22), utc(2027, 4, 28, 22))
    assert spans(shifts) == [
        (utc(2027, 4, 26, 7), utc(2027, 4, 26, 15), date(2027, 4, 26), "shifts[0]"),
        (utc(2027, 4, 28, 7), utc(2027, 4, 28, 15), date(2027, 4, 28), "shifts[0]"),
    ]
    assert on_shift(nl, utc(2027, 4, 27, 8)) is None
    plain = team("Europe/Amsterdam", rule(WEEKDAYS, "09:00", "17:00"))
    assert on_shift(plain, utc(2027, 4, 27, 8)) is not None


def test_christmas_cancels_shifts_starting_on_it_but_not_the_spill_into_it() -> None:
    """A Dec 24 22:00-06:00 shift still runs into Christmas; those starting Dec 25/26 do not."""
    nl = team("Europe/Amsterdam", rule(DAILY, "22:00", "06:00"), holidays={"country": "NL"})
    shifts = expand(nl, utc(2026, 12, 24), utc(2026, 12, 28))
    assert spans(shifts) == [
        (utc(2026, 12, 23, 21), utc(2026, 12, 24, 5), date(2026, 12, 23), "shifts[0]"),
        (utc(2026, 12, 24, 21), utc(2026, 12, 25, 5), date(2026, 12, 24), "shifts[0]"),
        (utc(2026, 12, 27, 21), utc(2026, 12, 28, 5), date(2026, 12, 27), "shifts[0]"),
    ]
    spill = on_shift(nl, utc(2026, 12, 25, 2))
    assert spill is not None
    assert spill.day == date(2026, 12, 24)
    assert on_shift(nl, utc(2026, 12, 25, 22)) is None
    assert on_shift(nl, utc(2026, 12, 26, 2)) is None


def test_holiday_subdivision_is_respected() -> None:
    """Epiphany (Wed 2027-01-06) is a holiday in Bavaria, not in Berlin."""
    bavaria = team(
        "Europe/Berlin",
        rule(WEEKDAYS, "09:00", "17:00"),
        holidays={"country": "DE", "subdiv": "BY"},
    )
    berlin = team(
        "Europe/Berlin",
        rule(WEEKDAYS, "09:00", "17:00"),
        holidays={"country": "DE", "subdiv": "BE"},
    )
    assert on_shift(bavaria, utc(2027, 1, 6, 10)) is None
    assert on_shift(berlin, utc(2027, 1, 6, 10)) is not None
    assert on_shift(bavaria, utc(2027, 1, 7, 10)) is not None


def test_holiday_is_the_teams_local_date() -> None:
    """Holidays are local dates: Auckland's New Year's Day begins at 11:00Z on Dec 31."""
    akl = team("Pacific/Auckland", rule(DAILY, "09:00", "17:00"), holidays={"country": "NZ"})
    shifts = expand(akl, utc(2026, 12, 30), utc(2027, 1, 1, 12))
    assert [s.day for s in shifts] == [date(2026, 12, 30), date(2026, 12, 31)]
    assert on_shift(akl, utc(2026, 12, 31, 21)) is None  # 10:00 on 1 January in Auckland


# --- Overrides --------------------------------------------------------------------------


def test_closed_override_removes_every_regular_shift_of_the_date() -> None:
    """`closed = true` on Wed 2027-01-13 removes both of that day's shifts; Tue and Thu stay."""
    ams = team(
        "Europe/Amsterdam",
        rule(WEEKDAYS, "08:00", "12:00"),
        rule(WEEKDAYS, "13:00", "17:00"),
        overrides=[{"date": "2027-01-13", "closed": True}],
    )
    shifts = expand(ams, utc(2027, 1, 12), utc(2027, 1, 15))
    assert [s.day for s in shifts] == [date(2027, 1, 12)] * 2 + [date(2027, 1, 14)] * 2
    assert on_shift(ams, utc(2027, 1, 13, 8)) is None


def test_override_hours_replace_regular_shifts() -> None:
    """Override entries for a date are that date's shifts, one each, instead of the rules."""
    ams = team(
        "Europe/Amsterdam",
        rule(WEEKDAYS, "09:00", "17:00"),
        overrides=[
            {"date": "2027-01-13", "start": "12:00", "end": "14:00"},
            {"date": "2027-01-13", "start": "18:00", "end": "20:00"},
            {"date": "2027-01-16", "start": "10:00", "end": "11:00"},  # a Saturday
        ],
    )
    shifts = expand(ams, utc(2027, 1, 13), utc(2027, 1, 17))
    assert spans(shifts) == [
        (utc(2027, 1, 13, 11), utc(2027, 1, 13, 13), date(2027, 1, 13), "overrides[0]"),
        (utc(2027, 1, 13, 17), utc(2027, 1, 13, 19), date(2027, 1, 13), "overrides[1]"),
        (utc(2027, 1, 14, 8), utc(2027, 1, 14, 16), date(2027, 1, 14), "shifts[0]"),
        (utc(2027, 1, 15, 8), utc(2027, 1, 15, 16), date(2027, 1, 15), "shifts[0]"),
        (utc(2027, 1, 16, 9), utc(2027, 1, 16, 10), date(2027, 1, 16), "overrides[2]"),
    ]
    assert on_shift(ams, utc(2027, 1, 13, 8)) is None  # 09:00 local: the rule is replaced
    assert_on_exactly(ams, shifts[0])


def test_override_keeps_previous_nights_spill() -> None:
    """An override on Wed replaces Wed's night shift; Tue's night still runs into Wed morning."""
    ams = team(
        "Europe/Amsterdam",
        rule(DAILY, "22:00", "06:00"),
        overrides=[
            {"date": "2027-01-13", "start": "08:00", "end": "12:00"},
            {"date": "2027-01-15", "closed": True},
        ],
    )
    shifts = expand(ams, utc(2027, 1, 12, 12), utc(2027, 1, 16, 12))
    assert spans(shifts) == [
        (utc(2027, 1, 12, 21), utc(2027, 1, 13, 5), date(2027, 1, 12), "shifts[0]"),
        (utc(2027, 1, 13, 7), utc(2027, 1, 13, 11), date(2027, 1, 13), "overrides[0]"),
        (utc(2027, 1, 14, 21), utc(2027, 1, 15, 5), date(2027, 1, 14), "shifts[0]"),
    ]
    spill = on_shift(ams, utc(2027, 1, 13, 4))  # Wed 05:00 local
    assert spill is not None
    assert spill.day == date(2027, 1, 12)
    assert on_shift(ams, utc(2027, 1, 13, 22)) is None  # Wed 23:00: night replaced
    thursday_spill = on_shift(ams, utc(2027, 1, 15, 4))  # Fri 05:00, closed Friday
    assert thursday_spill is not None
    assert thursday_spill.day == date(2027, 1, 14)
    assert on_shift(ams, utc(2027, 1, 15, 22)) is None  # Fri 23:00: closed


def test_override_wins_over_holiday() -> None:
    """An override on a public holiday gives that date its hours despite the holiday."""
    nl = team(
        "Europe/Amsterdam",
        rule(WEEKDAYS, "09:00", "17:00"),
        holidays={"country": "NL"},
        overrides=[{"date": "2027-04-27", "start": "10:00", "end": "14:00"}],
    )
    shift = only(nl, utc(2027, 4, 27), utc(2027, 4, 27, 22))
    assert (shift.start, shift.end) == (utc(2027, 4, 27, 8), utc(2027, 4, 27, 12))
    assert shift.source == "overrides[0]"


def test_override_in_dst_gap_starts_at_gap_end() -> None:
    """An override 02:30-05:00 on Amsterdam's spring day runs 01:00Z -> 03:00Z."""
    ams = team(
        "Europe/Amsterdam",
        rule(WEEKDAYS, "09:00", "17:00"),
        overrides=[{"date": "2027-03-28", "start": "02:30", "end": "05:00"}],
    )
    shift = only(ams, utc(2027, 3, 27, 12), utc(2027, 3, 28, 12))
    assert (shift.start, shift.end) == (utc(2027, 3, 28, 1), utc(2027, 3, 28, 3))
    assert shift.day == date(2027, 3, 28)


# --- Rule windows -----------------------------------------------------------------------


def test_rota_change_with_from_and_until() -> None:
    """`until` is exclusive and `from` inclusive: 09-17 up to Fri Jan 29, 08-16 from Mon Feb 1."""
    ams = team(
        "Europe/Amsterdam",
        rule(WEEKDAYS, "09:00", "17:00", until="2027-02-01"),
        rule(WEEKDAYS, "08:00", "16:00", **{"from": "2027-02-01"}),
    )
    shifts = expand(ams, utc(2027, 1, 28, 16), utc(2027, 2, 2, 23))
    assert spans(shifts) == [
        (utc(2027, 1, 29, 8), utc(2027, 1, 29, 16), date(2027, 1, 29), "shifts[0]"),
        (utc(2027, 2, 1, 7), utc(2027, 2, 1, 15), date(2027, 2, 1), "shifts[1]"),
        (utc(2027, 2, 2, 7), utc(2027, 2, 2, 15), date(2027, 2, 2), "shifts[1]"),
    ]
    assert on_shift(ams, utc(2027, 2, 1, 15, 30)) is None  # 16:30 local, old rota would be on
    assert on_shift(ams, utc(2027, 1, 29, 7, 30)) is None  # 08:30 local, new rota not yet


def test_rule_window_judges_the_start_date_of_overnight_shifts() -> None:
    """A night rule until Feb 1 still runs Jan 31 -> Feb 1 06:00; one from Feb 3 starts Feb 3."""
    ams = team(
        "Europe/Amsterdam",
        rule(DAILY, "22:00", "06:00", until="2027-02-01"),
        rule(DAILY, "22:00", "06:00", **{"from": "2027-02-03"}),
    )
    shifts = expand(ams, utc(2027, 1, 31), utc(2027, 2, 4))
    assert spans(shifts) == [
        (utc(2027, 1, 30, 21), utc(2027, 1, 31, 5), date(2027, 1, 30), "shifts[0]"),
        (utc(2027, 1, 31, 21), utc(2027, 2, 1, 5), date(2027, 1, 31), "shifts[0]"),
        (utc(2027, 2, 3, 21), utc(2027, 2, 4, 5), date(2027, 2, 3), "shifts[1]"),
    ]
    assert on_shift(ams, utc(2027, 2, 1, 4)) is not None
    assert on_shift(ams, utc(2027, 2, 1, 22)) is None
    assert on_shift(ams, utc(2027, 2, 2, 22)) is None


# --- The index --------------------------------------------------------------------------


def _dst_teams() -> list[Team]:
    return [
        team("Europe/Amsterdam", rule(DAILY, "22:00", "06:00"), team_id="ams-night"),
        team(
            "Europe/Amsterdam",
            rule(WEEKDAYS, "09:00", "17:00"),
            rule(["sun"], "02:00", "03:00"),
            holidays={"country": "NL"},
            overrides=[{"date": "2026-10-28", "start": "12:00", "end": "13:00"}],
            team_id="ams-day",
        ),
        team(
            "America/New_York",
            rule(["sat", "sun"], "01:30", "02:30"),
            rule(WEEKDAYS, "08:00", "20:00"),
            team_id="nyc",
        ),
        team("Australia/Lord_Howe", rule(DAILY, "01:45", "02:15"), team_id="lhi"),
        team("Asia/Kathmandu", rule(DAILY, "23:00", "07:00"), team_id="ktm"),
        team("Pacific/Chatham", rule(DAILY, "02:50", "03:50"), team_id="cht"),
        team("America/Sao_Paulo", rule(["mon", "wed", "fri"], "18:00", "02:00"), team_id="sao"),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (utc(2026, 9, 24, 0, 3), utc(2026, 10, 6)),  # Chatham and Lord Howe spring
        (utc(2026, 10, 22), utc(2026, 11, 3, 0, 0, 17)),  # Amsterdam and New York autumn
        (utc(2027, 3, 12), utc(2027, 3, 16)),  # New York spring
        (utc(2027, 3, 26), utc(2027, 4, 6)),  # Amsterdam spring, Lord Howe and Chatham autumn
    ],
)
def test_index_at_matches_on_shift(start: datetime, end: datetime) -> None:
    """ShiftIndex.at gives exactly the teams' on_shift answers, every 7 min and at every edge."""
    teams = _dst_teams()
    index = ShiftIndex.build(teams, start, end)
    instants = []
    t = start
    while t < end:
        instants.append(t)
        t += timedelta(minutes=7)
    for shift in index:
        instants += [shift.start - US, shift.start, shift.end - US, shift.end]
    instants = [t for t in instants if start <= t < end]
    assert len(index) >= 20
    for t in instants:
        expected = sorted(
            (s for s in (on_shift(tm, t) for tm in teams) if s is not None),
            key=lambda s: s.team,
        )
        assert sorted(index.at(t), key=lambda s: s.team) == expected, t


def test_index_holds_every_expanded_occurrence_in_order() -> None:
    """The index holds what expand_all gives for its horizon, sorted by start then team."""
    teams = _dst_teams()
    start, end = utc(2026, 10, 22), utc(2026, 11, 3)
    index = ShiftIndex.build(teams, start, end)
    assert list(index) == expand_all(teams, start, end)
    assert len(index) == len(expand_all(teams, start, end))
    keys = [(s.start, s.team) for s in index]
    assert keys == sorted(keys)


def test_index_at_returns_every_team_on_shift() -> None:
    """At an instant covered by several teams, at() returns one occurrence per team."""
    a = team("UTC", rule(DAILY, "08:00", "16:00"), team_id="a")
    b = team("Europe/Amsterdam", rule(DAILY, "09:00", "10:00"), team_id="b")
    c = team("UTC", rule(DAILY, "20:00", "04:00"), team_id="c")
    index = ShiftIndex.build([a, b, c], utc(2027, 1, 11), utc(2027, 1, 12))
    assert sorted(s.team for s in index.at(utc(2027, 1, 11, 8, 30))) == ["a", "b"]
    assert [s.team for s in index.at(utc(2027, 1, 11, 9))] == ["a"]
    assert [s.team for s in index.at(utc(2027, 1, 11, 3, 59))] == ["c"]
    assert index.at(utc(2027, 1, 11, 17)) == ()


def test_index_includes_shift_started_before_horizon() -> None:
    """An overnight shift that started before the horizon is on at the horizon's start."""
    night = team("UTC", rule(DAILY, "22:00", "06:00"), team_id="night")
    index = ShiftIndex.build([night], utc(2027, 1, 11, 3), utc(2027, 1, 12))
    (shift,) = index.at(utc(2027, 1, 11, 3))
    assert (shift.start, shift.end) == (utc(2027, 1, 10, 22), utc(2027, 1, 11, 6))
    assert [s.day for s in index] == [date(2027, 1, 10), date(2027, 1, 11)]


def test_index_starting_is_after_exclusive_until_inclusive() -> None:
    """starting(after, until) yields occurrences starting in (after, until], in time order."""
    a = team("UTC", rule(DAILY, "08:00", "16:00"), team_id="a")
    b = team("UTC", rule(DAILY, "08:00", "09:00"), team_id="b")
    c = team("Asia/Kathmandu", rule(DAILY, "17:00", "18:00"), team_id="c")  # 11:15Z
    index = ShiftIndex.build([a, b, c], utc(2027, 1, 11), utc(2027, 1, 14))
    got = [(s.team, s.start) for s in index.starting(utc(2027, 1, 11, 8), utc(2027, 1, 12, 8))]
    assert got == [
        ("c", utc(2027, 1, 11, 11, 15)),
        ("a", utc(2027, 1, 12, 8)),
        ("b", utc(2027, 1, 12, 8)),
    ]
    after = [(s.team, s.start) for s in index.starting(utc(2027, 1, 12, 11, 15))]
    assert after == [
        ("a", utc(2027, 1, 13, 8)),
        ("b", utc(2027, 1, 13, 8)),
        ("c", utc(2027, 1, 13, 11, 15)),
    ]
    assert list(index.starting(utc(2027, 1, 11, 8), utc(2027, 1, 11, 11, 15) - US)) == []


def test_index_between_returns_overlapping_occurrences() -> None:
    """between(start, end) gives occurrences overlapping [start, end), long ones included."""
    night = team("UTC", rule(DAILY, "20:00", "08:00"), team_id="night")
    short = team("UTC", rule(DAILY, "09:00", "10:00"), team_id="short")
    index = ShiftIndex.build([night, short], utc(2027, 1, 11), utc(2027, 1, 14))

    def got(a: datetime, b: datetime) -> list[tuple[str, date]]:
        return [(s.team, s.day) for s in index.between(a, b)]

    # The night that started at 20:00 the day before is still on at 07:00.
    assert got(utc(2027, 1, 12, 7), utc(2027, 1, 12, 9, 30)) == [
        ("night", date(2027, 1, 11)),
        ("short", date(2027, 1, 12)),
    ]
    assert got(utc(2027, 1, 12, 8), utc(2027, 1, 12, 9)) == []  # both edges are open
    assert got(utc(2027, 1, 12, 8) - US, utc(2027, 1, 12, 9) + US) == [
        ("night", date(2027, 1, 11)),
        ("short", date(2027, 1, 12)),
    ]
    for a, b in [
        (utc(2027, 1, 11, 5), utc(2027, 1, 13, 21)),
        (utc(2027, 1, 12, 9, 30), utc(2027, 1, 12, 20, 0, 0, 1)),
    ]:
        assert index.between(a, b) == [s for s in index if s.start < b and s.end > a]


def test_index_outside_horizon_raises_routing_error() -> None:
    """at() before the horizon's start, or at/after its (exclusive) end, is a RoutingError."""
    day = team("UTC", rule(DAILY, "09:00", "17:00"))
    start, end = utc(2027, 1, 11, 0, 30), utc(2027, 1, 13, 20, 45)
    index = ShiftIndex.build([day], start, end)
    assert index.at(start) == ()
    assert index.at(end - US) == ()
    assert [s.day for s in index.at(utc(2027, 1, 12, 10))] == [date(2027, 1, 12)]
    for outside in (start - US, end, end + US, utc(2026, 1, 1), utc(2028, 1, 1)):
        with pytest.raises(RoutingError, match="outside the calendar horizon"):
            index.at(outside)
