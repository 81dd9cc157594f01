"""Which units there are and which of them the asking scope may open."""

from __future__ import annotations

import polars as pl

from data.services.common import own, unit_names
from data.services.reading import read
from data.storage.db import Database
from data.storage.scope import Scope


@read
def unit_list(scope: Scope, *, db: Database | None = None) -> pl.DataFrame:
    """Every unit's id, name and kind (names are public: the ranking shows them all)."""
    return unit_names(db)


@read
def visible_units(scope: Scope, *, db: Database | None = None) -> pl.DataFrame:
    """The units whose detail this scope may open: unit_id, unit, unit_kind."""
    return own(scope, unit_names(db))


@read
def unit_name(scope: Scope, *, db: Database | None = None) -> str:
    """The name of the scope's own unit ('' for a scope without one)."""
    match = unit_names(db).filter(pl.col("unit_id") == scope.unit_id)
    return match["unit"][0] if match.height else ""
