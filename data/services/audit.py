"""The audit log (操作日志): who changed what, when, and the counts before and after.

Every write in data/ calls `data.storage.audit_log.record(cur, scope, ...)` with the cursor of its own transaction, so the
audit row is committed together with the change or rolled back with it. Only the office
(管理员) may read the log.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from data.storage.db import Database
from data.storage.scope import Scope
from data.storage.where import Where

# The action names writers use (the audit page offers them as a filter). Other Chinese names are
# accepted, so a new kind of write does not need a change here first.
ACTIONS: tuple[str, ...] = (
    "初始化",
    "导入",
    "演示数据",
    "报送进展",
    "核验进展",
    "退回进展",
    "重新报送进展",
    "修改设置",
    "修改日历",
    "用户管理",
    "登录",
    "账号锁定",
    "退出登录",
    "发布月度",
    "撤销发布",
    "备份",
    "恢复",
)

COLUMNS = {
    "logged_at": "时间",
    "username": "用户",
    "action": "操作",
    "target": "对象",
    "detail": "说明",
    "counts_before": "变更前",
    "counts_after": "变更后",
}


def _bound(value: dt.date | dt.datetime | None, *, end: bool) -> dt.datetime | None:
    """A date bound covers the whole day: `since` from 00:00, `until` up to the end of the day."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    if end:
        return dt.datetime.combine(value + dt.timedelta(days=1), dt.time())
    return dt.datetime.combine(value, dt.time())


def _readable(text: str | None) -> str | None:
    """'{"目录": 3000, "申请": 20}' -> '目录 3000；申请 20' for the office's eyes."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        return "；".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def audit_query(since=None, until=None, username: str | None = None, action: str | None = None
                ) -> tuple[str, list]:
    """The SQL and parameters of the audit rows, newest first, filtered. `since` / `until` are
    inclusive; a date means the whole day."""
    lo, hi = _bound(since, end=False), _bound(until, end=True)
    # A datetime `until` is inclusive; a date was turned into the next midnight (exclusive).
    where = (Where().when(lo is not None, "logged_at >= ?", lo)
             .when(hi is not None, "logged_at <= ?" if isinstance(until, dt.datetime) else "logged_at < ?", hi)
             .when(username, "username = ?", username)
             .when(action, "action = ?", action))
    sql = (
        "SELECT logged_at, username, action, target, detail, counts_before, counts_after FROM audit_log"
        + where.sql()
        + " ORDER BY logged_at DESC, id DESC"
    )
    return sql, where.params


def read_audit(
    db: Database,
    scope: Scope,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    username: str | None = None,
    action: str | None = None,
) -> pl.DataFrame:
    """The audit log, newest first, with Chinese column names (时间, 用户, 操作, 对象, 说明, 变更前,
    变更后). Office only. `since` / `until` are inclusive; a date means the whole day."""
    scope.require_admin()
    frame = db.frame(*audit_query(since, until, username, action))
    frame = frame.with_columns(
        pl.col("counts_before").map_elements(_readable, return_dtype=pl.String),
        pl.col("counts_after").map_elements(_readable, return_dtype=pl.String),
    )
    return frame.rename(COLUMNS)
