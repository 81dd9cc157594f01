"""One cell at a time: how a value is quoted in a message and how each kind of column is parsed.

Shared by the checks of every sheet (the supervision sheets' too); a parse problem raises
`CellError` with the Chinese problem the message shows after the value.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from typing import Any

from data.imports.spec import INT32_MAX, MIN_DATE, NAME_MAX_CHARS, TEXT_MAX_CHARS, Column, Sheet
from data.storage.identity import normalize_code, normalize_name, strip_invisible
from metrics.cn import cn_date

TRUE_WORDS = {"是", "Y", "YES", "1", "TRUE", "真"}
FALSE_WORDS = {"否", "N", "NO", "0", "FALSE", "假"}

_DATE_SEP = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_DATE_CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


class CellError(Exception):
    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def show(value: Any) -> str:
    """How a cell value is quoted in a message."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return cn_date(value.date()) if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return cn_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not strip_invisible(value).strip())


def canon(value: Any) -> str | None:
    """A cell reduced to how it reads, to recognise the template's untouched example row."""
    return None if blank(value) else show(value).strip()


@functools.cache
def _example_key(sheet: Sheet) -> tuple:
    return tuple(canon(v) for v in sheet.example)


def is_example(sheet: Sheet, cells: dict[str, Any]) -> bool:
    """Whether a row's cells (by field) are the template's untouched example row."""
    return tuple(canon(cells.get(c.field)) for c in sheet.columns) == _example_key(sheet)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise CellError("不是有效日期（不应带时间）")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        m = _DATE_SEP.match(text) or _DATE_CN.match(text)
        if m:
            year, month, day = (int(g) for g in m.groups() if g not in "-/.")
            try:
                return dt.date(year, month, day)
            except ValueError:
                pass
    raise CellError("不是有效日期")


def parse_month(value: Any) -> str:
    """考评月份 as YYYY-MM, from a date or text such as 2023-10 or 2023年10月."""
    text = show(value).strip()
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    m = _MONTH.match(text)
    if not m or not 1 <= int(m[2]) <= 12:
        raise CellError("应为考评月份，如 2023-10 或 2023年10月")
    return f"{int(m[1]):04d}-{int(m[2]):02d}"


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().upper()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError("不是有效的是/否值（可填 是/否、Y/N、1/0、TRUE/FALSE）")


def parse_number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise CellError("不是数字")
    if isinstance(value, int | float):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not _NUM.match(text):
            raise CellError("不是整数" if integer else "不是数字")
        number = float(text)
    if isinstance(number, float) and not math.isfinite(number):
        raise CellError("不是有效数字（超出可表示的范围）")
    if integer:
        if float(number) != int(number):
            raise CellError("不是整数")
        return int(number)
    return float(number)


def cell_text(value: Any) -> str:
    """Text as stored: trimmed; a leading = + - @ stays as typed (stored, never evaluated)."""
    if isinstance(value, dt.datetime):
        return show(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return strip_invisible(str(value)).strip()


def _limited(col: Column, text: str) -> str:
    limit = NAME_MAX_CHARS if col.field in ("name", "code") or col.kind in ("unit", "catalog") else TEXT_MAX_CHARS
    if len(text) > limit:
        raise CellError(f"超过 {limit:,} 个字符的长度上限（共 {len(text):,} 个字符）")
    return text


def parse_cell(col: Column, raw: Any, names: dict[str, str], today: dt.date) -> Any:
    """A non-blank cell of the data sheets as its column's kind (unit: the canonical name)."""
    if col.kind == "text" and col.field == "code" or col.kind == "catalog":
        return normalize_code(_limited(col, cell_text(raw)))
    if col.kind == "text":
        return _limited(col, cell_text(raw))
    if col.kind == "unit":
        name = names.get(normalize_name(_limited(col, cell_text(raw))))
        if name is None:
            raise CellError("不是已登记的单位名称（新单位请先在「单位」工作表中填写）")
        return name
    if col.kind == "enum":
        text = cell_text(raw)
        if text not in col.choices:
            raise CellError("不是允许的取值（可选：" + "、".join(col.choices) + "）")
        return text
    if col.kind == "bool":
        return parse_bool(raw)
    if col.kind == "date":
        day = parse_date(raw)
        if day < MIN_DATE:
            raise CellError("早于2000年1月1日")
        if day > today and not col.future_ok:
            raise CellError(f"晚于今天（{cn_date(today)}）")
        return day
    if col.kind in ("int", "score"):
        number = parse_number(raw, integer=col.kind == "int")
        # INTEGER columns are 32-bit in the database: a larger count is refused here, not at commit.
        high = col.high if col.high is not None else (INT32_MAX if col.kind == "int" else None)
        if col.low is not None and number < col.low:
            if col.high is None:
                raise CellError(f"不能小于 {show(float(col.low))}")
            raise CellError(f"超出范围（应在 {show(float(col.low))}–{show(float(col.high))} 之间）")
        if high is not None and number > high:
            if col.high is None:
                raise CellError(f"超过上限 {high}")
            raise CellError(f"超出范围（应在 {show(float(col.low))}–{show(float(col.high))} 之间）")
        return number
    raise AssertionError(col.kind)
