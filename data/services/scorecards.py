"""Reads of the 单位考评 page (and the unit's card on 本单位工作台): the county ranking, one unit's
scorecard, indicators, points and the rows behind them, and its 12-month line.

The ranking is public (unit, kind, composite, grade, rank, change); 管理员/领导 also get red lights
and the suggestion. A 单位 asking for another unit's detail gets PermissionDenied. On the last day
of a published month the figures are the frozen ones (data.services.publish).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.common import engine, own, require_overview
from data.services.months import frozen_points, frozen_scorecard, overlay_frozen
from data.services.reading import read
from data.services.snapshot import card_at, month_end_history, snapshot
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope
from metrics import scorecard as m_scorecard
from metrics.registry import KPIS, formula_settings, formula_texts

RANKING_COLUMNS = ["unit_id", "unit", "unit_kind", "composite", "grade", "rank"]


def _board(db: Database, as_of: dt.date) -> pl.DataFrame:
    """The scorecard as of D: the frozen one when D is the last day of a published month, else the
    computed one (metrics.scorecard.scorecard, from the snapshot or the day history: card_at)."""
    frozen = frozen_scorecard(db, as_of)
    return card_at(db, as_of) if frozen is None else frozen


def _points(db: Database, as_of: dt.date) -> pl.DataFrame:
    """Points per indicator of every unit as of D (metrics.points); frozen when D is the last day
    of a published month."""
    frozen = frozen_points(db, as_of)
    return snapshot(db, as_of).points if frozen is None else frozen


def _changes(db: Database, as_of: dt.date) -> pl.DataFrame:
    """unit_id, composite_change, rank_change since the previous month end; either end that is the
    last day of a published month reads its frozen scorecard."""
    from metrics.trend import previous_month_end

    def compute(facts, day: dt.date) -> pl.DataFrame:
        now = _board(db, day).select(pl.col("unit_id").cast(pl.Int64), "composite", "rank")
        prev = _board(db, previous_month_end(day)).select(
            pl.col("unit_id").cast(pl.Int64), pl.col("composite").alias("_cp"), pl.col("rank").alias("_rp"))
        return now.join(prev, on="unit_id", how="left").select(
            "unit_id", composite_change=pl.col("composite") - pl.col("_cp"), rank_change=pl.col("_rp") - pl.col("rank"))

    return engine(db, as_of, "change", compute)


@read
def ranking(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """The county ranking with the change of composite and rank since the previous month end.
    Everyone gets every unit; 管理员/领导 also get red_lights and suggestion."""
    cols = RANKING_COLUMNS + ([] if not scope.sees_all else ["red_lights", "suggestion"])
    return _board(db, as_of).select(cols).join(_changes(db, as_of), on="unit_id", how="left")


@read
def scorecard_workbook(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> bytes:
    """The printable scorecard of every unit (.xlsx). Every unit's every indicator is in it, so
    only 管理员/领导 may have it; a 单位 reads its own detail on the page."""
    require_overview(scope)
    from reports.excel import scorecard_workbook as build

    return build(_board(db, as_of), as_of, points=_points(db, as_of))


@read
def unit_scorecard(scope: Scope, as_of: dt.date, unit_id: int, *, db: Database | None = None) -> dict:
    """One unit's scorecard row (every indicator, composite, grade, rank, details) as a dict, with
    `composite_change` since the previous month end (None when not scored then).

    On the last day of a published month the figures are the frozen ones: `frozen_month` names
    the month and `differences` lists what a recomputation would change for this unit (label,
    old, new); otherwise `frozen_month` is None and `differences` empty."""
    from data.services.months import is_published, month_of_end
    from data.services.publish import diff_published

    scope.require_unit(unit_id)
    unit = pl.col("unit_id") == int(unit_id)
    board = _board(db, as_of).filter(unit)
    if board.is_empty():
        raise PermissionDenied("没有这个单位。")
    detail = snapshot(db, as_of).indicators.filter(unit)
    change = _changes(db, as_of).filter(unit)
    row = {**detail.row(0, named=True), **board.row(0, named=True), "frozen_month": None, "differences": [],
           "composite_change": change["composite_change"][0] if change.height else None}
    month = month_of_end(as_of)
    if month and is_published(db, month):
        diff = engine(db, as_of, "published_diff",
                      lambda f, d: diff_published(db, month, snapshot(db, d).scorecard))
        # n/a-ness and values of the indicators outside the scorecard columns come from the frozen points too
        for code, value in _points(db, as_of).filter(unit).select("code", "value").rows():
            if code not in board.columns:
                row[code] = value
        row["frozen_month"] = month
        row["differences"] = diff.filter(unit).select("label", "old", "new").rows(named=True)
    return row


@read
def indicator_rows(scope: Scope, as_of: dt.date, unit_id: int, *, db: Database | None = None) -> pl.DataFrame:
    """One row per indicator of the unit: code, label, unit, value (null = n/a), weight, formula,
    and its points (得分明细): score, eff_weight, earned, lost, applicable."""
    row = unit_scorecard(scope, as_of, unit_id, db=db)
    weights = m_scorecard.weights_of(load_facts(db))
    pts = _points(db, as_of).filter(pl.col("unit_id") == int(unit_id))
    by_code = {r["code"]: r for r in pts.rows(named=True)}
    empty: dict = {}
    return pl.DataFrame(
        {
            "code": [k.code for k in KPIS],
            "label": [k.label for k in KPIS],
            "kind": [k.kind for k in KPIS],
            "value": [None if row.get(k.code) is None else float(row[k.code]) for k in KPIS],
            "weight": [float(weights.get(k.code, 0)) for k in KPIS],
            "formula": formula_texts(KPIS, formula_settings(load_facts(db), as_of)),
            "na_rule": [k.na_rule for k in KPIS],
            **{c: [by_code.get(k.code, empty).get(c) for k in KPIS]
               for c in ("score", "eff_weight", "earned", "lost")},
            "applicable": [bool(by_code.get(k.code, empty).get("applicable")) for k in KPIS],
        },
        schema={"code": pl.String, "label": pl.String, "kind": pl.String, "value": pl.Float64,
                "weight": pl.Float64, "formula": pl.String, "na_rule": pl.String, "score": pl.Float64,
                "eff_weight": pl.Float64, "earned": pl.Float64, "lost": pl.Float64, "applicable": pl.Boolean},
    )


@read
def points_table(scope: Scope, as_of: dt.date, unit_id: int, *, db: Database | None = None) -> pl.DataFrame:
    """The 得分明细 of the unit: its applicable indicators, most points lost first (label, score,
    eff_weight, earned, lost), and a last row 合计（综合得分） with the composite (earned) and
    100 − composite (lost). Empty when no indicator applies."""
    card = unit_scorecard(scope, as_of, unit_id, db=db)
    points = (indicator_rows(scope, as_of, unit_id, db=db).filter(pl.col("applicable"))
              .sort(["lost", "eff_weight"], descending=True, nulls_last=True))
    if points.is_empty():
        return points.select("label", "score", "eff_weight", "earned", "lost")
    composite = card["composite"]
    total = pl.DataFrame({"label": ["合计（综合得分）"], "score": [None], "eff_weight": [100.0],
                          "earned": [composite], "lost": [None if composite is None else 100.0 - composite]},
                         schema={"label": pl.String, "score": pl.Float64, "eff_weight": pl.Float64,
                                 "earned": pl.Float64, "lost": pl.Float64})
    return pl.concat([points.select("label", "score", "eff_weight", "earned", "lost"), total])


@read
def rows_behind(scope: Scope, as_of: dt.date, unit_id: int, code: str, *, db: Database | None = None) -> pl.DataFrame:
    """The fact rows an indicator of the unit is computed from (metrics.trace)."""
    scope.require_unit(unit_id)
    from metrics.trace import rows_behind as trace

    return trace(load_facts(db), as_of, int(unit_id), code)


@read
def unit_trend(scope: Scope, as_of: dt.date, unit_id: int, months: int = 12, *,
               db: Database | None = None) -> pl.DataFrame:
    """Month-end composite (and KPIs) of one unit over the last `months` months, read from the
    month-end history (frozen months as published)."""
    scope.require_unit(unit_id)
    return overlay_frozen(db, month_end_history(db, as_of, months)).filter(pl.col("unit_id") == int(unit_id))


@read
def unit_indicators(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Every indicator and its detail columns per unit (scorecard.indicators); 单位: own row."""
    return own(scope, snapshot(db, as_of).indicators)
