"""The `followsun` command: in-process through main(), and the installed console script."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, SCHEDULES

from router.cli import main

FOLLOWSUN = Path(sys.executable).parent / "followsun"
AT = "2026-11-23T09:00Z"  # Monday 10:00 in Amsterdam (CET, +01:00)
SIMULATE = ["simulate", "--from", "2026-11-23T00:00Z", "--hours", "24", "--cases", "100"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def oncall_json(capsys, *argv: str) -> list[dict]:
    code, out, err = run(capsys, "oncall", "--schedules", str(SCHEDULES), "--json", *argv)
    assert (code, err) == (0, "")
    return json.loads(out)


def feed_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def route_json(capsys, monkeypatch, escalation: dict, at: str = AT) -> dict:
    feed_stdin(monkeypatch, json.dumps(escalation).encode())
    code, out, err = run(capsys, "route", "--schedules", str(SCHEDULES), "--at", at, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def summary_line() -> str:
    """The line `check` should print, computed from the team files themselves."""
    docs = [tomllib.loads(p.read_text()) for p in (SCHEDULES / "teams").glob("*.toml")]
    zones = {d["timezone"] for d in docs}
    tiers = ", ".join(str(t) for t in sorted({d["tier"] for d in docs}))
    return f"{len(docs)} teams in {len(zones)} timezones, tiers {tiers}; no errors"


def console(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FOLLOWSUN), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture
def broken_schedules(tmp_path: Path) -> Path:
    """A copy of schedules/ whose ams-l1 Saturday shift starts at 25:00."""
    target = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, target)
    path = target / "teams" / "ams-l1.toml"
    text = path.read_text()
    assert text.count('start = "10:00"') == 1
    path.write_text(text.replace('start = "10:00"', 'start = "25:00"'))
    return target


# -- check ------------------------------------------------------------------------------


def test_check_accepts_the_repository_schedules(capsys):
    """`check` exits 0 on schedules/ and prints the team summary and tier-1 coverage lines."""
    code, out, err = run(capsys, "check", str(SCHEDULES), "--at", "2026-11-23T06:00Z")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert summary_line() in lines
    assert "tier-1 coverage 2026-11-23 06:00Z .. 2026-12-21 06:00Z (28 days):" in lines
    assert "  en          100.0%  no gaps" in lines
    ja = next(line for line in lines if line.startswith("  ja "))
    assert "largest gap" in ja
    assert not any(line.startswith("error") for line in lines)


def test_check_rejects_a_broken_team_with_the_located_error(capsys, broken_schedules):
    """`check` on a directory with a broken team exits 1 and prints where the error is."""
    code, out, _ = run(capsys, "check", str(broken_schedules), "--at", "2026-11-23T06:00Z")
    assert code == 1
    lines = out.splitlines()
    assert (
        'error: teams/ams-l1.toml: shifts[2].start: "25:00" is not a time (HH:MM, 00:00 to 23:59)'
    ) in lines
    assert "1 error(s); schedules rejected" in lines
    assert "no errors" not in out


def test_check_rejects_a_directory_that_is_not_schedules(capsys, tmp_path):
    """`check` on a directory without teams/ and policy.toml exits 1 and says so."""
    code, out, _ = run(capsys, "check", str(tmp_path), "--at", "2026-11-23T06:00Z")
    assert code == 1
    assert "not a schedules directory" in out


def test_other_commands_refuse_broken_schedules(capsys, broken_schedules):
    """`oncall` on broken schedules exits 1 and points at `followsun check`."""
    code, out, err = run(capsys, "oncall", "--schedules", str(broken_schedules), "--at", AT)
    assert (code, out) == (1, "")
    assert "run `followsun check`" in err
    assert 'teams/ams-l1.toml: shifts[2].start: "25:00" is not a time' in err


# -- oncall -----------------------------------------------------------------------------


def test_oncall_json_gives_utc_and_local_times_of_the_shift(capsys):
    """ams-l1 at 09:00Z on a November Monday: 08:00-17:00 +01:00, i.e. 07:00Z-16:00Z."""
    rows = {r["team"]: r for r in oncall_json(capsys, "--at", AT)}
    ams = rows["ams-l1"]
    assert ams["tier"] == 1
    assert ams["languages"] == ["nl", "en", "de"]
    assert ams["timezone"] == "Europe/Amsterdam"
    assert (ams["start"], ams["end"]) == ("2026-11-23T07:00:00Z", "2026-11-23T16:00:00Z")
    assert (ams["local_start"], ams["local_end"]) == (
        "2026-11-23T08:00:00+01:00",
        "2026-11-23T17:00:00+01:00",
    )


def test_oncall_json_follows_dst_and_the_new_rota(capsys):
    """ams-l1 in June 2027 works the new 08:00-18:00 rota in CEST: 06:00Z-16:00Z, +02:00."""
    rows = {r["team"]: r for r in oncall_json(capsys, "--at", "2027-06-01T09:00Z")}
    ams = rows["ams-l1"]
    assert (ams["start"], ams["end"]) == ("2027-06-01T06:00:00Z", "2027-06-01T16:00:00Z")
    assert ams["local_end"] == "2027-06-01T18:00:00+02:00"


def test_oncall_json_shows_an_overnight_shift_from_the_previous_day(capsys):
    """eng-amer-l3's Sunday 22:00-06:00 Los Angeles shift is on at Monday 09:00Z."""
    rows = {r["team"]: r for r in oncall_json(capsys, "--at", AT)}
    eng = rows["eng-amer-l3"]
    assert eng["tier"] == 3
    assert (eng["start"], eng["end"]) == ("2026-11-23T06:00:00Z", "2026-11-23T14:00:00Z")
    assert eng["local_start"] == "2026-11-22T22:00:00-08:00"
    assert eng["local_end"] == "2026-11-23T06:00:00-08:00"


