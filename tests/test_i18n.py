"""Customer updates in every language: catalogs, plurals, time zones, negotiation, checks."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from router.i18n import Catalogs, available_locales, negotiate, render
from router.i18n.catalogs import LOCALES_DIR, CatalogError
from router.i18n.render import EVENTS, within
from router.i18n.tools import check

CATALOGS = Catalogs()
LOCALES = available_locales()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REF = "C-I18N-TEST-42"
PARAMS = {
    "ref": REF,
    "priority": "P2",
    "region": "EMEA",
    "due": NOW + timedelta(hours=4),
    "next_update": NOW + timedelta(hours=8),
    "start": NOW + timedelta(hours=12),
    "note": "A fix is being rolled out.",
    "resolution": "the duplicate charge was refunded",
    "name": "Kim",
    "status_url": "https://status.example/status/abc",
}


def _render(event: str, tag: str, **params: object):
    return render(CATALOGS, event, tag=tag, timezone="UTC", now=NOW, params={**PARAMS, **params})


def test_twelve_catalogs_are_available() -> None:
    """The twelve hand-translated catalogs all load, English among them."""
    assert len(LOCALES) == 12
    assert "en" in LOCALES
    assert CATALOGS.locales == LOCALES


@pytest.mark.parametrize("code", LOCALES)
@pytest.mark.parametrize("event", EVENTS)
def test_every_event_renders_in_every_locale(event: str, code: str) -> None:
    """Each event renders completely in each catalog's language, with the case reference."""
    update = _render(event, code.replace("_", "-"))
    assert update.event == event
    assert update.locale == code
    assert update.subject.strip()
    assert update.body.strip()
    for text in (update.subject, update.body):
        assert "%(" not in text
        assert not re.search(r"%[sd]", text)
    assert REF in update.subject or REF in update.body
    assert PARAMS["status_url"] in update.body
    if code != "en":
        english = _render(event, "en")
        assert update.subject != english.subject
        assert update.body != english.body
        assert "Kind regards" not in update.body


def test_english_and_german_updates_differ() -> None:
    """The same update reads differently in English and in German."""
    en, de = _render("received", "en-US"), _render("received", "de-DE")
    assert (en.locale, de.locale) == ("en", "de")
    assert en.subject == f"We have received your request {REF}"
    assert de.subject != en.subject
    assert "within 4 hours" in en.body
    assert "innerhalb von 4 Stunden" in de.body


@pytest.mark.parametrize(
    ("hours", "text"), [(1, "do 1 hodiny"), (2, "do 2 hodin"), (4, "do 4 hodin"), (5, "do 5 hodin")]
)
def test_czech_hours_use_the_right_plural(hours: int, text: str) -> None:
    """Czech: 1 takes 'hodiny', 2-4 and 5+ take 'hodin' (after 'do')."""
    assert within(CATALOGS.get("cs"), timedelta(hours=hours)) == text


def test_czech_plural_forms_are_chosen_by_cldr_category() -> None:
    """Czech one / few / other pick forms 0, 1 and 3 of the catalog."""
    t = CATALOGS.get("cs")
    forms = [t.ngettext("within %(num)d day", "within %(num)d days", n) for n in (1, 2, 5)]
    assert forms == ["do %(num)d dne", "do %(num)d dnů", "do %(num)d dnů"]
    hours = [t.ngettext("within %(num)d hour", "within %(num)d hours", n) for n in (1, 3, 7)]
    assert hours == ["do %(num)d hodiny", "do %(num)d hodin", "do %(num)d hodin"]


@pytest.mark.parametrize(
    ("hours", "text"),
    [(1, "خلال ساعة واحدة"), (2, "خلال ساعتين"), (3, "خلال 3 ساعات"), (11, "خلال 11 ساعة")],
)
def test_arabic_hours_use_the_right_plural(hours: int, text: str) -> None:
    """Arabic one, two, few (3-10) and many (11-99) hours each read correctly."""
    assert within(CATALOGS.get("ar"), timedelta(hours=hours)) == text


