"""Reads of the 基础设施与安全 page (and 本单位系统与安全): contacts, systems and private networks,
village extranet coverage, security and data quality per unit; 单位: own rows, except the contact
list, which shows every unit with other units' names and phones masked.

`kind` and `search` are the unit filter of the page (ui.widgets.unit_filters): a unit kind (None:
every kind) and part of a unit's name (blank: every unit)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.common import chosen_units, mask_name, mask_phone, own, with_name
from data.services.reading import read
from data.services.scorecards import unit_indicators
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import Scope
from metrics import infra as m_infra

INFRA_RATES = ["systems_registered_rate", "systems_connected_rate", "networks_migrated_rate", "security_rate",
               "quality_fix_rate"]


@read
def infra_by_unit(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Per unit: contacts named (and when, 按期/逾期), systems, networks, security (未评估 when no
    assessment by D), quality score and fix rate; 单位: own row."""
    return unit_indicators(scope, as_of, db=db).select(
        "unit_id", "unit", "unit_kind",
        contacts=pl.when(pl.col("contacts_named") == 1).then(pl.lit("已明确")).otherwise(pl.lit("未明确")),
        contacts_named_on="contacts_named_on",
        contacts_on_time=pl.col("contacts_on_time").replace_strict(
            {True: "按期", False: "逾期"}, default=None, return_dtype=pl.String),
        **{c: c for c in INFRA_RATES},
        security_assessed=pl.when(pl.col("security_assessed")).then(pl.lit("已评估")).otherwise(pl.lit("未评估")),
        quality_score="quality_score",
    )


@read
def village_coverage(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Latest village count ≤ D per township with its rate; 单位: own township."""
    frame = own(scope, m_infra.coverage_rows(load_facts(db), as_of))
    frame = frame.with_columns(
        coverage_rate=pl.when(pl.col("villages") > 0).then(pl.col("connected") / pl.col("villages"))
    )
    return with_name(frame, db).select("unit_id", "unit", "counted_on", "villages", "connected", "coverage_rate")


@read
def systems(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", *,
            db: Database | None = None) -> pl.DataFrame:
    """Non-classified information systems registered by D; 单位: own."""
    frame = with_name(own(scope, m_infra.system_rows(load_facts(db), as_of)), db)
    return chosen_units(frame, db, kind, search)


@read
def networks(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", *,
             db: Database | None = None) -> pl.DataFrame:
    """Non-classified private networks registered by D; 单位: own."""
    frame = with_name(own(scope, m_infra.network_rows(load_facts(db), as_of)), db)
    return chosen_units(frame, db, kind, search)


@read
def contacts(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", *,
             db: Database | None = None) -> pl.DataFrame:
    """Named contacts (分管领导/经办人) dated ≤ D of every unit; other units' names and phones are
    masked for 单位, who always get every unit (the unit filter narrows 管理员/领导's list only)."""
    frame = load_facts(db).contacts.filter(pl.col("named_on") <= as_of).with_columns(
        pl.col("unit_id").cast(pl.Int64)
    )
    if not scope.sees_all:
        other = pl.col("unit_id") != scope.unit_id
        frame = frame.with_columns(
            name=pl.when(other).then(mask_name(pl.col("name"))).otherwise(pl.col("name")),
            phone=pl.when(other).then(mask_phone(pl.col("phone"))).otherwise(pl.col("phone")),
        )
    frame = with_name(frame.rename({"name": "person"}), db).sort("unit_id", "role")
    return chosen_units(frame, db, kind, search) if scope.sees_all else frame


@read
def own_contacts(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """The scope's own unit's contacts dated ≤ D, unmasked (本单位系统与安全)."""
    frame = contacts(scope, as_of, db=db)
    return frame.filter(pl.col("unit_id") == scope.unit_id)
