"""Benchmark: one customer update through `router.i18n.render.render` against the raw Babel
calls that produce the same text.

A seeded mix of 1,000 updates, cycled: customers speaking en, de, cs, ar, ja, pt-BR and
zh-Hans (each in a zone of its own), and three events, one third each:

- received: a due date and the plural "within N minutes/hours/days" (all three units);
- handed_over: the next update's date and the region the case moved to;
- waiting: the start of the team that will pick the case up.

About half the customers have a name (the other greeting), half a status URL (one more
paragraph).

- render: `render(catalogs, event, tag=..., timezone=..., now=..., params=...)` exactly as
  the outbox calls it (negotiation, zone lookup and all);
- raw: for the same update, with the locale code, Translations object (`catalogs.get`) and
  ZoneInfo resolved beforehand, only the calls the text needs: `astimezone`, Babel's
  `get_datetime_format` + `format_date` + `format_time` (as `local_time` does), one
  `gettext` each for the subject, body, greeting and closing (and the status-URL line when
  there is one), one `ngettext` for "within" (received) and one `pgettext` for the region
  (handed_over), then the same `%` substitutions and join.

Both must give the same subject and body for every update of the mix (exit status 1 if
not). Each side runs 20,000 updates per round, 5 rounds, interleaved, GC off while timing;
the best round counts (the median is printed too). Calls to the gettext family and to
babel.dates per update are counted with a profile hook on one pass over the mix.

The e-mail phase times what a customer with an address costs the dispatcher: render as
above, then the whole MIME message `router.services.mail.update_message` builds with the
`email` package (the Delivered record, a Message tree of headers, text and HTML parts in
base64, written by `email.generator.Generator`), interleaved with the other two sides in
the same rounds; every message of the mix is parsed back with the `email` package (policy
SMTP) and must carry the raw side's subject and body. A reference line times the same
updates built the obvious way, `EmailMessage` with policy SMTP (400 updates, best of 3).
Its line `email ratio: Y`, Y = e-mail µs per update / raw µs per update, target Y <= 2,
comes just before the last.

Run: `.venv/bin/python bench/render.py [--profile]`. The last line is `ratio: X`, X = render
µs per update / raw µs per update; the target is X <= 2. `--profile` also runs render
and the e-mail under cProfile and prints where their time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import email
import gc
import html
import io
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from babel.support import Translations

from router.domain.delivery import Delivered
from router.i18n.catalogs import Catalogs
from router.i18n.render import render
from router.services.mail import update_message

SEED = 20261123
CASES = 1_000
RENDERS = 20_000
ROUNDS = 5
TARGET_RATIO = 2.0

# tag the customer sends -> catalog it must negotiate to, and the customer's zone
CUSTOMERS = (
    ("en", "en", "America/New_York"),
    ("de", "de", "Europe/Berlin"),
    ("cs", "cs", "Europe/Prague"),
    ("ar", "ar", "Asia/Riyadh"),
    ("ja", "ja", "Asia/Tokyo"),
    ("pt-BR", "pt_BR", "America/Sao_Paulo"),
    ("zh-Hans", "zh_Hans", "Asia/Shanghai"),
)
EVENTS = ("received", "handed_over", "waiting")
REGIONS = {
    "EMEA": "Europe, the Middle East and Africa",
    "AMER": "the Americas",
    "APAC": "Asia-Pacific",
}

# The msgids render uses for these events (checked: raw and render must agree).
SUBJECTS = {
    "received": "We have received your request %(ref)s",
    "handed_over": "Your request %(ref)s is now with our team in %(region)s",
    "waiting": "Your request %(ref)s will be picked up soon",
}
BODIES = {
    "received": (
        "Thank you for contacting us. We have received your request %(ref)s and given it "
        "priority %(priority)s. You can expect a first answer %(within)s, by %(due)s."
    ),
    "handed_over": (
        "So that your request keeps moving around the clock, our team in %(region)s has "
        "taken it over with everything done so far. We will update you by %(next_update)s."
    ),
    "waiting": (
        "The team that will handle your request in your language starts at %(start)s "
        "(your time). They will pick it up then."
    ),
}
DATE_KEY = {"received": "due", "handed_over": "next_update", "waiting": "start"}
HELLO_NAME = "Hello %(name)s,"
HELLO = "Hello,"
FOLLOW = "You can follow your request at any time: %(url)s"
REGARDS = "Kind regards,\nYour support team"
PLURALS = {
    "minute": ("within %(num)d minute", "within %(num)d minutes"),
    "hour": ("within %(num)d hour", "within %(num)d hours"),
    "day": ("within %(num)d day", "within %(num)d days"),
}


@dataclass(frozen=True, slots=True)
class Case:
    """One update: what render gets, and what the raw calls get (resolved beforehand)."""

    event: str
    tag: str
    timezone: str
    now: datetime
    params: dict[str, Any]
    # raw side
    code: str
    t: Translations
    zone: ZoneInfo
    when: datetime
    plural: tuple[str, str, int] | None  # singular, plural, n (received only)


def _plural(delta: timedelta) -> tuple[str, str, int]:
    """The unit and count render's `within` picks (arithmetic only, no Babel)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120 and minutes % 60:
        return (*PLURALS["minute"], minutes)
    hours = round(minutes / 60)
    if hours < 48:
        return (*PLURALS["hour"], hours)
    return (*PLURALS["day"], round(hours / 24))


