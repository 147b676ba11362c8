"""Loading and validating schedules: every problem is reported, located by file and field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest
from conftest import NOW, SCHEDULES

from router.domain.errors import Problem, ScheduleError
from router.domain.model import TeamSpec
from router.domain.schedules import Schedules, load_schedules
from router.domain.validation import decode_team, team_from_spec

POLICY = (SCHEDULES / "policy.toml").read_text()
SOURCE = "teams/ams-l1.toml"
WEEKDAYS = '["mon", "tue", "wed", "thu", "fri"]'


def header(
    *,
    timezone: str = "Europe/Amsterdam",
    tier: int = 1,
    languages: str = '["en"]',
    extra: str = "",
) -> str:
    return (
        f'name = "Test team"\ntimezone = "{timezone}"\ntier = {tier}\n'
        f'languages = {languages}\nskills = ["billing"]\n{extra}'
    )


def shift(days: str, start: str, end: str, extra: str = "") -> str:
    return f'\n[[shifts]]\ndays = {days}\nstart = "{start}"\nend = "{end}"\n{extra}'


def team_doc(*shifts: str, **fields: Any) -> str:
    """A team file: the header fields, then the shifts (weekdays 08:00-17:00 by default)."""
    return header(**fields) + "".join(shifts or (shift(WEEKDAYS, "08:00", "17:00"),))


def load(files: dict[str, str], policy: str = POLICY, now: datetime = NOW) -> Schedules:
    return load_schedules(team_files=files, policy_text=policy, now=now)


def errors_of(files: dict[str, str], policy: str = POLICY) -> list[Problem]:
    with pytest.raises(ScheduleError) as info:
        load(files, policy)
    return info.value.problems


def messages(files: dict[str, str], policy: str = POLICY) -> list[str]:
    problems = errors_of(files, policy)
    assert all(p.severity == "error" for p in problems)
    return [str(p) for p in problems]


def one_error(text: str, source: str = SOURCE) -> str:
    found = messages({source: text})
    assert len(found) == 1, found
    return found[0]


# -- a valid team and the repository ----------------------------------------------------


def test_a_valid_team_loads():
    """A well-formed team file loads into a validated team named after its file."""
    schedules = load({SOURCE: team_doc()})
    team = schedules.teams["ams-l1"]
    assert team.spec.timezone == "Europe/Amsterdam"
    assert [str(lang) for lang in team.languages] == ["en"]
    assert len(team.rules) == 1


def test_repository_schedules_load_without_errors(repo_schedules):
    """The real schedules/ directory validates: every team file loads and only warnings remain."""
    files = sorted(p.stem for p in (SCHEDULES / "teams").glob("*.toml"))
    assert sorted(repo_schedules.teams) == files
    assert {"ams-l1", "dub-l1", "nyc-l1", "syd-l1", "tyo-l1"} <= set(files)
    assert all(p.severity == "warning" for p in repo_schedules.warnings)


def test_repository_schedules_pass_load_schedules_directly():
    """The repository's TOML texts pass load_schedules itself, with the policy file."""
    files = {f"teams/{p.name}": p.read_text() for p in (SCHEDULES / "teams").glob("*.toml")}
    schedules = load(files)
    assert schedules.policy.priorities["P1"].acknowledge.total_seconds() == 15 * 60


# -- located errors, one kind at a time -------------------------------------------------


def test_error_string_names_file_and_field_path():
    """The message reads `<file>: <field path>: <what is wrong>`."""
    text = team_doc(
        shift(WEEKDAYS, "08:00", "17:00"),
        shift('["sat"]', "09:00", "12:00"),
        shift('["sun"]', "25:00", "12:00"),
    )
    assert one_error(text) == (
        'teams/ams-l1.toml: shifts[2].start: "25:00" is not a time (HH:MM, 00:00 to 23:59)'
    )


