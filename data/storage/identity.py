"""How a unit name, a code or a sheet name is recognised: one normalisation for every match.

A name typed with a zero-width space, a bidi mark, full-width letters or the Japanese 県 for 县
must find the unit it looks like, never create a second one. Every place that matches or creates
a unit name or a code calls these functions (data.storage.plan.normalize_name delegates here).

The rules, in order:
1. drop invisible characters: every Unicode "format" character (category Cf: zero-width space,
   joiners, LRM/RLM, bidi embeddings, overrides and isolates, BOM, soft hyphen) and control
   characters (Cc) other than tab and line breaks;
2. NFKC (full-width letters, digits and punctuation become half-width);
3. a small explicit map of look-alike characters (LOOKALIKES), where a county's unit names would
   only ever mean the simplified character;
4. names: half-width brackets become full-width ones (the plan writes 乡镇（街道）) and all
   whitespace is removed; codes: surrounding whitespace removed and letters upper-cased (codes are
   compared case-folded).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

# Look-alikes (Japanese shinjitai and traditional forms) a unit name would only mean as the
# simplified character. Kept small on purpose: a wider traditional→simplified conversion could
# merge names that genuinely differ.
LOOKALIKES = str.maketrans({
    "県": "县", "縣": "县",
    "鎮": "镇",
    "郷": "乡", "鄉": "乡",
    "區": "区",
    "辦": "办",
    "衛": "卫", "衞": "卫",
    "廳": "厅", "庁": "厅",
    "會": "会",
    "發": "发", "発": "发",
    "處": "处", "処": "处",
})

_SPACE = re.compile(r"\s+")


@functools.cache
def _invisible_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat == "Cf" or cat == "Cc":
            table[cp] = None
    for ch in "\t\n\r":
        del table[ord(ch)]
    return table


def strip_invisible(text: str) -> str:
    """Remove format (Cf) and control (Cc) characters; tabs and line breaks are kept."""
    return str(text).translate(_invisible_table())


def clean_text(text: str) -> str:
    """Visible text as stored: invisible characters removed, NFKC, trimmed."""
    return unicodedata.normalize("NFKC", strip_invisible(text)).strip()


def normalize_name(name: str) -> str:
    """The form in which unit names (and sheet names) are compared and new units are stored."""
    text = clean_text(name).translate(LOOKALIKES)
    text = text.replace("(", "（").replace(")", "）")
    return _SPACE.sub("", text)


def normalize_code(code: str) -> str:
    """The form in which codes (目录编码, 需求编号, 申请编号) are compared and new codes stored."""
    return _SPACE.sub("", clean_text(code)).upper()


def code_key(code: str) -> str:
    """Case-folded comparison key of a code."""
    return normalize_code(code).casefold()
