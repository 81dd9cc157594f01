"""A 单位 user's import is a submission the office verifies (核验) before it is written.

Everything a unit imports can move a score (its catalog, contacts, systems, replies, progress …),
so, like a progress report entered on the form, it waits for the leading-group office:

- `submit_batch`: the unit's file, once it validates, is kept in `import_batches` (status 待核验)
  with its per-sheet row counts; nothing else is written. Audited (提交导入).
- `verify_batch` (office only): the kept file is validated again, as the unit and against today's
  data (the database may have changed since), and when it still has no error it is written
  exactly as an office import would write it — backup, one transaction, import_log, audit
  (核验导入) — with progress reports stored as the unit's, verified by the office. The batch
  becomes 已核验 in the same transaction. If it no longer validates, nothing is written and the
  errors are returned (the office then returns the batch).
- `return_batch` (office only): 已退回 with a reason the unit reads on its import page. Audited
  (退回导入).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.imports.results import ImportResult, ValidationResult
from data.imports.validate import validate_workbook
from data.imports.write import write_validated
from data.storage import audit_log
from data.storage.db import Database
from data.storage.scope import Scope
from data.storage.where import Where

PENDING, VERIFIED, RETURNED = "待核验", "已核验", "已退回"


class BatchError(ValueError):
    """A refused verification or return, with a Chinese message (and the file's errors, if any)."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _counts(cur) -> dict[str, int]:
    pending, = cur.execute("SELECT count(*) FROM import_batches WHERE status = ?", [PENDING]).fetchone()
    return {"待核验导入": int(pending)}


def submit_batch(db: Database, scope: Scope, result: ValidationResult, content: bytes) -> int:
    """Keep a validated file of a 单位 user for the office's verification; returns the batch id."""
    scope.require_write()
    if scope.unit_id is None:
        raise ValueError("only a 单位 scope submits a batch")
    summary = "；".join(f"「{sheet}」{n} 行" for sheet, n in result.counts.items())
    with db.transaction() as cur:
        before = _counts(cur)
        batch_id = cur.execute("SELECT nextval('import_batch_seq')").fetchone()[0]
        cur.execute(
            "INSERT INTO import_batches (id, unit_id, submitted_by, submitted_at, file_name, file_sha256, content, "
            "summary, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch_id, scope.unit_id, scope.username, _now(), result.file_name, result.sha256, content, summary,
             PENDING])
        audit_log.record(cur, scope, "提交导入", result.file_name, f"第 {batch_id} 号，{summary}；待核验",
                     before, _counts(cur))
    return int(batch_id)


_LIST = (
    "SELECT b.id AS 编号, u.name AS 单位, b.submitted_by AS 提交人, b.submitted_at AS 提交时间, "
    "b.file_name AS 文件, b.summary AS 内容, b.status AS 状态, b.decided_by AS 处理人, "
    "b.decided_at AS 处理时间, b.decision_note AS 说明 "
    "FROM import_batches b JOIN units u ON u.unit_id = b.unit_id"
)


def list_batches(db: Database, scope: Scope, status: str | None = None) -> pl.DataFrame:
    """The office sees every unit's submissions; a 单位 user only its own (newest first)."""
    where = Where().own_unit(scope, "b.unit_id").when(status, "b.status = ?", status)
    return db.frame(_LIST + where.sql() + " ORDER BY b.id DESC", where.params)


def _batch(db: Database, batch_id: int) -> tuple:
    row = db.rows(
        "SELECT id, unit_id, submitted_by, file_name, content, status FROM import_batches WHERE id = ?",
        [int(batch_id)])
    if not row:
        raise BatchError(f"找不到第 {batch_id} 号导入申请。")
    if row[0][5] != PENDING:
        raise BatchError(f"第 {batch_id} 号导入申请已{row[0][5][1:]}，不能再处理。")
    return row[0]


def _decide(cur, scope: Scope, batch_id: int, status: str, **columns) -> None:
    """Mark a pending batch 已核验 or 已退回 by the office; one that someone else decided meanwhile
    raises, which rolls the whole transaction back."""
    sets = ", ".join(f"{c} = ?" for c in ("status", "decided_by", "decided_at", *columns))
    changed = cur.execute(
        f"UPDATE import_batches SET {sets} WHERE id = ? AND status = ? RETURNING id",
        [status, scope.username, _now(), *columns.values(), int(batch_id), PENDING]).fetchall()
    if not changed:
        raise BatchError(f"第 {batch_id} 号导入申请已被处理。")


def verify_batch(db: Database, scope: Scope, batch_id: int, *, today: dt.date | None = None) -> ImportResult:
    """The office verifies a unit's submission: it is validated again and written."""
    scope.require_admin()
    _id, unit_id, submitted_by, file_name, content, _status = _batch(db, batch_id)
    unit_scope = Scope(username=submitted_by, role="单位", unit_id=unit_id)
    result = validate_workbook(db, bytes(content), file_name, unit_scope, today=today)
    if not result.ok:
        raise BatchError(
            f"第 {batch_id} 号导入申请按当前数据检查有 {result.error_total} 处错误，未写入；请退回并说明原因。",
            result.error_messages())

    def mark(cur, import_id):
        _decide(cur, scope, batch_id, VERIFIED, import_id=import_id)

    unit = db.scalar("SELECT name FROM units WHERE unit_id = ?", [unit_id])
    return write_validated(db, result, scope, submitter=submitted_by, action="核验导入",
                           note=f"第 {batch_id} 号，{unit}（{submitted_by}）提交；", inside=mark)


def return_batch(db: Database, scope: Scope, batch_id: int, reason: str) -> None:
    """The office returns a submission to its unit, with a reason; nothing is written."""
    scope.require_admin()
    reason = (reason or "").strip()
    if not reason:
        raise BatchError("退回时请填写退回原因。")
    _id, _unit, _by, file_name, _content, _status = _batch(db, batch_id)
    with db.transaction() as cur:
        before = _counts(cur)
        _decide(cur, scope, batch_id, RETURNED, decision_note=reason)
        audit_log.record(cur, scope, "退回导入", file_name, f"第 {batch_id} 号：{reason}", before, _counts(cur))