def test_unknown_timezone():
    """A zone tzdata does not know is an error on `timezone`."""
    assert one_error(team_doc(timezone="Europe/Amsterdm")) == (
        'teams/ams-l1.toml: timezone: "Europe/Amsterdm" is not an IANA timezone'
    )


@pytest.mark.parametrize("bad", ["25:00", "8am", "8:00", "08:60", "0800", "24:00"])
def test_bad_time(bad):
    """Times must be HH:MM within the day; anything else is an error on that field."""
    error = one_error(team_doc(shift(WEEKDAYS, "08:00", bad)))
    assert error.startswith(f'teams/ams-l1.toml: shifts[0].end: "{bad}" is not a time')


def test_misspelt_day():
    """A day that is not mon..sun is an error on that element of `days`."""
    error = one_error(team_doc(shift('["mon", "teu"]', "08:00", "17:00")))
    assert error.startswith("teams/ams-l1.toml: shifts[0].days[1]: ")
    assert "teu" in error


def test_start_equal_to_end():
    """A shift whose end equals its start has no length and is rejected."""
    error = one_error(team_doc(shift(WEEKDAYS, "08:00", "08:00")))
    assert error.startswith('teams/ams-l1.toml: shifts[0].end: "08:00" equals the start')


@pytest.mark.parametrize(
    ("text", "path", "hint"),
    [
        (team_doc().replace("timezone =", "timezon ="), "timezon", 'did you mean "timezone"?'),
        (team_doc().replace("[[shifts]]", "[[shift]]"), "shift", 'did you mean "shifts"?'),
        (
            team_doc(shift(WEEKDAYS, "08:00", "17:00", 'untill = "2027-01-04"\n')),
            "shifts[0].untill",
            'did you mean "until"?',
        ),
        (
            team_doc(extra='holidays = { country = "NL", subdivision = "NH" }\n'),
            "holidays.subdivision",
            "check the spelling",
        ),
    ],
)
def test_unknown_field(text, path, hint):
    """A misspelt key is an error located at the key (with the likely intended key)."""
    assert one_error(text) == f"teams/ams-l1.toml: {path}: unknown field ({hint})"


def test_missing_required_field():
    """A team without `tier` is told which field is missing."""
    text = team_doc().replace("tier = 1\n", "")
    assert one_error(text) == "teams/ams-l1.toml: tier: required field is missing"


def test_unknown_holiday_country():
    """A country the holidays package has no calendar for is an error on holidays.country."""
    error = one_error(team_doc(extra='holidays = { country = "XX" }\n'))
    assert error.startswith("teams/ams-l1.toml: holidays.country: not a calendar")


def test_unknown_holiday_subdivision():
    """A subdivision the country does not have is an error on holidays.subdiv."""
    error = one_error(team_doc(extra='holidays = { country = "NL", subdiv = "ZZ" }\n'))
    assert error.startswith("teams/ams-l1.toml: holidays.subdiv: not a calendar")


def test_known_holiday_calendar_with_subdivision_loads():
    """A real country and subdivision (DE, BE) load and cancel that day's shifts."""
    team = load({SOURCE: team_doc(extra='holidays = { country = "DE", subdiv = "BE" }\n')}).teams[
        "ams-l1"
    ]
    assert team.is_holiday(datetime(2026, 12, 25, tzinfo=UTC).date())
    assert team.slots(datetime(2026, 12, 25, tzinfo=UTC).date()) == ()


@pytest.mark.parametrize("tag", ["en_US", "zz-!!", "english"])
def test_malformed_language_tag(tag):
    """A language that is not a BCP 47 tag is an error on that element of `languages`."""
    error = one_error(team_doc(languages=f'["nl", "{tag}"]'))
    assert error == f'teams/ams-l1.toml: languages[1]: "{tag}" is not a BCP 47 language tag'


