"""The scorecard: every indicator per unit as of D, the composite, grade, rank and suggestions."""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.catalog import catalog_indicators
from metrics.facts import Facts
from metrics.infra import infra_indicators
from metrics.registry import (
    CSV_COLUMNS,
    CSV_KPI_CODES,
    KPI_BY_CODE,
    KPIS,
    UNIT_KINDS,
    decimals,
    office_unit_id,
    setting,
)
from metrics.requests import request_indicators
from metrics.tasks import assignment_status, task_indicators

ALL_KPI_CODES = [k.code for k in KPIS]
SCORECARD_COLUMNS = ["unit_id", *CSV_COLUMNS, "red_lights", "suggestion"]


def round_half_away(expr: pl.Expr, places: int) -> pl.Expr:
    """Round half away from zero. The tiny nudge absorbs binary representation error (0.125 stays
    0.125, but 0.28745 stored as 0.287449999… still rounds up as written)."""
    scale = 10**places
    return (expr.sign() * ((expr.abs() * scale + 0.5 + 1e-9).floor()) / scale)


def indicators(facts: Facts, as_of: dt.date, status: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per unit: unit_id, unit, unit_kind, every indicator of the registry (null = n/a)
    and the detail columns the pages show beside them (dates, 按期 flags, 未评估). `status` is
    metrics.tasks.assignment_status(facts, as_of) when the caller already has it."""
    if status is None:
        status = assignment_status(facts, as_of)
    units = facts.units.select(
        pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"), pl.col("kind").alias("unit_kind")
    )
    frame = (
        units.join(catalog_indicators(facts, as_of), on="unit_id", how="left")
        .join(request_indicators(facts, as_of), on="unit_id", how="left")
        .join(task_indicators(facts, as_of, status), on="unit_id", how="left")
        .join(infra_indicators(facts, as_of), on="unit_id", how="left")
    )
    details = [c for c in frame.columns if c not in ("unit_id", "unit", "unit_kind", *ALL_KPI_CODES)]
    return frame.select("unit_id", "unit", "unit_kind", *ALL_KPI_CODES, *details)


def kpi_score(code: str, penalty: float) -> pl.Expr:
    """The 0–100 score of one indicator (null when n/a)."""
    kind = KPI_BY_CODE[code].kind
    value = pl.col(code).cast(pl.Float64)
    if kind in ("rate", "flag"):
        return value * 100
    if kind == "count":
        # 100 − penalty per red light, floor 0
        return pl.when(value.is_not_null()).then(pl.max_horizontal(100.0 - penalty * value, pl.lit(0.0)))
    return value


def weights_of(facts: Facts) -> dict[str, float]:
    """Positive weights of indicators the registry knows (settings["weights"] is keyed by code)."""
    raw = setting(facts, "weights") or {}
    return {code: float(w) for code, w in raw.items() if code in KPI_BY_CODE and float(w) > 0}


def composite_expr(weights: dict[str, float], penalty: float) -> pl.Expr:
    parts = [pl.when(pl.col(c).is_not_null()).then(kpi_score(c, penalty) * w).otherwise(0.0) for c, w in weights.items()]
    used = [pl.when(pl.col(c).is_not_null()).then(pl.lit(w)).otherwise(0.0) for c, w in weights.items()]
    if not parts:
        return pl.lit(None, dtype=pl.Float64)
    total = pl.sum_horizontal(used)
    return pl.when(total > 0).then(pl.sum_horizontal(parts) / total)


def grade_expr(facts: Facts, composite: pl.Expr) -> pl.Expr:
    grades = sorted(setting(facts, "grades"), key=lambda g: -float(g[1]))
    expr = pl.when(composite.is_null()).then(pl.lit(None, dtype=pl.String))
    for label, bound in grades:
        expr = expr.when(composite >= float(bound)).then(pl.lit(label))
    return expr.otherwise(pl.lit(setting(facts, "fail_grade")))


def suggestion_expr(office: int | None, top_n: int, min_units: int, interview_lights: int, fail: str) -> pl.Expr:
    """表扬 / 约谈 / null, on a frame with unit_id, unit_kind, composite, grade, rank, red_lights.

    The office (县大数据发展中心) signs the bulletin, so it is never proposed for 约谈 nor 表扬 by
    its own bulletin (its results have their own paragraph). 约谈: grade 不合格 or
    `interview_lights` red lights or more. 表扬: the top `top_n` of a kind ranked among the other
    units of that kind (so the office's place never takes a slot), only in a kind with at least
    `min_units` scored units — in a smaller kind the top three is nearly everyone."""
    not_office = pl.lit(True) if office is None else pl.col("unit_id") != office
    scored = pl.col("composite").is_not_null() & not_office
    shown = round_half_away(pl.col("composite"), 2)
    praise_rank = pl.when(scored).then(-shown).rank(method="min").over("unit_kind")  # nulls stay unranked
    kind_size = pl.col("composite").is_not_null().sum().over("unit_kind")
    interview = (pl.col("grade") == fail) | (pl.col("red_lights") >= interview_lights)
    return (
        pl.when(~not_office).then(pl.lit(None, dtype=pl.String))
        .when(interview).then(pl.lit("约谈"))
        .when(scored & (praise_rank <= top_n) & (kind_size >= min_units)).then(pl.lit("表扬"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def scorecard(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """The scorecard of every unit as of D (see docs/architecture.md, Engine API). `frame` is
    indicators(facts, as_of) when the caller already has it (data.services.snapshot shares one)."""
    penalty = float(setting(facts, "red_light_penalty"))
    top_n = int(setting(facts, "praise_top_n"))
    interview_lights = int(setting(facts, "interview_red_lights"))
    fail = setting(facts, "fail_grade")
    weights = weights_of(facts)
    if frame is None:
        frame = indicators(facts, as_of)
    frame = frame.with_columns(composite=composite_expr(weights, penalty))
    # Grade and rank read the composite as displayed (2 decimals): a unit shown 90.00 is 优秀,
    # and two units shown with the same figure share a rank.
    shown = round_half_away(pl.col("composite"), 2)
    frame = frame.with_columns(
        grade=grade_expr(facts, shown),
        rank=(-shown).rank(method="min").over("unit_kind").cast(pl.Int64),
        red_lights=pl.col("tasks_overdue_open").fill_null(0).cast(pl.Int64),
    )
    frame = frame.with_columns(suggestion=suggestion_expr(
        office_unit_id(facts), top_n, int(setting(facts, "praise_min_units")), interview_lights, fail))
    kind_order = pl.col("unit_kind").replace_strict(
        {k: i for i, k in enumerate(UNIT_KINDS)}, default=len(UNIT_KINDS), return_dtype=pl.Int32
    )
    return frame.sort(
        [kind_order, pl.col("unit_kind"), pl.col("rank"), pl.col("unit_id")], nulls_last=True
    ).select(SCORECARD_COLUMNS)


def _fixed(expr: pl.Expr, places: int) -> pl.Expr:
    """A non-negative number as text with exactly `places` decimals, rounded half away from zero."""
    scaled = round_half_away(expr, places) * 10**places
    q = (scaled + 0.5).floor().cast(pl.Int64)  # exact integer of the rounded value
    if places == 0:
        return q.cast(pl.String)
    whole = (q // 10**places).cast(pl.String)
    frac = (q % 10**places).cast(pl.String).str.zfill(places)
    return pl.concat_str([whole, pl.lit("."), frac])


# The scorecard CSV's free-text columns: the only ones the CSV neutralisation applies to.
SCORECARD_TEXT_COLUMNS = ("unit", "unit_kind", "grade")


def scorecard_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The CSV columns as text formatted per interfaces.md (null stays null = empty cell); the CSV
    itself is reports.csv_export.scorecard_csv."""
    exprs = []
    for col in CSV_COLUMNS:
        if col in SCORECARD_TEXT_COLUMNS:
            exprs.append(pl.col(col).cast(pl.String))
        elif col == "rank":
            exprs.append(pl.col(col).cast(pl.String))
        else:
            places = decimals(col) if col in CSV_KPI_CODES or col == "composite" else 0
            exprs.append(_fixed(pl.col(col).cast(pl.Float64), places).alias(col))
    return frame.select(exprs)
