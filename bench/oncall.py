"""Benchmark: "who is on shift at t" through ShiftIndex against a naive per-team scan.

500 seeded random teams (about 40 IANA zones, including half- and quarter-hour offsets
and Lord Howe's half-hour DST; 1-3 non-overlapping weekly rules, some overnight, some
with a holiday calendar, some with dated overrides) and 10,000 random instants in 2027.

- index: `ShiftIndex.build(teams, 2027-01-01, 2028-01-01)` once (build time printed on its
  own), then every `index.at(t)` timed on its own with `time.perf_counter_ns`;
- naive: for each team, t in the team's zone, the slots of that local date and the day
  before (`team.slots`, so holidays and overrides count), each turned into an occurrence
  with `shift_of_slot` and tested; timed per query on the first 1,000 instants.

Both must name the same teams for every instant of the naive subset and for instants on
and next to shift boundaries; the naive scan is itself checked against
`router.domain.shifts.on_shift` on a sample. Any disagreement exits with status 1.

Run: `.venv/bin/python bench/oncall.py`. The last line is `ratio: X`, X = naive median /
index median.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from router.domain.errors import ScheduleError
from router.domain.index import ShiftIndex
from router.domain.model import DAYS, Team, TeamSpec
from router.domain.shifts import on_shift, shift_of_slot
from router.domain.validation import team_from_spec

SEED = 20270101
TEAMS = 500
QUERIES = 10_000
NAIVE_QUERIES = 1_000
BOUNDARY_SAMPLES = 250  # shift starts/ends (and the µs before them) checked for equality
ON_SHIFT_SAMPLES = 100  # naive scan cross-checked against router.domain.shifts.on_shift
START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2028, 1, 1, tzinfo=UTC)
TARGET_RATIO = 20.0
TARGET_INDEX_US = 20.0

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Halifax",
    "America/St_Johns",
    "America/Mexico_City",
    "America/Bogota",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "Asia/Dubai",
    "Asia/Tehran",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
)

HOLIDAYS: tuple[dict[str, str], ...] = (
    {"country": "NL"},
    {"country": "US"},
    {"country": "US", "subdiv": "CA"},
    {"country": "DE"},
    {"country": "GB"},
    {"country": "IN"},
    {"country": "BR"},
    {"country": "JP"},
    {"country": "AU", "subdiv": "NSW"},
    {"country": "NP"},
    {"country": "NZ"},
)

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
WEEKEND = ["sat", "sun"]
SUN_THU = ["sun", "mon", "tue", "wed", "thu"]


def _hm(minutes: int) -> str:
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clock(rng: random.Random, lo: int, hi: int) -> int:
    """Minutes after midnight in hours [lo, hi], mostly on the hour, sometimes :15/:30/:45."""
    minute = rng.choices((0, 30, 15, 45), weights=(6, 3, 1, 1))[0]
    return rng.randint(lo, hi) * 60 + minute


def _rule(days: list[str], start: int, end: int, **window: str) -> dict[str, Any]:
    return {"days": days, "start": _hm(start), "end": _hm(end), **window}


def _random_rules(rng: random.Random) -> list[dict[str, Any]]:
    """1-3 weekly rules; validation rejects overlapping ones and the caller draws again."""
    kind = rng.choices(
        ("office", "overnight", "split", "three", "weekend", "seasonal"),
        weights=(4, 2, 2, 1, 2, 1),
    )[0]
    if kind == "office":  # one day shift
        start = _clock(rng, 6, 11)
        days = rng.choice((WEEKDAYS, SUN_THU, [*WEEKDAYS, "sat"], DAYS))
        return [_rule(list(days), start, start + rng.randint(6, 12) * 60)]
    if kind == "overnight":  # a night shift, sometimes with a day shift on other days
        start = _clock(rng, 17, 23)
        rules = [_rule(rng.choice((WEEKDAYS, SUN_THU)), start, start + rng.randint(7, 11) * 60)]
        if rng.random() < 0.5:
            day = _clock(rng, 9, 12)
            rules.append(_rule(WEEKEND, day, day + rng.randint(4, 8) * 60))
        return rules
    if kind == "split":  # early and late on the same days, back to back
        start = _clock(rng, 5, 8)
        mid = start + rng.randint(6, 8) * 60
        days = rng.choice((WEEKDAYS, DAYS))
        return [_rule(list(days), start, mid), _rule(list(days), mid, mid + rng.randint(5, 8) * 60)]
    if kind == "three":  # round the clock in three 8-hour shifts (the last one overnight)
        start = _clock(rng, 5, 8)
        days = rng.choice((WEEKDAYS, DAYS))
        return [_rule(list(days), start + k * 480, start + (k + 1) * 480) for k in range(3)]
    if kind == "weekend":  # weekdays plus a weekend rule, one of them maybe overnight
        start = _clock(rng, 7, 10)
        rules = [_rule(WEEKDAYS, start, start + rng.randint(7, 10) * 60)]
        w = _clock(rng, 8, 20)
        rules.append(_rule(WEEKEND, w, w + rng.randint(4, 10) * 60))
        return rules
    # seasonal: winter and summer hours, switching on a date in 2027
    switch = date(2027, rng.randint(3, 10), rng.randint(1, 28)).isoformat()
    a, b = _clock(rng, 6, 9), _clock(rng, 7, 10)
    return [
        _rule(WEEKDAYS, a, a + rng.randint(7, 9) * 60, until=switch),
        _rule(WEEKDAYS, b, b + rng.randint(7, 9) * 60, **{"from": switch}),
    ]


def _random_overrides(rng: random.Random) -> list[dict[str, Any]]:
    days = sorted(
        {date(2027, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(rng.randint(1, 6))}
    )
    out: list[dict[str, Any]] = []
    for day in days:
        if rng.random() < 0.5:
            out.append({"date": day.isoformat(), "closed": True})
        else:
            start = _clock(rng, 8, 13)
            out.append(
                {
                    "date": day.isoformat(),
                    "start": _hm(start),
                    "end": _hm(start + rng.randint(2, 6) * 60),
                }
            )
    return out


def random_team(rng: random.Random, team_id: str) -> tuple[Team, int]:
    """A valid random team (drawn again while validation finds overlaps), and the retries."""
    zone = rng.choice(ZONES)
    holidays = dict(rng.choice(HOLIDAYS)) if rng.random() < 0.4 else None
    for attempt in range(100):
        data: dict[str, Any] = {
            "name": f"Team {team_id}",
            "timezone": zone,
            "tier": rng.randint(1, 3),
            "languages": ["en"],
            "skills": ["billing"],
            "shifts": _random_rules(rng),
        }
        if holidays:
            data["holidays"] = holidays
        if rng.random() < 0.3:
            data["overrides"] = _random_overrides(rng)
        try:
            spec = msgspec.convert(data, TeamSpec)
            return team_from_spec(team_id, spec, f"teams/{team_id}.toml"), attempt
        except ScheduleError:
            continue
    raise SystemExit(f"could not draw a valid team {team_id}")


def random_instants(rng: random.Random, count: int) -> list[datetime]:
    span_us = int((END - START).total_seconds()) * 1_000_000
    return [START + timedelta(microseconds=rng.randrange(span_us)) for _ in range(count)]


def naive_at(teams: Sequence[Team], instant: datetime) -> list[str]:
    """Team ids on shift at `instant`: each team's slots of today and yesterday, locally."""
    found = []
    for team in teams:
        today = instant.astimezone(team.zone).date()
        for day in (today - timedelta(days=1), today):
            for slot in team.slots(day):
                shift = shift_of_slot(team, day, slot)
                if shift.start <= instant < shift.end:
                    found.append(team.id)
    return found


