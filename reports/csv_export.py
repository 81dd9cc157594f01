"""Every CSV the product writes: text cells neutralised against spreadsheet formula injection.

The rule (docs/security.md, "CSV exports"): a text cell that begins with `=`, `+`, `-`, `@`, a tab
or a carriage return is written with a leading `'`, so that a spreadsheet opening the file shows it
as text instead of evaluating it (a unit named `=cmd|'/Ccalc'!A0`, a note typed as
`=HYPERLINK(...)`). Numbers are never prefixed: numeric columns are left alone, and so is a text
cell that is nothing but a plain number (`-5`, `-0.25`, `+3`), which a spreadsheet reads as that
number and never as a formula. Only polars and the engine (metrics/); never imports streamlit or duckdb.
"""

from __future__ import annotations

import re

import polars as pl

from metrics.scorecard import SCORECARD_TEXT_COLUMNS, scorecard_text

# The characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number written as text: sign, digits, optional decimals and exponent, optional percent.
_PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
_STARTS_PATTERN = r"^[=+\-@\t\r]"


def neutralise_text(value):
    """`value` as it must appear in a CSV cell: text starting with a formula character gets a
    leading `'`; None, numbers and plain numeric text are returned unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER_RE.match(value):
        return value
    return "'" + value


def neutralise_expr(column: str) -> pl.Expr:
    """neutralise_text as a Polars expression over a String column."""
    c = pl.col(column)
    hostile = c.str.contains(_STARTS_PATTERN) & ~c.str.contains(_PLAIN_NUMBER)
    return pl.when(hostile).then(pl.lit("'") + c).otherwise(c).alias(column)


def neutralise_frame(frame: pl.DataFrame, columns: list[str] | tuple[str, ...] | None = None) -> pl.DataFrame:
    """Every text column of `frame` (or only `columns`) neutralised; other dtypes are untouched.
    Categorical/enum columns are cast to text first; list and struct columns are written as text."""
    exprs = []
    for name, dtype in frame.schema.items():
        if columns is not None and name not in columns:
            continue
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            exprs.append(pl.col(name).cast(pl.String))
        elif isinstance(dtype, (pl.List, pl.Array, pl.Struct, pl.Object)):
            exprs.append(pl.col(name).map_elements(_as_text, return_dtype=pl.String))
        else:
            continue
    if not exprs:
        return frame
    text = frame.with_columns(exprs)
    names = [e.meta.output_name() for e in exprs]
    return text.with_columns([neutralise_expr(n) for n in names])


def _as_text(value) -> str:
    if isinstance(value, pl.Series):
        value = value.to_list()
    return str(value)


def frame_to_csv(frame: pl.DataFrame, columns: list[str] | tuple[str, ...] | None = None) -> str:
    """The neutralised CSV text of `frame` (n/a as an empty cell)."""
    return neutralise_frame(frame, columns).write_csv(null_value="")


def frame_to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """The neutralised CSV as a download: UTF-8 with a byte-order mark, so that Excel on a Chinese
    Windows desktop opens it without mojibake."""
    return frame_to_csv(frame).encode("utf-8-sig")


def scorecard_csv(frame: pl.DataFrame) -> str:
    """Exactly the scorecard CSV of interfaces.md: columns, order, number formats, n/a empty, and
    the text cells (unit, unit_kind, grade) neutralised against formula injection; the figures,
    though written as text, are numbers and never prefixed."""
    return frame_to_csv(scorecard_text(frame), columns=SCORECARD_TEXT_COLUMNS)
