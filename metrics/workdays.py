"""Working-day arithmetic, set-wise.

The calendar frame (see `data.storage.calendar.working_calendar`) carries `wd_index`, the number of
working days up to and including each day. The N-th working day strictly after D (民法典
第二百零一条: the start day is not counted) is then the working day whose index is
`wd_index(D) + N`; this holds when D is itself a holiday, because a holiday has the index of the
working day before it. Two joins, no loop, however many rows.

WorkdayIndex does the same arithmetic as gathers over two arrays, for expressions over millions of
rows (the request engine); the join-based functions below are kept as its independent check
(tests/metrics/test_metrics_requests.py compares them on every day of 2023–2026) and for small frames.
"""

from __future__ import annotations

import polars as pl


class WorkdayIndex:
    """The calendar as two arrays, so a deadline is two gathers instead of two joins over millions
    of rows: wd[day - first] is the working-day index of a day (the module docstring explains it), and
    days[k - 1] is the k-th working day. Same results as the join-based functions (tested against them)."""

    def __init__(self, calendar: pl.DataFrame):
        cal = calendar.sort("day")
        self.first = cal["day"][0]
        self.size = cal.height
        self.wd = cal["wd_index"].cast(pl.Int32)
        self.days = cal.filter(pl.col("is_workday"))["day"]
        contiguous = (cal["day"][-1] - self.first).days + 1 == cal.height
        if not contiguous:
            raise ValueError("日历须逐日连续 / the calendar frame must hold every day")

    def index_of(self, day: pl.Expr) -> pl.Expr:
        offset = day.cast(pl.Int32) - pl.lit(self.first).cast(pl.Int32)
        return pl.lit(self.wd).gather(pl.when(offset.is_between(0, self.size - 1)).then(offset))

    def nth_after(self, day: pl.Expr, n: pl.Expr) -> pl.Expr:
        """The n-th working day strictly after `day`."""
        target = self.index_of(day) + n - 1
        return pl.lit(self.days).gather(pl.when(target.is_between(0, len(self.days) - 1)).then(target))

    def between(self, start: pl.Expr, end: pl.Expr) -> pl.Expr:
        """Working days strictly after start up to and including end (0 when end <= start)."""
        return pl.max_horizontal(self.index_of(end) - self.index_of(start), pl.lit(0, dtype=pl.Int32))


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