def test_override_closed_with_hours():
    """An override cannot be closed and give hours in one entry."""
    text = team_doc() + '\n[[overrides]]\ndate = 2026-12-24\nclosed = true\nstart = "10:00"\n'
    assert one_error(text) == (
        "teams/ams-l1.toml: overrides[0].closed: closed = true cannot also give start/end"
    )


def test_override_date_both_closed_and_with_hours_in_two_entries():
    """Two overrides for one date, one closed and one with hours, contradict each other."""
    text = (
        team_doc()
        + "\n[[overrides]]\ndate = 2026-12-24\nclosed = true\n"
        + '\n[[overrides]]\ndate = 2026-12-24\nstart = "10:00"\nend = "14:00"\n'
    )
    error = one_error(text)
    assert error.startswith("teams/ams-l1.toml: overrides[0].closed: 2026-12-24 is both closed")


# -- a team's own shifts must not overlap -----------------------------------------------


def test_weekly_rules_overlapping():
    """Two weekly rules on shift at the same time on one day overlap."""
    text = team_doc(shift(WEEKDAYS, "08:00", "17:00"), shift('["tue"]', "12:00", "20:00"))
    assert one_error(text) == (
        "teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on tue)"
    )


def test_overnight_shift_spilling_into_next_days_shift():
    """A 22:00-06:00 Monday shift overlaps a Tuesday shift starting at 05:00."""
    text = team_doc(shift('["mon"]', "22:00", "06:00"), shift('["tue"]', "05:00", "13:00"))
    assert one_error(text) == (
        "teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on tue)"
    )


def test_overnight_sunday_shift_spilling_into_monday():
    """The week wraps: a Sunday overnight shift overlaps an early Monday shift."""
    text = team_doc(shift('["sun"]', "22:00", "06:00"), shift('["mon"]', "05:00", "13:00"))
    assert "shifts[1]: overlaps shifts[0] (both on shift on mon)" in one_error(text)


def test_back_to_back_shifts_do_not_overlap():
    """A shift ending at 06:00 and one starting at 06:00 are back to back, not clashing."""
    text = team_doc(
        shift('["mon"]', "22:00", "06:00"),
        shift('["tue"]', "06:00", "13:00"),
        shift('["tue"]', "13:00", "18:00"),
    )
    assert len(load({SOURCE: text}).teams["ams-l1"].rules) == 3


def test_rules_with_overlapping_date_windows():
    """An old rule running until after a new rule starts overlaps it on the shared dates."""
    text = team_doc(
        shift(WEEKDAYS, "08:00", "17:00", "until = 2027-01-08\n"),
        shift(WEEKDAYS, "08:00", "18:00", "from = 2027-01-04\n"),
    )
    error = one_error(text)
    assert error.startswith("teams/ams-l1.toml: shifts[1]: overlaps shifts[0]")
    assert "2027-01-04" in error


def test_rules_with_long_overlapping_date_windows():
    """Rules sharing months of dates overlap on the shared weekday."""
    text = team_doc(
        shift('["mon"]', "08:00", "17:00", "until = 2027-06-01\n"),
        shift('["mon"]', "12:00", "18:00", "from = 2027-01-04\n"),
    )
    assert one_error(text) == (
        "teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on mon)"
    )


def test_new_rota_from_the_day_the_old_one_ends_is_not_an_overlap():
    """Old rule `until = X` and new rule `from = X` with the same hours are a clean change."""
    text = team_doc(
        shift(WEEKDAYS, "08:00", "17:00", "until = 2027-01-04\n"),
        shift(WEEKDAYS, "08:00", "17:00", "from = 2027-01-04\n"),
    )
    team = load({SOURCE: text}).teams["ams-l1"]
    assert len(team.rules) == 2
    monday = datetime(2027, 1, 4, tzinfo=UTC).date()
    assert [s.source for s in team.slots(monday)] == ["shifts[1]"]


