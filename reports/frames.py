"""The tables the reports are made of: pure Polars frame builders, no file format.

The writers take their frames from here: reports/excel.py (openpyxl), reports/docx_official.py
(Word), reports/bulletin.py (the 通报 text) and reports/charts.py (Plotly); the data layer
freezes some of them when a month is published (data/services/publish.py). Also the Chinese
date words every writer prints.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.registry import (
    CSV_KPI_CODES,
    KPI_BY_CODE,
    LIGHT_LABELS,
    UNIT_KINDS,
    formula_settings,
    formula_texts,
)


def rounded_scorecard(frame: pl.DataFrame) -> pl.DataFrame:
    """The values as the CSV shows them: rates 4 decimals, scores 2 (half away from zero)."""
    from metrics.scorecard import round_half_away

    exprs = []
    for code in [*CSV_KPI_CODES, "composite"]:
        if code not in frame.columns:
            continue
        places = 2 if code == "composite" or KPI_BY_CODE[code].kind == "score" else (
            4 if KPI_BY_CODE[code].kind == "rate" else 0)
        # round() after the half-away rounding drops the representation noise (0.6275000000000001).
        exprs.append(round_half_away(pl.col(code).cast(pl.Float64), places).round(places).alias(code))
    return frame.with_columns(exprs)


def points_frame(card: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
    """得分明细 as a long table: per unit (in the scorecard's order) its applicable indicators,
    most points lost first, then a 合计 row whose points earned are the composite.
    Columns: unit, unit_kind, label, score, weight, eff_weight, earned, lost."""
    order = card.select(pl.col("unit_id").cast(pl.Int64), "unit", "unit_kind", "composite").with_row_index("_u")
    rows = (
        points.filter(pl.col("applicable"))
        .join(order, on="unit_id", how="inner")
        .with_columns(_line=pl.lit(0))
        .select("_u", "_line", "unit", "unit_kind", "label", "score", "weight", "eff_weight", "earned", "lost")
    )
    totals = order.filter(pl.col("composite").is_not_null()).select(
        "_u", _line=pl.lit(1), unit="unit", unit_kind="unit_kind", label=pl.lit("合计（综合得分）"),
        score=pl.lit(None, dtype=pl.Float64), weight=pl.lit(None, dtype=pl.Float64),
        eff_weight=pl.lit(100.0), earned=pl.col("composite").cast(pl.Float64),
        lost=100.0 - pl.col("composite").cast(pl.Float64))
    return (
        pl.concat([rows, totals], how="vertical_relaxed")
        .sort(["_u", "_line", "lost", "eff_weight"], descending=[False, False, True, True], nulls_last=True)
        .drop("_u", "_line")
    )


def _names(facts) -> pl.DataFrame:
    return facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name"), pl.col("kind"))


def _kind_order() -> pl.Expr:
    return pl.col("unit_kind").replace_strict({k: i for i, k in enumerate(UNIT_KINDS)}, default=len(UNIT_KINDS),
                                              return_dtype=pl.Int32)


def month_cards(facts, as_of: dt.date, card: pl.DataFrame | None, prev: pl.DataFrame | None):
    """The scorecards at D and at the previous month end: given (frozen ones for published months)
    or computed."""
    from metrics.scorecard import scorecard
    from metrics.trend import previous_month_end

    return (scorecard(facts, as_of) if card is None else card,
            scorecard(facts, previous_month_end(as_of)) if prev is None else prev)


def ranking_frame(facts, as_of: dt.date, card: pl.DataFrame | None = None,
                  prev: pl.DataFrame | None = None) -> pl.DataFrame:
    """Composite, grade and rank beside last month's, red lights and the suggestion. `card` and
    `prev` (scorecards at D and at the previous month end) default to a computation."""
    from metrics.scorecard import round_half_away

    card, prev = month_cards(facts, as_of, card, prev)
    before = prev.select(pl.col("unit_id").cast(pl.Int64), pl.col("composite").alias("composite_prev"),
                         pl.col("grade").alias("grade_prev"), pl.col("rank").alias("rank_prev"))
    change = (
        card.select(pl.col("unit_id").cast(pl.Int64), "unit", "unit_kind", "composite", "grade", "rank")
        .join(before, on="unit_id", how="left")
        .with_columns(composite_change=pl.col("composite") - pl.col("composite_prev"),
                      rank_change=pl.col("rank_prev") - pl.col("rank"))
        .with_columns(round_half_away(pl.col(c), 2).round(2).alias(c)
                      for c in ("composite", "composite_prev", "composite_change"))
    )
    extra = card.select(pl.col("unit_id").cast(pl.Int64), "red_lights", "suggestion")
    return change.join(extra, on="unit_id", how="left").sort(_kind_order(), "rank", "unit_id", nulls_last=True)


def unit_indicator_frame(facts, as_of: dt.date, card: pl.DataFrame | None = None,
                         prev: pl.DataFrame | None = None) -> pl.DataFrame:
    """Long form: one row per unit and indicator, this month, last month, change and formula."""
    codes = list(CSV_KPI_CODES)

    def long(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return rounded_scorecard(frame).select("unit_id", "unit", "unit_kind", *[
            pl.col(c).cast(pl.Float64) for c in codes]).unpivot(
            index=["unit_id", "unit", "unit_kind"], variable_name="code", value_name=name)

    card, prev = month_cards(facts, as_of, card, prev)
    now = long(card, "value")
    prev = long(prev, "prev").select("unit_id", "code", "prev")
    order = pl.DataFrame({"code": codes, "order": list(range(len(codes))),
                          "label": [KPI_BY_CODE[c].label for c in codes],
                          "formula": formula_texts(codes, formula_settings(facts, as_of))})
    return (
        now.join(prev, on=["unit_id", "code"], how="left")
        .join(order, on="code", how="left")
        .with_columns(change=(pl.col("value") - pl.col("prev")).round(4))
        .sort(_kind_order(), "unit_id", "order")
    )


def task_ledger_frame(facts, as_of: dt.date) -> pl.DataFrame:
    from metrics.tasks import assignment_status

    return (
        assignment_status(facts, as_of)
        .join(facts.tasks.select("task_no", "title", "deadline_text"), on="task_no", how="left")
        .join(_names(facts), on="unit_id", how="left")
        .with_columns(light_name=pl.col("light").replace_strict(LIGHT_LABELS, default=None))
        .sort("task_no", "unit_id")
    )


def overdue_frame(facts, as_of: dt.date) -> pl.DataFrame:
    """Overdue request steps and overdue open tasks, with working days overdue as of D."""
    from metrics.registry import STEP_LABELS
    from metrics.requests import step_plan
    from metrics.workdays import workdays_between

    names = _names(facts).select("unit_id", "name")
    steps = (
        step_plan(facts, as_of).filter(pl.col("status") == "overdue").collect()
        .join(names.rename({"unit_id": "responsible_id"}), on="responsible_id", how="left")
        .select(
            kind=pl.lit("共享申请") + pl.col("step").replace_strict(STEP_LABELS, default=None),
            ref=pl.col("code"),
            what=pl.lit("申请") + pl.col("code") + pl.lit("的") + pl.col("step").replace_strict(STEP_LABELS,
                                                                                             default=None),
            unit=pl.col("name"),
            due=pl.col("deadline"),
            workdays=pl.col("workdays_overdue").cast(pl.Int64),
        )
    )
    tasks = task_ledger_frame(facts, as_of).filter(pl.col("status") == "逾期未完成").with_columns(
        _as_of=pl.lit(as_of))
    tasks = workdays_between(tasks, "due_date", "_as_of", facts.calendar, "wd").select(
        kind=pl.lit("任务"),
        ref=pl.col("task_no").cast(pl.String),
        what=pl.col("title"),
        unit=pl.col("name"),
        due=pl.col("due_date"),
        workdays=pl.col("wd").cast(pl.Int64),
    )
    return pl.concat([steps, tasks]).sort("workdays", "due", "ref", descending=[True, False, False])


def timeliness_frame(facts, month: str) -> pl.DataFrame:
    """Request steps whose deadline falls in the month, as of the month's last day."""
    from metrics.monthly import month_bounds
    from metrics.registry import STATUS_LABELS, STEP_LABELS
    from metrics.requests import step_plan

    first, last = month_bounds(month)
    names = _names(facts).select("unit_id", "name")
    return (
        step_plan(facts, last).filter(pl.col("deadline").is_between(pl.lit(first), pl.lit(last))).collect()
        .join(names.rename({"unit_id": "requester_id", "name": "requester"}), on="requester_id", how="left")
        .join(names.rename({"unit_id": "provider_id", "name": "provider"}), on="provider_id", how="left")
        .join(names.rename({"unit_id": "responsible_id", "name": "responsible"}), on="responsible_id", how="left")
        .with_columns(
            step_name=pl.col("step").replace_strict(STEP_LABELS, default=None),
            status_name=pl.col("status").replace_strict(STATUS_LABELS, default=None),
            workdays_overdue=pl.col("workdays_overdue").cast(pl.Int64),
        )
        .sort("deadline", "code", "step", descending=[False, False, True])
    )


def suggestion_frame(facts, as_of: dt.date, card: pl.DataFrame | None = None) -> pl.DataFrame:
    from metrics.scorecard import scorecard

    fail = (facts.settings or {}).get("fail_grade", "不合格")
    card = scorecard(facts, as_of) if card is None else card
    card = rounded_scorecard(card).filter(pl.col("suggestion").is_not_null())
    reason = (
        pl.when(pl.col("suggestion") == "表扬")
        .then(pl.format("{}第{}名，综合得分{}分", "unit_kind", "rank", pl.col("composite").round(2)))
        .otherwise(pl.concat_str([
            pl.when(pl.col("grade") == fail).then(pl.lit("等次为" + fail)),
            pl.when(pl.col("red_lights") > 0).then(pl.format("红灯任务{}项", "red_lights")),
        ], separator="；", ignore_nulls=True))
    )
    return card.with_columns(reason=reason).sort(
        pl.col("suggestion").replace_strict({"表扬": 0, "约谈": 1}, default=2), _kind_order(), "rank", "unit_id")


def detail_frame(facts, month: str, sheet: str, *, card: pl.DataFrame | None = None,
                 prev: pl.DataFrame | None = None, points: pl.DataFrame | None = None) -> pl.DataFrame:
    """The rows of detail sheet `sheet` (单位记分卡, 得分明细, 任务台账 or 逾期清单: the keys of
    reports.excel.DETAILS) of the review of `month`, from the builders above; `card`, `prev` and
    `points` as reports.excel.review_workbook takes them."""
    from metrics.monthly import month_bounds
    from metrics.points import unit_points
    from metrics.scorecard import scorecard

    as_of = month_bounds(month)[1]
    if sheet == "单位记分卡":
        return unit_indicator_frame(facts, as_of, *month_cards(facts, as_of, card, prev))
    if sheet == "得分明细":
        return points_frame(scorecard(facts, as_of) if card is None else card,
                            unit_points(facts, as_of) if points is None else points)
    if sheet == "任务台账":
        return task_ledger_frame(facts, as_of)
    if sheet == "逾期清单":
        return overdue_frame(facts, as_of)
    raise KeyError(sheet)


def timeliness_summary_frame(detail: pl.DataFrame) -> pl.DataFrame:
    """timeliness_frame summarised per responsible unit and step: steps due in the month, how many
    were done on time, done late and still overdue at the month's end, and the longest overrun;
    units with steps still overdue first."""
    count = {k: (pl.col("status") == k).sum().cast(pl.Int64).alias(k) for k in ("on_time", "late", "overdue")}
    return (
        detail.group_by("responsible", "step", "step_name")
        .agg(pl.len().cast(pl.Int64).alias("steps"), *count.values(),
             pl.col("workdays_overdue").max().alias("most_overdue"))
        .sort(["overdue", "late", "responsible", "step"], descending=[True, True, False, True], nulls_last=True)
    )
