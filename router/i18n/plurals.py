"""How many plural forms each catalog has, from CLDR.

CLDR's categories are the truth (cs: one/few/many/other; ar: six; ja: one). Where the
CLDR rule can be written as a gettext expression over the integer n, the catalog uses
it; where the rule needs CLDR operands gettext lacks (fr/es/pt "many" tests the exponent
e), Babel's gettext table is used instead.
"""

from __future__ import annotations

import re

from babel import Locale
from babel.messages.plurals import get_plural
from babel.plural import to_gettext

__all__ = ["expected_plurals", "plural_forms"]


def plural_forms(code: str) -> str:
    """The Plural-Forms header value for the catalog of `code`."""
    header = to_gettext(Locale.parse(code).plural_form)
    expr = header.split("plural=", 1)[1]
    if re.search(r"\b[a-mo-z]\b", expr):  # operands other than n: not expressible in gettext
        rule = get_plural(code)
        return f"nplurals={rule.num_plurals}; plural={rule.plural_expr};"
    return header if header.endswith(";") else header + ";"


def expected_plurals(code: str) -> int:
    return int(plural_forms(code).split(";", 1)[0].split("=", 1)[1])
