"""Catalog (政务数据目录) and demand (供需对接) indicators as of D."""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import Facts
from metrics.registry import CYCLE_DAYS, filled, setting

SHARED = ["无条件共享", "有条件共享"]


def catalog_items_as_of(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Items published by D, each with the flags the catalog rates count."""
    d = pl.lit(as_of)
    cycles = pl.DataFrame(
        {"update_cycle": list(CYCLE_DAYS), "cycle_days": list(CYCLE_DAYS.values())},
        schema={"update_cycle": pl.String, "cycle_days": pl.Int32},
    )
    # The latest update on or before D from the update history (updates after D are invisible).
    # Loaded from the database, items and history share an integer key `item` (data.storage.facts): the
    # group-by over millions of updates runs on it; hand-built facts join on the code.
    key = "item" if "item" in facts.catalog_updates.columns and "item" in facts.catalog.columns else "code"
    # Lazy, so the filter runs inside the group-by: filtering first copied the updates up to D
    # (about 200 MB at province scale) and took twice as long.
    history = (
        facts.catalog_updates.lazy().filter(pl.col("updated_on") <= d)
        .group_by(key)
        .agg(pl.col("updated_on").max().alias("_history_last"))
        .collect()
    )
    return (
        facts.catalog.filter(pl.col("published_on") <= d)
        .join(cycles, on="update_cycle", how="left")
        .join(history, on=key, how="left")
        .with_columns(
            unit_id=pl.col("unit_id").cast(pl.Int64),
            # Last update as of D: the history's latest ≤ D, else last_updated_on if ≤ D (a database
            # whose history lacks it), else the publish date. Both known ≤ D: the later one.
            last_touched_on=pl.coalesce(
                pl.max_horizontal(
                    "_history_last",
                    pl.when(pl.col("last_updated_on") <= d).then(pl.col("last_updated_on")),
                ),
                pl.col("published_on"),
            ),
            metadata_complete=filled("summary")
            & filled("open_type")
            & (pl.col("item_count").fill_null(0) > 0)
            & ((pl.col("share_type") != "有条件共享") | filled("share_condition"))
            & ((pl.col("share_type") != "不予共享") | filled("nonshare_basis")),
            mounted=pl.col("mounted_on").is_not_null() & (pl.col("mounted_on") <= d),
            shared=pl.col("share_type").is_in(SHARED),
            nonshare=pl.col("share_type") == "不予共享",
            nonshare_with_basis=(pl.col("share_type") == "不予共享") & filled("nonshare_basis"),
        )
        .drop("_history_last")
        .with_columns(
            age_days=(d - pl.col("last_touched_on")).dt.total_days(),
        )
        .with_columns(
            # null for 不定期 (and any unknown cycle): left out of the freshness rate
            fresh=pl.when(pl.col("cycle_days").is_not_null()).then(pl.col("age_days") <= pl.col("cycle_days")),
        )
        .drop("item", strict=False)
    )


def catalog_indicators(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Per unit: catalog_published (0/1 for every unit), the catalog rates (null without items),
    the first publication date and whether it met the catalog deadline (M2)."""
    deadline = dt.date.fromisoformat(setting(facts, "catalog_deadline"))
    items = catalog_items_as_of(facts, as_of)
    per_unit = items.group_by("unit_id").agg(
        pl.len().alias("catalog_items"),
        pl.col("published_on").min().alias("catalog_first_published_on"),
        pl.col("metadata_complete").mean().alias("catalog_metadata_rate"),
        pl.col("mounted").mean().alias("catalog_mounted_rate"),
        pl.col("fresh").mean().alias("catalog_fresh_rate"),  # mean skips nulls; all null -> null
        pl.col("shared").mean().alias("share_rate"),
        pl.col("nonshare").sum().alias("nonshare_items"),
        pl.col("nonshare_with_basis").sum().alias("nonshare_with_basis"),
    ).with_columns(
        nonshare_basis_rate=pl.when(pl.col("nonshare_items") > 0)
        .then(pl.col("nonshare_with_basis") / pl.col("nonshare_items"))
    )
    demands = demand_rows(facts, as_of).group_by("unit_id").agg(
        pl.col("matched").mean().alias("demand_matched_rate")
    )
    return (
        facts.units.select(pl.col("unit_id").cast(pl.Int64))
        .join(per_unit, on="unit_id", how="left")
        .join(demands, on="unit_id", how="left")
        .with_columns(
            catalog_published=(pl.col("catalog_items").fill_null(0) > 0).cast(pl.Int8),
            catalog_on_time=pl.when(pl.col("catalog_first_published_on").is_not_null()).then(
                pl.col("catalog_first_published_on") <= pl.lit(deadline)
            ),
        )
        .select(
            "unit_id", "catalog_published", "catalog_metadata_rate", "catalog_mounted_rate",
            "catalog_fresh_rate", "share_rate", "nonshare_basis_rate", "demand_matched_rate",
            "catalog_first_published_on", "catalog_on_time",
        )
    )


def demand_rows(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Demands raised by D with whether they were matched by D."""
    d = pl.lit(as_of)
    return facts.demands.filter(pl.col("raised_on") <= d).with_columns(
        unit_id=pl.col("unit_id").cast(pl.Int64),
        matched=pl.col("matched_on").is_not_null() & (pl.col("matched_on") <= d),
    )
