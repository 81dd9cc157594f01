"""Helpers the read modules of data.services share: the engine memo, own-unit rows, unit names and
the masking of other units' contacts. Nothing here is read by a page directly.

Scoping rule of every read: 管理员 and 领导 see everything; a 单位 scope gets its own unit's rows
(`own`), whatever the page passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from data.services.snapshot import cached
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope


def engine(db: Database, as_of: dt.date, name: str, fn: Callable) -> pl.DataFrame:
    """fn(facts, as_of), computed once per (file, data version, as-of date) in the shared,
    size-bounded cache of data.services.snapshot."""
    return cached(db, ("view", as_of, name), lambda facts: fn(facts, as_of))


def own(scope: Scope, frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    """All rows for 管理员/领导; for 单位 the rows where any of `cols` (default unit_id) is its unit."""
    if scope.sees_all:
        return frame
    cols = cols or ("unit_id",)
    return frame.filter(pl.any_horizontal([pl.col(c) == scope.unit_id for c in cols]))


def require_overview(scope: Scope) -> None:
    if not scope.sees_all:
        raise PermissionDenied("全县总览仅限领导和领导小组办公室查看。")


def unit_names(db: Database) -> pl.DataFrame:
    """unit_id, unit (name), unit_kind of every unit."""
    return load_facts(db).units.select(
        pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"), pl.col("kind").alias("unit_kind")
    )


def with_name(frame: pl.DataFrame, db: Database, col: str = "unit_id", alias: str = "unit") -> pl.DataFrame:
    """`frame` with the name of the unit in `col` as `alias`."""
    names = unit_names(db).select(pl.col("unit_id").alias(col), pl.col("unit").alias(alias))
    return frame.with_columns(pl.col(col).cast(pl.Int64)).join(names, on=col, how="left")


def chosen_units(frame: pl.DataFrame, db: Database, kind: str | None, search: str) -> pl.DataFrame:
    """The rows of `frame` whose unit (`unit` column) is of `kind` (None: any) and whose name contains
    `search` (blank: any): the unit filter of a county page (ui.widgets.unit_filters) applied to the
    page's other tables."""
    if kind is not None:
        kinds = unit_names(db).select("unit_id", pl.col("unit_kind").alias("_kind"))
        frame = (frame.with_columns(pl.col("unit_id").cast(pl.Int64)).join(kinds, on="unit_id", how="left")
                 .filter(pl.col("_kind") == kind).drop("_kind"))
    if search.strip():
        frame = frame.filter(pl.col("unit").str.contains(search.strip(), literal=True))
    return frame


def mask_name(expr: pl.Expr) -> pl.Expr:
    """王小明 -> 王*: the family name stays, the rest becomes one star."""
    return pl.when(expr.is_null()).then(expr).otherwise(pl.concat_str(expr.str.slice(0, 1), pl.lit("*")))


def mask_phone(expr: pl.Expr) -> pl.Expr:
    """13800000001 -> 138****0001; shorter numbers keep only their last 4 digits."""
    n = expr.str.len_chars()
    return (
        pl.when(expr.is_null()).then(expr)
        .when(n >= 11).then(pl.concat_str(expr.str.slice(0, 3), pl.lit("****"), expr.str.slice(-4)))
        .otherwise(pl.concat_str(pl.lit("****"), expr.str.slice(-4)))
    )
