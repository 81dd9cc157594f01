"""The supervision loop in storage: 延期申请 (extension requests), 约谈 (interviews) and their
整改承诺 (commitments), and scoped reads of them and of the authorisation register.

Permissions are enforced here: a 单位 user requests extensions for its own assignments only and
reads only its own interviews, commitments and authorisations; the office (管理员) decides on
requests and records interviews; 领导 read everything and write nothing. Every write runs in one
transaction together with its audit entry. Rules and decisions: docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data import audit
from data.db import Database
from data.scope import PermissionDenied, Scope

EXTENSION_STATUSES = ("待审批", "已批准", "已驳回")


class SupervisionError(ValueError):
    """An input the office would reject, with a Chinese message."""


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _unit_name(cur, unit_id: int) -> str:
    row = cur.execute("SELECT name FROM units WHERE unit_id = ?", [int(unit_id)]).fetchone()
    if row is None:
        raise SupervisionError(f"没有编号为{unit_id}的单位。")
    return row[0]


def _ext_counts(cur, task_no: int, unit_id: int) -> dict[str, int]:
    rows = dict(cur.execute(
        "SELECT status, count(*) FROM extension_requests WHERE task_no = ? AND unit_id = ? GROUP BY status",
        [task_no, unit_id],
    ).fetchall())
    return {s: int(rows.get(s, 0)) for s in EXTENSION_STATUSES}


def current_due(cur, task_no: int, unit_id: int) -> dt.date | None:
    """The due date in force for an assignment: the latest approved extension, else the plan's."""
    row = cur.execute(
        "SELECT approved_due FROM extension_requests WHERE task_no = ? AND unit_id = ? AND status = '已批准' "
        "ORDER BY decided_on DESC, approved_due DESC LIMIT 1",
        [task_no, unit_id],
    ).fetchone()
    if row is not None:
        return row[0]
    row = cur.execute("SELECT due_date FROM tasks WHERE task_no = ?", [task_no]).fetchone()
    return row[0] if row else None


# -- 延期申请 -------------------------------------------------------------------------------------

def request_extension(
    db: Database, scope: Scope, task_no: int, unit_id: int, reason: str, proposed_due: dt.date,
    *, today: dt.date | None = None,
) -> int:
    """A unit asks for a later due date for one of its assignments; returns the request id.

    单位: its own unit only; 管理员 may record a request made on paper; 领导: refused. The request
    must come on or before the due date in force, name a later date and give a reason, and there
    may be at most one request waiting per assignment."""
    scope.require_write()
    scope.require_unit(unit_id)
    today = today or dt.date.today()
    task_no, unit_id = int(task_no), int(unit_id)
    reason = (reason or "").strip()
    with db.transaction() as cur:
        name = _unit_name(cur, unit_id)
        assigned = cur.execute(
            "SELECT count(*) FROM task_assignments WHERE task_no = ? AND unit_id = ?", [task_no, unit_id]
        ).fetchone()[0]
        if not assigned:
            raise SupervisionError(f"{name}没有承担任务{task_no}，不能申请延期。")
        due = current_due(cur, task_no, unit_id)
        if due is None:
            raise SupervisionError(f"任务{task_no}是持续性任务，没有完成时限，无需申请延期。")
        if today > due:
            raise SupervisionError(
                f"任务{task_no}的完成时限{cn_date(due)}已过，不能再申请延期：延期申请须在完成时限之前提出。"
            )
        if not reason:
            raise SupervisionError("请填写延期理由。")
        if proposed_due <= due:
            raise SupervisionError(f"申请的新完成时限须晚于现行完成时限{cn_date(due)}。")
        pending = cur.execute(
            "SELECT count(*) FROM extension_requests WHERE task_no = ? AND unit_id = ? AND status = '待审批'",
            [task_no, unit_id],
        ).fetchone()[0]
        if pending:
            raise SupervisionError(f"{name}任务{task_no}已有一份待审批的延期申请，请等待办公室审批。")
        before = _ext_counts(cur, task_no, unit_id)
        request_id = cur.execute(
            "INSERT INTO extension_requests (task_no, unit_id, reason, proposed_due, due_at_request, requested_on, "
            "requested_by, status) VALUES (?, ?, ?, ?, ?, ?, ?, '待审批') RETURNING request_id",
            [task_no, unit_id, reason, proposed_due, due, today, scope.username],
        ).fetchone()[0]
        audit.record(cur, scope, "延期申请", f"任务{task_no}·{name}",
                     f"申请延期至{proposed_due.isoformat()}（现行时限{due.isoformat()}）：{reason}",
                     before, _ext_counts(cur, task_no, unit_id))
    return int(request_id)


def _pending(cur, request_id: int) -> tuple:
    row = cur.execute(
        "SELECT task_no, unit_id, status, due_at_request, proposed_due FROM extension_requests WHERE request_id = ?",
        [int(request_id)],
    ).fetchone()
    if row is None:
        raise SupervisionError("找不到这份延期申请。")
    if row[2] != "待审批":
        raise SupervisionError(f"这份延期申请已{row[2]}，不能再次审批。")
    return row