def test_new_rota_handover_with_overnight_spill_is_an_overlap():
    """An old overnight rule's last night spilling into the new rule's first day overlaps it."""
    text = team_doc(
        shift('["sun"]', "22:00", "06:00", "until = 2027-01-04\n"),
        shift('["mon"]', "05:00", "13:00", "from = 2027-01-04\n"),
    )
    assert "shifts[1]: overlaps shifts[0] (both on shift on 2027-01-04)" in one_error(text)


EVERY_DAY = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'


def seam_rota(seam: str, *, extra: str = "", overrides: str = "") -> str:
    """Nights 17:00-08:00 until the seam day, days 06:00-20:00 from it: they overlap on the
    seam day unless it has no new-rule shift (its 06:00 start meets the last night)."""
    return (
        team_doc(
            shift(EVERY_DAY, "17:00", "08:00", f"until = {seam}\n"),
            shift(EVERY_DAY, "06:00", "20:00", f"from = {seam}\n"),
            extra=extra,
        )
        + overrides
    )


def test_rota_change_with_a_closed_seam_day_is_not_an_overlap(make_team):
    """The old rule's last night ends at 08:00 on the closed seam day: no real overlap."""
    text = seam_rota("2027-01-04", overrides="\n[[overrides]]\ndate = 2027-01-04\nclosed = true\n")
    team = load({SOURCE: text}).teams["ams-l1"]
    assert team.slots(date(2027, 1, 4)) == ()
    assert [s.source for s in team.slots(date(2027, 1, 5))] == ["shifts[1]"]
    shifts = [
        {"days": ["mon", "tue"], "start": "17:00", "end": "08:00", "until": "2027-01-05"},
        {"days": ["tue", "wed"], "start": "06:00", "end": "20:00", "from": "2027-01-05"},
    ]
    closed = [{"date": "2027-01-05", "closed": True}]
    assert len(make_team(shifts=shifts, overrides=closed).rules) == 2


def test_rota_change_with_an_open_seam_day_is_an_overlap():
    """Without the closed override the seam day's 06:00 start meets the 08:00 end: located."""
    assert one_error(seam_rota("2027-01-04")) == (
        "teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on 2027-01-04)"
    )


@pytest.mark.parametrize(
    ("seam", "working"), [("2027-04-27", "2027-04-20"), ("2027-12-25", "2027-12-18")]
)
def test_rota_change_on_a_public_holiday_is_not_an_overlap(seam, working):
    """A holiday on the seam day (King's Day, Christmas in NL) cancels the new rule's first
    shift just as a closed override does; a working seam day a week earlier still overlaps."""
    team = load({SOURCE: seam_rota(seam, extra='holidays = { country = "NL" }\n')}).teams["ams-l1"]
    assert team.is_holiday(date.fromisoformat(seam))
    assert one_error(seam_rota(working, extra='holidays = { country = "NL" }\n')) == (
        f"teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on {working})"
    )


def test_an_overlap_years_ahead_inside_the_rules_ranges_is_found():
    """A one-day rule in 2039 inside a long-running rule's range clashes: found and dated."""
    text = team_doc(
        shift(WEEKDAYS, "08:00", "17:00", "from = 2027-01-04\nuntil = 2040-01-02\n"),
        shift('["mon"]', "16:00", "20:00", "from = 2039-06-06\nuntil = 2039-06-07\n"),
    )
    assert one_error(text) == (
        "teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on 2039-06-06)"
    )


def test_rules_whose_ranges_only_share_a_holiday_do_not_overlap(make_team):
    """Two rules sharing one date, a holiday (Christmas), never both happen: no overlap."""
    shifts = [
        {"days": ["sat"], "start": "08:00", "end": "17:00", "until": "2027-12-26"},
        {"days": ["sat"], "start": "12:00", "end": "20:00", "from": "2027-12-25"},
    ]
    team = make_team(shifts=shifts, holidays={"country": "NL"}, timezone="Europe/Amsterdam")
    assert len(team.rules) == 2


