"""Contacts, systems, networks, security, data quality and village coverage as of D."""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import Facts
from metrics.registry import setting

QUALITY_WINDOW_DAYS = 365
SECURITY_MEASURES = ["desensitization", "encryption", "access_auth"]


def _units(facts: Facts) -> pl.DataFrame:
    return facts.units.select(pl.col("unit_id").cast(pl.Int64))


def _by_unit(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("unit_id").cast(pl.Int64))


def done_by(flag: str, date_col: str, as_of: dt.date) -> pl.Expr:
    """A boolean fact with its date: true by D when set and dated <= D. Undated true facts count at
    every D (docs/kpi-decisions.md)."""
    return pl.col(flag).fill_null(False) & (pl.col(date_col).is_null() | (pl.col(date_col) <= pl.lit(as_of)))


def contact_indicators(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """contacts_named (0/1 for every unit), the date both were named and whether that met the deadline."""
    deadline = dt.date.fromisoformat(setting(facts, "contacts_deadline"))
    named = (
        _by_unit(facts.contacts)
        .filter(pl.col("named_on") <= pl.lit(as_of), pl.col("role").is_in(["分管领导", "经办人"]))
        .group_by("unit_id")
        .agg(pl.col("role").n_unique().alias("_roles"), pl.col("named_on").max().alias("_last"))
    )
    return (
        _units(facts).join(named, on="unit_id", how="left")
        .with_columns(complete=pl.col("_roles").fill_null(0) == 2)
        .select(
            "unit_id",
            contacts_named=pl.col("complete").cast(pl.Int8),
            contacts_named_on=pl.when(pl.col("complete")).then(pl.col("_last")),
            contacts_on_time=pl.when(pl.col("complete")).then(pl.col("_last") <= pl.lit(deadline)),
        )
    )


def system_rows(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    return _by_unit(facts.systems).filter(~pl.col("classified")).with_columns(
        registered_by=done_by("registered", "registered_on", as_of),
        connected_by=done_by("connected", "connected_on", as_of),
    )


def network_rows(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    return _by_unit(facts.networks).filter(~pl.col("classified")).with_columns(
        migrated_by=done_by("migrated", "migrated_on", as_of),
    )


def _latest_by_unit(frame: pl.DataFrame, date_col: str, as_of: dt.date) -> pl.DataFrame:
    """Per unit, the row with the latest `date_col` on or before D."""
    return (
        _by_unit(frame)
        .filter(pl.col(date_col) <= pl.lit(as_of))
        .sort(date_col)
        .group_by("unit_id")
        .agg(pl.all().last())
    )


def latest_security(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """The latest assessment dated <= D per unit, with the share of measures in place."""
    return (
        _latest_by_unit(facts.security, "assessed_on", as_of)
        .with_columns(
            measures=pl.sum_horizontal(*[pl.col(m).fill_null(False).cast(pl.Int32) for m in SECURITY_MEASURES])
        )
    )


def quality_rows(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Quality checks in the 365 days up to D (D and the 364 days before it)."""
    d = pl.lit(as_of)
    return _by_unit(facts.quality).filter(
        (pl.col("checked_on") <= d) & ((d - pl.col("checked_on")).dt.total_days() < QUALITY_WINDOW_DAYS)
    ).with_columns(
        check_score=pl.mean_horizontal("completeness", "accuracy", "usability", "timeliness"),
    )


def coverage_rows(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """The latest village count dated <= D per township."""
    return _latest_by_unit(facts.coverage, "counted_on", as_of)


def infra_indicators(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    systems = system_rows(facts, as_of).group_by("unit_id").agg(
        pl.col("registered_by").mean().alias("systems_registered_rate"),
        pl.col("connected_by").mean().alias("systems_connected_rate"),
    )
    networks = network_rows(facts, as_of).group_by("unit_id").agg(
        pl.col("migrated_by").mean().alias("networks_migrated_rate")
    )
    security = latest_security(facts, as_of).select(
        "unit_id", (pl.col("measures") / len(SECURITY_MEASURES)).alias("_security"), "assessed_on"
    )
    quality = quality_rows(facts, as_of).group_by("unit_id").agg(
        pl.col("check_score").mean().alias("quality_score"),
        pl.col("issues_found").sum().alias("_found"),
        pl.col("issues_fixed").sum().alias("_fixed"),
    ).with_columns(quality_fix_rate=pl.when(pl.col("_found") > 0).then(pl.col("_fixed") / pl.col("_found")))
    coverage = coverage_rows(facts, as_of).select(
        "unit_id",
        village_coverage_rate=pl.when(pl.col("villages") > 0).then(pl.col("connected") / pl.col("villages")),
    )
    return (
        contact_indicators(facts, as_of)
        .join(systems, on="unit_id", how="left")
        .join(networks, on="unit_id", how="left")
        .join(security, on="unit_id", how="left")
        .join(quality, on="unit_id", how="left")
        .join(coverage, on="unit_id", how="left")
        .with_columns(
            # Every unit must have the measures: no assessment by D scores 0 (未评估), not n/a.
            security_rate=pl.coalesce("_security", pl.lit(0.0)),
            security_assessed=pl.col("assessed_on").is_not_null(),
        )
        .select(
            "unit_id", "contacts_named", "systems_registered_rate", "systems_connected_rate",
            "networks_migrated_rate", "security_rate", "quality_score", "quality_fix_rate",
            "village_coverage_rate", "contacts_named_on", "contacts_on_time", "security_assessed",
        )
    )