def index_ids(index: ShiftIndex, instant: datetime) -> list[str]:
    return [s.team for s in index.at(instant)]


def time_each(
    fn: Callable[[datetime], Any], instants: Sequence[datetime]
) -> tuple[list[int], list[Any]]:
    """Nanoseconds of every call (one timer pair per call, GC off), and the results."""
    clock = time.perf_counter_ns
    times, results = [], []
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        for t in instants:
            t0 = clock()
            r = fn(t)
            times.append(clock() - t0)
            results.append(r)
    finally:
        if gc_was_on:
            gc.enable()
    return times, results


def timer_overhead_ns() -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(10_000):
        t0 = clock()
        samples.append(clock() - t0)
    return statistics.median(samples)


def pct(ns: list[int], q: float) -> float:
    return sorted(ns)[min(len(ns) - 1, int(q * len(ns)))] / 1000


def main() -> int:
    wall0 = time.perf_counter()
    rng = random.Random(SEED)

    t0 = time.perf_counter()
    drawn = [random_team(rng, f"team-{i:03d}") for i in range(TEAMS)]
    teams = [team for team, _ in drawn]
    retries = sum(n for _, n in drawn)
    gen_s = time.perf_counter() - t0
    overnight = sum(any(r.end < r.start for r in t.rules) for t in teams)
    print(
        f"teams: {len(teams)} in {len({t.zone.key for t in teams})} zones, "
        f"{sum(len(t.rules) for t in teams)} rules ({overnight} teams with an overnight rule), "
        f"{sum(t.holiday_dates is not None for t in teams)} with holidays, "
        f"{sum(bool(t.overrides) for t in teams)} with overrides "
        f"[generated in {gen_s:.2f} s, {retries} redraws]"
    )

    instants = random_instants(rng, QUERIES)
    naive_instants = instants[:NAIVE_QUERIES]

    gc.collect()
    t0 = time.perf_counter()
    index = ShiftIndex.build(teams, START, END)
    build_s = time.perf_counter() - t0
    print(
        f"index build: {build_s:.3f} s for {len(index)} shift occurrences "
        f"over {START:%Y-%m-%d} .. {END:%Y-%m-%d} (includes the holiday calendars' first fill)"
    )

    # Warm both paths a little, then time them; the results are kept for the check below.
    for t in instants[-200:]:
        index.at(t)
    for t in instants[-10:]:
        naive_at(teams, t)
    overhead = timer_overhead_ns()
    index_ns, index_res = time_each(index.at, instants)
    naive_ns, naive_res = time_each(lambda t: naive_at(teams, t), naive_instants)
    index_med = statistics.median(index_ns) / 1000
    naive_med = statistics.median(naive_ns) / 1000
    sizes = [len(r) for r in index_res]

    # Correctness: the timed naive subset, plus instants on and 1 µs before shift boundaries.
    pairs = [
        (t, [s.team for s in got], want)
        for t, got, want in zip(naive_instants, index_res, naive_res, strict=False)
    ]
    boundary: list[datetime] = []
    for shift in rng.sample(list(index), BOUNDARY_SAMPLES):
        for t in (shift.start, shift.end):
            for d in (timedelta(0), timedelta(microseconds=-1)):
                if START <= t + d < END:
                    boundary.append(t + d)
    pairs += [(t, index_ids(index, t), naive_at(teams, t)) for t in boundary]
    mismatches = [
        (t, got, want) for t, got, want in pairs if set(got) != set(want) or len(got) != len(want)
    ]
    oracle_bad = []
    for t in rng.sample(naive_instants, ON_SHIFT_SAMPLES):
        want = sorted(team.id for team in teams if on_shift(team, t) is not None)
        if sorted(naive_at(teams, t)) != want:
            oracle_bad.append(t)
    print(
        f"correctness: {len(pairs) - len(mismatches)}/{len(pairs)} instants agree "
        f"({len(naive_instants)} random + {len(boundary)} on/just before shift boundaries); "
        f"naive vs on_shift(): {ON_SHIFT_SAMPLES - len(oracle_bad)}/{ON_SHIFT_SAMPLES} agree"
    )
    for t, got, want in mismatches[:5]:
        print(
            f"  MISMATCH at {t.isoformat()}: index-only {sorted(set(got) - set(want))}, "
            f"naive-only {sorted(set(want) - set(got))}, index {len(got)} vs naive {len(want)}"
        )
    for t in oracle_bad[:5]:
        print(f"  NAIVE DISAGREES WITH on_shift() at {t.isoformat()}")

    print(f"timer overhead (perf_counter_ns pair, included below): {overhead:.0f} ns")
    print(
        f"index.at:  median {index_med:.2f} µs/query over {len(index_ns)} queries "
        f"(p10 {pct(index_ns, 0.1):.2f}, p90 {pct(index_ns, 0.9):.2f}, "
        f"p99 {pct(index_ns, 0.99):.2f} µs; {statistics.mean(sizes):.0f} teams on shift on average)"
    )
    print(
        f"naive:     median {naive_med:.2f} µs/query over {len(naive_ns)} queries "
        f"(p10 {pct(naive_ns, 0.1):.2f}, p90 {pct(naive_ns, 0.9):.2f} µs; "
        f"{len(teams)} teams scanned per query)"
    )
    ratio = naive_med / index_med
    ok_ratio, ok_abs = ratio >= TARGET_RATIO, index_med < TARGET_INDEX_US
    print(f"target ratio >= {TARGET_RATIO:.0f}: {'met' if ok_ratio else 'MISSED'}")
    print(f"target index median < {TARGET_INDEX_US:.0f} µs: {'met' if ok_abs else 'MISSED'}")
    print(f"total runtime: {time.perf_counter() - wall0:.1f} s")
    failed = bool(mismatches or oracle_bad)
    if failed:
        print("FAILED: index and naive baseline disagree", file=sys.stderr)
    print(f"ratio: {ratio:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
