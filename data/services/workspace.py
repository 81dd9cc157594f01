"""Scoped reads for a unit's own workspace (本单位工作台) and for the progress-report states.

Every read takes the asking Scope first and is cached by `@read` (data.services.reading). A 单位 scope reads its own unit
only: passing another unit's id raises PermissionDenied here, whatever the page sent. 管理员 and
领导 may open any unit's workspace (they see every unit anyway).

The figures come from the KPI engine through data.services.snapshot's shared cache, so a workspace
shows the same deadlines, warnings and flags as the county pages and the scorecard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from data.services.common import with_name
from data.services.reading import read
from data.services.snapshot import snapshot
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope
from data.storage.where import Where
from metrics import catalog as m_catalog
from metrics import infra as m_infra
from metrics.registry import setting

# Review state of a progress report, as the office and the unit read it.
STATE_PENDING, STATE_VERIFIED, STATE_RETURNED = "待核验", "已核验", "已退回"
STATES = (STATE_PENDING, STATE_VERIFIED, STATE_RETURNED)


def _unit_of(scope: Scope, unit_id: int | None) -> int:
    """The unit a workspace read is about: a 单位 scope's own unit when none is given; another
    unit's id is refused for 单位; 管理员/领导 must name one."""
    if unit_id is None:
        if scope.unit_id is None:
            raise PermissionDenied("请选择要查看的单位。")
        return int(scope.unit_id)
    scope.require_unit(unit_id)
    return int(unit_id)


# -- progress reports and their review state ---------------------------------------------------