def test_oncall_lists_teams_by_tier_then_id(capsys):
    """Rows come ordered by tier, then team id, and only teams on shift appear."""
    rows = oncall_json(capsys, "--at", AT)
    keys = [(r["tier"], r["team"]) for r in rows]
    assert keys == sorted(keys)
    assert "tyo-l1" not in {r["team"] for r in rows}  # 18:00 in Tokyo, and a holiday
    assert "nyc-l1" not in {r["team"] for r in rows}  # 04:00 in New York


def test_oncall_naive_time_with_tz(capsys):
    """`--at 2026-11-23T10:00 --tz Europe/Amsterdam` is the same instant as 09:00Z."""
    local = oncall_json(capsys, "--at", "2026-11-23T10:00", "--tz", "Europe/Amsterdam")
    assert local == oncall_json(capsys, "--at", AT)


def test_oncall_language_filter(capsys):
    """--language ja at 09:00Z Monday: only APAC tier 2 (Tokyo is off and on holiday)."""
    assert [r["team"] for r in oncall_json(capsys, "--at", AT, "--language", "ja")] == ["apac-l2"]


def test_oncall_language_filter_uses_base_match_and_script(capsys):
    """--language en-GB finds English teams; zh-TW finds no Simplified Chinese team."""
    english = {r["team"] for r in oncall_json(capsys, "--at", AT, "--language", "en-GB")}
    assert {"ams-l1", "dub-l1", "emea-l2"} <= english
    assert oncall_json(capsys, "--at", "2026-11-23T03:00Z", "--language", "zh-Hans") != []
    assert oncall_json(capsys, "--at", "2026-11-23T03:00Z", "--language", "zh-TW") == []


def test_oncall_skill_and_tier_filters(capsys):
    """--tier 2 lists the tier-2 teams on shift; adding --skill security keeps sec-l2."""
    tier2 = [r["team"] for r in oncall_json(capsys, "--at", AT, "--tier", "2")]
    assert tier2 == ["apac-l2", "emea-l2", "sec-l2"]
    both = oncall_json(capsys, "--at", AT, "--tier", "2", "--skill", "security")
    assert [r["team"] for r in both] == ["sec-l2"]
    assert all("security" in r["skills"] for r in both)


def test_oncall_text_output(capsys):
    """Without --json, oncall prints a count and one line per team with local end time."""
    code, out, _ = run(capsys, "oncall", "--schedules", str(SCHEDULES), "--at", AT, "--tier", "3")
    assert code == 0
    assert out.splitlines()[0] == "on shift at 2026-11-23 09:00Z: 2 team(s)"
    assert "until 14:00Z (local 06:00 America/Los_Angeles)" in out