def make_cases(rng: random.Random, catalogs: Catalogs, count: int) -> list[Case]:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    cases = []
    for i in range(count):
        tag, code, zone_key = CUSTOMERS[i % len(CUSTOMERS)]
        event = EVENTS[(i // len(CUSTOMERS)) % len(EVENTS)]
        now = start + timedelta(minutes=rng.randrange(60 * 24 * 60))
        if event == "received":  # due in minutes, hours or days: every plural unit
            ahead = rng.choice(
                (
                    timedelta(minutes=rng.randint(1, 119)),
                    timedelta(hours=rng.randint(2, 47)),
                    timedelta(days=rng.randint(2, 10)),
                )
            )
        else:
            ahead = timedelta(minutes=rng.randint(15, 16 * 60))
        when = now + ahead
        params: dict[str, Any] = {
            "ref": f"FS-{rng.randrange(10**6):06d}",
            "priority": f"P{rng.randint(1, 4)}",
            "region": rng.choice(tuple(REGIONS)),
            DATE_KEY[event]: when,
        }
        if rng.random() < 0.5:
            params["name"] = rng.choice(("Ana", "Jürgen", "Jana", "Layla", "Haruto", "Wei"))
        if rng.random() < 0.5:
            params["status_url"] = f"https://status.example.com/c/{rng.randrange(16**8):08x}"
        cases.append(
            Case(
                event=event,
                tag=tag,
                timezone=zone_key,
                now=now,
                params=params,
                code=code,
                t=catalogs.get(code),
                zone=ZoneInfo(zone_key),
                when=when,
                plural=_plural(when - now) if event == "received" else None,
            )
        )
    return cases


def via_render(catalogs: Catalogs, c: Case) -> tuple[str, str]:
    u = render(catalogs, c.event, tag=c.tag, timezone=c.timezone, now=c.now, params=c.params)
    return u.subject, u.body


def via_raw(c: Case) -> tuple[str, str]:
    """The same text from Babel directly: one date, the strings it needs, nothing else."""
    t, code, zone, p = c.t, c.code, c.zone, c.params
    local = c.when.astimezone(zone)
    pattern = get_datetime_format("medium", locale=code)
    when = pattern.replace("{1}", format_date(local, "medium", locale=code)).replace(
        "{0}", format_time(local, "short", tzinfo=zone, locale=code)
    )
    values = {"ref": p["ref"], "priority": p["priority"], DATE_KEY[c.event]: when}
    if c.plural is not None:
        singular, plural, n = c.plural
        values["within"] = t.ngettext(singular, plural, n) % {"num": n}
    if c.event == "handed_over":
        values["region"] = t.pgettext("region", REGIONS[p["region"]])
    name = p.get("name")
    body = [
        t.gettext(HELLO_NAME) % {"name": name} if name else t.gettext(HELLO),
        "",
        t.gettext(BODIES[c.event]) % values,
    ]
    url = p.get("status_url")
    if url:
        body += ["", t.gettext(FOLLOW) % {"url": url}]
    body += ["", t.gettext(REGARDS)]
    return t.gettext(SUBJECTS[c.event]) % values, "\n".join(body)


MAIL_SENDER = "Support <support@followsun.example>"
MAIL_DOMAIN = "followsun.example"


def via_email(catalogs: Catalogs, c: Case) -> bytes:
    """The update as the e-mail the channel sends: render, then the MIME message."""
    u = render(catalogs, c.event, tag=c.tag, timezone=c.timezone, now=c.now, params=c.params)
    sent = Delivered(
        key=f"{c.params['ref']}:1:customer:{c.event}",
        event=c.event,
        audience="customer",
        case=c.params["ref"],
        team=None,
        locale=u.locale,
        timezone=c.timezone,
        subject=u.subject,
        body=u.body,
        at=c.now,
        status_url=c.params.get("status_url", ""),
    )
    return update_message(
        sent,
        to="customer@example.com",
        name=c.params.get("name", ""),
        sender=MAIL_SENDER,
        domain=MAIL_DOMAIN,
    )


def via_email_message(catalogs: Catalogs, c: Case) -> bytes:
    """Reference, not the channel: the same update as `EmailMessage` with policy SMTP
    builds it (`set_content` + `add_alternative`), the obvious use of the email package."""
    u = render(catalogs, c.event, tag=c.tag, timezone=c.timezone, now=c.now, params=c.params)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = MAIL_SENDER
    msg["To"] = formataddr((c.params.get("name", ""), "customer@example.com"))
    msg["Subject"] = u.subject
    msg["Date"] = format_datetime(c.now, usegmt=True)
    msg["Message-ID"] = f"<{c.params['ref']}.1@{MAIL_DOMAIN}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = u.locale.replace("_", "-")
    msg.set_content(u.body, cte="base64")
    msg.add_alternative(f"<!DOCTYPE html><p>{html.escape(u.body)}</p>", "html", cte="base64")
    return msg.as_bytes()


def email_agrees(catalogs: Catalogs, c: Case) -> bool:
    """The e-mail parses without a defect and says what the raw calls say."""
    message = email.message_from_bytes(via_email(catalogs, c), policy=SMTP)
    assert isinstance(message, EmailMessage)
    subject, body = via_raw(c)
    parts = [p for p in message.iter_parts() if isinstance(p, EmailMessage)]
    texts = [p.get_content().replace("\r\n", "\n") for p in parts]
    return (
        not any(p.defects for p in message.walk())
        and message["Subject"] == subject
        and [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        and texts[0] == body + "\n"
        and all(p.get_content_charset() == "utf-8" for p in parts)
    )


def time_loop(fn: Callable[[Case], Any], seq: Sequence[Case]) -> float:
    """µs per update for one pass over `seq` (one timer pair around the whole loop)."""
    clock = time.perf_counter_ns
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        t0 = clock()
        for c in seq:
            fn(c)
        elapsed = clock() - t0
    finally:
        if gc_was_on:
            gc.enable()
    return elapsed / 1000 / len(seq)


COUNTED = {
    "gettext": "gettext",
    "ngettext": "gettext",
    "pgettext": "gettext",
    "format_date": "babel.dates",
    "format_time": "babel.dates",
    "format_datetime": "babel.dates",
    "get_datetime_format": "babel.dates",
    "parse": "Locale.parse",
    "negotiate_locale": "negotiate_locale",
}
CALLERS = {"router.i18n.render", "router.i18n.catalogs", __name__}


def count_calls(fn: Callable[[Case], Any], cases: Sequence[Case]) -> dict[str, float]:
    """Calls per update, made directly by render/catalogs (or the raw code), to the gettext
    family, babel.dates and Babel's locale parsing (Babel's own internal calls not counted)."""
    counts: Counter[str] = Counter()

    def hook(frame: Any, event: str, _arg: Any) -> None:
        if event != "call":
            return
        kind = COUNTED.get(frame.f_code.co_name)
        caller = frame.f_back
        if kind and caller is not None and caller.f_globals.get("__name__") in CALLERS:
            counts[kind] += 1

    sys.setprofile(hook)
    try:
        for c in cases:
            fn(c)
    finally:
        sys.setprofile(None)
    return {k: v / len(cases) for k, v in counts.items()}


def fmt_counts(counts: dict[str, float]) -> str:
    order = ("gettext", "babel.dates", "Locale.parse", "negotiate_locale")
    return ", ".join(f"{counts.get(k, 0):.1f} {k}" for k in order if counts.get(k, 0))


def profile(name: str, fn: Callable[[Case], Any], seq: Sequence[Case]) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for c in seq:
        fn(c)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    print(f"cProfile of {name} over {len(seq)} updates:")
    print(out.getvalue().rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile render and the e-mail"
    )
    args = parser.parse_args()
    wall0 = time.perf_counter()

    t0 = time.perf_counter()
    catalogs = Catalogs()
    load_s = time.perf_counter() - t0
    rng = random.Random(SEED)
    cases = make_cases(rng, catalogs, CASES)
    seq = (cases * (RENDERS // len(cases) + 1))[:RENDERS]
    print(
        f"catalogs: {len(catalogs.locales)} compiled in {load_s:.2f} s; mix: {len(cases)} "
        f"updates ({', '.join(code for _, code, _ in CUSTOMERS)} x {', '.join(EVENTS)}), "
        f"{sum('name' in c.params for c in cases)} with a name, "
        f"{sum('status_url' in c.params for c in cases)} with a status URL"
    )

    # Correctness: same locale negotiated, same subject and body, for every update.
    bad_locale = [c for c in cases if catalogs.negotiate(c.tag) != c.code]
    mismatches = [c for c in cases if via_render(catalogs, c) != via_raw(c)]
    print(
        f"correctness: {len(cases) - len(mismatches)}/{len(cases)} updates identical "
        f"(subject and body); negotiation as expected for "
        f"{len(cases) - len(bad_locale)}/{len(cases)}"
    )
    for c in mismatches[:3]:
        print(f"  MISMATCH {c.event} {c.code}:\n    render {via_render(catalogs, c)!r}")
        print(f"    raw    {via_raw(c)!r}")
    bad_mail = [c for c in cases if not email_agrees(catalogs, c)]
    print(
        f"e-mail: {len(cases) - len(bad_mail)}/{len(cases)} messages parse without a defect "
        f"with the raw subject and body"
    )

    render_calls = count_calls(lambda c: via_render(catalogs, c), cases)
    raw_calls = count_calls(via_raw, cases)
    print(f"calls per update, render: {fmt_counts(render_calls)}")
    print(f"calls per update, raw:    {fmt_counts(raw_calls)}")

    def do_render(c: Case) -> Any:
        return via_render(catalogs, c)

    def do_email(c: Case) -> Any:
        return via_email(catalogs, c)

    time_loop(do_render, seq[:2_000])  # warm-up (Babel's locale data, zone caches)
    time_loop(via_raw, seq[:2_000])
    time_loop(do_email, seq[:2_000])
    render_us, raw_us, email_us = [], [], []
    for _ in range(ROUNDS):  # interleaved so drift hits every side alike
        render_us.append(time_loop(do_render, seq))
        raw_us.append(time_loop(via_raw, seq))
        email_us.append(time_loop(do_email, seq))

    def summary(xs: list[float]) -> str:
        return (
            f"best {min(xs):.2f} µs/update, median {statistics.median(xs):.2f} "
            f"({', '.join(f'{x:.2f}' for x in xs)})"
        )

    print(f"render: {summary(render_us)}  [{ROUNDS} rounds x {RENDERS} updates]")
    print(f"raw:    {summary(raw_us)}")
    print(f"e-mail: {summary(email_us)}  [render + the MIME message]")
    reference = min(
        time_loop(lambda c: via_email_message(catalogs, c), seq[:400]) for _ in range(3)
    )
    print(
        f"reference: {reference:.2f} µs/update as EmailMessage + policy SMTP would build it "
        "[400 updates, best of 3; not the channel]"
    )

    def split(key: Callable[[Case], str], groups: Sequence[str]) -> str:
        """render/raw µs per update for each group (best of 3 passes over its updates)."""
        out = []
        for group in groups:
            sub = [c for c in seq[:7_000] if key(c) == group]
            r = min(time_loop(do_render, sub) for _ in range(3))
            w = min(time_loop(via_raw, sub) for _ in range(3))
            out.append(f"{group} {r:.1f}/{w:.1f}")
        return ", ".join(out)

    print(f"per locale, render/raw µs: {split(lambda c: c.code, [k for _, k, _ in CUSTOMERS])}")
    print(f"per event, render/raw µs:  {split(lambda c: c.event, EVENTS)}")

    if args.profile:
        profile("render", do_render, seq[:5_000])
        profile("the e-mail (render + MIME)", do_email, seq[:5_000])

    ratio = min(render_us) / min(raw_us)
    print(
        f"target render <= {TARGET_RATIO:.0f}x raw: {'met' if ratio <= TARGET_RATIO else 'MISSED'} "
        f"(median ratio {statistics.median(render_us) / statistics.median(raw_us):.2f})"
    )
    email_ratio = min(email_us) / min(raw_us)
    print(
        f"target e-mail <= {TARGET_RATIO:.0f}x raw: "
        f"{'met' if email_ratio <= TARGET_RATIO else 'MISSED'} (median ratio "
        f"{statistics.median(email_us) / statistics.median(raw_us):.2f}; the MIME message "
        f"alone {min(email_us) - min(render_us):.2f} µs/update)"
    )
    print(f"total runtime: {time.perf_counter() - wall0:.1f} s")
    failed = bool(mismatches or bad_locale or bad_mail)
    if failed:
        print("FAILED: render, the e-mail and the raw calls disagree", file=sys.stderr)
    print(f"email ratio: {email_ratio:.2f}")
    print(f"ratio: {ratio:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