def test_override_after_an_overnight_shift_overlaps_only_if_it_starts_before_its_end():
    """An override with hours 20:00-23:00 after a night ending 08:00 is fine; 06:00-10:00
    overlaps it, located at the override."""
    night = team_doc(shift(EVERY_DAY, "22:00", "08:00"))
    fine = night + '\n[[overrides]]\ndate = 2027-02-10\nstart = "20:00"\nend = "23:00"\n'
    assert load({SOURCE: fine}).teams["ams-l1"].slots(date(2027, 2, 10))[0].source == (
        "overrides[0]"
    )
    early = night + '\n[[overrides]]\ndate = 2027-02-10\nstart = "06:00"\nend = "10:00"\n'
    assert one_error(early) == (
        "teams/ams-l1.toml: overrides[0]: on 2027-02-10 overlaps shifts[0] of 2027-02-09"
    )


def test_overnight_override_spilling_into_the_next_days_shift_is_located_at_the_override():
    """An override 18:00-09:00 spills into the next day's 08:00 shift: the override is named."""
    text = team_doc() + '\n[[overrides]]\ndate = 2039-03-07\nstart = "18:00"\nend = "09:00"\n'
    assert one_error(text) == (
        "teams/ams-l1.toml: overrides[0]: on 2039-03-07 overlaps shifts[0] of 2039-03-08"
    )


def test_shifts_meeting_inside_the_spring_forward_gap_do_not_overlap():
    """02:00-03:00 does not exist on 2027-03-28 in Amsterdam: a night ending 02:30 and an
    override starting 02:15 both fall on 03:00 CEST, back to back on the real time line."""
    text = (
        team_doc(shift('["sat"]', "22:00", "02:30"))
        + '\n[[overrides]]\ndate = 2027-03-28\nstart = "02:15"\nend = "06:00"\n'
    )
    assert len(load({SOURCE: text}).teams["ams-l1"].overrides) == 1
    later = text.replace("2027-03-28", "2027-04-04")
    assert one_error(later) == (
        "teams/ams-l1.toml: overrides[0]: on 2027-04-04 overlaps shifts[0] of 2027-04-03"
    )


def test_overlap_is_reported_with_the_files_other_errors():
    """An overlap does not wait for the file's other mistakes to be fixed."""
    text = team_doc(
        shift(WEEKDAYS, "08:00", "17:00"), shift('["tue"]', "12:00", "20:00"), languages='["en_GB"]'
    )
    assert messages({SOURCE: text}) == [
        'teams/ams-l1.toml: languages[0]: "en_GB" is not a BCP 47 language tag',
        "teams/ams-l1.toml: shifts[1]: overlaps shifts[0] (both on shift on tue)",
    ]


# -- links between teams ----------------------------------------------------------------


def linked(tier: int, escalates_to: str | None = None) -> str:
    extra = f'escalates_to = "{escalates_to}"\n' if escalates_to else ""
    return team_doc(timezone="UTC", tier=tier, extra=extra)


def test_unknown_escalates_to():
    """escalates_to must name a team that exists."""
    found = messages({"teams/a.toml": linked(1, "emea-l9")})
    assert found == ['teams/a.toml: escalates_to: unknown team "emea-l9"']


def test_escalates_to_must_be_a_higher_tier():
    """A tier-2 team cannot escalate to another tier-2 (or a lower) team."""
    found = messages({"teams/a.toml": linked(2, "b"), "teams/b.toml": linked(2)})
    assert found == ['teams/a.toml: escalates_to: "b" is tier 2, not higher than tier 2']


def test_escalates_to_itself():
    """A team cannot escalate to itself."""
    found = messages({"teams/a.toml": linked(1, "a")})
    assert found == ["teams/a.toml: escalates_to: a team cannot escalate to itself"]


