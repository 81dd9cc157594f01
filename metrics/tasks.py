"""Task-division ledger (任务分工, annex 2): each (task, unit) assignment's status and light as of D,
and the task indicators per unit."""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.cn import cn_date_expr
from metrics.facts import Facts
from metrics.registry import setting

ASSIGNMENT_COLUMNS = [
    "task_no", "unit_id", "due_date", "is_ongoing", "status", "light", "completed_on",
    "last_report_on", "percent",
]


def _approved_by(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """task_no, unit_id, approved_due, extensions: the latest approved due date of each assignment
    with an extension decided on or before D, and how many were approved."""
    return (
        facts.extensions.filter(pl.col("decided_on") <= pl.lit(as_of))
        .with_columns(pl.col("task_no").cast(pl.Int32), pl.col("unit_id").cast(pl.Int64))
        .sort("decided_on", "approved_due")
        .group_by("task_no", "unit_id")
        .agg(pl.col("approved_due").last(), pl.len().cast(pl.Int64).alias("extensions"))
    )


def month_index(expr: pl.Expr) -> pl.Expr:
    """Months since year 0, so that consecutive months differ by one."""
    return expr.dt.year().cast(pl.Int32) * 12 + expr.dt.month().cast(pl.Int32) - 1


def _month_index_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _plan_start_index(facts: Facts) -> int:
    year, month = (int(x) for x in str(setting(facts, "plan_start_month")).split("-"))
    return year * 12 + month - 1


def latest_reports(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """The latest verified report dated <= D per assignment (the latest one wins)."""
    return (
        facts.reports.filter(pl.col("reported_on") <= pl.lit(as_of))
        .with_columns(pl.col("unit_id").cast(pl.Int64))
        .sort("reported_on")
        .group_by("task_no", "unit_id")
        .agg(
            pl.col("reported_on").last().alias("last_report_on"),
            pl.col("status").last().alias("report_status"),
            pl.col("percent").last().alias("percent"),
            pl.col("completed_on").last().alias("report_completed_on"),
        )
    )


def extensions_applied(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """task_no, unit_id, approved_due, extensions: per assignment, the due date of the latest
    延期申请 approved on or before D and how many were approved by D. Empty when the office turned
    the effect off (setting `extension_applies`)."""
    frame = _approved_by(facts, as_of)
    if not (facts.settings or {}).get("extension_applies", True):
        return frame.clear()
    return frame


def assignment_status(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """One row per assignment: status (按期完成/逾期完成/逾期未完成/推进中/未启动/持续推进) and
    light ('red'|'yellow'|'green') as of D. `due_date` is the due date in force at D: an approved
    延期申请 replaces the plan's date (see extensions_applied)."""
    d = pl.lit(as_of)
    window = int(setting(facts, "yellow_window_days"))
    start_idx = _plan_start_index(facts)
    d_idx = _month_index_of(as_of)
    frame = (
        facts.assignments.select("task_no", pl.col("unit_id").cast(pl.Int64))
        .join(facts.tasks.select("task_no", "due_date", "is_ongoing"), on="task_no", how="left")
        .join(latest_reports(facts, as_of), on=["task_no", "unit_id"], how="left")
        .with_columns(
            is_ongoing=pl.col("is_ongoing").fill_null(False) | pl.col("due_date").is_null(),
        )
    )
    ext = extensions_applied(facts, as_of)
    if ext.height:
        frame = (
            frame.join(ext.select(pl.col("task_no").cast(frame.schema["task_no"]), "unit_id", "approved_due"),
                       on=["task_no", "unit_id"], how="left")
            .with_columns(
                due_date=pl.when(pl.col("is_ongoing")).then(pl.col("due_date"))
                .otherwise(pl.coalesce("approved_due", "due_date"))
            )
            .drop("approved_due")
        )
    done = (pl.col("report_status") == "已完成") & ~pl.col("is_ongoing")
    # A completion date may precede the report; one after the report date is capped at it.
    completed = pl.when(done).then(
        pl.min_horizontal(pl.coalesce("report_completed_on", "last_report_on"), pl.col("last_report_on"))
    )
    frame = frame.with_columns(completed_on=completed)
    # Months in a row without a report for ongoing tasks, counting the month of D.
    last_idx = pl.coalesce(month_index(pl.col("last_report_on")), pl.lit(start_idx - 1))
    gap = pl.lit(d_idx) - last_idx
    status = (
        pl.when(pl.col("is_ongoing")).then(pl.lit("持续推进"))
        .when(pl.col("completed_on").is_not_null())
        .then(pl.when(pl.col("completed_on") <= pl.col("due_date")).then(pl.lit("按期完成")).otherwise(pl.lit("逾期完成")))
        .when(d > pl.col("due_date")).then(pl.lit("逾期未完成"))
        .when(pl.col("report_status").is_null() | (pl.col("report_status") == "未启动")).then(pl.lit("未启动"))
        .otherwise(pl.lit("推进中"))
    )
    frame = frame.with_columns(status=status)
    light = (
        pl.when(pl.col("is_ongoing"))
        .then(pl.when(gap <= 0).then(pl.lit("green")).when(gap == 1).then(pl.lit("yellow")).otherwise(pl.lit("red")))
        .when(pl.col("status") == "逾期未完成").then(pl.lit("red"))
        .when(pl.col("status") == "逾期完成").then(pl.lit("yellow"))
        .when(
            pl.col("status").is_in(["推进中", "未启动"])
            & ((pl.col("due_date") - d).dt.total_days() <= window)
        ).then(pl.lit("yellow"))
        .otherwise(pl.lit("green"))
    )
    return frame.with_columns(light=light).select(ASSIGNMENT_COLUMNS).sort("task_no", "unit_id")


def report_months(facts: Facts, as_of: dt.date, status: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per assignment: months that required a progress report (plan start .. month of D, stopping
    with the month of completion) and months in that span with at least one report."""
    if status is None:
        status = assignment_status(facts, as_of)
    start_idx = _plan_start_index(facts)
    d_idx = _month_index_of(as_of)
    span = status.select(
        "task_no", "unit_id",
        first_idx=pl.lit(start_idx, dtype=pl.Int32),
        last_idx=pl.min_horizontal(
            pl.lit(d_idx, dtype=pl.Int32), pl.coalesce(month_index(pl.col("completed_on")), pl.lit(d_idx))
        ).cast(pl.Int32),
    ).with_columns(required=pl.max_horizontal(pl.col("last_idx") - pl.col("first_idx") + 1, pl.lit(0)))
    reported = (
        facts.reports.filter(pl.col("reported_on") <= pl.lit(as_of))
        .select("task_no", pl.col("unit_id").cast(pl.Int64), idx=month_index(pl.col("reported_on")))
        .join(span.select("task_no", "unit_id", "first_idx", "last_idx"), on=["task_no", "unit_id"])
        .filter(pl.col("idx").is_between(pl.col("first_idx"), pl.col("last_idx")))
        .group_by("task_no", "unit_id")
        .agg(pl.col("idx").n_unique().alias("reported"))
    )
    return (
        span.join(reported, on=["task_no", "unit_id"], how="left")
        .with_columns(pl.col("reported").fill_null(0).cast(pl.Int64), pl.col("required").cast(pl.Int64))
        .sort("task_no", "unit_id")
    )


def task_indicators(facts: Facts, as_of: dt.date, status: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per unit: task_ontime_rate, tasks_overdue_open (red lights), report_rate; null for a unit
    without assignments."""
    if status is None:
        status = assignment_status(facts, as_of)
    months = report_months(facts, as_of, status)
    judged = ["按期完成", "逾期完成", "逾期未完成"]
    per_unit = status.group_by("unit_id").agg(
        (pl.col("status") == "按期完成").sum().alias("_ontime"),
        pl.col("status").is_in(judged).sum().alias("_judged"),
        (pl.col("light") == "red").sum().cast(pl.Int64).alias("tasks_overdue_open"),
    ).with_columns(
        task_ontime_rate=pl.when(pl.col("_judged") > 0).then(pl.col("_ontime") / pl.col("_judged"))
    )
    rates = months.group_by("unit_id").agg(pl.col("reported").sum(), pl.col("required").sum()).with_columns(
        report_rate=pl.when(pl.col("required") > 0).then(pl.col("reported") / pl.col("required"))
    )
    return (
        facts.units.select(pl.col("unit_id").cast(pl.Int64))
        .join(per_unit, on="unit_id", how="left")
        .join(rates, on="unit_id", how="left")
        .select("unit_id", "task_ontime_rate", "tasks_overdue_open", "report_rate")
    )


def extension_marks(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """task_no, unit_id, original_due (the plan's date), extended_due, extensions, applied: every
    assignment with an extension approved by D, for the 已延期 mark of the ledger and the unit's
    card. `applied` is False when the setting `extension_applies` is off (the mark still shows)."""
    frame = (
        _approved_by(facts, as_of).rename({"approved_due": "extended_due"})
        .join(facts.tasks.select(pl.col("task_no").cast(pl.Int32), pl.col("due_date").alias("original_due")),
              on="task_no", how="left")
        .with_columns(pl.col("task_no").cast(facts.tasks.schema["task_no"]))
    )
    applied = bool((facts.settings or {}).get("extension_applies", True))
    return frame.with_columns(applied=pl.lit(applied)).select(
        "task_no", "unit_id", "original_due", "extended_due", "extensions", "applied"
    ).sort("task_no", "unit_id")


def extensions_per_unit(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """unit_id, extensions: approved 延期申请 decided by D, per unit (0 for units without)."""
    counts = (
        facts.extensions.filter(pl.col("decided_on") <= pl.lit(as_of))
        .group_by(pl.col("unit_id").cast(pl.Int64))
        .agg(pl.len().cast(pl.Int64).alias("extensions"))
    )
    return (
        facts.units.select(pl.col("unit_id").cast(pl.Int64))
        .join(counts, on="unit_id", how="left")
        .with_columns(pl.col("extensions").fill_null(0))
    )


def with_extension_mark(frame: pl.DataFrame, facts, as_of: dt.date) -> pl.DataFrame:
    """Add `extension` to a frame keyed by (task_no, unit_id): '已延期（原时限2023年9月30日）' for an
    assignment with an extension approved by D ('…，未计入考评' when the setting is off), else null."""
    marks = extension_marks(facts, as_of)
    if marks.is_empty():
        return frame.with_columns(extension=pl.lit(None, dtype=pl.String))
    text = pl.concat_str(
        pl.lit("已延期（原时限"), cn_date_expr(pl.col("original_due")), pl.lit("，延期至"), cn_date_expr(pl.col("extended_due")),
        pl.when(pl.col("applied")).then(pl.lit("）")).otherwise(pl.lit("，未计入考评）")),
    )
    marks = marks.select(pl.col("task_no").cast(frame.schema["task_no"]), pl.col("unit_id").cast(frame.schema["unit_id"]),
                         extension=text)
    return frame.join(marks, on=["task_no", "unit_id"], how="left")
