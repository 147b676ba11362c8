"""Language tags: parsing BCP 47 into a canonical form, and how well a team's language fits."""

from __future__ import annotations

import pytest

from router.domain.errors import InputError, UnknownLanguage
from router.domain.language import Match, best_match, parse_lang


def langs(*tags: str):
    return tuple(parse_lang(t) for t in tags)


def test_parse_makes_the_likely_script_explicit():
    """zh-CN is read as Simplified Chinese in China, zh-TW as Traditional in Taiwan."""
    cn, tw = parse_lang("zh-CN"), parse_lang("zh-TW")
    assert (cn.language, cn.script, cn.region) == ("zh", "Hans", "CN")
    assert (tw.language, tw.script, tw.region) == ("zh", "Hant", "TW")


def test_parse_gives_a_canonical_tag_whatever_the_case():
    """Tags are case-insensitive: en-us and EN parse to the canonical en-US and en."""
    assert parse_lang("en-us").tag == "en-US"
    assert str(parse_lang("EN")) == "en"
    assert parse_lang("en-us") == parse_lang("en-US")


def test_zh_cn_and_zh_hans_cn_are_one_language():
    """zh-CN and zh-Hans-CN parse to the same value."""
    assert parse_lang("zh-CN") == parse_lang("zh-Hans-CN")


def test_exact_match_across_spellings_of_one_tag():
    """A zh-Hans-CN team is an exact match for a zh-CN customer."""
    found = best_match(langs("en", "zh-Hans-CN"), parse_lang("zh-CN"))
    assert found == (Match.exact, parse_lang("zh-Hans-CN"))


def test_same_language_other_region_is_a_base_match():
    """A pt-PT team serves a pt-BR customer as a base (not exact) match."""
    found = best_match(langs("pt-PT"), parse_lang("pt-BR"))
    assert found is not None
    assert found[0] is Match.base


def test_language_without_region_is_a_base_match_for_a_regional_tag():
    """A team tagged plain pt is a base match for pt-BR, and a pt-BR team for a pt customer."""
    assert best_match(langs("pt"), parse_lang("pt-BR")) == (Match.base, parse_lang("pt"))
    assert best_match(langs("pt-BR"), parse_lang("pt")) == (Match.base, parse_lang("pt-BR"))


def test_exact_beats_base_whatever_the_order():
    """With both pt-PT and pt-BR, a pt-BR customer gets pt-BR (exact), even listed second."""
    found = best_match(langs("pt-PT", "pt-BR"), parse_lang("pt-BR"))
    assert found == (Match.exact, parse_lang("pt-BR"))


def test_traditional_chinese_is_not_a_match_for_a_simplified_team():
    """A zh-TW customer is not served by a zh-Hans team, neither exactly nor by base."""
    assert best_match(langs("zh-Hans", "en"), parse_lang("zh-TW")) is None
    assert best_match(langs("zh-Hant"), parse_lang("zh-TW")) == (Match.base, parse_lang("zh-Hant"))


def test_other_language_is_no_match():
    """A German team is no match for a Japanese customer who accepts nothing else."""
    assert best_match(langs("de", "nl"), parse_lang("ja")) is None


def test_fallback_through_a_language_the_customer_accepts():
    """A Japanese customer who accepts English is a fallback match for an English team."""
    found = best_match(langs("de", "en"), parse_lang("ja"), accepts=langs("en"))
    assert found == (Match.fallback, parse_lang("en"))


def test_fallback_accepts_a_base_match_of_the_accepted_language():
    """Accepting en-GB lets an en-US team serve the customer as a fallback."""
    found = best_match(langs("en-US"), parse_lang("ja"), accepts=langs("en-GB"))
    assert found == (Match.fallback, parse_lang("en-US"))


def test_native_match_wins_over_fallback():
    """When a team speaks the customer's language, the accepted language is not used."""
    found = best_match(langs("en", "ja"), parse_lang("ja"), accepts=langs("en"))
    assert found == (Match.exact, parse_lang("ja"))


def test_fallback_needs_the_team_to_speak_an_accepted_language():
    """Accepting French does not make an English-only team a fallback for a ja customer."""
    assert best_match(langs("en"), parse_lang("ja"), accepts=langs("fr")) is None


def test_match_levels_sort_best_first():
    """exact < base < fallback, so sorting puts the best match first."""
    assert sorted([Match.fallback, Match.exact, Match.base]) == [
        Match.exact,
        Match.base,
        Match.fallback,
    ]
    assert str(Match.base) == "base"


@pytest.mark.parametrize(
    "tag",
    ["", "en_US", " en", "en ", "en-", "xx", "abc-def", "zz-!!", "x-klingon", "12"],
)
def test_malformed_tag_raises_unknown_language_naming_the_field(tag):
    """Malformed or unknown tags raise UnknownLanguage carrying the field it came from."""
    with pytest.raises(UnknownLanguage) as info:
        parse_lang(tag, "customer.accepts[2]")
    err = info.value
    assert isinstance(err, InputError)
    assert err.field == "customer.accepts[2]"
    assert str(err).startswith("customer.accepts[2]: ")
    assert f'"{tag}"' in str(err)


def test_default_field_name_is_language():
    """Without a field name, the error names the `language` field."""
    with pytest.raises(UnknownLanguage, match=r'^language: "en_GB" is not a BCP 47'):
        parse_lang("en_GB")