def test_schedules_directory_from_the_environment(capsys, monkeypatch, tmp_path):
    """Without --schedules, FOLLOWSUN_SCHEDULES says where the schedules are."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOLLOWSUN_SCHEDULES", str(SCHEDULES))
    code, out, _ = run(capsys, "oncall", "--at", AT, "--json", "--tier", "3")
    assert code == 0
    assert [r["team"] for r in json.loads(out)] == ["eng-amer-l3", "eng-emea-l3"]


# -- route ------------------------------------------------------------------------------


def test_route_json_assigns_a_fallback_team(capsys, monkeypatch):
    """A P2 Japanese billing case on a Tokyo holiday goes to an English team, with reasons."""
    esc = {
        "customer": {"id": "c-1", "locale": "ja", "accepts": ["en"]},
        "priority": "P2",
        "skill": "billing",
    }
    d = route_json(capsys, monkeypatch, esc)
    assert d["action"] == "assign"
    assert d["team"] == "dub-l1"
    assert d["language_match"] == "fallback"
    assert d["ack_due"] == "2026-11-23T10:00:00Z"
    assert d["shift_ends_at"] == "2026-11-23T19:00:00Z"
    assert any("dub-l1" in r for r in d["reasons"])
    assert any("2026-11-24T00:00Z (tyo-l1)" in r for r in d["reasons"])


def test_route_json_waits_for_tokyo(capsys, monkeypatch):
    """A P3 Japanese case at 22:00Z waits for tyo-l1, which starts at 00:00Z."""
    esc = {
        "customer": {"id": "c-1", "locale": "ja-JP", "accepts": ["en"]},
        "impact": "medium",
        "urgency": "medium",
        "skill": "billing",
    }
    d = route_json(capsys, monkeypatch, esc, at="2026-11-24T22:00Z")
    assert (d["action"], d["team"], d["priority"]) == ("wait", "tyo-l1", "P3")
    assert d["starts_at"] == "2026-11-25T00:00:00Z"
    assert d["language_match"] == "base"
    assert d["reasons"]


def test_route_json_security_flag_goes_to_tier_two(capsys, monkeypatch):
    """A security-flagged case goes to a tier-2 team with the security skill."""
    esc = {
        "customer": {"id": "c-1", "locale": "de"},
        "priority": "P3",
        "skill": "security",
        "flags": ["security"],
    }
    d = route_json(capsys, monkeypatch, esc)
    assert (d["action"], d["team"], d["tier"]) == ("assign", "sec-l2", 2)
    assert d["language_match"] == "exact"


def test_route_text_output(capsys, monkeypatch):
    """Without --json, route prints the action line and one line per reason."""
    feed_stdin(monkeypatch, b'{"customer": {"id": "c-1", "locale": "nl"}, "priority": "P3"}')
    code, out, _ = run(capsys, "route", "--schedules", str(SCHEDULES), "--at", AT)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "assign: ams-l1 (tier 1, P3)"
    assert len(lines) >= 2
    assert all(line.startswith("  - ") for line in lines[1:])


# -- simulate ---------------------------------------------------------------------------


def simulate_out(capsys) -> str:
    code, out, err = run(capsys, *SIMULATE, "--seed", "3", "--schedules", str(SCHEDULES))
    assert (code, err) == (0, "")
    return out


def test_simulate_prints_the_handover_timeline_with_local_times(capsys):
    """The timeline lists shift ends in UTC with the leaving team's local time."""
    out = simulate_out(capsys)
    lines = out.splitlines()
    assert lines[0] == "simulation 2026-11-23 00:00Z .. 2026-11-24 00:00Z, 100 escalations, seed 3"
    assert "handover timeline (UTC | leaving team local -> receiving team local):" in lines
    ams = next(line for line in lines if " ams-l1 " in line)
    assert ams.startswith("  Mon 16:00Z  ams-l1       ends Mon 17:00 CET")
    nyc = next(line for line in lines if " nyc-l1 " in line)
    assert nyc.startswith("  Mon 03:00Z  nyc-l1       ends Sun 22:00 EST")


def test_simulate_counts_every_escalation(capsys):
    """Counts by action add up to the number of cases."""
    lines = simulate_out(capsys).splitlines()
    actions = next(line for line in lines if line.startswith("escalations by action: "))
    counts = dict(part.split() for part in actions.split(": ", 1)[1].split(", "))
    assert set(counts) <= {"assign", "wait", "unroutable"}
    assert sum(int(n) for n in counts.values()) == 100
    assert any(line.startswith("by language match: ") for line in lines)
    assert "  en          100.0%" in lines


def test_simulate_handover_lines_read_cleanly(capsys):
    """Each handover line says what moved; none starts its outcome with a dangling comma."""
    lines = simulate_out(capsys).splitlines()
    start = lines.index("handover timeline (UTC | leaving team local -> receiving team local):")
    timeline = lines[start + 1 : lines.index("", start)]
    assert len(timeline) >= 15
    for line in timeline:
        outcome = line.split(" ends ", 1)[1][16:].lstrip()
        assert outcome, line
        assert not outcome.startswith(","), line