@read
def report_rows(scope: Scope, as_of: dt.date, task_no: int | None = None, state: str | None = None,
                unit_id: int | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """Progress reports dated ≤ D, newest first, with unit name, review state (待核验 / 已核验 /
    已退回), the return reason and the submitter's display name (the login when the user is gone).
    单位: its own reports only; another unit_id is refused."""
    if state is not None and state not in STATES:
        raise ValueError(f"unknown report state {state!r}")
    where = Where("p.reported_on <= ?", as_of)
    if task_no is not None:
        where.add("p.task_no = ?", int(task_no))
    if unit_id is not None or not scope.sees_all:
        where.add("p.unit_id = ?", _unit_of(scope, unit_id))
    state_sql = (
        f"CASE WHEN p.verified THEN '{STATE_VERIFIED}' WHEN coalesce(p.returned, FALSE) THEN '{STATE_RETURNED}' "
        f"ELSE '{STATE_PENDING}' END"
    )
    if state is not None:
        where.add(f"{state_sql} = ?", state)
    frame = db.frame(
        "SELECT p.task_no, p.unit_id, p.reported_on, p.status, p.percent, p.completed_on, p.note, "
        "coalesce(su.display_name, p.submitted_by) AS submitted_by, p.submitted_by AS submitted_login, "
        f"p.verified, {state_sql} AS review_state, p.returned_reason, "
        "coalesce(ru.display_name, p.returned_by) AS returned_by, p.returned_at, p.resubmitted_at "
        "FROM progress_reports p LEFT JOIN users su ON su.username = p.submitted_by "
        "LEFT JOIN users ru ON ru.username = p.returned_by "
        + where.sql() + " ORDER BY p.reported_on DESC, p.unit_id, p.task_no",
        where.params,
    )
    return with_name(frame, db)


@read
def pending_reports(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """report_rows waiting for the office's check (待核验), dated ≤ D; 单位: its own."""
    return report_rows(scope, as_of, None, STATE_PENDING, db=db)


@read
def returned_reports(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """report_rows the office sent back (已退回), dated ≤ D, with the reason; 单位: its own."""
    return report_rows(scope, as_of, None, STATE_RETURNED, db=db)


# -- the unit's workspace ----------------------------------------------------------------------

OVERDUE = "逾期"
OPEN_STATUSES = ("pending", "overdue")


@read
def due_soon_label(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> str:
    """How the workspace names an open step due within the warning window (settings
    'warning_workdays', the window of the warning list): 3个工作日内到期 by default."""
    return f"{int(setting(load_facts(db), 'warning_workdays'))}个工作日内到期"
PROVIDER, REQUESTER = "提供方", "申请方"


@read
def unit_requests(scope: Scope, as_of: dt.date, unit_id: int | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """The unit's open and finished request steps as of D, each with the side the unit is on:
    side = 提供方 (it provides the data and must reply) or 申请方 (it asked and waits);
    responsible names who must act on the step (the office reviews, the provider replies). Open steps
    carry their deadline on the working-day clock, workdays_left (from the warning list: due within
    settings["warning_workdays"] working days) and workdays_overdue; `urgency` reads 逾期 / N个工作日内到期
    (due_soon_label) / 办理中 / 已办结."""
    unit = _unit_of(scope, unit_id)
    soon = due_soon_label(scope, as_of, db=db)
    steps = snapshot(db, as_of).unit_steps(unit).filter((pl.col("requester_id") == unit) | (pl.col("provider_id") == unit))
    warning = snapshot(db, as_of).warnings.filter(
        (pl.col("requester_id") == unit) | (pl.col("provider_id") == unit)
    ).select("code", "step", "workdays_left")
    frame = steps.join(warning, on=["code", "step"], how="left").with_columns(
        side=pl.when(pl.col("provider_id") == unit).then(pl.lit("提供方")).otherwise(pl.lit("申请方")),
        urgency=pl.when(pl.col("status") == "overdue").then(pl.lit("逾期"))
        .when(pl.col("workdays_left").is_not_null()).then(pl.lit(soon))
        .when(pl.col("status") == "pending").then(pl.lit("办理中"))
        .otherwise(pl.lit("已办结")),
    )
    frame = with_name(frame, db, "requester_id", "requester")
    frame = with_name(frame, db, "provider_id", "provider")
    frame = with_name(frame, db, "responsible_id", "responsible")
    order = pl.col("urgency").replace_strict(
        {OVERDUE: 0, soon: 1, "办理中": 2, "已办结": 3}, return_dtype=pl.Int8)
    return frame.sort([order, "deadline", "code"], nulls_last=True)


@read
def open_requests(scope: Scope, as_of: dt.date, side: str, due_only: bool = False, *,
                  db: Database | None = None) -> pl.DataFrame:
    """The unit's open steps (pending or overdue) where it is `side` (提供方 / 申请方), overdue first,
    then those due soon (due_soon_label); with `due_only`, those two kinds only."""
    steps = unit_requests(scope, as_of, db=db).filter(pl.col("status").is_in(OPEN_STATUSES) & (pl.col("side") == side))
    urgent = [OVERDUE, due_soon_label(scope, as_of, db=db)]
    return steps.filter(pl.col("urgency").is_in(urgent)) if due_only else steps


@read
def finished_requests(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """The unit's steps done by D, on both sides, the latest first."""
    steps = unit_requests(scope, as_of, db=db)
    return steps.filter(~pl.col("status").is_in(OPEN_STATUSES)).sort("done_on", descending=True)


@read
def request_counts(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> dict[str, int]:
    """What the workspace shows on top: open steps the unit must act on as provider, those due
    soon (due_soon_label), those overdue, and its own requests still waiting."""
    steps = unit_requests(scope, as_of, db=db)
    soon = due_soon_label(scope, as_of, db=db)
    is_open = pl.col("status").is_in(OPEN_STATUSES)
    provide = steps.filter((pl.col("side") == PROVIDER) & is_open)
    return {
        "须本单位办理": provide.filter(pl.col("responsible_id") == pl.col("provider_id")).height,
        soon: steps.filter(pl.col("urgency") == soon).height,
        "已逾期": steps.filter(pl.col("urgency") == OVERDUE).height,
        "本单位申请待办": steps.filter((pl.col("side") == REQUESTER) & is_open).height,
    }


@read
def unit_catalog(scope: Scope, as_of: dt.date, unit_id: int | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """The unit's catalog items published by D with the engine's flags (metrics.catalog) and the
    problems they mean: 未挂接 (not mounted by D), 更新不及时 (fresh is false), 元数据不完整."""
    unit = _unit_of(scope, unit_id)
    items = m_catalog.catalog_items_as_of(load_facts(db), as_of).filter(pl.col("unit_id") == unit)
    problems = pl.concat_list(
        pl.when(~pl.col("mounted")).then(pl.lit("未挂接")),
        pl.when(pl.col("fresh") == False).then(pl.lit("更新不及时")),  # noqa: E712  (null: 不定期, not judged)
        pl.when(~pl.col("metadata_complete")).then(pl.lit("元数据不完整")),
    ).list.drop_nulls()
    return items.with_columns(problems=problems.list.join("、")).with_columns(
        stale=pl.col("fresh") == False,  # noqa: E712
    ).sort(pl.col("problems") == "", "code")


@read
def catalog_problems(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """The unit's catalog items that need fixing (未挂接, 更新不及时 or 元数据不完整)."""
    return unit_catalog(scope, as_of, db=db).filter(pl.col("problems") != "")


@read
def catalog_counts(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> dict[str, int]:
    """Items published by D and how many are 未挂接, 更新不及时, 元数据不完整."""
    items = unit_catalog(scope, as_of, db=db)
    return {
        "已发布目录": items.height,
        "未挂接": int((~items["mounted"]).sum()) if items.height else 0,
        "更新不及时": int(items["stale"].fill_null(False).sum()) if items.height else 0,
        "元数据不完整": int((~items["metadata_complete"]).sum()) if items.height else 0,
    }


@dataclass(frozen=True)
class UnitInfra:
    """The 本单位系统与安全 page's lists (metrics.infra) for one unit as of D."""

    systems: pl.DataFrame    # its non-classified information systems
    networks: pl.DataFrame   # its non-classified private networks
    security: pl.DataFrame   # its latest security assessment on or before D (empty: not assessed)
    quality: pl.DataFrame    # quality checks of its catalog items in the year before D


@read
def unit_infra(scope: Scope, as_of: dt.date, unit_id: int | None = None, *, db: Database | None = None) -> UnitInfra:
    """The unit's systems, networks, security assessment and quality checks, narrowed to the unit
    _unit_of allows."""
    unit = _unit_of(scope, unit_id)
    facts = load_facts(db)

    def mine(rows) -> pl.DataFrame:
        return rows(facts, as_of).filter(pl.col("unit_id").cast(pl.Int64) == unit)

    return UnitInfra(mine(m_infra.system_rows), mine(m_infra.network_rows), mine(m_infra.latest_security),
                     mine(m_infra.quality_rows))


@read
def unit_scorecard_workbook(scope: Scope, as_of: dt.date, unit_id: int | None = None, *, db: Database | None = None) -> bytes:
    """The printable scorecard workbook (reports.excel) holding the unit's own row only."""
    unit = _unit_of(scope, unit_id)
    from reports.excel import scorecard_workbook as build

    board = snapshot(db, as_of).scorecard.filter(pl.col("unit_id") == unit)
    if board.is_empty():
        raise PermissionDenied("没有这个单位。")
    return build(board, as_of)
