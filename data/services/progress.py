"""Progress reports on task assignments (进展报送) and their verification (核验).

The office's own entries are verified on entry; a 单位 user's report waits (verified = FALSE)
until the office verifies it, and only verified reports reach the KPI engine (data.storage.facts).
Every write runs in one transaction together with its audit entry.
"""

from __future__ import annotations

import datetime as dt

from data.imports.checks import report_rule_problems
from data.services.reading import resolve_db
from data.storage import audit_log
from data.storage.db import Database
from data.storage.scope import PermissionDenied, Scope

STATUSES = ("未启动", "推进中", "已完成")


class ReportError(ValueError):
    """An input the office would reject, with a Chinese message."""


def _counts(cur, task_no: int, unit_id: int) -> dict[str, int]:
    total, pending = cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT verified AND NOT coalesce(returned, FALSE)) FROM progress_reports "
        "WHERE task_no = ? AND unit_id = ?",
        [task_no, unit_id],
    ).fetchone()
    return {"进展报告": int(total), "待核验": int(pending)}


def _target(cur, task_no: int, unit_id: int) -> str:
    name = cur.execute("SELECT name FROM units WHERE unit_id = ?", [unit_id]).fetchone()
    return f"任务{task_no}·{name[0] if name else unit_id}"


def validate_report(
    cur, task_no: int, unit_id: int, reported_on: dt.date, status: str, percent: int | None,
    completed_on: dt.date | None, today: dt.date,
) -> None:
    """Raise ReportError (Chinese) when the report cannot be accepted."""
    if status not in STATUSES:
        raise ReportError(f"进展状态只能是{'、'.join(STATUSES)}。")
    if reported_on > today:
        raise ReportError("报送日期不能晚于今天。")
    for _field, problem in report_rule_problems(status, reported_on, percent, completed_on)[:1]:
        raise ReportError(problem + "。")
    exists = cur.execute(
        "SELECT count(*) FROM task_assignments WHERE task_no = ? AND unit_id = ?", [task_no, unit_id]
    ).fetchone()[0]
    if not exists:
        raise ReportError(f"该单位没有承担任务{task_no}，不能报送进展。")
    dup = cur.execute(
        "SELECT count(*) FROM progress_reports WHERE task_no = ? AND unit_id = ? AND reported_on = ?",
        [task_no, unit_id, reported_on],
    ).fetchone()[0]
    if dup:
        raise ReportError("该单位当日已报送过此项任务的进展，请勿重复报送。")


def submit_report(
    scope: Scope, task_no: int, unit_id: int, reported_on: dt.date, status: str,
    percent: int | None = None, completed_on: dt.date | None = None, note: str = "",
    *, today: dt.date | None = None, db: Database | None = None,
) -> bool:
    """Record one progress report; returns whether it is stored verified.

    管理员: any unit, stored verified. 单位: its own unit only, stored waiting for verification.
    领导: refused (read-only)."""
    db = resolve_db(db)
    scope.require_write()
    scope.require_unit(unit_id)
    verified = scope.is_admin
    today = today or dt.date.today()
    task_no, unit_id = int(task_no), int(unit_id)
    if status == "已完成":
        percent = 100  # a completed assignment is complete, whatever the progress field said
    with db.transaction() as cur:
        validate_report(cur, task_no, unit_id, reported_on, status, percent, completed_on, today)
        before = _counts(cur, task_no, unit_id)
        cur.execute(
            "INSERT INTO progress_reports (task_no, unit_id, reported_on, status, percent, completed_on, "
            "note, submitted_by, verified, verified_by, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [task_no, unit_id, reported_on, status, percent, completed_on, note or None, scope.username,
             verified, scope.username if verified else None,
             dt.datetime.now().replace(microsecond=0) if verified else None],
        )
        audit_log.record(
            cur, scope, "报送进展", _target(cur, task_no, unit_id),
            f"{reported_on.isoformat()} {status}" + ("" if verified else "（待核验）"),
            before, _counts(cur, task_no, unit_id),
        )
    return verified


def _report(cur, task_no: int, unit_id: int, reported_on: dt.date, columns: str) -> tuple:
    """`columns` of the one report of (task, unit, date); ReportError when there is none."""
    row = cur.execute(
        f"SELECT {columns} FROM progress_reports WHERE task_no = ? AND unit_id = ? AND reported_on = ?",
        [task_no, unit_id, reported_on],
    ).fetchone()
    if row is None:
        raise ReportError("找不到这份进展报告。")
    return row


def _require_waiting(cur, task_no: int, unit_id: int, reported_on: dt.date, *, verified: str, returned: str) -> None:
    """The report exists and waits for the office (neither verified nor returned); else ReportError
    with the caller's message for the state it is in."""
    row = _report(cur, task_no, unit_id, reported_on, "verified, coalesce(returned, FALSE)")
    if row[0]:
        raise ReportError(verified)
    if row[1]:
        raise ReportError(returned)


