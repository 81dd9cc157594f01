"""Dates as Chinese official documents write them (2023年5月31日, 2023年5月): the one definition
every layer uses (metrics for formula texts, reports, data services, ui.fmt for the pages)."""

from __future__ import annotations

import datetime as dt

import polars as pl


def cn_date(day: dt.date | str) -> str:
    """2023年5月31日 (no zero padding) from a date or an ISO 'YYYY-MM-DD' string."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.year}年{day.month}月{day.day}日"


def cn_month(month: dt.date | str) -> str:
    """2023年5月 from a date or a 'YYYY-MM' string."""
    if isinstance(month, str):
        year, mon = month.split("-")[:2]
        return f"{int(year)}年{int(mon)}月"
    return f"{month.year}年{month.month}月"


def cn_date_expr(expr: pl.Expr) -> pl.Expr:
    """cn_date over a Date column (null stays null)."""
    return pl.concat_str(expr.dt.year().cast(pl.String), pl.lit("年"), expr.dt.month().cast(pl.String),
                         pl.lit("月"), expr.dt.day().cast(pl.String), pl.lit("日"))
