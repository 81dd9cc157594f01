"""Writing the audit log (操作日志): one row per change, written with the cursor of the change's own
transaction, so the audit row is committed with the change or rolled back with it. Reading the
log is data.services.audit's."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from data.storage.scope import Scope


def _to_json(counts: dict[str, Any] | None) -> str | None:
    if counts is None:
        return None
    return json.dumps(counts, ensure_ascii=False, sort_keys=False, default=str)


def record(
    cur,
    actor: Scope,
    action: str,
    target: str = "",
    detail: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit row with `cur`, the cursor of the caller's open transaction.

    `before` / `after` are small dicts of counts (e.g. {"目录": 3000}); they are stored as JSON.
    The time is the machine's local wall-clock time, which is what the office reads.
    """
    if not action:
        raise ValueError("audit action must not be empty")
    cur.execute(
        "INSERT INTO audit_log (logged_at, username, action, target, detail, counts_before, counts_after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            dt.datetime.now().replace(microsecond=0),
            actor.username,
            action,
            target or "",
            detail or "",
            _to_json(before),
            _to_json(after),
        ],
    )