def test_simulate_is_deterministic(capsys):
    """The same seed gives the same output twice; another seed gives another stream."""
    first = simulate_out(capsys)
    assert simulate_out(capsys) == first
    code, other, _ = run(capsys, *SIMULATE, "--seed", "4", "--schedules", str(SCHEDULES))
    assert code == 0
    assert other != first


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["oncall", "--at", "2026-11-23T10:00", "--tz", "Europe/Amsterdm"], "--tz"),
        (["oncall", "--at", "yesterday"], "--at"),
        (["oncall", "--at", "2026-11-23T10:00"], "no UTC offset"),
        (["oncall", "--at", AT, "--language", "en_US"], "--language"),
        (["simulate", "--from", "2026-13-01T00:00Z"], "--from"),
        (["simulate", "--from", AT, "--hours", "0"], "--hours"),
    ],
)
def test_bad_argument_prints_one_line_and_exits_2(capsys, argv, needle):
    """A bad argument prints one line on stderr naming it, nothing on stdout, and exits 2."""
    code, out, err = run(capsys, *argv, "--schedules", str(SCHEDULES))
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"followsun {argv[0]}: ")
    assert needle in err


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"customer": ', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"customer": {"id": "c"}, "priorty": "P1"}', "priorty"),
        (b'{"customer": {"id": "c"}, "priority": "P9"}', "priority"),
        (b'{"customer": {"id": "c", "timezone": "Mars/Base"}, "priority": "P1"}', "timezone"),
        (b'{"customer": {"id": "c", "locale": "en_US"}, "priority": "P1"}', "customer.locale"),
        (b'{"customer": {"id": "c"}}', "priority"),
    ],
)
def test_bad_escalation_prints_one_line_and_exits_2(capsys, monkeypatch, body, needle):
    """A malformed or invalid escalation on stdin is one stderr line and exit 2."""
    feed_stdin(monkeypatch, body)
    code, out, err = run(capsys, "route", "--schedules", str(SCHEDULES), "--at", AT)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith("followsun route: ")
    assert needle in err


# -- the installed console script -------------------------------------------------------


def test_console_script_check_exits_0_with_coverage():
    """The installed `followsun check` validates schedules/ and exits 0."""
    proc = console("check", "schedules", "--at", "2026-11-23T06:00Z")
    assert proc.returncode == 0, proc.stderr
    assert summary_line() in proc.stdout.splitlines()
    assert "  en          100.0%  no gaps" in proc.stdout


def test_console_script_check_exits_1_on_a_broken_team(broken_schedules):
    """The installed script exits 1 on errors and prints them."""
    proc = console("check", str(broken_schedules), "--at", "2026-11-23T06:00Z")
    assert proc.returncode == 1
    assert 'teams/ams-l1.toml: shifts[2].start: "25:00" is not a time' in proc.stdout


def test_console_script_bad_zone_exits_2_with_one_line():
    """The installed script exits 2 with one stderr line for an unknown --tz."""
    proc = console("oncall", "--at", "2026-11-23T10:00", "--tz", "Mars/Olympus")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        'followsun oncall: --tz: "Mars/Olympus" is not an IANA timezone'
    ]


def test_console_script_reads_an_escalation_from_stdin():
    """`followsun route --json` in a real process reads the escalation piped to it."""
    proc = subprocess.run(
        [str(FOLLOWSUN), "route", "--at", AT, "--json"],
        input='{"customer": {"id": "c-1", "locale": "fr"}, "priority": "P3"}',
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["action"], d["team"], d["language_match"]) == ("assign", "par-l1", "exact")


def test_console_script_simulation_is_reproducible_across_processes(capsys):
    """Two processes with different hash seeds print the same simulation as main() does."""
    argv = [*SIMULATE, "--seed", "3"]
    first = console(*argv, PYTHONHASHSEED="1")
    second = console(*argv, PYTHONHASHSEED="2")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout == simulate_out(capsys)


# -- schedules load | export: teams and the policy ------------------------------------------


