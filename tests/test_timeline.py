"""Wall-clock time to UTC: gaps map to the gap's end, folds to their first occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from router.domain.errors import BadInstant, InputError, UnknownTimezone
from router.domain.timeline import parse_instant, parse_zone, to_local, wall_to_utc

AMS = ZoneInfo("Europe/Amsterdam")
NYC = ZoneInfo("America/New_York")
LHI = ZoneInfo("Australia/Lord_Howe")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def w2u(day: str, wall: str, zone: ZoneInfo | str) -> datetime:
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return wall_to_utc(date.fromisoformat(day), time.fromisoformat(wall), tz)


def test_result_is_aware_utc() -> None:
    """wall_to_utc returns an aware datetime whose offset is zero, in a gap as well."""
    for wall in ("12:00", "02:30"):
        result = w2u("2027-03-28", wall, AMS)
        assert result.utcoffset() == timedelta(0)
        assert result.tzinfo is not None


def test_ordinary_wall_time_uses_the_offset_in_force() -> None:
    """An ordinary wall time maps with the offset of its date (CET in winter, CEST in summer)."""
    assert w2u("2027-01-15", "09:00", AMS) == utc(2027, 1, 15, 8, 0)
    assert w2u("2027-07-15", "09:00", AMS) == utc(2027, 7, 15, 7, 0)
    assert w2u("2027-07-15", "00:00", "UTC") == utc(2027, 7, 15, 0, 0)


def test_amsterdam_spring_gap_maps_to_gap_end() -> None:
    """Amsterdam 2027-03-28: 02:00–02:59 do not exist and map to the gap's end, 01:00Z."""
    assert w2u("2027-03-28", "01:59", AMS) == utc(2027, 3, 28, 0, 59)
    assert w2u("2027-03-28", "02:00", AMS) == utc(2027, 3, 28, 1, 0)
    assert w2u("2027-03-28", "02:30", AMS) == utc(2027, 3, 28, 1, 0)
    assert w2u("2027-03-28", "02:59", AMS) == utc(2027, 3, 28, 1, 0)
    assert w2u("2027-03-28", "03:00", AMS) == utc(2027, 3, 28, 1, 0)
    assert w2u("2027-03-28", "03:01", AMS) == utc(2027, 3, 28, 1, 1)


def test_amsterdam_autumn_fold_maps_to_first_occurrence() -> None:
    """Amsterdam 2026-10-25: 02:30 happens twice and maps to the first (CEST) one, 00:30Z."""
    assert w2u("2026-10-25", "01:59", AMS) == utc(2026, 10, 24, 23, 59)
    assert w2u("2026-10-25", "02:00", AMS) == utc(2026, 10, 25, 0, 0)
    assert w2u("2026-10-25", "02:30", AMS) == utc(2026, 10, 25, 0, 30)
    assert w2u("2026-10-25", "02:59", AMS) == utc(2026, 10, 25, 0, 59)
    assert w2u("2026-10-25", "03:00", AMS) == utc(2026, 10, 25, 2, 0)


def test_new_york_spring_gap_maps_to_gap_end() -> None:
    """New York 2027-03-14: 02:30 does not exist and maps to 07:00Z (03:00 EDT)."""
    assert w2u("2027-03-14", "01:59", NYC) == utc(2027, 3, 14, 6, 59)
    assert w2u("2027-03-14", "02:30", NYC) == utc(2027, 3, 14, 7, 0)
    assert w2u("2027-03-14", "03:00", NYC) == utc(2027, 3, 14, 7, 0)


def test_new_york_autumn_fold_maps_to_first_occurrence() -> None:
    """New York 2026-11-01: 01:30 happens twice and maps to the first (EDT) one, 05:30Z."""
    assert w2u("2026-11-01", "00:59", NYC) == utc(2026, 11, 1, 4, 59)
    assert w2u("2026-11-01", "01:00", NYC) == utc(2026, 11, 1, 5, 0)
    assert w2u("2026-11-01", "01:30", NYC) == utc(2026, 11, 1, 5, 30)
    assert w2u("2026-11-01", "02:00", NYC) == utc(2026, 11, 1, 7, 0)


def test_lord_howe_half_hour_gap_maps_to_gap_end() -> None:
    """Lord Howe 2026-10-04: 02:00–02:29 do not exist (half-hour DST) and map to 15:30Z."""
    assert w2u("2026-10-04", "01:59", LHI) == utc(2026, 10, 3, 15, 29)
    assert w2u("2026-10-04", "02:00", LHI) == utc(2026, 10, 3, 15, 30)
    assert w2u("2026-10-04", "02:15", LHI) == utc(2026, 10, 3, 15, 30)
    assert w2u("2026-10-04", "02:30", LHI) == utc(2026, 10, 3, 15, 30)
    assert w2u("2026-10-04", "03:00", LHI) == utc(2026, 10, 3, 16, 0)


