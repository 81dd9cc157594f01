"""The four milestones (M1..M4) as of D, judged against their criteria (工作目标达标线).

A milestone is a list of criteria. A criterion is an indicator of the registry (or a task's
completion, written `task:N`), a comparison with a threshold (达标线) and the unit kinds it
applies to. Criteria are settings rows with an effective-from date (table milestone_criteria,
`Facts.milestone_criteria`); the one in force at D is, per (milestone, criterion), the row with
the latest effective_from ≤ D, and a row with active = false withdraws the criterion from then on.

As of D a criterion applies to a unit when the unit's kind is listed and the unit has a value:
an indicator that is n/a for the unit (no systems, no refusals...) does not apply to it, and a task
criterion applies to the units assigned to the task. A unit meets the milestone when it meets
every criterion that applies to it; the milestone is 已达成 when every unit it applies to meets it,
未到期 before its due date unless already met, else 未达成.

DEFAULT_CRITERIA are the office's defaults (docs/kpi-decisions.md gives the reasons one by one);
they live in metrics.criteria (metrics.facts reads them too); data.storage.plan seeds them into the
database with effective_from 2023-01-01.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.criteria import DEFAULT_CRITERIA
from metrics.facts import Facts
from metrics.registry import KPI_BY_CODE
from metrics.scorecard import indicators
from metrics.tasks import assignment_status

GAP_COLUMNS = ["code", "unit_id", "unit", "item", "detail"]
OPS = (">=", "<=")
OP_TEXT = {">=": "≥", "<=": "≤"}
DONE = ("按期完成", "逾期完成")
EPS = 1e-9

def task_no_of(criterion: str) -> int | None:
    if criterion.startswith("task:"):
        try:
            return int(criterion.split(":", 1)[1])
        except ValueError:
            return None
    return None


def threshold_text(criterion: str, op: str, threshold: float, task_title: str | None = None) -> str:
    """The 达标线 as users read it: 答复按时率 ≥ 90%, 红灯任务数为0, 任务1「…」已完成."""
    no = task_no_of(criterion)
    if no is not None:
        return f"任务{no}「{task_title}」已完成" if task_title else f"任务{no}已完成"
    kpi = KPI_BY_CODE[criterion]
    sign = OP_TEXT.get(op, op)
    if kpi.kind == "flag":
        return f"{kpi.label}：{'是' if (threshold >= 1) == (op == '>=') else '否'}"
    if kpi.kind == "count":
        return f"{kpi.label}为0" if op == "<=" and threshold == 0 else f"{kpi.label} {sign} {threshold:g}个"
    if kpi.kind == "score":
        return f"{kpi.label} {sign} {threshold:g}分"
    return f"{kpi.label} {sign} {_pct_text(threshold)}"


def _pct_text(value: float) -> str:
    text = f"{round(value * 100 + EPS, 1):.1f}".removesuffix(".0")
    return f"{text}%"


def criteria_in_force(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Per (milestone, criterion): the row with the latest effective_from ≤ D, if it is active.
    Adds task_no (null for an indicator) and label (the 达标线 in Chinese)."""
    rows = facts.milestone_criteria.filter(pl.col("effective_from") <= pl.lit(as_of))
    latest = (
        rows.sort("effective_from")
        .group_by("milestone", "criterion", maintain_order=True).last()
        .filter(pl.col("active"))
        .with_columns(
            task_no=pl.when(pl.col("criterion").str.starts_with("task:"))
            .then(pl.col("criterion").str.slice(5).cast(pl.Int64, strict=False)),
        )
    )
    titles = facts.tasks.select(pl.col("task_no").cast(pl.Int64), pl.col("title"))
    latest = latest.join(titles, on="task_no", how="left")
    labels = [threshold_text(c, op, t, title) for c, op, t, title in
              latest.select("criterion", "op", "threshold", "title").rows()]
    order = {f"{m}|{code}": i for i, (m, code, *_r) in enumerate(DEFAULT_CRITERIA)}
    key = pl.concat_str([pl.col("milestone"), pl.lit("|"), pl.col("criterion")])
    return (
        latest.with_columns(label=pl.Series(labels, dtype=pl.String),
                            _order=key.replace_strict(order, default=len(order), return_dtype=pl.Int64))
        .sort("milestone", "_order", "criterion")
        .drop("_order", "title")
    )