def test_arabic_has_six_distinct_plural_forms() -> None:
    """Arabic zero / one / two / few / many / other (0, 1, 2, 3, 11, 100) are six forms."""
    t = CATALOGS.get("ar")
    days = [
        t.ngettext("within %(num)d day", "within %(num)d days", n) % {"num": n}
        for n in (0, 1, 2, 3, 11, 100)
    ]
    assert days == [
        "خلال أقل من يوم",
        "خلال يوم واحد",
        "خلال يومين",
        "خلال 3 أيام",
        "خلال 11 يومًا",
        "خلال 100 يوم",
    ]
    hours = [
        t.ngettext("within %(num)d hour", "within %(num)d hours", n) % {"num": n}
        for n in (0, 100, 103, 111)
    ]
    assert hours == ["خلال أقل من ساعة", "خلال 100 ساعة", "خلال 103 ساعات", "خلال 111 ساعة"]


def test_arabic_long_delays_switch_to_days() -> None:
    """'within' picks the largest fitting unit: 100 hours read as 4 days, 100 days as days."""
    t = CATALOGS.get("ar")
    assert within(t, timedelta(hours=100)) == "خلال 4 أيام"
    assert within(t, timedelta(days=11)) == "خلال 11 يومًا"
    assert within(t, timedelta(days=100)) == "خلال 100 يوم"


def test_japanese_has_one_form() -> None:
    """Japanese uses the same form for every count."""
    t = CATALOGS.get("ja")
    assert within(t, timedelta(hours=1)) == "1時間以内"
    assert within(t, timedelta(hours=2)) == "2時間以内"
    assert within(t, timedelta(hours=11)) == "11時間以内"
    singular = t.ngettext("within %(num)d hour", "within %(num)d hours", 1)
    assert singular == t.ngettext("within %(num)d hour", "within %(num)d hours", 5)


def test_english_singular_and_plural() -> None:
    """English says '1 hour' but '2 hours', '1 day' but '3 days'."""
    t = CATALOGS.get("en")
    assert within(t, timedelta(hours=1)) == "within 1 hour"
    assert within(t, timedelta(hours=2)) == "within 2 hours"
    assert within(t, timedelta(minutes=1)) == "within 1 minute"
    assert within(t, timedelta(minutes=30)) == "within 30 minutes"
    assert within(t, timedelta(days=3)) == "within 3 days"


@pytest.mark.parametrize(
    ("due", "wall", "not_wall"),
    [
        ("2026-10-25T00:30:00+00:00", "25.10.2026, 02:30", "01:30"),  # CEST, before fall-back
        ("2026-10-25T01:30:00+00:00", "25.10.2026, 02:30", "03:30"),  # CET, after it
        ("2026-10-25T02:30:00+00:00", "25.10.2026, 03:30", "04:30"),
    ],
)
def test_berlin_times_across_the_autumn_change(due: str, wall: str, not_wall: str) -> None:
    """A Berlin customer reads the due time on their wall clock on both sides of 25 October."""
    now = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 CEST
    update = render(
        CATALOGS,
        "received",
        tag="de-DE",
        timezone="Europe/Berlin",
        now=now,
        params={**PARAMS, "due": datetime.fromisoformat(due)},
    )
    assert update.locale == "de"
    assert wall in update.body
    assert not_wall not in update.body


def test_elapsed_time_not_wall_difference_across_dst() -> None:
    """'within' counts real hours: 00:30 CEST to 03:30 CET is 4 hours, not 3."""
    update = render(
        CATALOGS,
        "received",
        tag="de-DE",
        timezone="Europe/Berlin",
        now=datetime(2026, 10, 24, 22, 30, tzinfo=UTC),
        params={**PARAMS, "due": datetime(2026, 10, 25, 2, 30, tzinfo=UTC)},
    )
    assert "innerhalb von 4 Stunden" in update.body
    assert "25.10.2026, 03:30" in update.body


@pytest.mark.parametrize(
    ("due", "wall"),
    [
        (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), "Mar 8, 2026, 1:30\u202fAM"),  # EST
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "Mar 8, 2026, 3:30\u202fAM"),  # EDT
    ],
)
def test_new_york_times_across_the_spring_change(due: datetime, wall: str) -> None:
    """A New York customer's times jump from 1:30 AM EST to 3:30 AM EDT on 8 March."""
    update = render(
        CATALOGS,
        "assigned",
        tag="en-US",
        timezone="America/New_York",
        now=due - timedelta(hours=2),
        params={**PARAMS, "next_update": due},
    )
    assert update.locale == "en"
    assert f"We will update you by {wall}." in update.body


