"""Reads of the 任务督办 page: the 15 tasks of annex 2, each assignment's light as of D, the
deadline timeline and the progress reports; 单位: its own assignments and reports.

`kind` and `search` are the unit filter of the page (ui.widgets.unit_filters): a unit kind (None:
every kind) and part of a unit's name (blank: every unit)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.common import chosen_units, own, unit_names, with_name
from data.services.reading import read
from data.services.snapshot import snapshot
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import Scope
from data.storage.where import Where


@read
def task_list(scope: Scope, *, db: Database | None = None) -> pl.DataFrame:
    """The 15 tasks of annex 2 (public: the plan itself)."""
    return load_facts(db).tasks


@read
def assignment_lights(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "",
                      task_no: int | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """Each assignment's status and light as of D with unit name/kind and task title; 单位: own.
    Units with the most red lights come first (then yellow), so a cut-off list shows the laggards.
    With `task_no`, that task's assignments only."""
    from metrics.tasks import with_extension_mark

    facts = load_facts(db)
    tasks = facts.tasks.select("task_no", "title", "deadline_text")
    frame = with_name(own(scope, snapshot(db, as_of).assignments), db).join(tasks, on="task_no", how="left")
    frame = with_extension_mark(frame, facts, as_of)  # 已延期（原时限…） or null
    kinds = unit_names(db).select("unit_id", "unit_kind")
    frame = (
        frame.join(kinds, on="unit_id", how="left")
        .with_columns(
            _red=(pl.col("light") == "red").sum().over("unit_id"),
            _yellow=(pl.col("light") == "yellow").sum().over("unit_id"),
        )
        .sort(["_red", "_yellow", "unit_id", "task_no"], descending=[True, True, False, False])
        .drop("_red", "_yellow")
    )
    frame = chosen_units(frame, db, kind, search)
    return frame if task_no is None else frame.filter(pl.col("task_no") == int(task_no))


@read
def light_matrix(scope: Scope, as_of: dt.date, kind: str | None = None, search: str = "", units: int = 120, *,
                 db: Database | None = None) -> pl.DataFrame:
    """The assignments of the first `units` units of assignment_lights (those with the most red,
    then yellow lights): what the task × unit matrix draws."""
    lights = assignment_lights(scope, as_of, kind, search, db=db)
    drawn = lights["unit"].unique(maintain_order=True).head(units)
    return lights.filter(pl.col("unit").is_in(drawn.implode()))


@read
def assigned_tasks(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """The tasks of annex 2 this scope has an assignment in (every column of the plan), by number."""
    numbers = assignment_lights(scope, as_of, db=db).select("task_no").unique()
    return load_facts(db).tasks.join(numbers, on="task_no", how="semi").sort("task_no")


@read
def report_history(scope: Scope, as_of: dt.date, task_no: int | None = None, pending_only: bool = False, *,
                   db: Database | None = None) -> pl.DataFrame:
    """Progress reports dated ≤ D (verified or waiting), newest first; 单位: its own only."""
    where = Where("reported_on <= ?", as_of)
    if task_no is not None:
        where.add("task_no = ?", int(task_no))
    where.when(pending_only, "NOT verified").own_unit(scope, "unit_id")
    frame = db.frame(
        "SELECT task_no, unit_id, reported_on, status, percent, completed_on, note, submitted_by, verified, "
        "verified_by FROM progress_reports" + where.sql() + " ORDER BY reported_on DESC, unit_id",
        where.params,
    )
    return with_name(frame, db)


@read
def task_timeline(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Per task: task_no, title, deadline_text, due_date and its worst light over the assignments
    this scope sees (red over yellow over green); tasks it has no part in are left out."""
    order = pl.col("light").replace_strict({"red": 0, "yellow": 1, "green": 2}, default=3, return_dtype=pl.Int8)
    lights = assignment_lights(scope, as_of, db=db).sort(order).group_by("task_no", maintain_order=True).agg(
        pl.col("light").first()
    )
    tasks = load_facts(db).tasks.select("task_no", "title", "deadline_text", "due_date")
    return tasks.join(lights, on="task_no", how="inner").sort("task_no")