def _value_text(code: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A unit's value beside the threshold: 98.2%, 否, 2个, 71.5分."""
    kinds = {c: k.kind for c, k in KPI_BY_CODE.items()}
    unit = code.replace_strict(kinds, default="rate")
    return (
        pl.when(unit == "flag").then(pl.when(value >= 1).then(pl.lit("是")).otherwise(pl.lit("否")))
        .when(unit == "count").then(pl.format("{}个", value.cast(pl.Int64)))
        .when(unit == "score").then(pl.format("{}分", value.round(2)))
        .otherwise(pl.format("{}%", (value * 100).round(1)))
    )


def criterion_results(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None,
                      status: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (milestone, criterion, applicable unit): code, criterion, label, op, threshold,
    unit_id, unit, unit_kind, value (null for a task), value_text (the task's status for a task),
    meets. `frame` (indicators) and `status` (assignment_status) when the caller already has them."""
    criteria = criteria_in_force(facts, as_of)
    units = facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"),
                               pl.col("kind").alias("unit_kind"))
    cols = ["code", "criterion", "label", "op", "threshold", "unit_id", "unit", "unit_kind", "value",
            "value_text", "meets"]
    ind_crit = criteria.filter(pl.col("task_no").is_null() & pl.col("criterion").is_in(list(KPI_BY_CODE)))
    parts = []
    if ind_crit.height:
        if frame is None:
            frame = indicators(facts, as_of)
        codes = ind_crit["criterion"].unique().to_list()
        long = frame.select(
            pl.col("unit_id").cast(pl.Int64), *[pl.col(c).cast(pl.Float64) for c in codes]
        ).unpivot(index="unit_id", variable_name="criterion", value_name="value").filter(pl.col("value").is_not_null())
        joined = ind_crit.join(long, on="criterion").join(units, on="unit_id")
        parts.append(joined.with_columns(
            value_text=_value_text(pl.col("criterion"), pl.col("value")),
            meets=pl.when(pl.col("op") == "<=").then(pl.col("value") <= pl.col("threshold") + EPS)
            .otherwise(pl.col("value") >= pl.col("threshold") - EPS),
        ))
    task_crit = criteria.filter(pl.col("task_no").is_not_null())
    if task_crit.height:
        if status is None:
            status = assignment_status(facts, as_of)
        status = status.select(
            pl.col("task_no").cast(pl.Int64), pl.col("unit_id").cast(pl.Int64), "status", "is_ongoing")
        joined = task_crit.join(status, on="task_no").join(units, on="unit_id")
        parts.append(joined.with_columns(
            value=pl.lit(None, dtype=pl.Float64),
            value_text=pl.col("status"),
            meets=pl.col("status").is_in(DONE),
        ).filter(~pl.col("is_ongoing")))
    if not parts:
        return pl.DataFrame(schema={
            "code": pl.String, "criterion": pl.String, "label": pl.String, "op": pl.String,
            "threshold": pl.Float64, "unit_id": pl.Int64, "unit": pl.String, "unit_kind": pl.String,
            "value": pl.Float64, "value_text": pl.String, "meets": pl.Boolean})
    return (
        pl.concat([p.rename({"milestone": "code"}).with_columns(
            pl.col("value").cast(pl.Float64)) for p in parts], how="diagonal_relaxed")
        .filter(pl.col("unit_kinds").list.set_intersection(pl.concat_list(pl.col("unit_kind"))).list.len() > 0)
        .select(cols)
    )


def milestone_criteria(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None,
                       status: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per criterion in force at D: code, criterion, label (达标线), op, threshold, unit_kinds,
    effective_from, applicable (N units), meeting (n), share (n / N, null when N = 0) and failing
    (a list of '单位（现值）')."""
    criteria = criteria_in_force(facts, as_of)
    results = criterion_results(facts, as_of, frame, status)
    summary = results.group_by("code", "criterion").agg(
        pl.len().alias("applicable"),
        pl.col("meets").sum().alias("meeting"),
        pl.format("{}（{}）", "unit", "value_text").filter(~pl.col("meets")).alias("failing"),
    )
    return (
        criteria.rename({"milestone": "code"})
        .select("code", "criterion", "label", "op", "threshold", "unit_kinds", "effective_from")
        .join(summary, on=["code", "criterion"], how="left", maintain_order="left")
        .with_columns(
            applicable=pl.col("applicable").fill_null(0).cast(pl.Int64),
            meeting=pl.col("meeting").fill_null(0).cast(pl.Int64),
            failing=pl.col("failing").fill_null([]),
        )
        .with_columns(share=pl.when(pl.col("applicable") > 0).then(pl.col("meeting") / pl.col("applicable")))
    )


def milestone_gaps(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None,
                   status: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (milestone, unit, criterion missed): code, unit_id, unit, item (the indicator's
    label or '任务N'), detail (the unit's value or the task's status), then criterion, label
    (the 达标线), value (null for a task)."""
    return _gaps(criterion_results(facts, as_of, frame, status))


def _gaps(results: pl.DataFrame) -> pl.DataFrame:
    results = results.filter(~pl.col("meets"))
    item = pl.when(pl.col("criterion").str.starts_with("task:")).then(
        pl.format("任务{}", pl.col("criterion").str.slice(5))
    ).otherwise(pl.col("criterion").replace_strict({c: k.label for c, k in KPI_BY_CODE.items()}, default=None))
    return results.select(
        "code", "unit_id", "unit", item.alias("item"), pl.col("value_text").alias("detail"),
        "criterion", "label", "value",
    ).sort("code", "unit_id", "item")


def milestone_status(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None,
                     status: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per milestone: code, due_date, title, requirement, met, status (已达成/未达成/未到期),
    units_missing, missing (a list of '单位：缺项（现值）' lines), units_applicable (units at least
    one criterion applies to), units_meeting, criteria (how many criteria are in force)."""
    results = criterion_results(facts, as_of, frame, status)
    per_unit = results.group_by("code", "unit_id").agg(pl.col("meets").all())
    units = per_unit.group_by("code").agg(
        pl.len().alias("units_applicable"),
        pl.col("meets").sum().alias("units_meeting"),
    )
    gaps = _gaps(results)
    summary = gaps.group_by("code").agg(
        pl.col("unit_id").n_unique().alias("units_missing"),
        pl.format("{}：{}（{}）", "unit", "item", "detail").alias("missing"),
    )
    counts = criteria_in_force(facts, as_of).group_by("milestone").agg(pl.len().alias("criteria")).rename(
        {"milestone": "code"})
    return (
        facts.milestones.select("code", "due_date", "title", "requirement")
        .join(summary, on="code", how="left")
        .join(units, on="code", how="left")
        .join(counts, on="code", how="left")
        .with_columns(
            units_missing=pl.col("units_missing").fill_null(0).cast(pl.Int64),
            missing=pl.col("missing").fill_null([]),
            units_applicable=pl.col("units_applicable").fill_null(0).cast(pl.Int64),
            units_meeting=pl.col("units_meeting").fill_null(0).cast(pl.Int64),
            criteria=pl.col("criteria").fill_null(0).cast(pl.Int64),
        )
        .with_columns(met=pl.col("units_missing") == 0)
        .with_columns(
            status=pl.when(pl.col("met")).then(pl.lit("已达成"))
            .when(pl.col("due_date") < pl.lit(as_of)).then(pl.lit("未达成"))
            .otherwise(pl.lit("未到期")),
        )
        .select("code", "due_date", "title", "requirement", "met", "status", "units_missing", "missing",
                "units_applicable", "units_meeting", "criteria")
        .sort("code")
    )
