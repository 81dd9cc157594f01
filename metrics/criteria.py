"""The milestone criteria the office starts from (工作目标达标线): DEFAULT_CRITERIA and their frame.

Kept apart from metrics.milestones so that metrics.facts (an empty Facts carries these defaults)
and metrics.milestones (which judges them) both import it and neither imports the other.
docs/kpi-decisions.md gives the reasons one by one; data.storage.plan seeds them into the database.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.registry import UNIT_KINDS

DEFAULT_FROM = dt.date(2023, 1, 1)

CRITERIA_SCHEMA = {
    "milestone": pl.String, "criterion": pl.String, "effective_from": pl.Date, "op": pl.String,
    "threshold": pl.Float64, "unit_kinds": pl.List(pl.String), "active": pl.Boolean, "note": pl.String,
}

ALL = list(UNIT_KINDS)
DEPTS = ["县直部门"]

# (milestone, criterion, op, threshold, unit kinds). Rates are fractions (0.9 = 90 %), flags 0/1,
# quality_score points, tasks_overdue_open a count; `task:N` means "task N completed" (threshold 1).
DEFAULT_CRITERIA: list[tuple[str, str, str, float, list[str]]] = [
    # M1 2023-05-31: tasks due by then (1, 13); every unit named its leader and handler.
    ("M1", "task:1", ">=", 1, ALL),
    ("M1", "task:13", ">=", 1, ALL),
    ("M1", "contacts_named", ">=", 1, ALL),
    # M2 2023-09-30: tasks due 2023-06..09 (2, 6); departments published a complete, current catalog.
    ("M2", "task:2", ">=", 1, ALL),
    ("M2", "task:6", ">=", 1, ALL),
    ("M2", "catalog_published", ">=", 1, DEPTS),
    ("M2", "catalog_metadata_rate", ">=", 0.9, DEPTS),
    ("M2", "catalog_fresh_rate", ">=", 0.9, DEPTS),
    # M3 2023-12-31: tasks due 2023-10..12; platform, networks, security, timely handling, quality.
    *[("M3", f"task:{no}", ">=", 1, ALL) for no in (3, 7, 8, 9, 10, 11, 12, 15)],
    ("M3", "systems_connected_rate", ">=", 0.9, ALL),
    ("M3", "networks_migrated_rate", ">=", 0.9, ALL),
    ("M3", "security_rate", ">=", 2 / 3, ALL),
    ("M3", "review_ontime_rate", ">=", 0.9, ALL),
    ("M3", "reply_ontime_rate", ">=", 0.9, ALL),
    ("M3", "quality_score", ">=", 60, ALL),
    # M4 2024-12-31: task 4; the system runs: mounted catalog, matching, timely replies, all
    # three security measures, good quality, no red light left.
    ("M4", "task:4", ">=", 1, ALL),
    ("M4", "catalog_mounted_rate", ">=", 0.9, DEPTS),
    ("M4", "demand_matched_rate", ">=", 0.75, ALL),
    ("M4", "review_ontime_rate", ">=", 0.9, ALL),
    ("M4", "reply_ontime_rate", ">=", 0.9, ALL),
    ("M4", "security_rate", ">=", 1, ALL),
    ("M4", "quality_score", ">=", 75, ALL),
    ("M4", "tasks_overdue_open", "<=", 0, ALL),
]


def default_criteria() -> pl.DataFrame:
    """DEFAULT_CRITERIA as the frame the engine reads (what data.storage.plan seeds)."""
    return pl.DataFrame(
        [{"milestone": m, "criterion": c, "effective_from": DEFAULT_FROM, "op": op, "threshold": float(t),
          "unit_kinds": kinds, "active": True, "note": "默认达标线"} for m, c, op, t, kinds in DEFAULT_CRITERIA],
        schema=CRITERIA_SCHEMA,
    )
