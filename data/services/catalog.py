"""Reads of the 目录与需求 page (and 本单位目录): catalog items and their share-type mix, the
per-unit catalog rates, the 不予共享 items and their basis, and demand matching; 单位: own rows.

`kind` and `search` are the unit filter of the page (ui.widgets.unit_filters): a unit kind (None:
every kind) and part of a unit's name (blank: every unit)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.common import chosen_units, own, with_name
from data.services.reading import read
from data.services.scorecards import unit_indicators
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import Scope
from metrics import catalog as m_catalog

CATALOG_RATES = ["catalog_metadata_rate", "catalog_mounted_rate", "catalog_fresh_rate", "share_rate",
                 "nonshare_basis_rate", "demand_matched_rate"]
SHARE_TYPES = ["无条件共享", "有条件共享", "不予共享"]


@read
def catalog_items(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Catalog items published by D with the flags the rates count; 单位: own."""
    return with_name(own(scope, m_catalog.catalog_items_as_of(load_facts(db), as_of)), db)


@read
def share_mix(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", *,
              db: Database | None = None) -> pl.DataFrame:
    """Items per unit and share type as of D: unit_id, unit, share_type, items."""
    items = chosen_units(catalog_items(scope, as_of, db=db), db, kind, search)
    return items.group_by("unit_id", "unit", "share_type").agg(pl.len().alias("items")).sort("unit_id")


@read
def catalog_by_unit(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Per unit: items by share type and in total, first publication and whether it met the
    deadline (按期/逾期), and the catalog rates; 单位: own row."""
    ind = unit_indicators(scope, as_of, db=db).select(
        "unit_id", "unit", "unit_kind", "catalog_first_published_on", "catalog_on_time", *CATALOG_RATES)
    mix = share_mix(scope, as_of, db=db)
    wide = (
        mix.pivot(on="share_type", index="unit_id", values="items", aggregate_function="sum")
        if mix.height else pl.DataFrame({"unit_id": []}, schema={"unit_id": pl.Int64})
    )
    wide = wide.with_columns([pl.lit(0, dtype=pl.UInt32).alias(t) for t in SHARE_TYPES if t not in wide.columns])
    return (
        ind.join(wide.select("unit_id", *SHARE_TYPES), on="unit_id", how="left")
        .with_columns(pl.col(SHARE_TYPES).fill_null(0).cast(pl.Int64))
        .with_columns(items=pl.sum_horizontal(SHARE_TYPES))
        .with_columns(catalog_on_time=pl.col("catalog_on_time").replace_strict(
            {True: "按期", False: "逾期"}, default=None, return_dtype=pl.String))
    )


@read
def nonshare_items(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", *,
                   db: Database | None = None) -> pl.DataFrame:
    """不予共享 items published by D with their basis (blank when missing); 单位: own."""
    items = chosen_units(catalog_items(scope, as_of, db=db), db, kind, search)
    return items.filter(pl.col("nonshare")).select(
        "unit_id", "unit", "code", "name", "published_on", "nonshare_basis", "nonshare_with_basis"
    ).sort("nonshare_with_basis", "unit_id", "code")


@read
def demand_rows(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", open_only: bool = False,
                *, db: Database | None = None) -> pl.DataFrame:
    """Demands raised by D with `matched`; a match dated after D is not shown. 单位: own. With
    `open_only`, the demands not matched by D only."""
    frame = own(scope, m_catalog.demand_rows(load_facts(db), as_of)).with_columns(
        matched_on=pl.when(pl.col("matched")).then(pl.col("matched_on"))
    )
    frame = chosen_units(with_name(frame, db), db, kind, search)
    return frame.filter(~pl.col("matched")) if open_only else frame
