"""The catalogs are complete and consistent: `followsun catalogs check` passes."""

from router.cli import main
from router.i18n.catalogs import available_locales
from router.i18n.tools import check

LOCALES = {"en", "nl", "de", "cs", "sv", "da", "fr", "es", "pt_BR", "ja", "zh_Hans", "ar"}


def test_every_required_locale_has_a_catalog() -> None:
    """The twelve customer languages each have a catalog."""
    assert set(available_locales()) >= LOCALES


def test_catalog_check_finds_nothing(capsys) -> None:
    """Every catalog compiles, is fully translated, not fuzzy, placeholders match, plurals right."""
    assert check() == []
    assert main(["catalogs", "check"]) == 0
    assert "every catalog compiles" in capsys.readouterr().out