@pytest.fixture
def store_env(monkeypatch, redis_url: str, key_prefix: str) -> str:
    """`schedules load|export` on the test's Redis under the test's key prefix."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("FOLLOWSUN_KEY_PREFIX", key_prefix)
    return key_prefix


def test_the_exported_policy_reads_back_equal_with_durations_as_people_write_them(tmp_path):
    """write_policy: ISO 8601 in whole units (PT45M, not msgspec's PT2700S), equal on reading."""
    from router.domain.validation import decode_policy
    from router.schedule_files import read_policy, write_policy

    policy = read_policy(SCHEDULES)
    text = write_policy(tmp_path, policy).read_text()
    assert decode_policy(text) == policy
    assert 'min_shift_left = "PT45M"' in text
    assert 'acknowledge = "PT15M"' in text
    assert 'resolve = "P7D"' in text
    assert tomllib.loads(text)["matrix"]["high"] == {"high": "P1", "medium": "P2", "low": "P3"}


def test_schedules_load_writes_the_policy_only_when_it_changed(capsys, store_env, tmp_path):
    """The summary line says whether the policy changed; a second load changes nothing."""
    source = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, source)
    teams = len(list((SCHEDULES / "teams").glob("*.toml")))
    code, out, err = run(capsys, "schedules", "load", str(source))
    assert code == 0, err
    assert out.strip() == f"loaded {source}: {teams} team(s) changed, policy changed"
    code, out, _ = run(capsys, "schedules", "load", str(source))
    assert out.strip() == f"loaded {source}: 0 team(s) changed, policy unchanged"

    path = source / "policy.toml"
    path.write_text(path.read_text().replace('acknowledge = "PT4H"', 'acknowledge = "PT10M"'))
    code, out, _ = run(capsys, "schedules", "load", str(source))
    assert out.strip() == f"loaded {source}: 0 team(s) changed, policy changed"


def test_schedules_load_refuses_a_broken_policy(capsys, store_env, tmp_path):
    source = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, source)
    path = source / "policy.toml"
    row = 'low    = { high = "P3", medium = "P4", low = "P4" }'
    assert row in path.read_text()
    path.write_text(path.read_text().replace(row, ""))
    code, out, err = run(capsys, "schedules", "load", str(source))
    assert code == 1
    assert "policy.toml: matrix.low" in err
    assert out == ""


def test_schedules_export_then_load_round_trips_teams_and_policy(capsys, store_env, tmp_path):
    """load DIR, export OUT, load OUT: nothing changes, and OUT/policy.toml is DIR's policy."""
    from router.schedule_files import read_policy, read_team_specs

    source = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, source)
    path = source / "policy.toml"
    path.write_text(path.read_text().replace('acknowledge = "PT4H"', 'acknowledge = "PT10M"'))
    assert run(capsys, "schedules", "load", str(source))[0] == 0

    out_dir = tmp_path / "exported"
    code, out, err = run(capsys, "schedules", "export", str(out_dir))
    assert code == 0, err
    assert "and the policy (version 1) to" in out
    assert read_policy(out_dir) == read_policy(source)
    assert 'acknowledge = "PT10M"' in (out_dir / "policy.toml").read_text()
    assert read_team_specs(out_dir) == read_team_specs(source)

    code, out, _ = run(capsys, "schedules", "load", str(out_dir))
    assert out.strip() == f"loaded {out_dir}: 0 team(s) changed, policy unchanged"
    code, out, _ = run(capsys, "check", str(out_dir), "--at", AT)
    assert code == 0, out


def test_schedules_export_says_when_the_store_has_no_policy(capsys, store_env, tmp_path):
    code, out, err = run(capsys, "schedules", "export", str(tmp_path / "out"))
    assert code == 0, err
    assert "no policy in the store" in out
    assert not (tmp_path / "out" / "policy.toml").exists()


def test_up_seeds_the_teams_and_the_policy_it_finds_missing(capsys, store_env, redis_url):
    """`up` loads schedules/ into a store without teams or without a policy, not over them."""
    import asyncio

    from router.cli.service import _seed_empty_store
    from router.settings import Settings
    from router.store import Keys, PolicyStore, connect

    settings = Settings(redis_url=redis_url, key_prefix=store_env, schedules=SCHEDULES)
    teams = len(list((SCHEDULES / "teams").glob("*.toml")))
    assert _seed_empty_store(settings) == f"{teams} team(s) and the policy"
    assert _seed_empty_store(settings) == ""

    async def drop_policy() -> None:
        redis = connect(redis_url)
        keys = Keys(store_env)
        await redis.delete(keys.policy)
        assert await PolicyStore(redis, keys).get() is None
        await redis.aclose()

    asyncio.run(drop_policy())
    assert _seed_empty_store(settings) == "the policy"