def test_lord_howe_half_hour_fold_maps_to_first_occurrence() -> None:
    """Lord Howe 2027-04-04: 01:30–01:59 happen twice and map to the first (+11:00) pass."""
    assert w2u("2027-04-04", "01:29", LHI) == utc(2027, 4, 3, 14, 29)
    assert w2u("2027-04-04", "01:30", LHI) == utc(2027, 4, 3, 14, 30)
    assert w2u("2027-04-04", "01:45", LHI) == utc(2027, 4, 3, 14, 45)
    assert w2u("2027-04-04", "02:00", LHI) == utc(2027, 4, 3, 15, 30)


def test_kathmandu_offset_is_five_forty_five_all_year() -> None:
    """Asia/Kathmandu is +05:45 with no DST: 09:00 is 03:15Z on the 1st of every month 2025-2030."""
    assert w2u("2027-01-15", "09:00", "Asia/Kathmandu") == utc(2027, 1, 15, 3, 15)
    for year in range(2025, 2031):
        for month in range(1, 13):
            day = date(year, month, 1)
            assert w2u(day.isoformat(), "09:00", "Asia/Kathmandu") == utc(year, month, 1, 3, 15)


def test_sao_paulo_has_no_dst_from_2025_to_2030() -> None:
    """America/Sao_Paulo is -03:00 on every date of 2025-2030 (DST was abolished in 2019)."""
    day = date(2025, 1, 1)
    zone = ZoneInfo("America/Sao_Paulo")
    while day < date(2031, 1, 1):
        for hour in (0, 12):
            got = wall_to_utc(day, time(hour), zone)
            assert got == datetime.combine(day, time(hour), UTC) + timedelta(hours=3), day
        day += timedelta(days=1)


def test_sao_paulo_had_dst_in_2018() -> None:
    """America/Sao_Paulo was -02:00 in December 2018; its 2018-11-04 midnight gap ends at 03:00Z."""
    assert w2u("2018-07-15", "12:00", "America/Sao_Paulo") == utc(2018, 7, 15, 15, 0)
    assert w2u("2018-12-15", "12:00", "America/Sao_Paulo") == utc(2018, 12, 15, 14, 0)
    assert w2u("2018-11-04", "00:00", "America/Sao_Paulo") == utc(2018, 11, 4, 3, 0)
    assert w2u("2018-11-04", "00:30", "America/Sao_Paulo") == utc(2018, 11, 4, 3, 0)
    assert w2u("2018-11-04", "01:00", "America/Sao_Paulo") == utc(2018, 11, 4, 3, 0)


def test_chatham_offsets_and_transitions() -> None:
    """Pacific/Chatham is +13:45 in summer, +12:45 in winter; 03:00 on both change days."""
    chatham = ZoneInfo("Pacific/Chatham")
    assert w2u("2027-01-15", "09:00", chatham) == utc(2027, 1, 14, 19, 15)
    assert w2u("2027-07-15", "09:00", chatham) == utc(2027, 7, 14, 20, 15)
    # 2026-09-27: 02:45 -> 03:45, so 03:00 is in the gap and maps to its end.
    assert w2u("2026-09-27", "02:44", chatham) == utc(2026, 9, 26, 13, 59)
    assert w2u("2026-09-27", "03:00", chatham) == utc(2026, 9, 26, 14, 0)
    assert w2u("2026-09-27", "03:45", chatham) == utc(2026, 9, 26, 14, 0)
    # 2027-04-04: 03:45 -> 02:45, so 03:00 happens twice; the first pass is at +13:45.
    assert w2u("2027-04-04", "03:00", chatham) == utc(2027, 4, 3, 13, 15)
    assert w2u("2027-04-04", "03:45", chatham) == utc(2027, 4, 3, 15, 0)


def test_troll_two_hour_gap_and_fold() -> None:
    """Antarctica/Troll moves two hours: 02:00 is 01:00Z on 2026-03-29 and 00:00Z on 2026-10-25."""
    troll = ZoneInfo("Antarctica/Troll")
    assert w2u("2026-03-29", "00:59", troll) == utc(2026, 3, 29, 0, 59)
    assert w2u("2026-03-29", "02:00", troll) == utc(2026, 3, 29, 1, 0)
    assert w2u("2026-03-29", "03:00", troll) == utc(2026, 3, 29, 1, 0)
    assert w2u("2026-10-25", "01:30", troll) == utc(2026, 10, 24, 23, 30)
    assert w2u("2026-10-25", "02:00", troll) == utc(2026, 10, 25, 0, 0)
    assert w2u("2026-10-25", "02:59", troll) == utc(2026, 10, 25, 0, 59)
    assert w2u("2026-10-25", "03:00", troll) == utc(2026, 10, 25, 3, 0)