def approve_extension(
    db: Database, scope: Scope, request_id: int, approved_due: dt.date | None = None,
    *, today: dt.date | None = None,
) -> None:
    """The office approves a waiting request, with the approved date (default: the one asked for)."""
    scope.require_admin()
    today = today or dt.date.today()
    with db.transaction() as cur:
        task_no, unit_id, _s, due_at_request, proposed = _pending(cur, request_id)
        approved_due = approved_due or proposed
        if approved_due <= due_at_request:
            raise SupervisionError(f"批准的完成时限须晚于原完成时限{cn_date(due_at_request)}。")
        before = _ext_counts(cur, task_no, unit_id)
        cur.execute(
            "UPDATE extension_requests SET status = '已批准', approved_due = ?, decided_on = ?, decided_by = ? "
            "WHERE request_id = ?",
            [approved_due, today, scope.username, int(request_id)],
        )
        audit.record(cur, scope, "审批延期", f"任务{task_no}·{_unit_name(cur, unit_id)}",
                     f"批准延期至{approved_due.isoformat()}（原时限{due_at_request.isoformat()}）",
                     before, _ext_counts(cur, task_no, unit_id))


def refuse_extension(
    db: Database, scope: Scope, request_id: int, reason: str, *, today: dt.date | None = None,
) -> None:
    """The office refuses a waiting request, with the reason the unit will read."""
    scope.require_admin()
    today = today or dt.date.today()
    reason = (reason or "").strip()
    if not reason:
        raise SupervisionError("驳回延期申请须填写驳回理由。")
    with db.transaction() as cur:
        task_no, unit_id, *_ = _pending(cur, request_id)
        before = _ext_counts(cur, task_no, unit_id)
        cur.execute(
            "UPDATE extension_requests SET status = '已驳回', decided_on = ?, decided_by = ?, refusal_reason = ? "
            "WHERE request_id = ?",
            [today, scope.username, reason, int(request_id)],
        )
        audit.record(cur, scope, "审批延期", f"任务{task_no}·{_unit_name(cur, unit_id)}", f"驳回：{reason}",
                     before, _ext_counts(cur, task_no, unit_id))


def extension_requests(scope: Scope, db: Database, status: str | None = None) -> pl.DataFrame:
    """Every extension request (newest first) with the unit's name; 单位: its own only."""
    where, params = [], []
    if not scope.sees_all:
        where.append("e.unit_id = ?")
        params.append(scope.unit_id)
    if status:
        where.append("e.status = ?")
        params.append(status)
    sql = (
        "SELECT e.request_id, e.task_no, e.unit_id, u.name AS unit, e.reason, e.due_at_request, e.proposed_due, "
        "e.requested_on, e.requested_by, e.status, e.approved_due, e.decided_on, e.decided_by, e.refusal_reason "
        "FROM extension_requests e JOIN units u USING (unit_id)"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY e.requested_on DESC, e.request_id DESC"
    )
    return db.frame(sql, params)


__all__ = [
    "EXTENSION_STATUSES", "PermissionDenied", "SupervisionError", "approve_extension", "extension_requests",
    "refuse_extension", "request_extension",
]


# -- 已延期 marks for the ledger and the unit's card ----------------------------------------------

def with_extension_mark(frame: pl.DataFrame, facts, as_of: dt.date) -> pl.DataFrame:
    """Add `extension` to a frame keyed by (task_no, unit_id): '已延期（原时限2023年9月30日）' for an
    assignment with an extension approved by D ('…，未计入考评' when the setting is off), else null."""
    from metrics.tasks import extension_marks

    marks = extension_marks(facts, as_of)
    if marks.is_empty():
        return frame.with_columns(extension=pl.lit(None, dtype=pl.String))
    text = pl.concat_str(
        pl.lit("已延期（原时限"), _cn(pl.col("original_due")), pl.lit("，延期至"), _cn(pl.col("extended_due")),
        pl.when(pl.col("applied")).then(pl.lit("）")).otherwise(pl.lit("，未计入考评）")),
    )
    marks = marks.select(pl.col("task_no").cast(frame.schema["task_no"]), pl.col("unit_id").cast(frame.schema["unit_id"]),
                         extension=text)
    return frame.join(marks, on=["task_no", "unit_id"], how="left")


def _cn(expr: pl.Expr) -> pl.Expr:
    return pl.concat_str(expr.dt.year().cast(pl.String), pl.lit("年"), expr.dt.month().cast(pl.String), pl.lit("月"),
                         expr.dt.day().cast(pl.String), pl.lit("日"))


def unit_extensions(scope: Scope, db: Database, as_of: dt.date, unit_id: int) -> pl.DataFrame:
    """The unit's assignments extended by D (task_no, title, extension text), for its card."""
    from data.facts import load_facts
    from metrics.tasks import extension_marks

    scope.require_unit(unit_id)
    facts = load_facts(db)
    marks = extension_marks(facts, as_of).filter(pl.col("unit_id") == int(unit_id)).select("task_no", "unit_id")
    return (with_extension_mark(marks, facts, as_of)
            .join(facts.tasks.select("task_no", "title"), on="task_no", how="left")
            .select("task_no", "title", "extension"))