def test_cyclic_escalates_to():
    """A cycle a -> b -> c -> a is reported, naming the whole cycle."""
    found = messages(
        {
            "teams/a.toml": linked(1, "b"),
            "teams/b.toml": linked(2, "c"),
            "teams/c.toml": linked(3, "a"),
        }
    )
    assert "teams/a.toml: escalates_to: escalation cycle: a -> b -> c -> a" in found
    assert 'teams/c.toml: escalates_to: "a" is tier 1, not higher than tier 3' in found


def test_escalation_chain_up_the_tiers_is_valid():
    """a (1) -> b (2) -> c (3) loads."""
    schedules = load(
        {
            "teams/a.toml": linked(1, "b"),
            "teams/b.toml": linked(2, "c"),
            "teams/c.toml": linked(3),
        }
    )
    assert [schedules.teams[t].escalates_to for t in "abc"] == ["b", "c", None]


# -- the policy -------------------------------------------------------------------------


def test_policy_missing_matrix_entry():
    """Every impact × urgency needs a priority; a missing one is named."""
    policy = POLICY.replace('low    = { high = "P3", medium = "P4", low = "P4" }', "")
    found = messages({SOURCE: team_doc()}, policy)
    assert "policy.toml: matrix.low.high: missing (every impact × urgency needs a priority)" in (
        found
    )
    assert len(found) == 3


def test_policy_missing_priority():
    """A priority without targets is an error on priorities.P<n>."""
    policy = POLICY.split("[priorities.P4]")[0]
    assert messages({SOURCE: team_doc()}, policy) == ["policy.toml: priorities.P4: missing"]


def test_policy_missing_min_shift_left():
    """The policy must say min_shift_left."""
    policy = POLICY.replace('min_shift_left = "PT45M"', "")
    assert messages({SOURCE: team_doc()}, policy) == [
        "policy.toml: min_shift_left: required field is missing"
    ]


def test_policy_non_positive_target():
    """A zero acknowledgement target is rejected, located at the target."""
    policy = POLICY.replace('acknowledge = "PT15M"', 'acknowledge = "PT0M"')
    assert messages({SOURCE: team_doc()}, policy) == [
        "policy.toml: priorities.P1.acknowledge: must be a positive duration"
    ]


# -- all problems together --------------------------------------------------------------


def test_all_errors_of_a_file_are_reported_together():
    """One file with many mistakes gets every one of them in one run, in field order."""
    text = (
        team_doc(
            shift('["mon"]', "25:00", "17:00"),
            shift('["tue"]', "08:00", "08:00"),
            timezone="Mars/Olympus_Mons",
            languages='["en", "en_GB"]',
            extra='holidays = { country = "XX" }\n',
        )
        + '\n[[overrides]]\ndate = 2026-12-24\nclosed = true\nend = "12:00"\n'
    )
    found = messages({SOURCE: text})
    paths = [f.split(": ")[1] for f in found]
    assert paths == [
        "timezone",
        "languages[1]",
        "holidays.country",
        "shifts[0].start",
        "shifts[1].end",
        "overrides[0].closed",
    ]
    assert all(f.startswith("teams/ams-l1.toml: ") for f in found)


def test_errors_of_several_files_are_reported_together():
    """Problems in different files all come back from one load."""
    found = messages(
        {
            "teams/a.toml": team_doc(timezone="Nowhere/City"),
            "teams/b.toml": team_doc(shift(WEEKDAYS, "8am", "17:00")),
            "teams/c.toml": linked(1, "zz"),
        }
    )
    assert 'teams/a.toml: timezone: "Nowhere/City" is not an IANA timezone' in found
    assert any(f.startswith('teams/b.toml: shifts[0].start: "8am"') for f in found)
    assert 'teams/c.toml: escalates_to: unknown team "zz"' in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            team_doc()
            .replace("timezone =", "timezon =")
            .replace('skills = ["billing"]', 'skils = ["billing"]'),
            ["timezon", "skils"],
        ),
        (team_doc(shift('["mno"]', "25:00", "17:00")), ["shifts[0].days[0]", "shifts[0].start"]),
    ],
)
def test_structural_and_value_errors_of_a_file_are_reported_together(text, expected):
    """A misspelt key or day does not hide the file's other mistakes."""
    found = messages({SOURCE: text})
    for path in expected:
        assert any(f.startswith(f"teams/ams-l1.toml: {path}: ") for f in found), found


