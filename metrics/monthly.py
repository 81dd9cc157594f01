"""The monthly review's request figures: rates over the steps falling due in the month, and the
warning list (预警) of open steps about to fall due."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

import polars as pl

from metrics.facts import Facts
from metrics.registry import setting
from metrics.requests import judged_count, on_time_rate, open_steps_due_by, step_plan
from metrics.workdays import add_workday_deadline, workdays_between


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'YYYY-MM' -> (first day, last day)."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = dt.date(year, mon, 1)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"月份格式应为 YYYY-MM：{month} / month must be YYYY-MM: {month}") from exc
    return first, dt.date(year, mon, calendar.monthrange(year, mon)[1])


def month_rates(facts: Facts, month: str, as_of: dt.date | None = None) -> pl.DataFrame:
    """Per responsible unit, over the steps whose deadline falls in the month: counts by status and
    the on-time rate of review (office) and reply steps, judged as of the month's last day, or as of
    `as_of` when it falls inside the month (本月至今): then only facts dated ≤ D exist and a step due
    after D is pending, not overdue. A step due on the judging day and still open is pending and
    left out, as in the scorecard. A month after D has nothing yet (every step in it is pending)."""
    first, last = month_bounds(month)
    judged_on = last if as_of is None else min(last, as_of)
    # Lazily: only the month's steps are collected, never every step of every request.
    steps = step_plan(facts, judged_on).filter(pl.col("deadline").is_between(pl.lit(first), pl.lit(last))).collect()
    counts = steps.group_by("responsible_id", "step").agg(
        (pl.col("status") == "on_time").sum().alias("on_time"),
        (pl.col("status") == "late").sum().alias("late"),
        (pl.col("status") == "overdue").sum().alias("overdue"),
        (pl.col("status") == "pending").sum().alias("pending"),
    ).with_columns(
        judged=judged_count(),
    ).with_columns(
        ontime_rate=on_time_rate(),
    )
    units = facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"),
                               pl.col("kind").alias("unit_kind"))
    return (
        counts.rename({"responsible_id": "unit_id"})
        .join(units, on="unit_id", how="left")
        .select("unit_id", "unit", "unit_kind", "step", "on_time", "late", "overdue", "pending", "judged",
                "ontime_rate")
        .with_columns(pl.col("on_time", "late", "overdue", "pending", "judged").cast(pl.Int64))
        .sort("step", "unit_id", descending=[True, False])
    )


def warning_horizon(facts: Facts, as_of: dt.date) -> dt.date:
    """The last deadline the warning list reaches: settings['warning_workdays'] working days after D."""
    days = int(setting(facts, "warning_workdays"))
    return add_workday_deadline(
        pl.DataFrame({"d": [as_of], "n": [days]}), "d", "n", facts.calendar, "horizon"
    )["horizon"][0]


def warning_steps(steps: pl.LazyFrame, horizon: dt.date) -> pl.LazyFrame:
    """The steps the warning list shows, from request steps as of D: open (pending, so not done
    and not yet overdue) with a deadline on or before the horizon."""
    return steps.filter((pl.col("status") == "pending") & (pl.col("deadline") <= pl.lit(horizon)))


def warning_list(facts: Facts, as_of: dt.date, steps: pl.DataFrame | pl.LazyFrame | None = None) -> pl.DataFrame:
    """Open steps (not done, not yet overdue) whose deadline is within settings['warning_workdays']
    working days after D (a deadline on D itself included): code, step, responsible unit,
    deadline, workdays_left.

    `steps`: request_steps(facts, D) already computed (or any part of them holding at least the
    warning_steps, or its lazy query), so a caller holding them does not compute them again."""
    horizon = warning_horizon(facts, as_of)
    if steps is None:
        # Steps are per request: those of the few requests with a step open and due by the
        # horizon are all the list can show, so only theirs are built.
        near = dataclasses.replace(facts, requests=facts.requests.filter(open_steps_due_by(facts, as_of, horizon)))
        source = step_plan(near, as_of)
    else:
        source = steps.lazy()
    steps = warning_steps(source, horizon).with_columns(_as_of=pl.lit(as_of)).collect()
    steps = workdays_between(steps, "_as_of", "deadline", facts.calendar, "workdays_left")
    names = facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name"))
    return (
        steps.join(names.rename({"unit_id": "responsible_id", "name": "responsible"}), on="responsible_id",
                   how="left")
        .select("code", "step", "responsible_id", "responsible", "requester_id", "provider_id", "started_on",
                "deadline", pl.col("workdays_left").cast(pl.Int32), "rule")
        .sort("deadline", "code", "step")
    )