def test_japanese_times_are_in_tokyo() -> None:
    """The same instant reads 18:00 in Tokyo and 09:00 in UTC."""
    tokyo = render(
        CATALOGS,
        "assigned",
        tag="ja-JP",
        timezone="Asia/Tokyo",
        now=NOW,
        params={**PARAMS, "next_update": NOW},
    )
    utc = render(
        CATALOGS,
        "assigned",
        tag="ja-JP",
        timezone="UTC",
        now=NOW,
        params={**PARAMS, "next_update": NOW},
    )
    assert "2026/11/23 18:00" in tokyo.body
    assert "2026/11/23 9:00" in utc.body


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("pt-BR", "pt_BR"),
        ("de-AT", "de"),
        ("zh-CN", "zh_Hans"),
        ("zh-Hant-TW", "en"),
        ("nb", "en"),
        ("sv-FI", "sv"),
        ("en-GB", "en"),
        ("ar-EG", "ar"),
        ("ja-JP", "ja"),
        ("cs-CZ", "cs"),
        ("fr-CA", "fr"),
        ("es-MX", "es"),
        ("garbage", "en"),
        ("", "en"),
    ],
)
def test_negotiation(tag: str, code: str) -> None:
    """A customer's BCP 47 tag picks the closest catalog, else English."""
    assert negotiate(tag, LOCALES) == code
    assert CATALOGS.negotiate(tag) == code


def test_catalogs_without_english_fail_loudly(tmp_path: Path) -> None:
    """A locales directory with no English catalog is an error at start, not a fallback."""
    for code in ("de", "ja"):
        shutil.copytree(LOCALES_DIR / code, tmp_path / code)
    with pytest.raises(CatalogError, match="no en catalog"):
        Catalogs(tmp_path)
    with pytest.raises(CatalogError):
        Catalogs(tmp_path / "missing")


def _damage(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_reports_damaged_catalogs(tmp_path: Path) -> None:
    """check() reports fuzzy, untranslated, missing, placeholder and plural damage, per file."""
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)

    def po(code: str) -> Path:
        return locales / code / "LC_MESSAGES" / "messages.po"

    _damage(
        po("de"), 'msgid "Hello,"\nmsgstr "Guten Tag,"', '#, fuzzy\nmsgid "Hello,"\nmsgstr "Hallo,"'
    )
    _damage(po("fr"), 'msgstr "Ce lien n\'est pas valide"', 'msgstr ""')
    _damage(po("es"), 'msgstr "Su solicitud %(ref)s"', 'msgstr "Su solicitud %(reference)s"')
    _damage(po("cs"), 'msgstr[3] "do %(num)d dnů"\n', "")
    _damage(po("sv"), "nplurals=2;", "nplurals=3;")
    nl = po("nl").read_text(encoding="utf-8")
    nl = re.sub(r'msgctxt "page label"\nmsgid "Priority"\nmsgstr "[^"]*"\n\n', "", nl)
    assert 'msgid "Priority"' not in nl
    po("nl").write_text(nl, encoding="utf-8")

    problems = check(directory=locales)
    text = "\n".join(problems)
    assert "de/LC_MESSAGES/messages.po: fuzzy: 'Hello,'" in text
    assert "fr/LC_MESSAGES/messages.po: untranslated: 'This link is not valid'" in text
    assert "es/LC_MESSAGES/messages.po: placeholders of 'Your request %(ref)s' differ" in text
    assert "cs/LC_MESSAGES/messages.po: untranslated: 'within %(num)d day' (form 3)" in text
    assert "sv/LC_MESSAGES/messages.po: 3 plural forms, sv has 2" in text
    assert "sv/LC_MESSAGES/messages.po: 'within %(num)d hour' has 3 plural forms, not 2" in text
    assert "nl/LC_MESSAGES/messages.po: missing message 'Priority'" in text
    damaged = {p.split("/", 2)[1] for p in problems}
    assert damaged == {"de", "fr", "es", "cs", "sv", "nl"}, problems


def test_check_reports_a_message_with_too_many_plural_forms(tmp_path: Path) -> None:
    """A Danish message with three forms (Danish has two) is reported, not silently cut."""
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    _damage(
        locales / "da" / "LC_MESSAGES" / "messages.po",
        'msgstr[1] "inden for %(num)d timer"\n',
        'msgstr[1] "inden for %(num)d timer"\nmsgstr[2] "inden for %(num)d timer"\n',
    )
    problems = check(directory=locales)
    assert any(
        p.startswith("locales/da/") and "plural forms [2] beyond the 2 da has" in p
        for p in problems
    ), problems