def test_policy_errors_do_not_hide_team_errors():
    """A broken policy and a broken team file are both reported in one run."""
    found = messages(
        {SOURCE: team_doc(timezone="Nowhere/City")}, POLICY.split("[priorities.P4]")[0]
    )
    assert "policy.toml: priorities.P4: missing" in found
    assert 'teams/ams-l1.toml: timezone: "Nowhere/City" is not an IANA timezone' in found


def test_schedule_error_text_lists_every_error():
    """str(ScheduleError) has one located line per error."""
    with pytest.raises(ScheduleError) as info:
        load({"teams/a.toml": team_doc(timezone="Nowhere/City"), "teams/b.toml": linked(1, "zz")})
    assert str(info.value).splitlines() == [
        'teams/a.toml: timezone: "Nowhere/City" is not an IANA timezone',
        'teams/b.toml: escalates_to: unknown team "zz"',
    ]


def test_invalid_toml_is_located_at_the_file():
    """Text that is not TOML is an error naming the file."""
    found = messages({SOURCE: 'name = "unterminated\n'})
    assert len(found) == 1
    assert found[0].startswith("teams/ams-l1.toml: not valid TOML")


# -- decode_team and team_from_spec on their own ----------------------------------------


def test_decode_team_rejects_unknown_field_with_location():
    """decode_team is strict and names the file and the misspelt key."""
    with pytest.raises(ScheduleError) as info:
        decode_team("ams-l1", team_doc().replace("timezone =", "timezon ="), SOURCE)
    assert [str(p) for p in info.value.problems] == [
        'teams/ams-l1.toml: timezon: unknown field (did you mean "timezone"?)'
    ]


def test_team_from_spec_validates_values():
    """team_from_spec rejects what decoding lets through: bad zone, time and language."""
    spec = decode_team("ams-l1", team_doc(shift(WEEKDAYS, "08:00", "8pm")), SOURCE)
    spec = msgspec.structs.replace(spec, timezone="Europe/Amsterdm", languages=["nl", "en_US"])
    with pytest.raises(ScheduleError) as info:
        team_from_spec("ams-l1", spec, SOURCE)
    assert [str(p) for p in info.value.problems] == [
        'teams/ams-l1.toml: timezone: "Europe/Amsterdm" is not an IANA timezone',
        'teams/ams-l1.toml: languages[1]: "en_US" is not a BCP 47 language tag',
        'teams/ams-l1.toml: shifts[0].end: "8pm" is not a time (HH:MM, 00:00 to 23:59)',
    ]


def test_team_from_spec_rejects_a_bad_team_id():
    """Team ids are lowercase letters, digits and dashes."""
    spec = msgspec.convert(
        {"name": "X", "timezone": "UTC", "tier": 1, "languages": ["en"]}, TeamSpec
    )
    with pytest.raises(ScheduleError, match=r'"AMS_L1" is not a team id'):
        team_from_spec("AMS_L1", spec, "teams/AMS_L1.toml")


def test_team_from_spec_builds_a_team(make_team):
    """A valid spec becomes a Team with canonical languages and weekday numbers."""
    team = make_team("ams-l1", languages=["zh-CN", "EN"], timezone="Asia/Singapore")
    assert [lang.tag for lang in team.languages] == ["zh-Hans-CN", "en"]
    assert team.rules[0].days == frozenset({0, 1, 2, 3, 4})
    assert str(team.zone) == "Asia/Singapore"


# -- warnings ---------------------------------------------------------------------------


