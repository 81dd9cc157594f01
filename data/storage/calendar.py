"""The working-day calendar (工作日历).

The `calendar_days` table is filled from the `chinese-calendar` package for the years it
covers (holidays and make-up working days, 调休上班) and can be edited by the office (add next
year's State Council notice, correct a day): rows with source 'office' are never overwritten by
the package. For a day the table does not hold, Monday–Friday is assumed and the day is flagged
'fallback' so the UI can warn.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from chinese_calendar import constants

from data.storage.db import Database

# The calendar frame spans these days; deadlines of requests received up to the end of 2039
# stay inside it.
FRAME_START = dt.date(2000, 1, 1)
FRAME_END = dt.date(2040, 12, 31)


def package_years() -> range:
    """Years `chinese-calendar` knows (it raises NotImplementedError outside them)."""
    years = sorted({d.year for d in constants.holidays})
    return range(years[0], years[-1] + 1)


def official_days(years: range | None = None) -> pl.DataFrame:
    """Every day of `years` with the package's verdict, built set-wise (no per-day loop)."""
    years = years or package_years()
    days = pl.date_range(dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31), "1d", eager=True)
    holidays = pl.Series(list(constants.holidays.keys()), dtype=pl.Date)
    makeup = pl.Series(list(constants.workdays.keys()), dtype=pl.Date)
    return pl.DataFrame({"day": days}).with_columns(
        is_workday=((pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(holidays.implode()))
        | pl.col("day").is_in(makeup.implode()),
        source=pl.lit("chinese_calendar"),
        note=pl.lit(None, dtype=pl.String),
    )


def seed_calendar(cur) -> int:
    """Copy the package's days into the table, leaving the office's own rows alone."""
    frame = official_days()  # noqa: F841  (read by DuckDB through the Python scan)
    cur.execute(
        "INSERT INTO calendar_days SELECT day, is_workday, source, note FROM frame "
        "WHERE day NOT IN (SELECT day FROM calendar_days)"
    )
    return len(frame)


def calendar_table(db: Database) -> pl.DataFrame:
    return db.frame("SELECT day, is_workday, source, note FROM calendar_days ORDER BY day")


def working_calendar(table: pl.DataFrame, start: dt.date = FRAME_START, end: dt.date = FRAME_END) -> pl.DataFrame:
    """Every day from start to end: is_workday, source (table source or 'fallback') and
    wd_index, the number of working days up to and including that day.

    `table` is the calendar_days table (day, is_workday, source)."""
    days = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    return (
        days.join(table.select("day", "is_workday", "source"), on="day", how="left")
        .with_columns(
            is_workday=pl.coalesce("is_workday", pl.col("day").dt.weekday() <= 5),
            source=pl.coalesce("source", pl.lit("fallback")),
        )
        .with_columns(wd_index=pl.col("is_workday").cast(pl.Int32).cum_sum())
    )


def covered_years(db: Database) -> list[int]:
    """Years for which the table holds every day (the package's or the office's)."""
    rows = db.rows(
        "SELECT year(day) AS y, count(*) FROM calendar_days GROUP BY y "
        "HAVING count(*) >= 365 ORDER BY y"
    )
    return [int(r[0]) for r in rows]
