"""The translator's workflow: extract, update, compile, check (`followsun catalogs ...`)."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .catalogs import DOMAIN, LOCALES_DIR, SOURCE, available_locales
from .plurals import expected_plurals, plural_forms

__all__ = ["check", "compile_all", "extract", "update"]

ROOT = LOCALES_DIR.parent
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(pot: Path | None = None) -> Path:
    """Messages marked in router/ into a template (settings in pyproject's [tool.babel])."""
    pot = pot or Path(tempfile.mkdtemp()) / f"{DOMAIN}.pot"
    _pybabel(
        "extract",
        "-F",
        str(ROOT / "pyproject.toml"),
        "--no-location",
        "--sort-output",
        "--project",
        "followsun",
        "-o",
        str(pot),
        str(ROOT / "router"),
    )
    return pot


def _po(code: str, directory: Path) -> Path:
    return directory / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def update(codes: list[str] | None = None, directory: Path = LOCALES_DIR) -> list[str]:
    """Bring every catalog (and any new `codes`) in line with the code's messages."""
    pot = extract()
    codes = sorted(set(available_locales(directory)) | set(codes or []))
    for code in codes:
        if not _po(code, directory).exists():
            _pybabel("init", "-i", str(pot), "-d", str(directory), "-D", DOMAIN, "-l", code)
        else:
            _pybabel(
                "update",
                "-i",
                str(pot),
                "-d",
                str(directory),
                "-D",
                DOMAIN,
                "-l",
                code,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        _normalise(code, directory)
    return codes


def _normalise(code: str, directory: Path) -> None:
    """CLDR plural forms in the header; the source language translates to itself."""
    path = _po(code, directory)
    with path.open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    catalog.plural_forms  # noqa: B018 - parsed, then replaced below
    header = [(k, v) for k, v in catalog.mime_headers if k.lower() != "plural-forms"]
    header.append(("Plural-Forms", plural_forms(code)))
    catalog.mime_headers = header
    want = expected_plurals(code)
    for message in catalog:
        if message.id and not isinstance(message.id, str):
            forms = list(message.string)[:want]
            message.string = tuple(forms + [""] * (want - len(forms)))
    if code == SOURCE:
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, str):
                message.string = message.string or message.id
            elif not any(message.string):
                message.string = tuple(message.id)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, include_previous=False)


def compile_all(directory: Path = LOCALES_DIR) -> list[Path]:
    """Write `.mo` files beside the `.po` (for other tools; the app compiles in memory)."""
    written = []
    for code in available_locales(directory):
        with _po(code, directory).open("rb") as f:
            catalog = read_po(f, locale=code, domain=DOMAIN)
        mo = _po(code, directory).with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog)
        written.append(mo)
    return written


def check(directory: Path = LOCALES_DIR) -> list[str]:
    """Every catalog compiles, every message is translated, none fuzzy, placeholders match
    the source, and the plural count is the locale's. Returns the problems found."""
    problems: list[str] = []
    template = _template_ids()
    for code in available_locales(directory):
        path = _po(code, directory)
        where = (
            str(path.relative_to(directory.parent))
            if path.is_relative_to(directory.parent)
            else str(path)
        )
        try:
            with path.open("rb") as f:
                catalog = read_po(f, locale=code, domain=DOMAIN)
            write_mo(io.BytesIO(), catalog)
        except Exception as err:
            problems.append(f"{where}: does not compile: {err}")
            continue
        want = expected_plurals(code)
        extra = sorted(
            {
                int(n)
                for n in re.findall(r"^msgstr\[(\d+)\]", path.read_text("utf-8"), re.M)
                if int(n) >= want
            }
        )
        if extra:  # read_po drops these with a warning; say so
            problems.append(f"{where}: plural forms {extra} beyond the {want} {code} has")
        if catalog.num_plurals != want:
            problems.append(f"{where}: {catalog.num_plurals} plural forms, {code} has {want}")
        ids = set()
        for message in catalog:
            if not message.id:
                continue
            key = (message.context, message.id if isinstance(message.id, str) else message.id[0])
            ids.add(key)
            problems += _message_problems(where, catalog, message, want)
        for missing in sorted(template - ids, key=str):
            problems.append(f"{where}: missing message {missing[1]!r}")
    return problems


def _message_problems(where: str, catalog: Catalog, message, plurals: int) -> list[str]:
    out = []
    label = message.id if isinstance(message.id, str) else message.id[0]
    if message.fuzzy:
        out.append(f"{where}: fuzzy: {label!r}")
    if isinstance(message.id, str):
        forms = [message.string]
        source = set(_PLACEHOLDER.findall(message.id))
    else:
        forms = list(message.string)
        source = set(_PLACEHOLDER.findall(message.id[0])) | set(_PLACEHOLDER.findall(message.id[1]))
        if len(forms) != plurals:
            out.append(f"{where}: {label!r} has {len(forms)} plural forms, not {plurals}")
    for i, form in enumerate(forms):
        if not form:
            out.append(
                f"{where}: untranslated: {label!r}" + (f" (form {i})" if len(forms) > 1 else "")
            )
            continue
        found = set(_PLACEHOLDER.findall(form))
        # a plural form may leave out the number ("an hour"), never add an unknown name
        extra, lost = found - source, source - found
        if extra or (lost and (len(forms) == 1 or lost != {"num"})):
            out.append(
                f"{where}: placeholders of {label!r} differ: "
                f"{sorted(found)} vs source {sorted(source)}"
            )
    return out


def _template_ids() -> set[tuple[str | None, str]]:
    with extract().open("rb") as f:
        template = read_po(f)
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in template if m.id}