def warnings_of(files: dict[str, str], now: datetime = NOW) -> list[str]:
    return [str(w) for w in load(files, now=now).warnings if w.severity == "warning"]


def test_dst_spring_forward_shortens_a_night_shift():
    """A Sunday 00:00-08:00 shift over the March change is warned about: 7h00, not 8h00."""
    found = warnings_of({SOURCE: team_doc(shift('["sun"]', "00:00", "08:00"))})
    assert (
        "teams/ams-l1.toml: shifts[0]: on 2027-03-28 (sun) the 00:00–08:00 shift lasts 7h00 "
        "instead of 8h00 (DST change in Europe/Amsterdam)"
    ) in found


def test_dst_fall_back_lengthens_an_overnight_shift():
    """A Saturday 22:00-06:00 shift over the October change lasts 9h00 instead of 8h00."""
    found = warnings_of({SOURCE: team_doc(shift('["sat"]', "22:00", "06:00"))})
    dst = [w for w in found if "DST change" in w]
    assert len(dst) == 2
    assert "on 2027-03-27 (sat)" in dst[0]
    assert "lasts 7h00 instead of 8h00" in dst[0]
    assert "on 2027-10-30 (sat)" in dst[1]
    assert "lasts 9h00 instead of 8h00" in dst[1]


def test_dst_warnings_cover_the_coming_year_only():
    """Warnings name the changes of the 366 days from now: none in the past, none further out."""
    text = team_doc(shift('["sun"]', "00:00", "08:00"))

    def dst_days(now: datetime) -> list[str]:
        return [w.split(" on ")[1][:10] for w in warnings_of({SOURCE: text}, now) if "DST" in w]

    assert dst_days(NOW) == ["2027-03-28", "2027-10-31"]
    assert dst_days(datetime(2027, 4, 1, tzinfo=UTC)) == ["2027-10-31", "2028-03-26"]


def test_day_shifts_get_no_dst_warning():
    """Shifts that never span a change (weekday office hours) give no DST warning."""
    found = warnings_of({SOURCE: team_doc(shift(WEEKDAYS, "08:00", "17:00"))})
    assert not [w for w in found if "DST" in w]


def test_dst_warning_for_a_shift_inside_the_spring_forward_gap():
    """A Sunday 02:00-03:00 shift vanishes in the March gap; the warning says it lasts 0h00."""
    found = warnings_of({SOURCE: team_doc(shift('["sun"]', "02:00", "03:00"))})
    march = [w for w in found if "2027-03-28" in w]
    assert len(march) == 1, found
    assert "lasts 0h00 instead of 1h00" in march[0]


def test_language_with_tier1_gaps_is_warned_about():
    """A tier-1 language with gaps in the next 28 days gets a coverage warning; a 24/7 one not."""
    every_day = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
    round_the_clock = team_doc(
        shift(every_day, "00:00", "12:00"), shift(every_day, "12:00", "00:00"), timezone="UTC"
    )
    files = {
        "teams/desk.toml": round_the_clock,
        "teams/tyo.toml": team_doc(timezone="Asia/Tokyo", languages='["ja", "en"]'),
    }
    found = warnings_of(files)
    coverage = [w for w in found if w.startswith("coverage: ")]
    assert len(coverage) == 1
    assert coverage[0].startswith("coverage: ja: tier 1 covers ")
    assert "gaps, largest" in coverage[0]


def test_team_without_shifts_is_warned_about():
    """A team with no shifts loads, with a warning that it is never on shift."""
    found = warnings_of({SOURCE: header()})
    assert "teams/ams-l1.toml: shifts: the team has no shifts and is never on shift" in found


def test_warnings_do_not_stop_loading():
    """A file with only warnings loads; its warnings are kept on the schedules."""
    schedules = load({SOURCE: team_doc(shift('["sun"]', "00:00", "08:00"))})
    assert "ams-l1" in schedules.teams
    assert schedules.warnings
    assert all(w.severity == "warning" for w in schedules.warnings)
