"""The four milestones (M1..M4) as of D: met or not, and which units are missing what.

A milestone is met when none of its tasks has an assignment still open (every assignment
completed by D; ongoing tasks are left out) and every unit its indicators apply to is at full
marks: rates and flags at 1, red-light counts at 0, quality_score at the pass line (the lowest
grade bound, 60 by default). n/a indicators are not a gap.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import Facts
from metrics.registry import KPI_BY_CODE, setting
from metrics.scorecard import indicators
from metrics.tasks import assignment_status

GAP_COLUMNS = ["code", "unit_id", "unit", "item", "detail"]


def _pass_line(facts: Facts) -> float:
    return min(float(bound) for _label, bound in setting(facts, "grades"))


def milestone_gaps(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (milestone, unit, missing thing): item is '任务N' or an indicator label."""
    if frame is None:
        frame = indicators(facts, as_of)
    names = facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"))
    miles = facts.milestones.select("code", "task_nos", "indicators")
    status = assignment_status(facts, as_of)
    open_tasks = (
        miles.explode("task_nos").rename({"task_nos": "task_no"}).with_columns(pl.col("task_no").cast(pl.Int64))
        .join(status.with_columns(pl.col("task_no").cast(pl.Int64)), on="task_no")
        .filter(~pl.col("is_ongoing") & ~pl.col("status").is_in(["按期完成", "逾期完成"]))
        .join(names, on="unit_id", how="left")
        .select("code", "unit_id", "unit",
                item=pl.format("任务{}", pl.col("task_no")), detail=pl.col("status"))
    )
    pass_line = _pass_line(facts)
    parts = [open_tasks]
    wanted = sorted({c for row in miles["indicators"].to_list() for c in (row or [])} & set(KPI_BY_CODE))
    for code in wanted:
        unit = KPI_BY_CODE[code].unit
        value = pl.col(code).cast(pl.Float64)
        short = {"rate": value < 1, "flag": value < 1, "count": value > 0}.get(unit, value < pass_line)
        detail = {
            "flag": pl.lit("否"),
            "rate": pl.format("{}%", (value * 100).round(1)),
            "count": pl.format("{}", value.cast(pl.Int64)),
        }.get(unit, pl.format("{}分", value.round(2)))
        rows = frame.filter(short.fill_null(False)).select(
            "unit_id", "unit", item=pl.lit(KPI_BY_CODE[code].label), detail=detail
        )
        hits = miles.filter(pl.col("indicators").list.contains(code)).select("code")
        parts.append(hits.join(rows, how="cross").select(GAP_COLUMNS))
    return pl.concat(parts).sort("code", "unit_id", "item")


def milestone_status(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per milestone: code, due_date, title, requirement, met, status (已达成/未达成/未到期),
    units_missing and missing (a list of '单位：缺项' lines)."""
    gaps = milestone_gaps(facts, as_of, frame)
    summary = gaps.group_by("code").agg(
        pl.col("unit_id").n_unique().alias("units_missing"),
        pl.format("{}：{}（{}）", "unit", "item", "detail").alias("missing"),
    )
    return (
        facts.milestones.select("code", "due_date", "title", "requirement")
        .join(summary, on="code", how="left")
        .with_columns(
            units_missing=pl.col("units_missing").fill_null(0).cast(pl.Int64),
            missing=pl.col("missing").fill_null([]),
        )
        .with_columns(
            met=pl.col("units_missing") == 0,
        )
        .with_columns(
            status=pl.when(pl.col("met")).then(pl.lit("已达成"))
            .when(pl.col("due_date") < pl.lit(as_of)).then(pl.lit("未达成"))
            .otherwise(pl.lit("未到期")),
        )
        .sort("code")
    )
