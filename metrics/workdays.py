"""Working-day arithmetic, set-wise.

The calendar frame (see `data.storage.calendar.working_calendar`) carries `wd_index`, the number of
working days up to and including each day. The N-th working day strictly after D (民法典
第二百零一条: the start day is not counted) is then the working day whose index is
`wd_index(D) + N`; this holds when D is itself a holiday, because a holiday has the index of the
working day before it. Two joins, no loop, however many rows.
"""

from __future__ import annotations

import polars as pl


def add_workday_deadline(
    frame: pl.DataFrame, date_col: str, days_col: str, calendar: pl.DataFrame, out: str
) -> pl.DataFrame:
    """Add column `out`: the `days_col`-th working day strictly after `date_col` (null if
    either is null)."""
    index = calendar.select(pl.col("day").alias(date_col), pl.col("wd_index").alias("_wd_base"))
    targets = calendar.filter(pl.col("is_workday")).select(
        pl.col("wd_index").alias("_wd_target"), pl.col("day").alias(out)
    )
    return (
        frame.join(index, on=date_col, how="left")
        .with_columns(_wd_target=pl.col("_wd_base") + pl.col(days_col))
        .join(targets, on="_wd_target", how="left")
        .drop("_wd_base", "_wd_target")
    )


def workdays_between(
    frame: pl.DataFrame, start_col: str, end_col: str, calendar: pl.DataFrame, out: str
) -> pl.DataFrame:
    """Add column `out`: working days strictly after `start_col` up to and including
    `end_col` (0 when end <= start). Used for 'working days overdue'."""
    index = calendar.select("day", "wd_index")
    return (
        frame.join(index.rename({"day": start_col, "wd_index": "_a"}), on=start_col, how="left")
        .join(index.rename({"day": end_col, "wd_index": "_b"}), on=end_col, how="left")
        .with_columns(pl.max_horizontal(pl.col("_b") - pl.col("_a"), pl.lit(0)).alias(out))
        .drop("_a", "_b")
    )