def verify_report(scope: Scope, task_no: int, unit_id: int, reported_on: dt.date, *,
                  db: Database | None = None) -> None:
    """The office confirms a unit-submitted report, which then counts in the KPIs."""
    db = resolve_db(db)
    scope.require_admin()
    task_no, unit_id = int(task_no), int(unit_id)
    with db.transaction() as cur:
        _require_waiting(cur, task_no, unit_id, reported_on, verified="这份进展报告已经核验过。",
                         returned="这份进展报告已退回，须等单位修改后重新报送才能核验。")
        before = _counts(cur, task_no, unit_id)
        cur.execute(
            "UPDATE progress_reports SET verified = TRUE, verified_by = ?, verified_at = ? "
            "WHERE task_no = ? AND unit_id = ? AND reported_on = ?",
            [scope.username, dt.datetime.now().replace(microsecond=0), task_no, unit_id, reported_on],
        )
        audit_log.record(cur, scope, "核验进展", _target(cur, task_no, unit_id), reported_on.isoformat(),
                     before, _counts(cur, task_no, unit_id))


REASON_MAX = 500


def _returned_count(cur, task_no: int, unit_id: int) -> int:
    return int(cur.execute(
        "SELECT count(*) FROM progress_reports WHERE task_no = ? AND unit_id = ? AND coalesce(returned, FALSE)",
        [task_no, unit_id],
    ).fetchone()[0])


def return_report(scope: Scope, task_no: int, unit_id: int, reported_on: dt.date,
                  reason: str, *, db: Database | None = None) -> None:
    """The office sends a unit's unverified report back (退回) with a reason the unit reads.

    管理员 only. The report stays unverified (it never counts in the KPIs) until the unit resubmits
    it and the office verifies it. Audited with the reason."""
    db = resolve_db(db)
    scope.require_admin()
    task_no, unit_id = int(task_no), int(unit_id)
    reason = (reason or "").strip()
    if not reason:
        raise ReportError("退回时须填写退回理由，告诉单位需要修改什么。")
    if len(reason) > REASON_MAX:
        raise ReportError(f"退回理由不能超过{REASON_MAX}字。")
    with db.transaction() as cur:
        _require_waiting(cur, task_no, unit_id, reported_on, verified="这份进展报告已经核验通过，不能再退回。",
                         returned="这份进展报告已经退回，正等单位重新报送。")
        before = {**_counts(cur, task_no, unit_id), "已退回": _returned_count(cur, task_no, unit_id)}
        cur.execute(
            "UPDATE progress_reports SET returned = TRUE, returned_reason = ?, returned_by = ?, returned_at = ? "
            "WHERE task_no = ? AND unit_id = ? AND reported_on = ?",
            [reason, scope.username, dt.datetime.now().replace(microsecond=0), task_no, unit_id, reported_on],
        )
        audit_log.record(cur, scope, "退回进展", _target(cur, task_no, unit_id),
                     f"{reported_on.isoformat()} 退回理由：{reason}",
                     before, {**_counts(cur, task_no, unit_id), "已退回": _returned_count(cur, task_no, unit_id)})


def resubmit_report(
    scope: Scope, task_no: int, unit_id: int, reported_on: dt.date, status: str,
    percent: int | None = None, completed_on: dt.date | None = None, note: str = "",
    *, today: dt.date | None = None, db: Database | None = None,
) -> None:
    """The unit corrects a returned report and sends it again; it waits for the office once more.

    Only a returned report of the scope's own unit can be resubmitted (the office enters its own
    corrections as new reports). The same checks as a new report apply; the return reason is kept
    so the office sees what was asked for."""
    db = resolve_db(db)
    scope.require_write()
    scope.require_unit(unit_id)
    if scope.is_admin:
        raise PermissionDenied("重新报送由被退回的单位办理；办公室可直接录入新的进展。")
    today = today or dt.date.today()
    task_no, unit_id = int(task_no), int(unit_id)
    if status == "已完成":
        percent = 100
    with db.transaction() as cur:
        old = _report(cur, task_no, unit_id, reported_on,
                      "returned_reason, returned_by, returned_at, coalesce(returned, FALSE)")
        if not old[3]:
            raise ReportError("只有被办公室退回的进展报告才能重新报送。")
        before = {**_counts(cur, task_no, unit_id), "已退回": _returned_count(cur, task_no, unit_id)}
        # Replace the row so that the checks of a new report (validate_report) apply unchanged.
        cur.execute("DELETE FROM progress_reports WHERE task_no = ? AND unit_id = ? AND reported_on = ?",
                    [task_no, unit_id, reported_on])
        validate_report(cur, task_no, unit_id, reported_on, status, percent, completed_on, today)
        cur.execute(
            "INSERT INTO progress_reports (task_no, unit_id, reported_on, status, percent, completed_on, note, "
            "submitted_by, verified, returned, returned_reason, returned_by, returned_at, resubmitted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, FALSE, FALSE, ?, ?, ?, ?)",
            [task_no, unit_id, reported_on, status, percent, completed_on, note or None, scope.username,
             old[0], old[1], old[2], dt.datetime.now().replace(microsecond=0)],
        )
        audit_log.record(cur, scope, "重新报送进展", _target(cur, task_no, unit_id),
                     f"{reported_on.isoformat()} {status}（待核验）",
                     before, {**_counts(cur, task_no, unit_id), "已退回": _returned_count(cur, task_no, unit_id)})


__all__ = ["STATUSES", "PermissionDenied", "ReportError", "report_rule_problems", "resubmit_report", "return_report",
           "submit_report", "verify_report"]
