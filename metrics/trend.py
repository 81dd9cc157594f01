"""Month-over-month change and the 12-month trend, per unit and county-wide."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

import polars as pl

from metrics.facts import Facts
from metrics.registry import CSV_KPI_CODES, setting
from metrics.scorecard import scorecard


def month_end(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def previous_month_end(day: dt.date) -> dt.date:
    return day.replace(day=1) - dt.timedelta(days=1)


def plan_start(facts: Facts) -> dt.date:
    """The first day of the plan's start month (setting plan_start_month, 2023-05): months before
    it are not scored anywhere."""
    return dt.date.fromisoformat(f"{setting(facts, 'plan_start_month')}-01")


def trend_points(end: dt.date, months: int = 12, start: dt.date | None = None) -> list[dt.date]:
    """The month-ends of the `months` months ending with the month of `end`; the last point is
    `end` itself (a month in progress is shown as it stands on `end`). With `start`, points of
    months before `start`'s month are left out."""
    points = [end]
    day = end
    for _ in range(months - 1):
        day = previous_month_end(day)
        points.append(day)
    if start is not None:
        points = [p for p in points if p >= start.replace(day=1)]
    return points[::-1]


Card = Callable[[dt.date], pl.DataFrame]


def monthly_trend(facts: Facts, end: dt.date, months: int = 12, card: Card | None = None) -> pl.DataFrame:
    """Per unit per point: month ('YYYY-MM'), as_of, and the scorecard columns. Points start at the
    plan's start month (none at all when `end` is before it). `card(day)` gives the scorecard at a
    day (default: computed from the facts); data.services.snapshot passes its month-end history so a new
    date reuses the months already computed."""
    if card is None:
        def card(day: dt.date) -> pl.DataFrame:
            return scorecard(facts, day)
    points = trend_points(end, months, plan_start(facts))
    frames = [
        card(day).with_columns(month=pl.lit(day.strftime("%Y-%m")), as_of=pl.lit(day))
        for day in points
    ]
    if not frames:
        empty = card(end).clear()
        frames = [empty.with_columns(month=pl.lit(None, dtype=pl.String), as_of=pl.lit(None, dtype=pl.Date))]
    out = pl.concat(frames)
    return out.select("month", "as_of", *[c for c in out.columns if c not in ("month", "as_of")])


def county_trend(facts: Facts, end: dt.date, months: int = 12, trend: pl.DataFrame | None = None) -> pl.DataFrame:
    """County-wide per point: units scored, the mean composite and the mean of each indicator
    over the units it applies to, red lights in total, and the 约谈 / 表扬 counts."""
    if trend is None:
        trend = monthly_trend(facts, end, months)
    return (
        trend.group_by("month", "as_of")
        .agg(
            pl.col("composite").is_not_null().sum().alias("units_scored"),
            pl.col("composite").mean(),
            *[pl.col(c).cast(pl.Float64).mean() for c in CSV_KPI_CODES],
            pl.col("red_lights").sum(),
            (pl.col("suggestion") == "约谈").sum().alias("interviews"),
            (pl.col("suggestion") == "表扬").sum().alias("praises"),
        )
        .sort("as_of")
    )


def change_since_last_month(facts: Facts, as_of: dt.date, card: Card | None = None) -> pl.DataFrame:
    """Each unit's composite, grade and rank at D beside those at the end of the previous month.
    rank_change > 0 means the unit moved up. A previous month before the plan's start month was not
    scored: the previous columns are then empty. `card` as in monthly_trend."""
    if card is None:
        def card(day: dt.date) -> pl.DataFrame:
            return scorecard(facts, day)
    now = card(as_of)
    before = previous_month_end(as_of)
    prev_card = card(before)
    if before < plan_start(facts):
        prev_card = prev_card.clear()
    prev = prev_card.select(
        "unit_id",
        pl.col("composite").alias("composite_prev"),
        pl.col("grade").alias("grade_prev"),
        pl.col("rank").alias("rank_prev"),
    )
    return now.select("unit_id", "unit", "unit_kind", "composite", "grade", "rank").join(
        prev, on="unit_id", how="left"
    ).with_columns(
        composite_change=pl.col("composite") - pl.col("composite_prev"),
        rank_change=pl.col("rank_prev") - pl.col("rank"),
    )