def test_midnight_gap_maps_to_gap_end() -> None:
    """Africa/Cairo 2026-04-24 has no 00:00–00:59; 00:30 maps to 22:00Z the evening before."""
    assert w2u("2026-04-23", "23:59", "Africa/Cairo") == utc(2026, 4, 23, 21, 59)
    assert w2u("2026-04-24", "00:00", "Africa/Cairo") == utc(2026, 4, 23, 22, 0)
    assert w2u("2026-04-24", "00:30", "Africa/Cairo") == utc(2026, 4, 23, 22, 0)
    assert w2u("2026-04-24", "01:00", "Africa/Cairo") == utc(2026, 4, 23, 22, 0)


def test_gap_with_seconds_in_wall_time_still_maps_to_gap_end() -> None:
    """A wall time with seconds and microseconds inside a gap maps exactly to the gap's end."""
    got = wall_to_utc(date(2027, 3, 28), time(2, 30, 15, 250), AMS)
    assert got == utc(2027, 3, 28, 1, 0)
    assert wall_to_utc(date(2027, 3, 28), time(3, 0, 0, 1), AMS) == datetime(
        2027, 3, 28, 1, 0, 0, 1, tzinfo=UTC
    )


def test_to_local_shows_the_instant_in_the_zone() -> None:
    """to_local gives the same instant with the zone's offset (second pass of a fold)."""
    local = to_local(utc(2026, 10, 25, 1, 30), AMS)
    assert local.astimezone(UTC) == utc(2026, 10, 25, 1, 30)
    assert local.timestamp() == utc(2026, 10, 25, 1, 30).timestamp()
    assert local.replace(tzinfo=None) == datetime(2026, 10, 25, 2, 30)  # noqa: DTZ001
    assert local.utcoffset() == timedelta(hours=1)


def test_parse_instant_with_z_or_offset_is_converted_to_utc() -> None:
    """ISO text with Z or an offset becomes the same instant in UTC."""
    assert parse_instant("2027-03-28T01:00:00Z") == utc(2027, 3, 28, 1, 0)
    assert parse_instant("2027-03-28T01:00:00z") == utc(2027, 3, 28, 1, 0)
    assert parse_instant("  2027-03-28T03:00+02:00 ") == utc(2027, 3, 28, 1, 0)
    assert parse_instant("2027-01-15T09:00+05:45") == utc(2027, 1, 15, 3, 15)
    got = parse_instant("2026-10-25T02:30:00.123456+01:00")
    assert got == datetime(2026, 10, 25, 1, 30, 0, 123456, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)


def test_parse_instant_offset_wins_over_zone() -> None:
    """An explicit offset in the text is used even when a zone is given."""
    assert parse_instant("2027-03-28T02:30+01:00", zone=AMS) == utc(2027, 3, 28, 1, 30)


def test_parse_instant_without_offset_uses_the_given_zone() -> None:
    """Naive text is read as wall time of the given zone, with the gap and fold rules."""
    assert parse_instant("2027-01-15T09:00", zone=AMS) == utc(2027, 1, 15, 8, 0)
    assert parse_instant("2027-03-28T02:30", zone=AMS) == utc(2027, 3, 28, 1, 0)
    assert parse_instant("2026-10-25T02:30", zone=AMS) == utc(2026, 10, 25, 0, 30)
    assert parse_instant("2027-04-04T01:45", zone=LHI) == utc(2027, 4, 3, 14, 45)


def test_parse_instant_without_offset_or_zone_is_refused() -> None:
    """Naive text without a zone is a BadInstant naming the field, never a guess."""
    with pytest.raises(BadInstant) as info:
        parse_instant("2027-01-15T09:00", "at")
    assert info.value.field == "at"
    assert "no UTC offset" in info.value.reason
    with pytest.raises(BadInstant) as info:
        parse_instant("2027-01-15", "since")
    assert info.value.field == "since"


@pytest.mark.parametrize(
    "text", ["", "   ", "yesterday", "2027-13-01T00:00Z", "2027-02-30T00:00Z", "12:00"]
)
def test_parse_instant_rejects_non_iso_text(text: str) -> None:
    """Text that is not an ISO 8601 instant is a BadInstant (an InputError) naming the field."""
    with pytest.raises(BadInstant) as info:
        parse_instant(text, "when")
    assert info.value.field == "when"
    assert isinstance(info.value, InputError)


def test_parse_zone_returns_the_iana_zone() -> None:
    """parse_zone gives the ZoneInfo of a known key."""
    zone = parse_zone("Pacific/Chatham")
    assert isinstance(zone, ZoneInfo)
    assert zone.key == "Pacific/Chatham"
    assert parse_zone("UTC").key == "UTC"


@pytest.mark.parametrize(
    "key",
    ["", "Mars/Olympus_Mons", " Europe/Amsterdam", "Europe/Amsterdam ", "../etc/passwd", "/etc"],
)
def test_parse_zone_rejects_unknown_keys(key: str) -> None:
    """Unknown, padded or path-like keys are UnknownTimezone naming the field."""
    with pytest.raises(UnknownTimezone) as info:
        parse_zone(key, "team.timezone")
    assert info.value.field == "team.timezone"
    assert isinstance(info.value, InputError)
