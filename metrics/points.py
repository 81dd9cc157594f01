"""Points per indicator (得分明细): how each indicator adds to a unit's composite.

For every unit and every indicator of the registry: its value (null = n/a), its 0–100 score, the
office's weight, the effective weight (the weight scaled up over the indicators that apply to the
unit, so the effective weights of a unit sum to 100), the points earned (score × effective weight
/ 100) and the points lost (effective weight − earned). Points earned sum to the composite before
rounding. An unweighted indicator (weight 0) has effective weight 0 and neither earns nor loses:
it is shown, never blamed. An indicator that does not apply has neither score nor weight.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import Facts
from metrics.registry import KPI_BY_CODE, KPIS, setting
from metrics.scorecard import indicators, kpi_score, weights_of

POINTS_COLUMNS = ["unit_id", "code", "label", "value", "score", "weight", "eff_weight", "earned", "lost",
                  "applicable"]
POINTS_SCHEMA = {
    "unit_id": pl.Int64, "code": pl.String, "label": pl.String, "value": pl.Float64, "score": pl.Float64,
    "weight": pl.Float64, "eff_weight": pl.Float64, "earned": pl.Float64, "lost": pl.Float64,
    "applicable": pl.Boolean,
}


def points_of(frame: pl.DataFrame, weights: dict[str, float], penalty: float) -> pl.DataFrame:
    """Long frame (POINTS_COLUMNS), one row per unit of `frame` and indicator of the registry.

    `frame` holds unit_id and the indicator columns (metrics.scorecard.indicators or scorecard);
    `weights` maps indicator codes to the office's weights (metrics.scorecard.weights_of)."""
    codes = [k.code for k in KPIS if k.code in frame.columns]
    if not codes or frame.is_empty():
        return pl.DataFrame(schema=POINTS_SCHEMA)
    weighted = {c: float(w) for c, w in weights.items() if c in codes and float(w) > 0}
    used = [pl.when(pl.col(c).is_not_null()).then(pl.lit(w)).otherwise(0.0) for c, w in weighted.items()]
    scores = frame.select(
        pl.col("unit_id").cast(pl.Int64),
        (pl.sum_horizontal(used) if used else pl.lit(0.0)).alias("_total"),
        *[pl.col(c).cast(pl.Float64).alias(f"v:{c}") for c in codes],
        *[kpi_score(c, penalty).cast(pl.Float64).alias(f"s:{c}") for c in codes],
    )
    long = pl.concat([
        scores.select(
            "unit_id", "_total", code=pl.lit(c), value=pl.col(f"v:{c}"), score=pl.col(f"s:{c}"),
            weight=pl.lit(weighted.get(c, 0.0)),
        )
        for c in codes
    ])
    labels = pl.DataFrame({"code": codes, "label": [KPI_BY_CODE[c].label for c in codes],
                           "_order": list(range(len(codes)))})
    applicable = pl.col("value").is_not_null()
    eff = (
        pl.when(~applicable).then(None)
        .when((pl.col("weight") > 0) & (pl.col("_total") > 0)).then(pl.col("weight") * 100.0 / pl.col("_total"))
        .otherwise(0.0)
    )
    return (
        long.join(labels, on="code", how="left")
        .with_columns(applicable=applicable, eff_weight=eff)
        .with_columns(earned=pl.col("score") * pl.col("eff_weight") / 100.0)
        .with_columns(lost=pl.col("eff_weight") - pl.col("earned"))
        .sort("unit_id", "_order")
        .select(POINTS_COLUMNS)
    )


def unit_points(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """points_of for every unit as of D with the office's weights and red-light penalty."""
    return points_of(indicators(facts, as_of), weights_of(facts), float(setting(facts, "red_light_penalty")))


def lost_ranking(points: pl.DataFrame, top: int | None = None) -> pl.DataFrame:
    """The 失分项 of each unit: weighted indicators (effective weight > 0) that lost points, most
    points lost first (then the registry's order); `top` keeps the first n per unit."""
    order = {k.code: i for i, k in enumerate(KPIS)}
    frame = (
        points.filter((pl.col("eff_weight") > 0) & (pl.col("lost") > 1e-9))
        .with_columns(_order=pl.col("code").replace_strict(order, default=len(order), return_dtype=pl.Int32))
        .sort(["unit_id", "lost", "_order"], descending=[False, True, False])
        .drop("_order")
    )
    return frame.group_by("unit_id", maintain_order=True).head(top) if top else frame
